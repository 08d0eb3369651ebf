/**
 * Helpers shared by the operator legalizations: reading scalar arguments, tuple fields and the
 * inferred output shape of a call.
 *
 * @module
 */

import { f16Value } from "../../dtype.ts";
import { constant, type PrimExpr } from "../../expr.ts";
import type { Expr, RCall } from "../expr.ts";
import { tupleGetItem } from "../expr.ts";
import type { TensorStructInfo } from "../struct_info.ts";
import { type LegalizeContext, shortName } from "./registry.ts";

/** An error for a call the legalization cannot lower: `Cannot legalize "op": reason`. */
export function cannotLegalize(call: RCall, reason: string): Error {
  const name = call.op.kind === "relax.Op" ? shortName(call.op.name) : "call";
  return new Error(`Cannot legalize "${name}": ${reason}`);
}

/** The value of a rank-0 constant tensor, as a scalar expression; `undefined` otherwise. */
export function scalarConstant(e: Expr | undefined): PrimExpr | undefined {
  if (!e || e.kind !== "relax.Constant" || e.data.shape.length !== 0) return undefined;
  const v = e.data.data[0];
  if (v === undefined) return undefined;
  const t = e.data.dtype;
  return constant(t === "float16" ? f16Value(Number(v)) : Number(v), t);
}

/**
 * The value of a scalar argument (`R.prim_value(...)`, or anything whose StructInfo knows its
 * value); `undefined` when unknown.
 */
export function primValueOf(e: Expr | undefined): PrimExpr | undefined {
  if (!e) return undefined;
  if (e.kind === "relax.PrimValue") return e.value;
  const s = e.structInfo;
  return s.kind === "PrimStructInfo" ? s.value : scalarConstant(e);
}

/** The scalar value of argument `i`; throws when it is not known at compile time. */
export function scalarArgValue(call: RCall, i: number, name: string): PrimExpr {
  const v = primValueOf(call.args[i]);
  if (!v) throw cannotLegalize(call, `argument "${name}" must be a known scalar (R.prim_value)`);
  return v;
}

/** The tensors of a tuple argument: its fields, or `TupleGetItem`s of it bound by `ctx`. */
export function tupleFields(e: Expr, ctx: LegalizeContext): Expr[] {
  if (e.kind === "relax.Tuple") return [...e.fields];
  const s = e.structInfo;
  if (s.kind !== "TupleStructInfo") return [e];
  return s.fields.map((_, i) => ctx.emit(tupleGetItem(e, i)));
}

/** The call's inferred tensor StructInfo (of known shape; the pass skips other calls). */
export function outTensor(call: RCall): TensorStructInfo & { readonly shape: readonly PrimExpr[] } {
  const s = call.structInfo;
  if (s.kind !== "TensorStructInfo" || !s.shape) {
    throw cannotLegalize(call, "the result shape is unknown");
  }
  return s as TensorStructInfo & { readonly shape: readonly PrimExpr[] };
}

/** The rank of tensor argument `i`. */
export function argRank(call: RCall, i: number): number {
  const s = call.args[i]?.structInfo;
  return s && s.kind === "TensorStructInfo" ? s.ndim : -1;
}

/** A numeric attribute (a number or a constant expression) of `call`. */
export function numberAttr(call: RCall, name: string): number {
  const v = call.attrs[name];
  if (typeof v === "number") return v;
  if (v && typeof v === "object" && !Array.isArray(v) && "kind" in v) {
    const e = v as PrimExpr;
    if (e.kind === "IntImm" || e.kind === "FloatImm") return e.value;
  }
  throw cannotLegalize(call, `attribute "${name}" must be a number`);
}
