/**
 * Building blocks of the operator legalizations (a small TOPI): index helpers, numpy
 * broadcasting, element-wise computes, fills and casts. Everything here works on te tensors
 * whose shapes may hold symbolic (int64) dimensions.
 *
 * @module
 */

import type { DType } from "../../../dtype.ts";
import {
  cast as castE,
  constant,
  intImm,
  type PrimExpr,
  type PrimExprLike,
} from "../../../expr.ts";
import { compute, type Tensor } from "../../../te/tensor.ts";

/** A compute operand: a tensor, or a scalar expression used as is at every index. */
export type Operand = Tensor | PrimExpr;

/** An int64 constant (the index dtype of Relax shapes). */
export function i64(v: number): PrimExpr {
  return intImm(v, "int64");
}

/** Axis names `ax0, ax1, ...` (TOPI's naming for broadcast and injective computes). */
export function axisNames(n: number, prefix = "ax"): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${i}`);
}

/** Whether a dimension is the constant `v`. */
export function isConst(d: PrimExpr, v: number): boolean {
  return d.kind === "IntImm" && d.value === v;
}

/** Whether `x` is a te tensor (rather than a scalar expression). */
export function isTensorOperand(x: Operand): x is Tensor {
  return (x as { kind: string }).kind === "te.Tensor";
}

/** The product of dimensions (an int64 `1` for none). */
export function prodDims(dims: readonly PrimExpr[]): PrimExpr {
  return dims.reduce((a: PrimExpr, b) => a.mul(b), i64(1));
}

/** The row-major flat offset of `indices` in `shape`. */
export function ravelIndex(indices: readonly PrimExpr[], shape: readonly PrimExpr[]): PrimExpr {
  let flat: PrimExpr = i64(0);
  indices.forEach((ix, d) => {
    flat = d === 0 ? ix : flat.mul(shape[d]!).add(ix);
  });
  return flat;
}

/** The row-major indices of flat offset `flat` in `shape`. */
export function unravelIndex(flat: PrimExpr, shape: readonly PrimExpr[]): PrimExpr[] {
  const out: PrimExpr[] = [];
  let stride: PrimExpr = i64(1);
  for (let d = shape.length - 1; d >= 0; d--) {
    const q = d === shape.length - 1 ? flat : flat.floordiv(stride);
    out[d] = d === 0 ? q : q.floormod(shape[d]!);
    stride = stride.mul(shape[d]!);
  }
  return out;
}

/** A constant of `dtype`. */
export function constOf(v: number | boolean, dtype: DType): PrimExpr {
  return constant(v, dtype);
}

/** Converts a scalar (expression or number) to `dtype`. */
export function castTo(v: PrimExprLike, dtype: DType): PrimExpr {
  return castE(v, dtype);
}

/**
 * numpy broadcasting of two shapes: a dimension 1 takes the other side's, otherwise the left
 * one is kept (equal, or assumed equal when symbolic).
 */
export function broadcastShape(a: readonly PrimExpr[], b: readonly PrimExpr[]): PrimExpr[] {
  const n = Math.max(a.length, b.length);
  const out: PrimExpr[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i], y = b[b.length - n + i];
    if (!x) out.push(y!);
    else if (!y) out.push(x);
    else if (isConst(x, 1)) out.push(y);
    else out.push(x);
  }
  return out;
}

/** Indices into a tensor of `shape` broadcast to an output indexed by `outIdx`. */
export function broadcastIndices(
  shape: readonly PrimExpr[],
  outIdx: readonly PrimExpr[],
): PrimExpr[] {
  const off = outIdx.length - shape.length;
  return shape.map((d, i) => (isConst(d, 1) ? i64(0) : outIdx[i + off]!));
}

/** The value of `x` at output index `outIdx` under broadcasting. */
export function broadcastLoad(x: Operand, outIdx: readonly PrimExpr[]): PrimExpr {
  return isTensorOperand(x) ? x.at(...broadcastIndices(x.shape, outIdx)) : x;
}

/** A compute over the broadcast of `operands`: `f` gets their values at each index. */
export function broadcastCompute(
  operands: readonly Operand[],
  f: (values: PrimExpr[]) => PrimExpr,
  name: string,
): Tensor {
  const shapes = operands.filter(isTensorOperand).map((t) => t.shape);
  const shape = shapes.reduce((a, b) => broadcastShape(a, b), [] as PrimExpr[]);
  return compute(shape, (idx) => f(operands.map((o) => broadcastLoad(o, idx))), {
    name,
    tag: "broadcast",
    axisNames: axisNames(shape.length),
  });
}

/** An element-wise compute `f(x[i])` (TOPI's unary ops: named `compute`, axes `i0, i1, ...`). */
export function elemwise(
  x: Tensor,
  f: (v: PrimExpr) => PrimExpr,
  options: { readonly name?: string } = {},
): Tensor {
  return compute(x.shape, (idx) => f(x.at(...idx)), {
    name: options.name ?? "compute",
    tag: "elemwise",
    axisNames: axisNames(x.ndim, "i"),
  });
}

/** A copy of `x` (an output may not be an input). */
export function identity(x: Tensor): Tensor {
  return elemwise(x, (v) => v);
}

/** `x` converted to `dtype` element-wise. */
export function cast(x: Tensor, dtype: DType): Tensor {
  return elemwise(x, (v) => castE(v, dtype));
}

/** A tensor of `shape` filled with `value` (converted to `dtype`). */
export function full(
  shape: readonly PrimExpr[],
  value: PrimExprLike,
  dtype: DType,
  name = "T_full",
): Tensor {
  const v = castE(value, dtype);
  return compute(shape, () => v, { name, tag: "elemwise", axisNames: axisNames(shape.length) });
}
