/**
 * Relax `StructInfo`: what is statically known about a value (a tensor's shape with symbolic
 * dimensions and its dtype, a shape, a scalar, a tuple, a function).
 *
 * @module
 */

import { type DType, parseDType } from "../dtype.ts";
import { intImm, type PrimExpr, type PrimExprLike, toExpr } from "../expr.ts";

/** Nothing known: any object. */
export interface ObjectStructInfo {
  /** The node kind. */
  readonly kind: "ObjectStructInfo";
}

/** A scalar of `dtype`, with its value when known (`R.Prim(value=n)`). */
export interface PrimStructInfo {
  /** The node kind. */
  readonly kind: "PrimStructInfo";
  /** The scalar dtype. */
  readonly dtype: DType;
  /** The value when known. */
  readonly value: PrimExpr | undefined;
}

/** A shape value; `values` when known, `ndim` (-1 if unknown). */
export interface ShapeStructInfo {
  /** The node kind. */
  readonly kind: "ShapeStructInfo";
  /** The dimensions, when known. */
  readonly values: readonly PrimExpr[] | undefined;
  /** The number of dimensions, -1 if unknown. */
  readonly ndim: number;
}

/** A tensor: shape (when known) in symbolic dims, rank (-1 if unknown), dtype (`"void"` if unknown). */
export interface TensorStructInfo {
  /** The node kind. */
  readonly kind: "TensorStructInfo";
  /** The shape in symbolic dimensions, when known. */
  readonly shape: readonly PrimExpr[] | undefined;
  /** The rank, -1 if unknown. */
  readonly ndim: number;
  /** The element dtype, `"void"` if unknown. */
  readonly dtype: DType;
}

/** A tuple of values. */
export interface TupleStructInfo {
  /** The node kind. */
  readonly kind: "TupleStructInfo";
  /** The info of each element. */
  readonly fields: readonly StructInfo[];
}

/** A function: parameter infos (unknown when `undefined`), return info and purity. */
export interface FuncStructInfo {
  /** The node kind. */
  readonly kind: "FuncStructInfo";
  /** The parameter infos; `undefined` when unknown. */
  readonly params: readonly StructInfo[] | undefined;
  /** The return info. */
  readonly ret: StructInfo;
  /** Whether the function is pure. */
  readonly purity: boolean;
}

/** Static information about a Relax value. */
export type StructInfo =
  | ObjectStructInfo
  | PrimStructInfo
  | ShapeStructInfo
  | TensorStructInfo
  | TupleStructInfo
  | FuncStructInfo;

/** `R.Object` */
export function objectSInfo(): ObjectStructInfo {
  return { kind: "ObjectStructInfo" };
}

/** `R.Prim(dtype)` or `R.Prim(value=...)`. */
export function primSInfo(dtype: DType, value?: PrimExprLike): PrimStructInfo {
  const v = value === undefined ? undefined : toExpr(value);
  if (v && v.dtype !== dtype) {
    throw new Error(`R.Prim: value of dtype ${v.dtype} does not match ${dtype}`);
  }
  return { kind: "PrimStructInfo", dtype: parseDType(dtype), value: v };
}

/** `R.Shape([...])` with known values, or `R.Shape(ndim=k)`. */
export function shapeSInfo(
  values: readonly PrimExprLike[] | undefined,
  ndim?: number,
): ShapeStructInfo {
  if (values === undefined) return { kind: "ShapeStructInfo", values: undefined, ndim: ndim ?? -1 };
  const vs = values.map(shapeDim);
  return { kind: "ShapeStructInfo", values: vs, ndim: vs.length };
}

/**
 * `R.Tensor(shape, dtype)`. Numbers in the shape become int64 constants, as Relax shapes are
 * int64. Pass `undefined` for an unknown shape (then `ndim` may be given).
 */
export function tensorSInfo(
  shape: readonly PrimExprLike[] | undefined,
  dtype: DType = "void",
  ndim?: number,
): TensorStructInfo {
  const t = parseDType(dtype);
  if (shape === undefined) {
    return { kind: "TensorStructInfo", shape: undefined, ndim: ndim ?? -1, dtype: t };
  }
  const s = shape.map((d) => shapeDim(d));
  if (ndim !== undefined && ndim !== s.length) {
    throw new Error(`R.Tensor: shape has ${s.length} dimensions but ndim is ${ndim}`);
  }
  return { kind: "TensorStructInfo", shape: s, ndim: s.length, dtype: t };
}

/** A shape dimension as an int64 PrimExpr. */
export function shapeDim(d: PrimExprLike): PrimExpr {
  if (typeof d === "number") {
    if (!Number.isInteger(d) || d < 0) {
      throw new Error(`Shape dimension must be a non-negative integer, got ${d}`);
    }
    return intImm(d, "int64");
  }
  const e = toExpr(d);
  if (e.dtype !== "int64" && e.dtype !== "int32") {
    throw new Error(`Shape dimension must be an integer, got ${e.dtype}`);
  }
  return e;
}

/** `R.Tuple(...)` */
export function tupleSInfo(fields: readonly StructInfo[]): TupleStructInfo {
  return { kind: "TupleStructInfo", fields };
}

/** `R.Callable(params, ret, purity)` */
export function funcSInfo(
  params: readonly StructInfo[] | undefined,
  ret: StructInfo,
  purity = true,
): FuncStructInfo {
  return { kind: "FuncStructInfo", params, ret, purity };
}
