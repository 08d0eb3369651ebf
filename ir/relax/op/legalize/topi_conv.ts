/**
 * Spatial computes for the legalizations: constant padding, 2-D convolution (any permutation of
 * NCHW / OIHW layouts, strides, padding, dilation, groups), transposed convolution, max / average
 * pooling (padding, ceil mode, count_include_pad) and adaptive average pooling.
 *
 * @module
 */

import type { DType } from "../../../dtype.ts";
import type { PrimExpr } from "../../../expr.ts";
import { all, ifThenElse } from "../../../te/intrin.ts";
import * as tr from "../../../te/reduce.ts";
import { compute, type Tensor } from "../../../te/tensor.ts";
import { axisNames, castTo, constOf, i64 } from "./topi_common.ts";

/** Constant padding: `padWidth[i]` is `[before, after]` of axis `i`. */
export function pad(
  x: Tensor,
  padWidth: readonly (readonly [number, number])[],
  value: number,
): Tensor {
  const shape = x.shape.map((d, i) => d.add(padWidth[i]![0] + padWidth[i]![1]));
  return compute(shape, (idx) => {
    const conds: PrimExpr[] = [];
    const src = idx.map((e, i) => {
      const [b, a] = padWidth[i]!;
      if (b > 0) conds.push(e.ge(b));
      if (b > 0 || a > 0) conds.push(e.lt(x.shape[i]!.add(b)));
      return e.sub(b);
    });
    return conds.length
      ? ifThenElse(all(...conds), x.at(...src), constOf(value, x.dtype))
      : x.at(...src);
  }, { name: "PadInput", tag: "injective", axisNames: axisNames(x.ndim, "i") });
}

/** Reads the dimensions of `t` by layout letter. */
function dimsOf(t: Tensor, layout: string): (letter: string) => PrimExpr {
  return (l) => t.shape[layout.indexOf(l)]!;
}

/** Arranges values given by layout letter in `layout` order. */
function arrange(layout: string, byLetter: { readonly [l: string]: PrimExpr }): PrimExpr[] {
  return [...layout].map((l) => byLetter[l]!);
}

/** Options of the convolutions. */
export interface ConvOptions {
  /** Strides (height, width). */
  readonly strides: readonly [number, number];
  /** Padding (top, left, bottom, right). */
  readonly padding: readonly [number, number, number, number];
  /** Dilation (height, width). */
  readonly dilation: readonly [number, number];
  /** Channel groups. */
  readonly groups: number;
  /** Data layout: a permutation of `NCHW`. */
  readonly dataLayout: string;
  /** Kernel layout: a permutation of `OIHW` (convolution) or `IOHW` (transposed). */
  readonly kernelLayout: string;
  /** Output layout: a permutation of `NCHW`. */
  readonly outLayout: string;
  /** Accumulation and output dtype. */
  readonly outDtype: DType;
}

/** Output size of a sliding window: `floor((in + pads - dilation*(k-1) - 1) / stride) + 1`. */
export function windowOut(
  inp: PrimExpr,
  k: PrimExpr,
  pads: number,
  stride: number,
  dil: number,
  ceilMode = false,
): PrimExpr {
  const num = inp.add(pads).sub(k.sub(1).mul(dil).add(1));
  return (ceilMode ? num.add(stride - 1) : num).floordiv(stride).add(1);
}

const OUT_AXES: { readonly [l: string]: string } = { N: "nn", C: "ff", H: "yy", W: "xx" };

/** 2-D convolution (cross-correlation), zero padding, grouped when `groups > 1`. */
export function conv2d(x: Tensor, w: Tensor, o: ConvOptions): Tensor {
  const xd = dimsOf(x, o.dataLayout), wd = dimsOf(w, o.kernelLayout);
  const [pt, pl, pb, pr] = o.padding;
  const [sh, sw] = o.strides, [dh, dw] = o.dilation;
  const padded = pt || pl || pb || pr
    ? pad(
      x,
      [...o.dataLayout].map((l) => (l === "H" ? [pt, pb] : l === "W" ? [pl, pr] : [0, 0])),
      0,
    )
    : x;
  const I = wd("I"), KH = wd("H"), KW = wd("W"), O = wd("O");
  const oh = windowOut(xd("H"), KH, pt + pb, sh, dh), ow = windowOut(xd("W"), KW, pl + pr, sw, dw);
  const rc = tr.reduceAxis([i64(0), I], "rc");
  const ry = tr.reduceAxis([i64(0), KH], "ry");
  const rx = tr.reduceAxis([i64(0), KW], "rx");
  const og = O.floordiv(o.groups);
  const shape = arrange(o.outLayout, { N: xd("N"), C: O, H: oh, W: ow });
  const name = `${o.groups > 1 ? "group_" : ""}conv2d_${o.dataLayout.toLowerCase()}`;
  return compute(shape, (idx) => {
    const at = (l: string) => idx[o.outLayout.indexOf(l)]!;
    const n = at("N"), f = at("C"), y = at("H"), xx = at("W");
    const c = o.groups > 1 ? f.floordiv(og).mul(I).add(rc) : rc;
    const xv = padded.at(
      ...arrange(o.dataLayout, {
        N: n,
        C: c,
        H: y.mul(sh).add(ry.mul(dh)),
        W: xx.mul(sw).add(rx.mul(dw)),
      }),
    );
    const wv = w.at(...arrange(o.kernelLayout, { O: f, I: rc, H: ry, W: rx }));
    return tr.sum(castTo(xv, o.outDtype).mul(castTo(wv, o.outDtype)), [rc, ry, rx]);
  }, { name, tag: "conv2d", axisNames: [...o.outLayout].map((l) => OUT_AXES[l]!) });
}

/**
 * 2-D transposed convolution (the gradient of {@link conv2d} with respect to its input), with
 * `outputPadding` extra rows/columns at the bottom/right. The kernel layout is a permutation of
 * `IOHW` (input channels, output channels per group, height, width).
 */
export function conv2dTranspose(
  x: Tensor,
  w: Tensor,
  o: ConvOptions & { readonly outputPadding: readonly [number, number] },
): Tensor {
  const xd = dimsOf(x, o.dataLayout), wd = dimsOf(w, o.kernelLayout);
  const [pt, pl, pb, pr] = o.padding;
  const [sh, sw] = o.strides, [dh, dw] = o.dilation;
  const H = xd("H"), W = xd("W"), KH = wd("H"), KW = wd("W"), og = wd("O");
  const cg = xd("C").floordiv(o.groups);
  const size = (inp: PrimExpr, k: PrimExpr, s: number, d: number, pads: number, op: number) =>
    inp.sub(1).mul(s).sub(pads).add(k.sub(1).mul(d).add(1)).add(op);
  const shape = arrange(o.outLayout, {
    N: xd("N"),
    C: og.mul(o.groups),
    H: size(H, KH, sh, dh, pt + pb, o.outputPadding[0]),
    W: size(W, KW, sw, dw, pl + pr, o.outputPadding[1]),
  });
  const rc = tr.reduceAxis([i64(0), cg], "rc");
  const ry = tr.reduceAxis([i64(0), KH], "ry");
  const rx = tr.reduceAxis([i64(0), KW], "rx");
  return compute(shape, (idx) => {
    const at = (l: string) => idx[o.outLayout.indexOf(l)]!;
    const f = at("C");
    const g = o.groups > 1 ? f.floordiv(og) : i64(0);
    const c = o.groups > 1 ? g.mul(cg).add(rc) : rc;
    const ty = at("H").add(pt).sub(ry.mul(dh)), tx = at("W").add(pl).sub(rx.mul(dw));
    const iy = ty.floordiv(sh), ix = tx.floordiv(sw);
    const conds = [ty.ge(0), tx.ge(0), iy.lt(H), ix.lt(W)];
    if (sh > 1) conds.push(ty.floormod(sh).eq(0));
    if (sw > 1) conds.push(tx.floormod(sw).eq(0));
    const xv = x.at(...arrange(o.dataLayout, { N: at("N"), C: c, H: iy, W: ix }));
    const wv = w.at(
      ...arrange(o.kernelLayout, { I: c, O: o.groups > 1 ? f.sub(g.mul(og)) : f, H: ry, W: rx }),
    );
    return tr.sum(castTo(xv, o.outDtype).mul(castTo(wv, o.outDtype)), [rc, ry, rx], {
      where: all(...conds),
    });
  }, {
    name: `conv2d_transpose_${o.dataLayout.toLowerCase()}`,
    tag: "conv2d_transpose",
    axisNames: [...o.outLayout].map((l) => OUT_AXES[l]!),
  });
}

/** Options of {@link pool2d}. */
export interface PoolOptions {
  /** Window (height, width). */
  readonly poolSize: readonly [number, number];
  /** Strides (height, width). */
  readonly strides: readonly [number, number];
  /** Padding (top, left, bottom, right). */
  readonly padding: readonly [number, number, number, number];
  /** Dilation (height, width). */
  readonly dilation: readonly [number, number];
  /** Round output sizes up (the last window may overhang the padding). */
  readonly ceilMode: boolean;
  /** Average pooling divides by the window clipped to the padded input (else to the input). */
  readonly countIncludePad: boolean;
  /** Input layout: a permutation of `NCHW`. */
  readonly layout: string;
  /** Output layout: a permutation of `NCHW`. */
  readonly outLayout: string;
}

/** `ceil(a / d)` for a positive constant `d`. */
function ceilDiv(a: PrimExpr, d: number): PrimExpr {
  return d === 1 ? a : a.add(d - 1).floordiv(d);
}

/** How many of `base + r*d` (r in [0, k)) fall in `[lo, hi)`. */
function windowCount(base: PrimExpr, lo: PrimExpr, hi: PrimExpr, k: number, d: number): PrimExpr {
  const first = ceilDiv(lo.sub(base), d).max(i64(0));
  const last = ceilDiv(hi.sub(base), d).min(i64(k));
  return last.sub(first).max(i64(0));
}

/** Max or average 2-D pooling; padded positions never take part in a max or a sum. */
export function pool2d(x: Tensor, kind: "max" | "avg", o: PoolOptions): Tensor {
  const xd = dimsOf(x, o.layout);
  const H = xd("H"), W = xd("W");
  const [kh, kw] = o.poolSize, [sh, sw] = o.strides, [dh, dw] = o.dilation;
  const [pt, pl, pb, pr] = o.padding;
  const oh = windowOut(H, i64(kh), pt + pb, sh, dh, o.ceilMode);
  const ow = windowOut(W, i64(kw), pl + pr, sw, dw, o.ceilMode);
  const shape = arrange(o.outLayout, { N: xd("N"), C: xd("C"), H: oh, W: ow });
  const names = axisNames(4);
  const rv0 = tr.reduceAxis([i64(0), i64(kh)], "rv0");
  const rv1 = tr.reduceAxis([i64(0), i64(kw)], "rv1");
  const guarded = pt > 0 || pl > 0 || pb > 0 || pr > 0 || o.ceilMode;
  const at = (idx: readonly PrimExpr[], l: string) => idx[o.outLayout.indexOf(l)]!;
  const acc = compute(shape, (idx) => {
    const y = at(idx, "H").mul(sh).sub(pt).add(rv0.mul(dh));
    const xx = at(idx, "W").mul(sw).sub(pl).add(rv1.mul(dw));
    const v = x.at(...arrange(o.layout, { N: at(idx, "N"), C: at(idx, "C"), H: y, W: xx }));
    const where = guarded ? { where: all(y.ge(0), y.lt(H), xx.ge(0), xx.lt(W)) } : {};
    return (kind === "max" ? tr.max : tr.sum)(v, [rv0, rv1], where);
  }, { name: kind === "max" ? "pool_max" : "pool_sum", tag: `pool_${kind}`, axisNames: names });
  if (kind === "max") return acc;
  return compute(shape, (idx) => {
    let count: PrimExpr;
    if (!guarded || (o.countIncludePad && !o.ceilMode)) count = i64(kh * kw);
    else {
      const by = at(idx, "H").mul(sh).sub(pt), bx = at(idx, "W").mul(sw).sub(pl);
      const [loY, hiY, loX, hiX] = o.countIncludePad
        ? [i64(-pt), H.add(pb), i64(-pl), W.add(pr)]
        : [i64(0), H, i64(0), W];
      count = windowCount(by, loY, hiY, kh, dh).mul(windowCount(bx, loX, hiX, kw, dw)).max(i64(1));
    }
    return acc.at(...idx).div(castTo(count, x.dtype));
  }, { name: "pool_avg", tag: "pool_avg", axisNames: names });
}

/**
 * Adaptive average pooling to `outSize` (height, width): output cell `y` averages input rows
 * `[floor(y*H/OH), ceil((y+1)*H/OH))`.
 */
export function adaptiveAvgPool2d(
  x: Tensor,
  outSize: readonly [PrimExpr, PrimExpr],
  o: { readonly layout: string; readonly outLayout: string },
): Tensor {
  const xd = dimsOf(x, o.layout);
  const H = xd("H"), W = xd("W");
  const [OH, OW] = outSize;
  const shape = arrange(o.outLayout, { N: xd("N"), C: xd("C"), H: OH, W: OW });
  const at = (idx: readonly PrimExpr[], l: string) => idx[o.outLayout.indexOf(l)]!;
  const start = (y: PrimExpr, n: PrimExpr, m: PrimExpr) => y.mul(n).floordiv(m);
  const end = (y: PrimExpr, n: PrimExpr, m: PrimExpr) => y.add(1).mul(n).add(m).sub(1).floordiv(m);
  const exact = (n: PrimExpr, m: PrimExpr) =>
    n.kind === "IntImm" && m.kind === "IntImm" && n.value % m.value === 0 ? n.value / m.value : 0;
  const maxWindow = (n: PrimExpr, m: PrimExpr): PrimExpr => {
    if (n.kind === "IntImm" && m.kind === "IntImm") {
      let k = 0;
      for (let y = 0; y < m.value; y++) {
        k = Math.max(
          k,
          Math.ceil(((y + 1) * n.value) / m.value) - Math.floor((y * n.value) / m.value),
        );
      }
      return i64(k);
    }
    return n.add(m).sub(1).floordiv(m).add(1);
  };
  const ey = exact(H, OH), ex = exact(W, OW);
  const rv0 = tr.reduceAxis([i64(0), ey ? i64(ey) : maxWindow(H, OH)], "rv0");
  const rv1 = tr.reduceAxis([i64(0), ex ? i64(ex) : maxWindow(W, OW)], "rv1");
  const names = axisNames(4);
  const sum = compute(shape, (idx) => {
    const y0 = start(at(idx, "H"), H, OH), x0 = start(at(idx, "W"), W, OW);
    const y = y0.add(rv0), xx = x0.add(rv1);
    const conds: PrimExpr[] = [];
    if (!ey) conds.push(y.lt(end(at(idx, "H"), H, OH)));
    if (!ex) conds.push(xx.lt(end(at(idx, "W"), W, OW)));
    const v = x.at(...arrange(o.layout, { N: at(idx, "N"), C: at(idx, "C"), H: y, W: xx }));
    return tr.sum(v, [rv0, rv1], conds.length ? { where: all(...conds) } : {});
  }, { name: "adaptive_pool_sum", axisNames: names });
  return compute(shape, (idx) => {
    const hy = at(idx, "H"), wx = at(idx, "W");
    const count = ey && ex
      ? i64(ey * ex)
      : end(hy, H, OH).sub(start(hy, H, OH)).mul(end(wx, W, OW).sub(start(wx, W, OW)));
    return sum.at(...idx).div(castTo(count, x.dtype));
  }, { name: "adaptive_pool_avg", axisNames: names });
}
