/**
 * Injective computes for the legalizations: reshape, transpose, concatenate, split, squeeze,
 * expand_dims, broadcast_to, strided_slice, take, stack, repeat, tile, flip, one_hot, trilu and
 * arange. Index expressions are int64 and work with symbolic dimensions.
 *
 * @module
 */

import type { DType } from "../../../dtype.ts";
import type { PrimExpr } from "../../../expr.ts";
import { ifThenElse } from "../../../te/intrin.ts";
import { compute, type Tensor } from "../../../te/tensor.ts";
import {
  axisNames,
  broadcastIndices,
  castTo,
  i64,
  isConst,
  prodDims,
  ravelIndex,
  unravelIndex,
} from "./topi_common.ts";

function injective(
  shape: readonly PrimExpr[],
  f: (idx: PrimExpr[]) => PrimExpr,
  name: string,
): Tensor {
  return compute(shape, (idx) => f([...idx]), {
    name,
    tag: "injective",
    axisNames: axisNames(shape.length),
  });
}

/** `x` viewed with shape `shape` (same element count, row-major order). */
export function reshape(x: Tensor, shape: readonly PrimExpr[], name = "T_reshape"): Tensor {
  return injective(shape, (idx) => x.at(...unravelIndex(ravelIndex(idx, shape), x.shape)), name);
}

/** Axes permuted: output axis `i` is input axis `axes[i]`. */
export function transpose(x: Tensor, axes: readonly number[], name = "T_transpose"): Tensor {
  return injective(axes.map((a) => x.shape[a]!), (idx) => {
    const src: PrimExpr[] = [];
    axes.forEach((a, i) => (src[a] = idx[i]!));
    return x.at(...src);
  }, name);
}

/** Tensors joined along `axis`. */
export function concatenate(xs: readonly Tensor[], axis: number): Tensor {
  const first = xs[0]!;
  const offsets: PrimExpr[] = [i64(0)];
  for (const t of xs) offsets.push(offsets[offsets.length - 1]!.add(t.shape[axis]!));
  const shape = first.shape.map((d, i) => (i === axis ? offsets[xs.length]! : d));
  return injective(shape, (idx) => {
    const at = (i: number) =>
      xs[i]!.at(...idx.map((e, d) => (d === axis ? e.sub(offsets[i]!) : e)));
    let v: PrimExpr = at(xs.length - 1);
    for (let i = xs.length - 2; i >= 0; i--) {
      v = ifThenElse(idx[axis]!.lt(offsets[i + 1]!), at(i), v);
    }
    return v;
  }, "T_concat");
}

/**
 * Pieces of `x` along `axis`, starting at `starts` with lengths `lengths` (one compute each,
 * named `name`, `name_1`, ...).
 */
export function split(
  x: Tensor,
  axis: number,
  starts: readonly PrimExpr[],
  lengths: readonly PrimExpr[],
  name: string,
): Tensor[] {
  return starts.map((b, p) =>
    injective(
      x.shape.map((d, i) => (i === axis ? lengths[p]! : d)),
      (idx) => x.at(...idx.map((e, i) => (i === axis ? e.add(b) : e))),
      name,
    )
  );
}

/** `x` without the (size-1) axes `axes`. */
export function squeeze(x: Tensor, axes: readonly number[]): Tensor {
  const kept = [...x.shape.keys()].filter((i) => !axes.includes(i));
  return injective(kept.map((i) => x.shape[i]!), (idx) => {
    let j = 0;
    return x.at(...x.shape.map((_, i) => (axes.includes(i) ? i64(0) : idx[j++]!)));
  }, "T_squeeze");
}

/** `x` with new size-1 axes at positions `axes` of the output. */
export function expandDims(x: Tensor, axes: readonly number[]): Tensor {
  const nd = x.ndim + axes.length;
  const shape: PrimExpr[] = [];
  let k = 0;
  for (let i = 0; i < nd; i++) shape.push(axes.includes(i) ? i64(1) : x.shape[k++]!);
  return injective(shape, (idx) => x.at(...idx.filter((_, i) => !axes.includes(i))), "expand_dims");
}

/** `x` broadcast to `shape`. */
export function broadcastTo(x: Tensor, shape: readonly PrimExpr[]): Tensor {
  return injective(shape, (idx) => x.at(...broadcastIndices(x.shape, idx)), "T_broadcast_to");
}

/** A slice: output index `j` of axis `axes[i]` reads `begin[i] + j * strides[i]`. */
export function stridedSlice(
  x: Tensor,
  shape: readonly PrimExpr[],
  slices: readonly { readonly axis: number; readonly begin: PrimExpr; readonly stride: number }[],
): Tensor {
  return injective(shape, (idx) => {
    const src = [...idx];
    for (const s of slices) src[s.axis] = s.begin.add(idx[s.axis]!.mul(s.stride));
    return x.at(...src);
  }, "T_strided_slice_with_axes");
}

/** How {@link take} treats out-of-range indices. */
export type TakeMode = "fast" | "clip" | "wrap";

/**
 * Elements of `x` at `indices` along `axis` (of the flattened `x` when `undefined`). `"fast"`
 * assumes indices in range, `"clip"` clamps them, `"wrap"` takes them modulo the size.
 */
export function take(x: Tensor, indices: Tensor, axis: number | undefined, mode: TakeMode): Tensor {
  const n = axis === undefined ? prodDims(x.shape) : x.shape[axis]!;
  const fix = (i: PrimExpr) => {
    const v = castTo(i, "int64");
    if (mode === "clip") return v.max(i64(0)).min(n.sub(1));
    if (mode === "wrap") return v.floormod(n);
    return v;
  };
  if (axis === undefined) {
    return injective(
      indices.shape,
      (idx) => x.at(...unravelIndex(fix(indices.at(...idx)), x.shape)),
      "T_take",
    );
  }
  const shape = [...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)];
  const m = indices.ndim;
  return injective(shape, (idx) => {
    const i = fix(indices.at(...idx.slice(axis, axis + m)));
    return x.at(...idx.slice(0, axis), i, ...idx.slice(axis + m));
  }, "T_take");
}

/** Same-shaped tensors stacked along a new axis `axis`. */
export function stack(xs: readonly Tensor[], axis: number): Tensor {
  const shape = [...xs[0]!.shape];
  shape.splice(axis, 0, i64(xs.length));
  return injective(shape, (idx) => {
    const rest = idx.filter((_, i) => i !== axis);
    let v: PrimExpr = xs[xs.length - 1]!.at(...rest);
    for (let i = xs.length - 2; i >= 0; i--) {
      v = ifThenElse(idx[axis]!.eq(i), xs[i]!.at(...rest), v);
    }
    return v;
  }, "T_stack");
}

/** Each element repeated `repeats` times along `axis` (of the flattened `x` when `undefined`). */
export function repeat(x: Tensor, repeats: number, axis: number | undefined): Tensor {
  if (axis === undefined) {
    return injective(
      [prodDims(x.shape).mul(repeats)],
      (idx) => x.at(...unravelIndex(idx[0]!.floordiv(repeats), x.shape)),
      "T_repeat",
    );
  }
  return injective(
    x.shape.map((d, i) => (i === axis ? d.mul(repeats) : d)),
    (idx) => x.at(...idx.map((e, i) => (i === axis ? e.floordiv(repeats) : e))),
    "T_repeat",
  );
}

/** `x` tiled `reps[i]` times along each axis (aligned from the right, numpy's `tile`). */
export function tile(x: Tensor, reps: readonly number[]): Tensor {
  const n = Math.max(x.ndim, reps.length);
  const s = [...Array(n - x.ndim).fill(i64(1)), ...x.shape] as PrimExpr[];
  const r = [...Array(n - reps.length).fill(1), ...reps] as number[];
  return injective(s.map((d, i) => d.mul(r[i]!)), (idx) => {
    const src = idx.slice(n - x.ndim).map((
      e,
      i,
    ) => (isConst(x.shape[i]!, 1) ? i64(0) : e.floormod(x.shape[i]!)));
    return x.at(...src);
  }, "T_tile");
}

/** `x` reversed along `axis`. */
export function flip(x: Tensor, axis: number): Tensor {
  return injective(
    x.shape,
    (idx) => x.at(...idx.map((e, i) => (i === axis ? x.shape[i]!.sub(1).sub(e) : e))),
    "T_reverse_sequence",
  );
}

/** One-hot encoding: a new axis `axis` of size `depth`, `on` where it equals the index. */
export function oneHot(
  indices: Tensor,
  on: PrimExpr,
  off: PrimExpr,
  depth: number,
  axis: number,
  dtype: DType,
): Tensor {
  const shape = [...indices.shape];
  shape.splice(axis, 0, i64(depth));
  return injective(shape, (idx) => {
    const rest = idx.filter((_, i) => i !== axis);
    const hit = castTo(indices.at(...rest), "int64").eq(idx[axis]!);
    return ifThenElse(hit, castTo(on, dtype), castTo(off, dtype));
  }, "T_one_hot");
}

/**
 * The lower (`upper = false`: `j <= i + k`) or upper (`j >= i + k`) triangle of the last two
 * axes; other elements are zero.
 */
export function trilu(x: Tensor, k: PrimExpr, upper: boolean): Tensor {
  return injective(x.shape, (idx) => {
    const i = idx[idx.length - 2]!, j = idx[idx.length - 1]!;
    const kk = castTo(k, "int64");
    const keep = upper ? j.ge(i.add(kk)) : j.le(i.add(kk));
    return ifThenElse(keep, x.at(...idx), castTo(0, x.dtype));
  }, "trilu");
}

/** `start + i * step` for `i` in `[0, length)`, in `dtype`. */
export function arange(
  start: PrimExpr,
  step: PrimExpr,
  length: PrimExpr,
  dtype: DType,
): Tensor {
  return injective(
    [length],
    (idx) => castTo(start, dtype).add(castTo(idx[0]!, dtype).mul(castTo(step, dtype))),
    "T_arange",
  );
}
