/**
 * Calling conventions: `call_tir` (a PrimFunc in destination-passing style), `call_dps_packed`
 * (a registered function in destination-passing style) and `call_packed` (a registered function
 * that returns its result). Their layout follows TVM: `call_tir(func, (args...), tir_vars?)`
 * with the output StructInfo in `sinfoArgs[0]` (a TupleStructInfo for several outputs).
 *
 * @module
 */

import type { PrimExpr } from "../../expr.ts";
import { type Expr, externFunc, type RCall, shapeExpr, tuple } from "../expr.ts";
import { objectSInfo, type StructInfo, tupleSInfo } from "../struct_info.ts";
import { fmtSInfo, makeOpCall, registerOp } from "./registry.ts";

function outSInfo(op: string, sinfoArgs: readonly StructInfo[]): StructInfo {
  const s = sinfoArgs[0];
  if (!s) throw new Error(`${op}: missing out_sinfo`);
  const parts = s.kind === "TupleStructInfo" ? s.fields : [s];
  for (const p of parts) {
    if (p.kind !== "TensorStructInfo") {
      throw new Error(`${op}: out_sinfo must be tensors, got ${fmtSInfo(p)}`);
    }
  }
  return s;
}

function checkTupleArg(op: string, e: Expr | undefined): void {
  if (!e || e.structInfo.kind !== "TupleStructInfo") {
    throw new Error(`${op}: arguments must be passed as a tuple`);
  }
}

registerOp({
  name: "relax.call_tir",
  args: ["func", "args", "tir_vars"],
  optionalArgs: 1,
  attrs: {},
  pattern: "opaque",
  infer: (args, _attrs, sinfoArgs) => {
    const f = args[0];
    if (!f || f.kind !== "GlobalVar") {
      throw new Error("call_tir: the callee must be a module function (GlobalVar)");
    }
    checkTupleArg("call_tir", args[1]);
    if (args[2] && args[2].structInfo.kind !== "ShapeStructInfo") {
      throw new Error("call_tir: tir_vars must be a shape");
    }
    return outSInfo("call_tir", sinfoArgs);
  },
});

registerOp({
  name: "relax.call_dps_packed",
  args: ["func", "args"],
  optionalArgs: 0,
  attrs: {},
  pattern: "opaque",
  infer: (args, _attrs, sinfoArgs) => {
    const f = args[0];
    if (!f || f.kind !== "relax.ExternFunc") {
      throw new Error("call_dps_packed: the callee must be a registered function name");
    }
    checkTupleArg("call_dps_packed", args[1]);
    return outSInfo("call_dps_packed", sinfoArgs);
  },
});

/** Options of {@link callTIR}. */
export interface CallTIROptions {
  /** Symbolic values passed to the PrimFunc as extra scalar arguments. */
  readonly tirVars?: readonly PrimExpr[];
}

/**
 * Calls PrimFunc `func` (a GlobalVar) on `args`, allocating outputs described by `outSInfo`
 * (one TensorStructInfo, or several for a multi-output kernel).
 */
export function callTIR(
  func: Expr,
  args: readonly Expr[],
  outSInfo: StructInfo | readonly StructInfo[],
  options: CallTIROptions = {},
): RCall {
  const out = Array.isArray(outSInfo)
    ? tupleSInfo(outSInfo as readonly StructInfo[])
    : outSInfo as StructInfo;
  const a: Expr[] = [func, tuple(args)];
  if (options.tirVars) a.push(shapeExpr(options.tirVars));
  return makeOpCall("relax.call_tir", a, {}, [out]);
}

/** Calls registered function `name` in destination-passing style. */
export function callDPSPacked(
  name: string,
  args: readonly Expr[],
  outSInfo: StructInfo | readonly StructInfo[],
): RCall {
  const out = Array.isArray(outSInfo)
    ? tupleSInfo(outSInfo as readonly StructInfo[])
    : outSInfo as StructInfo;
  return makeOpCall("relax.call_dps_packed", [externFunc(name), tuple(args)], {}, [out]);
}

/**
 * Calls registered function `name`, which returns a value of `sinfo` (`R.Object` by default).
 * This is a direct call of an ExternFunc, as TVM's `R.call_packed` is.
 */
export function callPacked(
  name: string,
  args: readonly Expr[],
  sinfo: StructInfo = objectSInfo(),
): RCall {
  return {
    kind: "relax.Call",
    op: externFunc(name),
    args,
    attrs: {},
    sinfoArgs: [sinfo],
    structInfo: sinfo,
  };
}
