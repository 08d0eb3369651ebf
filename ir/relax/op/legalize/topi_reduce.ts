/**
 * Reductions for the legalizations: sum/max/min/prod over axes, mean, variance, std,
 * argmax/argmin, cumulative sums, and numerically stable softmax / log-softmax.
 *
 * @module
 */

import type { DType } from "../../../dtype.ts";
import type { PrimExpr, Var } from "../../../expr.ts";
import * as ti from "../../../te/intrin.ts";
import * as tr from "../../../te/reduce.ts";
import { compute, type Tensor } from "../../../te/tensor.ts";
import { axisNames, castTo, i64, prodDims, unravelIndex } from "./topi_common.ts";

/** A commutative reduction kind. */
export type ReduceKind = "sum" | "max" | "min" | "prod";

const REDUCERS: { readonly [K in ReduceKind]: tr.Reducer } = {
  sum: tr.sum,
  max: tr.max,
  min: tr.min,
  prod: tr.prod,
};

/** Options of the reductions. */
export interface ReduceOptions {
  /** Keep reduced axes as size 1. */
  readonly keepdims?: boolean;
  /** The compute name (`<input>_red` by default, as TOPI). */
  readonly name?: string;
}

/** The output shape of reducing `axes` of `shape`. */
export function reducedShape(
  shape: readonly PrimExpr[],
  axes: readonly number[],
  keepdims: boolean,
): PrimExpr[] {
  const out: PrimExpr[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keepdims) out.push(i64(1));
  });
  return out;
}

/**
 * Input indices for output index `idx` of a reduction over `axes`: kept axes take the output's
 * indices, reduced ones `reduced[a]`.
 */
function inputIndex(
  ndim: number,
  axes: readonly number[],
  keepdims: boolean,
  idx: readonly PrimExpr[],
  reduced: (axis: number) => PrimExpr,
): PrimExpr[] {
  const out: PrimExpr[] = [];
  let j = 0;
  for (let i = 0; i < ndim; i++) {
    if (axes.includes(i)) {
      out.push(reduced(i));
      if (keepdims) j++;
    } else out.push(idx[j++]!);
  }
  return out;
}

/**
 * A reduction of `source(inputIndex)` over `axes` of `shape` (reduce axes `k<axis>`, output axes
 * `ax0, ...`). With no axes, the source is copied.
 */
export function reduceCompute(
  shape: readonly PrimExpr[],
  axes: readonly number[],
  kind: ReduceKind,
  source: (index: PrimExpr[]) => PrimExpr,
  options: { readonly keepdims?: boolean; readonly name: string },
): Tensor {
  const keep = options.keepdims ?? false;
  const sorted = [...new Set(axes)].sort((a, b) => a - b);
  const out = reducedShape(shape, sorted, keep);
  const ks = new Map<number, Var>(
    sorted.map((a) => [a, tr.reduceAxis([i64(0), shape[a]!], `k${a}`)]),
  );
  return compute(out, (idx) => {
    const src = source(inputIndex(shape.length, sorted, keep, idx, (a) => ks.get(a)!));
    return ks.size ? REDUCERS[kind](src, [...ks.values()]) : src;
  }, { name: options.name, tag: "comm_reduce", axisNames: axisNames(out.length) });
}

/** `kind`-reduction of `x` over `axes`. */
export function reduce(
  x: Tensor,
  kind: ReduceKind,
  axes: readonly number[],
  options: ReduceOptions = {},
): Tensor {
  return reduceCompute(x.shape, axes, kind, (ix) => x.at(...ix), {
    keepdims: options.keepdims ?? false,
    name: options.name ?? `${x.name}_red`,
  });
}

function countOf(x: Tensor, axes: readonly number[]): PrimExpr {
  return castTo(prodDims([...new Set(axes)].map((a) => x.shape[a]!)), x.dtype);
}

function divideBy(t: Tensor, n: PrimExpr, name = "T_divide"): Tensor {
  return compute(t.shape, (idx) => t.at(...idx).div(n), {
    name,
    tag: "elemwise",
    axisNames: axisNames(t.ndim),
  });
}

/** Mean over `axes`: a sum, then a division by the element count. */
export function mean(x: Tensor, axes: readonly number[], options: ReduceOptions = {}): Tensor {
  return divideBy(
    reduce(x, "sum", axes, { keepdims: options.keepdims ?? false }),
    countOf(x, axes),
  );
}

/** Population variance over `axes`: the mean of squared deviations from the mean. */
export function variance(x: Tensor, axes: readonly number[], options: ReduceOptions = {}): Tensor {
  const m = mean(x, axes, { keepdims: true });
  const sq = reduceCompute(x.shape, axes, "sum", (ix) => {
    const d = x.at(...ix).sub(m.at(...ix.map((e, i) => (axes.includes(i) ? i64(0) : e))));
    return d.mul(d);
  }, { keepdims: options.keepdims ?? false, name: "T_multiply_red" });
  return divideBy(sq, countOf(x, axes), "T_divide_1");
}

/** Population standard deviation over `axes`. */
export function std(x: Tensor, axes: readonly number[], options: ReduceOptions = {}): Tensor {
  const v = variance(x, axes, options);
  return compute(v.shape, (idx) => ti.sqrt(v.at(...idx)), {
    name: "compute",
    tag: "elemwise",
    axisNames: axisNames(v.ndim, "i"),
  });
}

/**
 * The index (int64) of the largest (`argmax`) or smallest element along `axis`, or over the
 * flattened tensor when `axis` is `undefined`; the first occurrence wins on ties.
 */
export function argReduce(
  x: Tensor,
  kind: "argmax" | "argmin",
  axis: number | undefined,
  options: ReduceOptions = {},
): Tensor {
  const keep = options.keepdims ?? false;
  const name = options.name ?? `${x.name}_red`;
  const reducer = kind === "argmax" ? tr.argmax : tr.argmin;
  const all = axis === undefined;
  const axes = all ? [...x.shape.keys()] : [axis];
  const out = reducedShape(x.shape, axes, keep);
  const extent = all ? prodDims(x.shape) : x.shape[axis]!;
  const k = tr.reduceAxis([i64(0), extent], all ? "k" : `k${axis}`);
  const [idxT] = compute(out, (idx) => {
    const src = all
      ? x.at(...unravelIndex(k, x.shape))
      : x.at(...inputIndex(x.ndim, axes, keep, idx, () => k));
    return reducer(src, k, { indexDtype: "int64" });
  }, { name: `${name}_temp`, tag: "comm_reduce_idx", axisNames: axisNames(out.length) });
  return compute(out, (idx) => idxT!.at(...idx), {
    name,
    tag: "comm_reduce_idx",
    axisNames: axisNames(out.length),
  });
}

/**
 * Cumulative sum along `axis` (of the flattened tensor when `undefined`), accumulated in
 * `dtype`; `exclusive` leaves out the element itself.
 */
export function cumsum(
  x: Tensor,
  axis: number | undefined,
  options: { readonly dtype?: DType; readonly exclusive?: boolean } = {},
): Tensor {
  const dtype = options.dtype ?? x.dtype;
  const flat = axis === undefined;
  const shape = flat ? [prodDims(x.shape)] : x.shape;
  const ax = flat ? 0 : axis;
  const k = tr.reduceAxis([i64(0), shape[ax]!], "k");
  return compute(shape, (idx) => {
    const at = idx.map((e, i) => (i === ax ? k : e));
    const v = flat ? x.at(...unravelIndex(k, x.shape)) : x.at(...at);
    const j = idx[ax]!;
    return tr.sum(castTo(v, dtype), k, { where: options.exclusive ? k.lt(j) : k.le(j) });
  }, { name: "T_cumsum", tag: "cumsum", axisNames: axisNames(shape.length) });
}

function dropAxis(idx: readonly PrimExpr[], axis: number): PrimExpr[] {
  return idx.filter((_, i) => i !== axis);
}

function softmaxParts(x: Tensor, axis: number): { max: Tensor; sumExp: Tensor } {
  const reduced = dropAxis(x.shape, axis);
  const names = axisNames(reduced.length, "i");
  const kMax = tr.reduceAxis([i64(0), x.shape[axis]!], "k");
  const full = (idx: readonly PrimExpr[], k: PrimExpr) => [
    ...idx.slice(0, axis),
    k,
    ...idx.slice(axis),
  ];
  const max = compute(reduced, (idx) => tr.max(x.at(...full(idx, kMax)), kMax), {
    name: "T_softmax_maxelem",
    axisNames: names,
  });
  const kSum = tr.reduceAxis([i64(0), x.shape[axis]!], "k");
  const sumExp = compute(
    reduced,
    (idx) => tr.sum(ti.exp(x.at(...full(idx, kSum)).sub(max.at(...idx))), kSum),
    { name: "T_softmax_expsum", axisNames: names },
  );
  return { max, sumExp };
}

/** Softmax along `axis`: `exp(x - max) / sum(exp(x - max))`. */
export function softmax(x: Tensor, axis: number): Tensor {
  const { max, sumExp } = softmaxParts(x, axis);
  return compute(
    x.shape,
    (idx) =>
      ti.exp(x.at(...idx).sub(max.at(...dropAxis(idx, axis)))).div(
        sumExp.at(...dropAxis(idx, axis)),
      ),
    { name: "T_softmax_norm", axisNames: axisNames(x.ndim, "i") },
  );
}

/** Log-softmax along `axis`: `x - max - log(sum(exp(x - max)))`. */
export function logSoftmax(x: Tensor, axis: number): Tensor {
  const { max, sumExp } = softmaxParts(x, axis);
  return compute(
    x.shape,
    (idx) => {
      const r = dropAxis(idx, axis);
      return x.at(...idx).sub(max.at(...r)).sub(ti.log(sumExp.at(...r)));
    },
    { name: "T_log_softmax", axisNames: axisNames(x.ndim, "i") },
  );
}
