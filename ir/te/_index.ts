/**
 * Index dtype helpers shared by the te files.
 *
 * @module
 */

import { type DType, isInt } from "../dtype.ts";
import { intImm, type PrimExpr, type PrimExprLike, toExpr } from "../expr.ts";

/** Converts an index expression to `t`: constants are rebuilt, other expressions cast. */
export function normalizeIndex(x: PrimExprLike, t: DType): PrimExpr {
  const e = toExpr(x);
  if (!isInt(e.dtype)) throw new Error(`Index expressions must be integers, got ${e.dtype}`);
  if (e.dtype === t) return e;
  if (e.kind === "IntImm") return intImm(e.value, t);
  return e.cast(t);
}
