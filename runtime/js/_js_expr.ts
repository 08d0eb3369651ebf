/**
 * JavaScript for TIR expressions, with each dtype's semantics: float32 rounded with
 * `Math.fround` after every operation, int32 wrapped with `| 0` and `Math.imul`, uint32 with
 * `>>> 0`, int64 as plain numbers (exact within the safe-integer range), bool as booleans.
 * Private to the JS code generator.
 *
 * @module
 */

import { type DType, isBool, isFloat, isInt, isScalarDType, isUInt } from "../../ir/dtype.ts";
import type { Call, PrimExpr, Var } from "../../ir/expr.ts";
import type { StorageInfo } from "../kernel_analysis.ts";
import { flatIndex, isNonNegative } from "../codegen_util.ts";

/** Helper functions by name: their JS text. */
const HELPERS: { readonly [name: string]: string } = {
  _floormod: `function _floormod(a, b) {
  const r = a % b;
  return r !== 0 && (r < 0) !== (b < 0) ? r + b : r;
}`,
  _f2i: `function _f2i(x) {
  return x !== x ? 0 : x >= 2147483647 ? 2147483647 : x <= -2147483648 ? -2147483648 : x | 0;
}`,
  _f2u: `function _f2u(x) {
  return x !== x || x <= 0 ? 0 : x >= 4294967295 ? 4294967295 : x >>> 0;
}`,
  _f2l: `function _f2l(x) {
  return x !== x ? 0 : Math.trunc(x);
}`,
  _erf:
    `// erf by its everywhere-convergent series 2/sqrt(pi) exp(-x^2) sum 2^n x^(2n+1) / (2n+1)!!.
function _erf(x) {
  const z = Math.abs(x);
  if (z >= 6) return Math.sign(x);
  let term = z, sum = z;
  for (let n = 1; term > sum * 1e-17; n++) {
    term *= 2 * z * z / (2 * n + 1);
    sum += term;
  }
  return Math.sign(x) * Math.min(1, 1.1283791670955126 * Math.exp(-z * z) * sum);
}`,
  _round: `// Rounds half away from zero.
function _round(x) {
  const t = Math.trunc(x);
  return Math.abs(x - t) >= 0.5 ? t + Math.sign(x) : t;
}`,
  _nearbyint: `// Rounds half to even.
function _nearbyint(x) {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}`,
  _reinterpret: `const _bits = new DataView(new ArrayBuffer(8));
function _reinterpret(x, from, to) {
  _bits["set" + from](0, x, true);
  return _bits["get" + to](0, true);
}`,
};

/** Names the JS code generator must not hand out. */
export const JS_RESERVED: readonly string[] = [
  ..."await break case catch class const continue debugger default delete do else enum export extends false finally for function if implements import in instanceof interface let new null package private protected public return static super switch this throw true try typeof var void while with yield arguments eval undefined NaN Infinity Math Number BigInt Error Float16Array Float32Array Float64Array Int8Array Int16Array Int32Array Uint8Array Uint16Array Uint32Array BigInt64Array Array DataView ArrayBuffer Object globalThis bufs vals"
    .split(" "),
];

/** What the expression emitter needs from the code generator. */
export interface JsExprContext {
  readonly kernel: string;
  /** The JS expression for a variable in scope (`undefined` for an unknown variable). */
  varCode(v: Var): string | undefined;
  /** The JS array behind a data variable, and the per-thread offset to add (if any). */
  storage(
    data: Var,
  ): { readonly name: string; readonly info: StorageInfo; readonly offset: string };
  readonly nonNeg: ReadonlySet<Var>;
  readonly helpers: Set<string>;
  /** A fresh identifier. */
  fresh(hint: string): string;
}

/** The JS text of the helpers in `used`, in a stable order. */
export function jsHelperText(used: ReadonlySet<string>): string[] {
  return Object.keys(HELPERS).filter((h) => used.has(h)).map((h) => HELPERS[h]!);
}

function helper(ctx: JsExprContext, name: string): string {
  ctx.helpers.add(name);
  return name;
}

function checkScalar(ctx: JsExprContext, t: DType): void {
  if (!isScalarDType(t)) {
    throw new Error(
      `Kernel "${ctx.kernel}": ${t} values are not supported in JS (vectorized code is not supported)`,
    );
  }
}

/** Rounds a float result to its dtype. */
export function roundFloat(t: DType, c: string): string {
  if (t === "float32") return `Math.fround(${c})`;
  if (t === "float16") return `Math.f16round(${c})`;
  return `(${c})`;
}

/** Wraps an integer result to its dtype (int64 stays a plain number). */
function wrapInt(t: DType, c: string): string {
  switch (t) {
    case "int32":
      return `((${c}) | 0)`;
    case "int16":
      return `(((${c}) << 16) >> 16)`;
    case "int8":
      return `(((${c}) << 24) >> 24)`;
    case "uint32":
      return `((${c}) >>> 0)`;
    case "uint16":
      return `((${c}) & 65535)`;
    case "uint8":
      return `((${c}) & 255)`;
    default:
      return `(${c})`;
  }
}

/** A JS literal for a constant of dtype `t`. */
export function jsLiteral(value: number, t: DType): string {
  if (isBool(t)) return value ? "true" : "false";
  const v = t === "float32" ? Math.fround(value) : t === "float16" ? Math.f16round(value) : value;
  if (Object.is(v, -0)) return "(-0)";
  return v < 0 ? `(${v})` : String(v);
}

const CMP: { readonly [k: string]: string } = {
  EQ: "===",
  NE: "!==",
  LT: "<",
  LE: "<=",
  GT: ">",
  GE: ">=",
};

/** Emits an expression. */
export function emitJsExpr(ctx: JsExprContext, e: PrimExpr): string {
  const go = (x: PrimExpr) => emitJsExpr(ctx, x);
  switch (e.kind) {
    case "Var": {
      const c = ctx.varCode(e);
      if (c === undefined) {
        throw new Error(`Kernel "${ctx.kernel}" uses variable "${e.name}" out of scope`);
      }
      return c;
    }
    case "IntImm":
    case "FloatImm":
      checkScalar(ctx, e.dtype);
      return jsLiteral(e.value, e.dtype);
    case "StringImm":
      return JSON.stringify(e.value);
    case "Add":
    case "Sub":
    case "Div":
    case "Mod": {
      checkScalar(ctx, e.dtype);
      const op = { Add: "+", Sub: "-", Div: "/", Mod: "%" }[e.kind];
      const c = `${go(e.a)} ${op} ${go(e.b)}`;
      if (isFloat(e.dtype)) return roundFloat(e.dtype, c);
      if (e.kind === "Div" && e.dtype === "int64") return `Math.trunc(${c})`;
      if (e.kind === "Div" && isUInt(e.dtype)) return `Math.trunc(${c})`;
      return wrapInt(e.dtype, c);
    }
    case "Mul":
      checkScalar(ctx, e.dtype);
      if (isFloat(e.dtype)) return roundFloat(e.dtype, `${go(e.a)} * ${go(e.b)}`);
      if (e.dtype === "int64") return `(${go(e.a)} * ${go(e.b)})`;
      if (e.dtype === "int32") return `Math.imul(${go(e.a)}, ${go(e.b)})`;
      return wrapInt(e.dtype, `Math.imul(${go(e.a)}, ${go(e.b)})`);
    case "FloorDiv":
    case "FloorMod": {
      checkScalar(ctx, e.dtype);
      const a = go(e.a), b = go(e.b);
      if (isFloat(e.dtype)) {
        const q = `Math.floor(${a} / ${b})`;
        return roundFloat(e.dtype, e.kind === "FloorDiv" ? q : `${a} - ${q} * ${b}`);
      }
      const plain = isUInt(e.dtype) ||
        isNonNegative(e.a, ctx.nonNeg) && e.b.kind === "IntImm" && e.b.value > 0;
      if (e.kind === "FloorDiv") {
        if (plain && e.dtype !== "int64") return wrapInt(e.dtype, `${a} / ${b}`);
        return wrapInt(e.dtype, `Math.floor(${a} / ${b})`);
      }
      return wrapInt(e.dtype, plain ? `${a} % ${b}` : `${helper(ctx, "_floormod")}(${a}, ${b})`);
    }
    case "Min":
    case "Max":
      return `Math.${e.kind === "Min" ? "min" : "max"}(${go(e.a)}, ${go(e.b)})`;
    case "EQ":
    case "NE":
    case "LT":
    case "LE":
    case "GT":
    case "GE":
      checkScalar(ctx, e.a.dtype);
      return `(${go(e.a)} ${CMP[e.kind]} ${go(e.b)})`;
    case "And":
      return `(${go(e.a)} && ${go(e.b)})`;
    case "Or":
      return `(${go(e.a)} || ${go(e.b)})`;
    case "Not":
      return `(!${go(e.a)})`;
    case "Select":
      return `(${go(e.cond)} ? ${go(e.t)} : ${go(e.f)})`;
    case "Cast":
      return emitJsCast(ctx, go(e.value), e.value.dtype, e.dtype);
    case "Let": {
      const n = ctx.fresh(e.var.name);
      const body = emitJsExpr(
        {
          ...ctx,
          kernel: ctx.kernel,
          varCode: (v) => (v === e.var ? n : ctx.varCode(v)),
          storage: (d) => ctx.storage(d),
          fresh: (h) => ctx.fresh(h),
        },
        e.body,
      );
      return `((${n}) => ${body})(${go(e.value)})`;
    }
    case "Call":
      return emitJsCall(ctx, e, go);
    case "BufferLoad": {
      checkScalar(ctx, e.dtype);
      const { name, info, offset } = ctx.storage(e.buffer.data);
      const idx = go(flatIndex(e.buffer, e.indices));
      const load = `${name}[${offset}${idx}]`;
      if (info.dtype === "bool") return `(${load} !== 0)`;
      if (info.dtype === "int64" && info.kind === "param") return `Number(${load})`;
      return load;
    }
    case "Ramp":
    case "Broadcast":
      throw new Error(
        `Kernel "${ctx.kernel}": ${e.kind} (${e.dtype}) is not supported in JS (vectorized code is not supported)`,
      );
    default:
      e satisfies never;
      throw new Error("unreachable");
  }
}

/** Converts `x` from `from` to `to` with TIR's semantics (float to int truncates, saturating). */
export function emitJsCast(ctx: JsExprContext, x: string, from: DType, to: DType): string {
  checkScalar(ctx, to);
  if (from === to) return x;
  if (isBool(to)) return isBool(from) ? x : `(${x} !== 0)`;
  const num = isBool(from) ? `(${x} ? 1 : 0)` : x;
  if (isFloat(to)) return roundFloat(to, num);
  if (isFloat(from)) {
    if (to === "int64") return `${helper(ctx, "_f2l")}(${num})`;
    if (isUInt(to)) return wrapInt(to, `${helper(ctx, "_f2u")}(${num})`);
    return wrapInt(to, `${helper(ctx, "_f2i")}(${num})`);
  }
  if (isInt(to) || isUInt(to)) return to === "int64" ? num : wrapInt(to, num);
  throw new Error(`Kernel "${ctx.kernel}": cannot cast ${from} to ${to}`);
}

const MATH1: { readonly [op: string]: string } = {
  "tir.exp": "Math.exp",
  "tir.exp2": "2 ** ",
  "tir.log": "Math.log",
  "tir.log2": "Math.log2",
  "tir.log10": "Math.log10",
  "tir.sqrt": "Math.sqrt",
  "tir.tanh": "Math.tanh",
  "tir.sin": "Math.sin",
  "tir.cos": "Math.cos",
  "tir.tan": "Math.tan",
  "tir.atan": "Math.atan",
  "tir.floor": "Math.floor",
  "tir.ceil": "Math.ceil",
  "tir.trunc": "Math.trunc",
};

const REINTERPRET: { readonly [t: string]: string } = {
  float32: "Float32",
  float64: "Float64",
  int32: "Int32",
  uint32: "Uint32",
  int16: "Int16",
  uint16: "Uint16",
  float16: "Float16",
  int8: "Int8",
  uint8: "Uint8",
};

function emitJsCall(ctx: JsExprContext, e: Call, go: (x: PrimExpr) => string): string {
  const a = () => go(e.args[0]!);
  const t = e.dtype;
  const fn = MATH1[e.op];
  if (fn) return roundFloat(t, fn.endsWith(" ") ? `${fn}${a()}` : `${fn}(${a()})`);
  switch (e.op) {
    case "tir.rsqrt":
      return roundFloat(t, `1 / Math.sqrt(${a()})`);
    case "tir.sigmoid":
      return roundFloat(t, `1 / (1 + Math.exp(-${a()}))`);
    case "tir.erf":
      return roundFloat(t, `${helper(ctx, "_erf")}(${a()})`);
    case "tir.pow":
      return roundFloat(t, `Math.pow(${a()}, ${go(e.args[1]!)})`);
    case "tir.fabs":
      return `Math.abs(${a()})`;
    case "tir.round":
      return roundFloat(t, `${helper(ctx, "_round")}(${a()})`);
    case "tir.nearbyint":
      return roundFloat(t, `${helper(ctx, "_nearbyint")}(${a()})`);
    case "tir.isnan":
      return isFloat(e.args[0]!.dtype) ? `((x) => x !== x)(${a()})` : "false";
    case "tir.isinf":
      return isFloat(e.args[0]!.dtype) ? `(Math.abs(${a()}) === Infinity)` : "false";
    case "tir.if_then_else":
      return `(${a()} ? ${go(e.args[1]!)} : ${go(e.args[2]!)})`;
    case "tir.likely":
      return a();
    case "tir.reinterpret": {
      const from = REINTERPRET[e.args[0]!.dtype], to = REINTERPRET[t];
      if (!from || !to) {
        throw new Error(
          `Kernel "${ctx.kernel}": cannot reinterpret ${e.args[0]!.dtype} as ${t} in JS`,
        );
      }
      return `${helper(ctx, "_reinterpret")}(${a()}, "${from}", "${to}")`;
    }
    default:
      throw new Error(`Kernel "${ctx.kernel}": intrinsic "${e.op}" has no JS lowering`);
  }
}
