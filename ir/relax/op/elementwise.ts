/**
 * Element-wise Relax operators: binary arithmetic with numpy broadcasting, comparisons,
 * logical operators and unary math.
 *
 * @module
 */

import { isBool, isFloat } from "../../dtype.ts";
import type { Expr, RCall } from "../expr.ts";
import { tensorSInfo } from "../struct_info.ts";
import { broadcastSInfo, commonDType, tensorArg } from "./_infer.ts";
import { scalarArgValue, scalarConstant } from "./_legalize.ts";
import { type LegalizeFn, makeOpCall, registerOp, shortName } from "./registry.ts";
import { broadcastCompute, elemwise, type Operand } from "./legalize/topi_common.ts";
import { binaryScalar, clip as clipScalar, unaryScalar } from "./legalize/topi_elemwise.ts";
import type { Tensor as TeTensor } from "../../te/tensor.ts";

/** `call_tir` of `T_<name>` over the broadcast operands; rank-0 constants are inlined. */
function legalizeBinary(name: string): LegalizeFn {
  const f = binaryScalar(name);
  return (call, ctx) => {
    const consts = call.args.map(scalarConstant);
    if (consts.every((c) => c)) consts[0] = undefined;
    const tensors = call.args.filter((_, i) => !consts[i]);
    return ctx.callTe(
      (...ts: TeTensor[]) => {
        let k = 0;
        const ops: Operand[] = consts.map((c) => c ?? ts[k++]!);
        return broadcastCompute(ops, ([a, b]) => f(a!, b!), `T_${name}`);
      },
      tensors,
      { name },
    );
  };
}

type Kind = "arith" | "compare" | "logical";

function registerBinary(name: string, kind: Kind): void {
  const full = `relax.${name}`;
  registerOp({
    name: full,
    args: ["x1", "x2"],
    optionalArgs: 0,
    attrs: {},
    pattern: "broadcast",
    legalize: legalizeBinary(name),
    infer: (args) => {
      const a = tensorArg(full, args, 0, "x1");
      const b = tensorArg(full, args, 1, "x2");
      const t = commonDType(full, a, b);
      if (kind === "logical" && t !== "void" && !isBool(t)) {
        throw new Error(`${shortName(full)}: expected bool operands, got ${t}`);
      }
      return broadcastSInfo(full, a, b, kind === "arith" ? t : "bool");
    },
  });
}

for (
  const n of [
    "add",
    "subtract",
    "multiply",
    "divide",
    "floor_divide",
    "power",
    "maximum",
    "minimum",
  ]
) {
  registerBinary(n, "arith");
}
for (const n of ["equal", "not_equal", "less", "less_equal", "greater", "greater_equal"]) {
  registerBinary(n, "compare");
}
for (const n of ["logical_and", "logical_or"]) registerBinary(n, "logical");

type UnaryKind = "float" | "numeric" | "bool";

const legalizeUnary = (name: string): LegalizeFn => (call, ctx) =>
  ctx.callTe((x) => elemwise(x, unaryScalar(name)), [call.args[0]!], {
    name: name === "erf" ? "erf" : `tir_${name}`,
  });

const legalizeClip: LegalizeFn = (call, ctx) => {
  const lo = scalarArgValue(call, 1, "min"), hi = scalarArgValue(call, 2, "max");
  return ctx.callTe((x) => elemwise(x, (v) => clipScalar(v, lo, hi)), [call.args[0]!], {
    name: "tir_clip",
  });
};

function registerUnary(name: string, kind: UnaryKind, extraArgs: readonly string[] = []): void {
  const full = `relax.${name}`;
  registerOp({
    name: full,
    args: ["x", ...extraArgs],
    optionalArgs: 0,
    attrs: {},
    pattern: "elemwise",
    legalize: name === "clip" ? legalizeClip : legalizeUnary(name),
    infer: (args) => {
      const a = tensorArg(full, args, 0, "x");
      if (kind === "float" && a.dtype !== "void" && !isFloat(a.dtype)) {
        throw new Error(`${shortName(full)}: expected a float tensor, got ${a.dtype}`);
      }
      if (kind === "bool" && a.dtype !== "void" && !isBool(a.dtype)) {
        throw new Error(`${shortName(full)}: expected a bool tensor, got ${a.dtype}`);
      }
      for (let i = 1; i < args.length; i++) {
        if (args[i]!.structInfo.kind !== "PrimStructInfo") {
          throw new Error(
            `${shortName(full)}: argument "${extraArgs[i - 1]}" must be a scalar (R.prim_value)`,
          );
        }
      }
      return a.shape ? tensorSInfo(a.shape, a.dtype) : tensorSInfo(undefined, a.dtype, a.ndim);
    },
  });
}

for (const n of ["exp", "log", "sqrt", "rsqrt", "tanh", "sigmoid", "erf", "sin", "cos"]) {
  registerUnary(n, "float");
}
for (const n of ["negative", "abs", "floor", "ceil", "round", "square"]) {
  registerUnary(n, "numeric");
}
registerUnary("logical_not", "bool");
registerUnary("clip", "numeric", ["min", "max"]);

const bin = (n: string) => (x1: Expr, x2: Expr): RCall => makeOpCall(`relax.${n}`, [x1, x2]);
const un = (n: string) => (x: Expr): RCall => makeOpCall(`relax.${n}`, [x]);

/** `x1 + x2` with broadcasting. */
export const add: (x1: Expr, x2: Expr) => RCall = bin("add");
/** `x1 - x2` with broadcasting. */
export const subtract: (x1: Expr, x2: Expr) => RCall = bin("subtract");
/** `x1 * x2` with broadcasting. */
export const multiply: (x1: Expr, x2: Expr) => RCall = bin("multiply");
/** `x1 / x2` with broadcasting. */
export const divide: (x1: Expr, x2: Expr) => RCall = bin("divide");
/** `floor(x1 / x2)` with broadcasting. */
export const floorDivide: (x1: Expr, x2: Expr) => RCall = bin("floor_divide");
/** `x1 ** x2` with broadcasting. */
export const power: (x1: Expr, x2: Expr) => RCall = bin("power");
/** Element-wise maximum. */
export const maximum: (x1: Expr, x2: Expr) => RCall = bin("maximum");
/** Element-wise minimum. */
export const minimum: (x1: Expr, x2: Expr) => RCall = bin("minimum");
/** `x1 == x2` (bool result). */
export const equal: (x1: Expr, x2: Expr) => RCall = bin("equal");
/** `x1 != x2` (bool result). */
export const notEqual: (x1: Expr, x2: Expr) => RCall = bin("not_equal");
/** `x1 < x2` (bool result). */
export const less: (x1: Expr, x2: Expr) => RCall = bin("less");
/** `x1 <= x2` (bool result). */
export const lessEqual: (x1: Expr, x2: Expr) => RCall = bin("less_equal");
/** `x1 > x2` (bool result). */
export const greater: (x1: Expr, x2: Expr) => RCall = bin("greater");
/** `x1 >= x2` (bool result). */
export const greaterEqual: (x1: Expr, x2: Expr) => RCall = bin("greater_equal");
/** Logical and of bool tensors. */
export const logicalAnd: (x1: Expr, x2: Expr) => RCall = bin("logical_and");
/** Logical or of bool tensors. */
export const logicalOr: (x1: Expr, x2: Expr) => RCall = bin("logical_or");
/** Logical not of a bool tensor. */
export const logicalNot: (x: Expr) => RCall = un("logical_not");
/** `e ** x` */
export const exp: (x: Expr) => RCall = un("exp");
/** Natural logarithm. */
export const log: (x: Expr) => RCall = un("log");
/** Square root. */
export const sqrt: (x: Expr) => RCall = un("sqrt");
/** `1 / sqrt(x)` */
export const rsqrt: (x: Expr) => RCall = un("rsqrt");
/** Hyperbolic tangent. */
export const tanh: (x: Expr) => RCall = un("tanh");
/** `1 / (1 + exp(-x))` */
export const sigmoid: (x: Expr) => RCall = un("sigmoid");
/** The error function. */
export const erf: (x: Expr) => RCall = un("erf");
/** Sine. */
export const sin: (x: Expr) => RCall = un("sin");
/** Cosine. */
export const cos: (x: Expr) => RCall = un("cos");
/** `-x` */
export const negative: (x: Expr) => RCall = un("negative");
/** `|x|` */
export const abs: (x: Expr) => RCall = un("abs");
/** Round down. */
export const floor: (x: Expr) => RCall = un("floor");
/** Round up. */
export const ceil: (x: Expr) => RCall = un("ceil");
/** Round half to even. */
export const round: (x: Expr) => RCall = un("round");
/** `x * x` */
export const square: (x: Expr) => RCall = un("square");

/** Clamps `x` into `[min, max]`; the bounds are scalar values (`R.prim_value`). */
export function clip(x: Expr, min: Expr, max: Expr): RCall {
  return makeOpCall("relax.clip", [x, min, max]);
}
