/**
 * `BindParams`: replaces parameters of a Relax function by constants (weights known ahead of
 * time). The bound parameters leave the parameter list; symbolic dimensions that a constant's
 * shape determines (`w: R.Tensor((n, m))` bound to a 6x4 array gives n = 6, m = 4) are replaced
 * everywhere in the function.
 *
 * @example
 * ```ts
 * const bound = bindParams("main", { w: { dtype: "float32", shape: [2], data: new Float32Array([1, 2]) } })(mod);
 * ```
 *
 * @module
 */

import { simplify } from "../../ir/arith/analyzer.ts";
import { displayNode } from "../../ir/display.ts";
import { intImm, type PrimExpr, sub, type Var } from "../../ir/expr.ts";
import { type IRModule, withFunction } from "../../ir/module.ts";
import {
  type AnyVar,
  constantTensor,
  type Expr,
  type Function,
  type NDArray,
  type RVar,
} from "../../ir/relax/expr.ts";
import { fmtSInfo } from "../../ir/relax/op/registry.ts";
import type { StructInfo } from "../../ir/relax/struct_info.ts";
import { modulePass, type Pass } from "../pass.ts";
import { substituteFunction } from "./_relax_util.ts";

/** A value to bind: a host tensor (made a constant) or any Relax expression. */
export type BindValue = NDArray | Expr;

/** Parameters to bind, by name or by the parameter variable itself. */
export type BindParamsMap =
  | { readonly [name: string]: BindValue }
  | ReadonlyMap<string | RVar, BindValue>;

function isExpr(v: BindValue): v is Expr {
  return "kind" in v && typeof (v as { kind: unknown }).kind === "string";
}

function fail(fn: string, msg: string): never {
  throw new Error(`BindParams: ${msg} (function "${fn}")`);
}

/** Binds the symbolic variables a parameter's StructInfo defines to the value's. */
function inferSymbolic(
  fn: string,
  name: string,
  param: StructInfo,
  value: StructInfo,
  out: Map<Var, PrimExpr>,
): void {
  const mismatch = () =>
    fail(fn, `parameter "${name}" expects ${fmtSInfo(param)}, but the value is ${fmtSInfo(value)}`);
  const dims = (ps: readonly PrimExpr[] | undefined, vs: readonly PrimExpr[] | undefined) => {
    if (!ps || !vs) return;
    if (ps.length !== vs.length) mismatch();
    ps.forEach((p, i) => {
      const v = vs[i]!;
      if (p.kind === "Var") {
        const prev = out.get(p);
        if (prev === undefined) out.set(p, v);
        else if (isNonzero(sub(prev, v))) {
          fail(
            fn,
            `symbolic variable ${p.name} is ${displayNode(prev)} by one parameter and ${
              displayNode(v)
            } by "${name}"`,
          );
        }
      } else if (p.kind === "IntImm" && v.kind === "IntImm" && p.value !== v.value) {
        mismatch();
      }
    });
  };
  switch (param.kind) {
    case "TensorStructInfo":
      if (value.kind !== "TensorStructInfo") return mismatch();
      if (param.dtype !== "void" && value.dtype !== "void" && param.dtype !== value.dtype) {
        mismatch();
      }
      if (param.ndim >= 0 && value.ndim >= 0 && param.ndim !== value.ndim) mismatch();
      return dims(param.shape, value.shape);
    case "ShapeStructInfo":
      if (value.kind !== "ShapeStructInfo") return mismatch();
      return dims(param.values, value.values);
    case "PrimStructInfo":
      if (value.kind !== "PrimStructInfo") return mismatch();
      return dims(param.value && [param.value], value.value && [value.value]);
    case "TupleStructInfo":
      if (value.kind !== "TupleStructInfo" || value.fields.length !== param.fields.length) {
        return mismatch();
      }
      param.fields.forEach((p, i) => inferSymbolic(fn, name, p, value.fields[i]!, out));
      return;
    default:
      return;
  }
}

function isNonzero(e: PrimExpr): boolean {
  const s = simplify(e);
  return (s.kind === "IntImm" || s.kind === "FloatImm") && s.value !== 0;
}

/** `f` with the given parameters bound (see {@link bindParams}). */
export function bindFunctionParams(f: Function, params: BindParamsMap, name = "main"): Function {
  const entries: [string | RVar, BindValue][] = params instanceof Map
    ? [...params]
    : Object.entries(params as { readonly [name: string]: BindValue });
  const vars = new Map<AnyVar, Expr>();
  for (const [key, value] of entries) {
    let p: RVar;
    if (typeof key === "string") {
      const found = f.params.filter((q) => q.name === key);
      if (found.length === 0) {
        fail(
          name,
          `no parameter is named "${key}" (the parameters are: ${
            f.params.map((q) => q.name).join(", ") || "none"
          })`,
        );
      }
      if (found.length > 1) fail(name, `${found.length} parameters are named "${key}"`);
      p = found[0]!;
    } else {
      if (!f.params.includes(key)) fail(name, `"${key.name}" is not a parameter`);
      p = key;
    }
    if (vars.has(p)) fail(name, `parameter "${p.name}" is bound twice`);
    vars.set(p, isExpr(value) ? value : constantTensor(value));
  }
  const prims = new Map<Var, PrimExpr>();
  for (const [p, v] of vars) inferSymbolic(name, p.name, p.structInfo, v.structInfo, prims);
  // A bound dimension whose value is a number stays an int64 constant, as shapes are.
  for (const [k, v] of prims) {
    if (v.kind === "IntImm" && v.dtype !== k.dtype) prims.set(k, intImm(v.value, k.dtype));
  }
  return substituteFunction(f, { vars, prims });
}

function matches(f: Function, gname: string, name: string): boolean {
  const sym = f.attrs["global_symbol"];
  return typeof sym === "string" ? sym === name : gname === name;
}

/**
 * The `BindParams` pass: binds `params` in the Relax function `funcName` (its `global_symbol`,
 * else its name in the module). A module without that function is returned as it is.
 */
export function bindParams(funcName: string, params: BindParamsMap): Pass {
  return modulePass("BindParams", (mod: IRModule) => {
    let out = mod;
    for (const [n, f] of mod.functions) {
      if (f.kind !== "relax.Function" || !matches(f, n, funcName)) continue;
      out = withFunction(out, n, bindFunctionParams(f, params, funcName));
    }
    return out;
  });
}
