/**
 * Image resizing for the legalizations: `resize2d` with nearest-neighbor, bilinear and bicubic
 * sampling and the usual coordinate transformations.
 *
 * @module
 */

import { type DType, isFloat } from "../../../dtype.ts";
import type { PrimExpr } from "../../../expr.ts";
import * as ti from "../../../te/intrin.ts";
import { compute, type Tensor } from "../../../te/tensor.ts";
import { axisNames, castTo, constOf, i64 } from "./topi_common.ts";

/** Options of {@link resize2d}. */
export interface Resize2dOptions {
  /** Data layout: contains `H` and `W` (e.g. `NCHW`, `NHWC`). */
  readonly layout: string;
  /** `"nearest_neighbor"`, `"linear"` or `"cubic"`. */
  readonly method: string;
  /**
   * `"half_pixel"`, `"align_corners"`, `"asymmetric"`, `"pytorch_half_pixel"` or
   * `"tf_half_pixel_for_nn"`.
   */
  readonly coordinateTransformationMode: string;
  /** Nearest neighbor: `"round"`, `"round_prefer_floor"`, `"round_prefer_ceil"`, `"floor"`, `"ceil"` or `""`. */
  readonly roundingMethod: string;
  /** The cubic kernel's `a` (usually -0.5 or -0.75). */
  readonly cubicAlpha: number;
  /** Cubic: give no weight to samples outside the image (and renormalize). */
  readonly cubicExclude: boolean;
  /** Output dtype. */
  readonly outDtype: DType;
}

/** The modes {@link resize2d} accepts. */
export const RESIZE_MODES: readonly string[] = [
  "half_pixel",
  "align_corners",
  "asymmetric",
  "pytorch_half_pixel",
  "tf_half_pixel_for_nn",
];

/** The rounding methods {@link resize2d} accepts for nearest-neighbor sampling. */
export const RESIZE_ROUNDING: readonly string[] = [
  "",
  "round",
  "round_prefer_floor",
  "round_prefer_ceil",
  "floor",
  "ceil",
];

/** The input coordinate (a float) of output coordinate `o` along an axis of `inp -> out`. */
function inputCoord(o: PrimExpr, inp: PrimExpr, out: PrimExpr, mode: string, f: DType): PrimExpr {
  const c = (v: number) => constOf(v, f);
  const fo = castTo(o, f), fi = castTo(inp, f), fout = castTo(out, f);
  const scale = fi.div(fout);
  switch (mode) {
    case "half_pixel":
      return fo.add(c(0.5)).mul(scale).sub(c(0.5));
    case "pytorch_half_pixel":
      return ti.select(out.gt(1), fo.add(c(0.5)).mul(scale).sub(c(0.5)), c(0));
    case "tf_half_pixel_for_nn":
      return fo.add(c(0.5)).mul(scale);
    case "align_corners":
      if (out.kind === "IntImm" && out.value === 1) return c(0);
      return castTo(inp.sub(1), f).div(castTo(out.sub(1), f)).mul(fo);
    case "asymmetric":
      return fo.mul(scale);
    default:
      throw new Error(`Unknown coordinate transformation mode "${mode}"`);
  }
}

function nearest(x: PrimExpr, method: string): PrimExpr {
  const c = (v: number) => constOf(v, x.dtype);
  switch (method) {
    case "round":
      return ti.round(x);
    case "round_prefer_floor":
      return ti.ceil(x.sub(c(0.5)));
    case "round_prefer_ceil":
      return ti.floor(x.add(c(0.5)));
    case "floor":
      return ti.floor(x.add(c(1e-5)));
    case "ceil":
      return ti.ceil(x.sub(c(1e-5)));
    default:
      throw new Error(`Unknown rounding method "${method}"`);
  }
}

/** The Keys cubic-convolution weights of the 4 samples around fraction `t`. */
function cubicWeights(t: PrimExpr, a: number): PrimExpr[] {
  const c = (v: number) => constOf(v, t.dtype);
  const near = (s: PrimExpr) => c(a + 2).mul(s).mul(s).mul(s).sub(c(a + 3).mul(s).mul(s)).add(c(1));
  const far = (s: PrimExpr) =>
    c(a).mul(s).mul(s).mul(s).sub(c(5 * a).mul(s).mul(s)).add(c(8 * a).mul(s)).sub(c(4 * a));
  return [far(c(1).add(t)), near(t), near(c(1).sub(t)), far(c(2).sub(t))];
}

/** Resizes the `H` and `W` axes of `x` to `size` (height, width). */
export function resize2d(
  x: Tensor,
  size: readonly [PrimExpr, PrimExpr],
  o: Resize2dOptions,
): Tensor {
  const hAxis = o.layout.indexOf("H"), wAxis = o.layout.indexOf("W");
  const H = x.shape[hAxis]!, W = x.shape[wAxis]!;
  const f: DType = x.dtype === "float64" ? "float64" : "float32";
  const shape = x.shape.map((d, i) => (i === hAxis ? size[0] : i === wAxis ? size[1] : d));
  const c = (v: number) => constOf(v, f);
  const clampY = (e: PrimExpr) => e.min(H.sub(1)).max(i64(0));
  const clampX = (e: PrimExpr) => e.min(W.sub(1)).max(i64(0));
  return compute(shape, (idx) => {
    const iy = inputCoord(idx[hAxis]!, H, size[0], o.coordinateTransformationMode, f);
    const ix = inputCoord(idx[wAxis]!, W, size[1], o.coordinateTransformationMode, f);
    const pixel = (y: PrimExpr, xx: PrimExpr) =>
      castTo(
        x.at(...idx.map((e, i) => (i === hAxis ? clampY(y) : i === wAxis ? clampX(xx) : e))),
        f,
      );
    let v: PrimExpr;
    if (o.method === "nearest_neighbor") {
      const rm = o.roundingMethod === ""
        ? (o.coordinateTransformationMode === "align_corners" ? "round" : "floor")
        : o.roundingMethod;
      v = pixel(castTo(nearest(iy, rm), "int64"), castTo(nearest(ix, rm), "int64"));
    } else {
      const fy = ti.floor(iy), fx = ti.floor(ix);
      const y0 = castTo(fy, "int64"), x0 = castTo(fx, "int64");
      const ty = iy.sub(fy), tx = ix.sub(fx);
      if (o.method === "linear") {
        const top = pixel(y0, x0).mul(c(1).sub(tx)).add(pixel(y0, x0.add(1)).mul(tx));
        const bot = pixel(y0.add(1), x0).mul(c(1).sub(tx)).add(pixel(y0.add(1), x0.add(1)).mul(tx));
        v = top.mul(c(1).sub(ty)).add(bot.mul(ty));
      } else {
        const weights = (t: PrimExpr, base: PrimExpr, n: PrimExpr) => {
          const w = cubicWeights(t, o.cubicAlpha);
          if (!o.cubicExclude) return w;
          const masked = w.map((wi, i) => {
            const p = base.add(i - 1);
            return ti.select(p.ge(0).and(p.lt(n)), wi, c(0));
          });
          const total = masked.reduce((a, b) => a.add(b));
          return masked.map((m) => m.div(total));
        };
        const wy = weights(ty, y0, H), wx = weights(tx, x0, W);
        v = c(0);
        for (let i = 0; i < 4; i++) {
          let row: PrimExpr = c(0);
          for (let j = 0; j < 4; j++) {
            row = row.add(wx[j]!.mul(pixel(y0.add(i - 1), x0.add(j - 1))));
          }
          v = v.add(wy[i]!.mul(row));
        }
      }
    }
    return castTo(isFloat(o.outDtype) ? v : ti.round(v), o.outDtype);
  }, { name: "resize", tag: "injective", axisNames: axisNames(x.ndim, "i") });
}
