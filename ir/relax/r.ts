/**
 * Short constructors for Relax parameters and StructInfo, in the spirit of TVMScript's `R.`
 * namespace: `R.tensor([n, 784], "float32", "x")` makes a parameter variable,
 * `R.Tensor([n, 4], "float32")` its StructInfo.
 *
 * @module
 */

import type { DType } from "../dtype.ts";
import type { PrimExprLike } from "../expr.ts";
import { type RVar, rvar } from "./expr.ts";
import {
  funcSInfo,
  type FuncStructInfo,
  objectSInfo,
  type ObjectStructInfo,
  primSInfo,
  type PrimStructInfo,
  shapeSInfo,
  type ShapeStructInfo,
  type StructInfo,
  tensorSInfo,
  type TensorStructInfo,
  tupleSInfo,
  type TupleStructInfo,
} from "./struct_info.ts";

/** A tensor parameter `name: R.Tensor(shape, dtype)`. */
export function tensor(shape: readonly PrimExprLike[], dtype: DType, name: string): RVar {
  return rvar(name, tensorSInfo(shape, dtype));
}

/** A parameter of any StructInfo. */
export function param(name: string, sinfo: StructInfo): RVar {
  return rvar(name, sinfo);
}

/** `R.Tensor(shape, dtype)` (shape `undefined` for unknown; then `ndim` may be given). */
export function Tensor(
  shape: readonly PrimExprLike[] | undefined,
  dtype: DType = "void",
  ndim?: number,
): TensorStructInfo {
  return tensorSInfo(shape, dtype, ndim);
}

/** `R.Shape([...])` */
export function Shape(values?: readonly PrimExprLike[], ndim?: number): ShapeStructInfo {
  return shapeSInfo(values, ndim);
}

/** `R.Tuple(...)` */
export function Tuple(...fields: readonly StructInfo[]): TupleStructInfo {
  return tupleSInfo(fields);
}

/** `R.Prim(dtype)` */
export function Prim(dtype: DType, value?: PrimExprLike): PrimStructInfo {
  return primSInfo(dtype, value);
}

/** `R.Object` */
export function Object(): ObjectStructInfo {
  return objectSInfo();
}

/** `R.Callable(params, ret)` */
export function Callable(
  params: readonly StructInfo[] | undefined,
  ret: StructInfo,
  purity = true,
): FuncStructInfo {
  return funcSInfo(params, ret, purity);
}
