/**
 * Constant folding of binary operators and casts, exact for each dtype: integer results must fit
 * their dtype (otherwise nothing folds), float results are rounded to float32/float16 as the
 * hardware would.
 *
 * @module
 */

import {
  type DType,
  dtypeBits,
  dtypeCode,
  elementDType,
  f16Bits,
  f16Value,
  intRange,
  isBool,
  isFloat,
  isInt,
  isUInt,
  lanes,
} from "../dtype.ts";
import {
  type BinaryKind,
  boolImm,
  floatImm,
  foldInt,
  intImm,
  isCmpKind,
  type PrimExpr,
} from "../expr.ts";

/** Rounds a float to the precision of a float dtype. */
export function roundFloat(x: number, t: DType): number {
  switch (elementDType(t)) {
    case "float32":
      return Math.fround(x);
    case "float16":
      return f16Value(f16Bits(x));
    default:
      return x;
  }
}

/** Whether `v` is representable in the integer (or bool) dtype `t`. */
export function fitsInt(v: number, t: DType): boolean {
  if (!Number.isSafeInteger(v)) return false;
  const r = intRange(t);
  return BigInt(v) >= r.min && BigInt(v) <= r.max;
}

/** Integer `x kind y` in exact arithmetic (one table, shared with the IR's operators). */
export const foldIntOp: (kind: BinaryKind, x: number, y: number) => number | undefined = foldInt;

function foldFloatOp(kind: BinaryKind, x: number, y: number): number | undefined {
  switch (kind) {
    case "Add":
      return x + y;
    case "Sub":
      return x - y;
    case "Mul":
      return x * y;
    case "Div":
      return y === 0 ? undefined : x / y;
    case "FloorDiv":
      return y === 0 ? undefined : Math.floor(x / y);
    case "Mod":
      return y === 0 ? undefined : x % y;
    case "FloorMod":
      return y === 0 ? undefined : x - Math.floor(x / y) * y;
    case "Min":
      return Math.min(x, y);
    case "Max":
      return Math.max(x, y);
    case "EQ":
      return +(x === y);
    case "NE":
      return +(x !== y);
    case "LT":
      return +(x < y);
    case "LE":
      return +(x <= y);
    case "GT":
      return +(x > y);
    case "GE":
      return +(x >= y);
    case "And":
    case "Or":
      return undefined;
  }
}

/**
 * Folds `a kind b` when both are scalar constants of one dtype; `undefined` when it cannot
 * (not constants, division by zero, or an integer result that does not fit the dtype).
 */
export function foldBinary(kind: BinaryKind, a: PrimExpr, b: PrimExpr): PrimExpr | undefined {
  if (a.dtype !== b.dtype || lanes(a.dtype) !== 1) return undefined;
  const cmp = isCmpKind(kind);
  if (a.kind === "IntImm" && b.kind === "IntImm") {
    const r = foldIntOp(kind, a.value, b.value);
    if (r === undefined) return undefined;
    if (cmp || kind === "And" || kind === "Or") return boolImm(r !== 0);
    return fitsInt(r, a.dtype) ? intImm(r, a.dtype) : undefined;
  }
  if (a.kind === "FloatImm" && b.kind === "FloatImm") {
    const r = foldFloatOp(kind, a.value, b.value);
    if (r === undefined) return undefined;
    return cmp ? boolImm(r !== 0) : floatImm(roundFloat(r, a.dtype), a.dtype);
  }
  return undefined;
}

/** Folds a cast of a scalar constant to `t`; `undefined` when the value is not representable. */
export function foldCast(v: PrimExpr, t: DType): PrimExpr | undefined {
  if ((v.kind !== "IntImm" && v.kind !== "FloatImm") || lanes(t) !== 1) return undefined;
  const x = v.value;
  if (isBool(t)) return boolImm(x !== 0);
  if (isFloat(t)) return floatImm(roundFloat(x, t), t);
  if (!isInt(t)) return undefined;
  if (v.kind === "FloatImm") {
    const r = Math.trunc(x) || 0;
    return Number.isFinite(x) && fitsInt(r, t) ? intImm(r, t) : undefined;
  }
  if (!Number.isSafeInteger(x)) return undefined;
  // Integer conversions wrap to the target width (two's complement).
  const bits = BigInt(dtypeBits(t));
  const w = isUInt(t)
    ? BigInt.asUintN(Number(bits), BigInt(x))
    : BigInt.asIntN(Number(bits), BigInt(x));
  const r = Number(w);
  return Number.isSafeInteger(r) ? intImm(r, t) : undefined;
}

/** Whether the dtype's values are ordered integers that the canonical form may rearrange. */
export function isSignedInt(t: DType): boolean {
  return dtypeCode(t) === "int" && lanes(t) === 1;
}
