/**
 * Normalizations for the legalizations: layer norm, RMS norm, group norm and batch norm
 * (inference and training forms). Statistics of float16 inputs accumulate in float32.
 *
 * @module
 */

import type { DType } from "../../../dtype.ts";
import type { PrimExpr, Var } from "../../../expr.ts";
import * as ti from "../../../te/intrin.ts";
import * as tr from "../../../te/reduce.ts";
import { compute, type Tensor } from "../../../te/tensor.ts";
import { axisNames, castTo, constOf, i64, prodDims } from "./topi_common.ts";
import { reduceCompute } from "./topi_reduce.ts";

/** The accumulation dtype of statistics over `dtype`. */
function accDType(dtype: DType): DType {
  return dtype === "float16" ? "float32" : dtype;
}

/** Options of the normalizations. */
export interface NormOptions {
  /** Added to the variance. */
  readonly epsilon: number;
}

function keptIndex(idx: readonly PrimExpr[], axes: readonly number[]): PrimExpr[] {
  return idx.filter((_, i) => !axes.includes(i));
}

/** Mean and sum of squared deviations over `axes` (shape: the kept axes). */
function moments(
  x: Tensor,
  axes: readonly number[],
  acc: DType,
): { mean: Tensor; varSum: Tensor; count: PrimExpr } {
  const count = castTo(prodDims(axes.map((a) => x.shape[a]!)), acc);
  const sum = reduceCompute(x.shape, axes, "sum", (ix) => castTo(x.at(...ix), acc), {
    name: "x_sum",
  });
  const mean = compute(sum.shape, (idx) => sum.at(...idx).div(count), {
    name: "x_mean",
    axisNames: axisNames(sum.ndim),
  });
  const varSum = reduceCompute(x.shape, axes, "sum", (ix) => {
    const d = castTo(x.at(...ix), acc).sub(mean.at(...keptIndex(ix, axes)));
    return d.mul(d);
  }, { name: "x_var_sum" });
  return { mean, varSum, count };
}

/**
 * Layer normalization over `axes`: `(x - mean) * rsqrt(var + eps) * gamma + beta`, with `gamma`
 * and `beta` indexed by the normalized axes (in `axes` order); either may be omitted.
 */
export function layerNorm(
  x: Tensor,
  gamma: Tensor | undefined,
  beta: Tensor | undefined,
  axes: readonly number[],
  options: NormOptions,
): Tensor {
  const acc = accDType(x.dtype);
  const { mean, varSum, count } = moments(x, axes, acc);
  const eps = constOf(options.epsilon, acc);
  return compute(x.shape, (idx) => {
    const k = keptIndex(idx, axes);
    let v = castTo(x.at(...idx), acc).sub(mean.at(...k)).mul(
      ti.rsqrt(varSum.at(...k).div(count).add(eps)),
    );
    v = castTo(v, x.dtype);
    const p = axes.map((a) => idx[a]!);
    if (gamma) v = v.mul(gamma.at(...p));
    if (beta) v = v.add(beta.at(...p));
    return v;
  }, { name: "T_layer_norm", axisNames: axisNames(x.ndim) });
}

/** RMS normalization over `axes`: `x * rsqrt(mean(x^2) + eps) * weight`. */
export function rmsNorm(
  x: Tensor,
  weight: Tensor | undefined,
  axes: readonly number[],
  options: NormOptions,
): Tensor {
  const acc = accDType(x.dtype);
  const count = castTo(prodDims(axes.map((a) => x.shape[a]!)), acc);
  const sq = reduceCompute(x.shape, axes, "sum", (ix) => {
    const v = castTo(x.at(...ix), acc);
    return v.mul(v);
  }, { name: "T_multiply_red" });
  const eps = constOf(options.epsilon, acc);
  return compute(x.shape, (idx) => {
    const r = ti.rsqrt(sq.at(...keptIndex(idx, axes)).div(count).add(eps));
    let v = castTo(castTo(x.at(...idx), acc).mul(r), x.dtype);
    if (weight) v = v.mul(weight.at(...axes.map((a) => idx[a]!)));
    return v;
  }, { name: "T_rms_norm", axisNames: axisNames(x.ndim) });
}

/**
 * Group normalization: channels (axis `channelAxis`) split into `groups` groups, each normalized
 * over its channels and `axes`; then `* gamma[c] + beta[c]`.
 */
export function groupNorm(
  x: Tensor,
  gamma: Tensor | undefined,
  beta: Tensor | undefined,
  options: NormOptions & {
    readonly groups: number;
    readonly channelAxis: number;
    readonly axes: readonly number[];
  },
): Tensor {
  const { groups, channelAxis: c, axes } = options;
  const acc = accDType(x.dtype);
  const cg = x.shape[c]!.floordiv(groups);
  const statShape = x.shape.map((d, i) => (i === c ? i64(groups) : d)).filter((_, i) =>
    !axes.includes(i)
  );
  const count = castTo(prodDims([cg, ...axes.map((a) => x.shape[a]!)]), acc);
  const statIndex = (idx: readonly PrimExpr[]) =>
    keptIndex(idx.map((e, i) => (i === c ? e.floordiv(cg) : e)), axes);
  const reduceOver = (name: string, f: (ix: PrimExpr[], stat: PrimExpr[]) => PrimExpr) => {
    const rc = tr.reduceAxis([i64(0), cg], "rc");
    const ks = new Map<number, Var>(
      axes.map((a) => [a, tr.reduceAxis([i64(0), x.shape[a]!], `k${a}`)]),
    );
    return compute(statShape, (sIdx) => {
      let j = 0;
      const ix = x.shape.map((_, i) => {
        if (axes.includes(i)) return ks.get(i)!;
        const e = sIdx[j++]!;
        return i === c ? e.mul(cg).add(rc) : e;
      });
      return tr.sum(f(ix, [...sIdx]), [rc, ...ks.values()]);
    }, { name, axisNames: axisNames(statShape.length) });
  };
  const sum = reduceOver("x_sum", (ix) => castTo(x.at(...ix), acc));
  const mean = compute(statShape, (idx) => sum.at(...idx).div(count), {
    name: "x_mean",
    axisNames: axisNames(statShape.length),
  });
  const varSum = reduceOver("x_var_sum", (ix, s) => {
    const d = castTo(x.at(...ix), acc).sub(mean.at(...s));
    return d.mul(d);
  });
  const eps = constOf(options.epsilon, acc);
  return compute(x.shape, (idx) => {
    const s = statIndex(idx);
    let v = castTo(x.at(...idx), acc).sub(mean.at(...s)).mul(
      ti.rsqrt(varSum.at(...s).div(count).add(eps)),
    );
    v = castTo(v, x.dtype);
    if (gamma) v = v.mul(gamma.at(idx[c]!));
    if (beta) v = v.add(beta.at(idx[c]!));
    return v;
  }, { name: "T_group_norm", axisNames: axisNames(x.ndim) });
}

/** Options of {@link batchNorm}. */
export interface BatchNormOptions extends NormOptions {
  /** The channel axis. */
  readonly axis: number;
  /** Use batch statistics and update the moving ones. */
  readonly training: boolean;
  /** Weight of the batch statistics in the moving-statistics update. */
  readonly momentum: number;
}

/**
 * Batch normalization; returns `[out, mean, var]`. Inference uses the moving statistics and
 * returns copies of them; training uses the batch's (population variance) and returns the
 * moving statistics updated by `momentum`.
 */
export function batchNorm(
  x: Tensor,
  params: {
    readonly gamma?: Tensor;
    readonly beta?: Tensor;
    readonly movingMean: Tensor;
    readonly movingVar: Tensor;
  },
  options: BatchNormOptions,
): Tensor[] {
  const { axis } = options;
  const { gamma, beta, movingMean, movingVar } = params;
  const t = x.dtype;
  const eps = constOf(options.epsilon, t);
  const chan = (name: string, f: (c: PrimExpr) => PrimExpr) =>
    compute([x.shape[axis]!], ([c]) => f(c), { name, axisNames: ["ax0"] });
  let mean: Tensor, vari: Tensor;
  if (options.training) {
    const others = [...x.shape.keys()].filter((i) => i !== axis);
    const m = moments(x, others, t);
    mean = m.mean;
    vari = chan("x_var", (c) => m.varSum.at(c).div(m.count));
  } else {
    mean = movingMean;
    vari = movingVar;
  }
  const out = compute(x.shape, (idx) => {
    const c = idx[axis]!;
    let v = x.at(...idx).sub(mean.at(c)).div(ti.sqrt(vari.at(c).add(eps)));
    if (gamma) v = v.mul(gamma.at(c));
    if (beta) v = v.add(beta.at(c));
    return v;
  }, { name: "T_batch_norm", axisNames: axisNames(x.ndim) });
  if (!options.training) {
    return [
      out,
      chan("T_moving_mean", (c) => movingMean.at(c)),
      chan("T_moving_var", (c) => movingVar.at(c)),
    ];
  }
  const mo = constOf(options.momentum, t), keep = constOf(1 - options.momentum, t);
  return [
    out,
    chan("T_moving_mean", (c) => keep.mul(movingMean.at(c)).add(mo.mul(mean.at(c)))),
    chan("T_moving_var", (c) => keep.mul(movingVar.at(c)).add(mo.mul(vari.at(c)))),
  ];
}
