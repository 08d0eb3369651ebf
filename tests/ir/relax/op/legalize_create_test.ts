import assert from "node:assert/strict";
import { primVar } from "../../../../ir/expr.ts";
import { primValue, shapeExpr } from "../../../../ir/relax/expr.ts";
import * as op from "../../../../ir/relax/op/mod.ts";
import * as R from "../../../../ir/relax/r.ts";
import { BlockBuilder } from "../../../../ir/relax/block_builder.ts";
import { getOp } from "../../../../ir/relax/op/registry.ts";
import * as te from "../../../../ir/te/tensor.ts";
import { i64 } from "../../../../ir/relax/op/legalize/topi_common.ts";
import { resize2d } from "../../../../ir/relax/op/legalize/topi_image.ts";
import type { ArrayArg } from "../../../_tir_interp.ts";
import { assertClose, at, legalizeAndRun, rand, tabulate, testOnTargets } from "./_run.ts";

const n = primVar("n", "int64");

Deno.test("zeros, ones and full (static and symbolic shapes)", () => {
  const X = R.tensor([n, 2], "float32", "x");
  const x = rand([3, 2], 1);
  const fill = (v: number) => ({ shape: [3, 2], data: new Array(6).fill(v) });
  assertClose(legalizeAndRun([X], () => op.zeros([n, 2]), [x]), fill(0));
  assertClose(legalizeAndRun([X], () => op.ones([n, 2], "int32"), [x]), fill(1));
  assertClose(legalizeAndRun([X], () => op.full([n, 2], 2.5), [x]), fill(2.5));
  assertClose(legalizeAndRun([X], () => op.zerosLike(X), [x]), fill(0));
  assertClose(legalizeAndRun([X], () => op.onesLike(X, "int64"), [x]), fill(1));
  assertClose(legalizeAndRun([X], () => op.fullLike(X, -4), [x]), fill(-4));
});

Deno.test("arange: integer and float dtypes, negative steps, a symbolic end", () => {
  const X = R.tensor([n], "float32", "x");
  const x = rand([5], 2);
  assertClose(legalizeAndRun([X], () => op.arange(2, 11, 3), [x]), { shape: [3], data: [2, 5, 8] });
  assertClose(legalizeAndRun([X], () => op.arange(5, 0, -2, "float32"), [x]), {
    shape: [3],
    data: [5, 3, 1],
  });
  assertClose(legalizeAndRun([X], () => op.arange(1, n), [x]), { shape: [4], data: [1, 2, 3, 4] });
});

function triRef(x: ArrayArg, k: number, upper: boolean) {
  return tabulate(x.shape, (idx) => {
    const i = idx[idx.length - 2]!, j = idx[idx.length - 1]!;
    return (upper ? j >= i + k : j <= i + k) ? at(x, idx) : 0;
  });
}

Deno.test("tril and triu over the last two axes with diagonal offsets", () => {
  const x = rand([2, 3, 4], 3), X = R.tensor([2, n, 4], "float32", "x");
  for (const k of [0, 1, -1]) {
    assertClose(legalizeAndRun([X], () => op.tril(X, k), [x]), triRef(x, k, false));
    assertClose(legalizeAndRun([X], () => op.triu(X, k), [x]), triRef(x, k, true));
  }
});

Deno.test("where broadcasts its three operands", () => {
  const C = R.tensor([n, 1], "bool", "c"), A = R.tensor([4], "float32", "a");
  const B = R.tensor([n, 4], "float32", "b");
  const c = { shape: [2, 1], data: [1, 0] }, a = rand([4], 4), b = rand([2, 4], 5);
  assertClose(
    legalizeAndRun([C, A, B], () => op.where(C, A, B), [c, a, b]),
    tabulate([2, 4], ([i, j]) => (at(c, [i!, 0]) ? at(a, [j!]) : at(b, [i!, j!]))),
  );
});

Deno.test("astype converts (float to int truncates toward zero)", () => {
  const X = R.tensor([4], "float32", "x");
  const x = { shape: [4], data: [1.75, -1.75, 2.5, -0.25] };
  assertClose(legalizeAndRun([X], () => op.astype(X, "int32"), [x]), {
    shape: [4],
    data: [1, -1, 2, -0],
  });
  const I = R.tensor([n], "int32", "i");
  assertClose(legalizeAndRun([I], () => op.astype(I, "float32"), [{ shape: [2], data: [3, -7] }]), {
    shape: [2],
    data: [3, -7],
  });
});

/** The input coordinate of output coordinate `o` (float64). */
function coord(o: number, inp: number, out: number, mode: string): number {
  if (mode === "half_pixel") return (o + 0.5) * (inp / out) - 0.5;
  if (mode === "align_corners") return out > 1 ? (o * (inp - 1)) / (out - 1) : 0;
  return o * (inp / out);
}

function cubicW(t: number, a: number): number[] {
  const near = (s: number) => (a + 2) * s ** 3 - (a + 3) * s ** 2 + 1;
  const far = (s: number) => a * s ** 3 - 5 * a * s ** 2 + 8 * a * s - 4 * a;
  return [far(1 + t), near(t), near(1 - t), far(2 - t)];
}

function resizeRef(x: ArrayArg, oh: number, ow: number, method: string, mode: string) {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const px = (b: number, c: number, y: number, xx: number) =>
    at(x, [b, c, Math.min(Math.max(y, 0), H - 1), Math.min(Math.max(xx, 0), W - 1)]);
  return tabulate([N, C, oh, ow], ([b, c, y, xx]) => {
    const iy = coord(y!, H, oh, mode), ix = coord(xx!, W, ow, mode);
    if (method === "nearest_neighbor") {
      const r = (v: number) => Math.sign(v) * Math.round(Math.abs(v)); // half away from zero
      return px(b!, c!, r(iy), r(ix));
    }
    const y0 = Math.floor(iy), x0 = Math.floor(ix), ty = iy - y0, tx = ix - x0;
    if (method === "linear") {
      const top = px(b!, c!, y0, x0) * (1 - tx) + px(b!, c!, y0, x0 + 1) * tx;
      const bot = px(b!, c!, y0 + 1, x0) * (1 - tx) + px(b!, c!, y0 + 1, x0 + 1) * tx;
      return top * (1 - ty) + bot * ty;
    }
    const wy = cubicW(ty, -0.5), wx = cubicW(tx, -0.5);
    let s = 0;
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) s += wy[i]! * wx[j]! * px(b!, c!, y0 + i - 1, x0 + j - 1);
    }
    return s;
  });
}

Deno.test("resize2d: nearest, linear and cubic; half_pixel, align_corners, asymmetric", () => {
  const x = rand([1, 2, 3, 4], 6), X = R.tensor([1, 2, 3, 4], "float32", "x");
  for (const method of ["nearest_neighbor", "linear", "cubic"]) {
    for (const mode of ["half_pixel", "align_corners", "asymmetric"]) {
      for (const [oh, ow] of [[5, 7], [2, 3], [1, 1]] as const) {
        const got = legalizeAndRun(
          [X],
          () => op.image.resize2d(X, [oh, ow], { method, coordinateTransformationMode: mode }),
          [x],
        );
        assertClose(got, resizeRef(x, oh, ow, method, mode), { rtol: 1e-5, atol: 1e-5 });
      }
    }
  }
});

Deno.test("resize2d on NHWC data and symbolic input sizes", () => {
  const x = rand([1, 2, 3, 4], 7);
  const nhwc = tabulate([1, 3, 4, 2], ([b, h, w, c]) => at(x, [b!, c!, h!, w!]));
  const Xh = R.tensor([1, n, 4, 2], "float32", "x");
  const got = legalizeAndRun([Xh], () => op.image.resize2d(Xh, [6, 8], { layout: "NHWC" }), [nhwc]);
  const want = resizeRef(x, 6, 8, "linear", "half_pixel");
  assertClose(got, tabulate([1, 6, 8, 2], ([b, h, w, c]) => at(want, [b!, c!, h!, w!])), {
    rtol: 1e-5,
    atol: 1e-5,
  });
});

Deno.test("resize2d with an unsupported mode cannot be legalized", () => {
  const X = R.tensor([1, 1, 2, 2], "float32", "x");
  const call = () =>
    op.image.resize2d(X, [4, 4], { coordinateTransformationMode: "tf_crop_and_resize" });
  assert.throws(() => legalizeAndRun([X], call, []), {
    message:
      'Cannot legalize "image.resize2d": coordinate_transformation_mode "tf_crop_and_resize" is not supported',
  });
});

Deno.test("fill values and diagonal offsets may be symbolic prim values", () => {
  const m = primVar("m", "int64");
  const S = R.param("s", R.Shape([m]));
  const full = () =>
    op.makeOpCall("relax.full", [shapeExpr([2]), primValue(m)], { dtype: "int64" });
  assertClose(legalizeAndRun([S], full, [[7]]), { shape: [2], data: [7, 7] });
  const x = rand([3, 3], 9), X = R.tensor([3, 3], "float32", "x");
  const tril = () => op.makeOpCall("relax.tril", [X, primValue(m)]);
  assertClose(legalizeAndRun([X, S], tril, [x, [-1]]), triRef(x, -1, false));
});

Deno.test("legalization errors: unknown rounding, unknown result shape, bad resize modes", () => {
  const X = R.tensor([1, 1, 2, 2], "float32", "x");
  const call = () =>
    op.makeOpCall("relax.image.resize2d", [X, shapeExpr([3, 3])], {
      method: "nearest_neighbor",
      rounding_method: "stochastic",
    });
  assert.throws(() => legalizeAndRun([X], call, []), {
    message: 'Cannot legalize "image.resize2d": rounding_method "stochastic" is not supported',
  });
  // called directly (the pass skips such calls), a legalization needing the shape says so
  const s = R.param("s", R.Shape(undefined, 2));
  const zeros = op.makeOpCall("relax.zeros", [s], { dtype: "float32" });
  const bb = new BlockBuilder();
  assert.throws(() => getOp("relax.zeros").legalize!(zeros, bb), {
    message: 'Cannot legalize "zeros": the result shape is unknown',
  });
  const o = {
    layout: "NCHW",
    method: "linear",
    coordinateTransformationMode: "half_pixel",
    roundingMethod: "",
    cubicAlpha: -0.5,
    cubicExclude: false,
    outDtype: "float32" as const,
  };
  const t4 = te.placeholder([i64(1), i64(1), i64(2), i64(2)], "float32", "t");
  assert.throws(
    () => resize2d(t4, [i64(3), i64(3)], { ...o, coordinateTransformationMode: "bogus" }),
    { message: 'Unknown coordinate transformation mode "bogus"' },
  );
  assert.throws(
    () =>
      resize2d(t4, [i64(3), i64(3)], { ...o, method: "nearest_neighbor", roundingMethod: "up" }),
    { message: 'Unknown rounding method "up"' },
  );
});

testOnTargets("legalize_create");
