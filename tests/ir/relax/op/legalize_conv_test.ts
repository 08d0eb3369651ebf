import assert from "node:assert/strict";
import { primVar } from "../../../../ir/expr.ts";
import * as op from "../../../../ir/relax/op/mod.ts";
import { makeOpCall } from "../../../../ir/relax/op/mod.ts";
import * as R from "../../../../ir/relax/r.ts";
import type { ArrayArg } from "../../../_tir_interp.ts";
import { assertClose, at, legalizeAndRun, rand, tabulate, testOnTargets } from "./_run.ts";

const n = primVar("n", "int64");
const TOL = { rtol: 1e-5, atol: 1e-6 };

/** Reorders `t` from layout `src` to `dst` (letters permuted). */
function relayout(t: ArrayArg, src: string, dst: string): ArrayArg {
  const perm = [...dst].map((c) => src.indexOf(c));
  return tabulate(perm.map((p) => t.shape[p]!), (idx) => {
    const s: number[] = [];
    perm.forEach((p, i) => (s[p] = idx[i]!));
    return at(t, s);
  });
}

interface ConvRef {
  strides: [number, number];
  padding: [number, number, number, number];
  dilation: [number, number];
  groups: number;
}

/** float64 NCHW / OIHW convolution. */
function conv2dRef(x: ArrayArg, w: ArrayArg, o: ConvRef) {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [O, I, KH, KW] = w.shape as [number, number, number, number];
  const [pt, pl, pb, pr] = o.padding, [sh, sw] = o.strides, [dh, dw] = o.dilation;
  const OH = Math.floor((H + pt + pb - dh * (KH - 1) - 1) / sh) + 1;
  const OW = Math.floor((W + pl + pr - dw * (KW - 1) - 1) / sw) + 1;
  assert.equal(C, I * o.groups);
  return tabulate([N, O, OH, OW], ([b, f, y, xx]) => {
    const g = Math.floor(f! / (O / o.groups));
    let s = 0;
    for (let c = 0; c < I; c++) {
      for (let ky = 0; ky < KH; ky++) {
        for (let kx = 0; kx < KW; kx++) {
          const iy = y! * sh + ky * dh - pt, ix = xx! * sw + kx * dw - pl;
          if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
          s += at(x, [b!, g * I + c, iy, ix]) * at(w, [f!, c, ky, kx]);
        }
      }
    }
    return s;
  });
}

Deno.test("conv2d NCHW/OIHW with strides, asymmetric padding, dilation and groups", () => {
  const x = rand([2, 4, 7, 6], 1), w = rand([6, 2, 3, 2], 2);
  const o: ConvRef = { strides: [2, 1], padding: [1, 0, 2, 1], dilation: [1, 2], groups: 2 };
  const X = R.tensor([n, 4, 7, 6], "float32", "x"), Wt = R.tensor([6, 2, 3, 2], "float32", "w");
  const got = legalizeAndRun([X, Wt], () => op.nn.conv2d(X, Wt, o), [x, w]);
  assertClose(got, conv2dRef(x, w, o), TOL);
});

Deno.test("conv2d NHWC data with HWIO and OHWI kernels, and an NCHW output layout", () => {
  const x = rand([1, 3, 5, 5], 3), w = rand([4, 3, 3, 3], 4);
  const o: ConvRef = { strides: [1, 1], padding: [1, 1, 1, 1], dilation: [1, 1], groups: 1 };
  const want = conv2dRef(x, w, o);
  for (const kl of ["HWIO", "OHWI"]) {
    const X = R.tensor([1, 5, 5, 3], "float32", "x");
    const Wt = R.tensor(relayout(w, "OIHW", kl).shape, "float32", "w");
    const got = legalizeAndRun(
      [X, Wt],
      () => op.nn.conv2d(X, Wt, { ...o, dataLayout: "NHWC", kernelLayout: kl }),
      [relayout(x, "NCHW", "NHWC"), relayout(w, "OIHW", kl)],
    );
    assertClose(got, relayout(want, "NCHW", "NHWC"), TOL);
    const got2 = legalizeAndRun(
      [X, Wt],
      () => op.nn.conv2d(X, Wt, { ...o, dataLayout: "NHWC", kernelLayout: kl, outLayout: "NCHW" }),
      [relayout(x, "NCHW", "NHWC"), relayout(w, "OIHW", kl)],
    );
    assertClose(got2, want, TOL);
  }
});

/** float64 conv2d_transpose (NCHW data, IOHW kernel) by scattering. */
function conv2dTransposeRef(
  x: ArrayArg,
  w: ArrayArg,
  o: ConvRef & { outputPadding: [number, number] },
) {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [, Og, KH, KW] = w.shape as [number, number, number, number];
  const [pt, pl, pb, pr] = o.padding, [sh, sw] = o.strides, [dh, dw] = o.dilation;
  const OH = (H - 1) * sh - pt - pb + dh * (KH - 1) + 1 + o.outputPadding[0];
  const OW = (W - 1) * sw - pl - pr + dw * (KW - 1) + 1 + o.outputPadding[1];
  const O = Og * o.groups, Cg = C / o.groups;
  const out = new Array(N * O * OH * OW).fill(0);
  for (let b = 0; b < N; b++) {
    for (let c = 0; c < C; c++) {
      const g = Math.floor(c / Cg);
      for (let iy = 0; iy < H; iy++) {
        for (let ix = 0; ix < W; ix++) {
          for (let f = 0; f < Og; f++) {
            for (let ky = 0; ky < KH; ky++) {
              for (let kx = 0; kx < KW; kx++) {
                const y = iy * sh + ky * dh - pt, xx = ix * sw + kx * dw - pl;
                if (y < 0 || y >= OH || xx < 0 || xx >= OW) continue;
                const oc = g * Og + f;
                out[((b * O + oc) * OH + y) * OW + xx] += at(x, [b, c, iy, ix]) *
                  at(w, [c, f, ky, kx]);
              }
            }
          }
        }
      }
    }
  }
  return { shape: [N, O, OH, OW], data: out };
}

Deno.test("conv2d_transpose with strides, padding, output padding, dilation and groups", () => {
  const cases: (ConvRef & { outputPadding: [number, number] })[] = [
    { strides: [2, 2], padding: [1, 0, 1, 0], dilation: [1, 1], groups: 1, outputPadding: [1, 0] },
    { strides: [1, 2], padding: [0, 1, 0, 1], dilation: [2, 1], groups: 2, outputPadding: [0, 1] },
  ];
  cases.forEach((o, i) => {
    const x = rand([1, 4, 3, 3], 10 + i), w = rand([4, 3, 3, 2], 20 + i);
    const X = R.tensor([1, 4, 3, 3], "float32", "x"), Wt = R.tensor([4, 3, 3, 2], "float32", "w");
    const got = legalizeAndRun([X, Wt], () => op.nn.conv2dTranspose(X, Wt, o), [x, w]);
    assertClose(got, conv2dTransposeRef(x, w, o), TOL);
  });
});

interface PoolRef {
  size: [number, number];
  strides: [number, number];
  padding: [number, number, number, number];
  dilation: [number, number];
  ceil: boolean;
  includePad: boolean;
}

/** float64 NCHW pooling (PyTorch semantics for count_include_pad with ceil mode). */
function poolRef(x: ArrayArg, kind: "max" | "avg", o: PoolRef) {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [kh, kw] = o.size, [sh, sw] = o.strides, [dh, dw] = o.dilation;
  const [pt, pl, pb, pr] = o.padding;
  const out = (i: number, k: number, s: number, d: number, p: number) => {
    const num = i + p - d * (k - 1) - 1;
    return Math.floor((o.ceil ? num + s - 1 : num) / s) + 1;
  };
  const OH = out(H, kh, sh, dh, pt + pb), OW = out(W, kw, sw, dw, pl + pr);
  return tabulate([N, C, OH, OW], ([b, c, y, xx]) => {
    const vals: number[] = [];
    let padded = 0;
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++) {
        const iy = y! * sh + ky * dh - pt, ix = xx! * sw + kx * dw - pl;
        if (iy >= -pt && iy < H + pb && ix >= -pl && ix < W + pr) padded++;
        if (iy >= 0 && iy < H && ix >= 0 && ix < W) vals.push(at(x, [b!, c!, iy, ix]));
      }
    }
    if (kind === "max") return Math.max(...vals);
    return vals.reduce((a, v) => a + v, 0) / Math.max(o.includePad ? padded : vals.length, 1);
  });
}

Deno.test("max_pool2d and avg_pool2d: padding, ceil mode, count_include_pad, dilation, NHWC", () => {
  const x = rand([1, 2, 6, 5], 30);
  const cases: PoolRef[] = [
    {
      size: [2, 2],
      strides: [2, 2],
      padding: [0, 0, 0, 0],
      dilation: [1, 1],
      ceil: false,
      includePad: false,
    },
    {
      size: [3, 3],
      strides: [2, 2],
      padding: [1, 1, 1, 1],
      dilation: [1, 1],
      ceil: false,
      includePad: false,
    },
    {
      size: [3, 3],
      strides: [2, 2],
      padding: [1, 1, 1, 1],
      dilation: [1, 1],
      ceil: false,
      includePad: true,
    },
    {
      size: [3, 2],
      strides: [2, 2],
      padding: [0, 1, 1, 0],
      dilation: [1, 1],
      ceil: true,
      includePad: true,
    },
    {
      size: [2, 2],
      strides: [1, 2],
      padding: [1, 0, 1, 0],
      dilation: [2, 1],
      ceil: true,
      includePad: false,
    },
  ];
  const X = R.tensor([1, 2, n, 5], "float32", "x");
  for (const o of cases) {
    const opts = {
      strides: o.strides,
      padding: o.padding,
      dilation: o.dilation,
      ceilMode: o.ceil,
      countIncludePad: o.includePad,
    };
    assertClose(
      legalizeAndRun([X], () => op.nn.maxPool2d(X, o.size, opts), [x]),
      poolRef(x, "max", o),
      TOL,
    );
    assertClose(
      legalizeAndRun([X], () => op.nn.avgPool2d(X, o.size, opts), [x]),
      poolRef(x, "avg", o),
      TOL,
    );
  }
  const o = cases[1]!;
  const Xh = R.tensor([1, 6, 5, 2], "float32", "x");
  const got = legalizeAndRun(
    [Xh],
    () => op.nn.avgPool2d(Xh, o.size, { strides: o.strides, padding: o.padding, layout: "NHWC" }),
    [relayout(x, "NCHW", "NHWC")],
  );
  assertClose(got, relayout(poolRef(x, "avg", o), "NCHW", "NHWC"), TOL);
});

function adaptiveRef(x: ArrayArg, oh: number, ow: number) {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  return tabulate([N, C, oh, ow], ([b, c, y, xx]) => {
    const y0 = Math.floor((y! * H) / oh), y1 = Math.ceil(((y! + 1) * H) / oh);
    const x0 = Math.floor((xx! * W) / ow), x1 = Math.ceil(((xx! + 1) * W) / ow);
    let s = 0;
    for (let i = y0; i < y1; i++) for (let j = x0; j < x1; j++) s += at(x, [b!, c!, i, j]);
    return s / ((y1 - y0) * (x1 - x0));
  });
}

Deno.test("adaptive_avg_pool2d with exact and uneven windows, static and symbolic", () => {
  const x = rand([1, 2, 6, 5], 40);
  const X = R.tensor([1, 2, 6, 5], "float32", "x");
  for (const [oh, ow] of [[3, 5], [4, 3], [1, 1]] as const) {
    assertClose(
      legalizeAndRun([X], () => op.nn.adaptiveAvgPool2d(X, [oh, ow]), [x]),
      adaptiveRef(x, oh, ow),
      TOL,
    );
  }
  const Xd = R.tensor([1, 2, n, 5], "float32", "x");
  assertClose(
    legalizeAndRun([Xd], () => op.nn.adaptiveAvgPool2d(Xd, [4, 2]), [x]),
    adaptiveRef(x, 4, 2),
    TOL,
  );
  assertClose(legalizeAndRun([Xd], () => op.nn.adaptiveAvgPool2d(Xd), [x]), x, TOL);
});

Deno.test("pad adds constant borders; other modes cannot be legalized", () => {
  const X = R.tensor([2, n], "float32", "x");
  const a = rand([2, 3], 51);
  const got = legalizeAndRun([X], () => op.nn.pad(X, [1, 0, 2, 1], { value: 0.5 }), [a]);
  assertClose(
    got,
    tabulate([3, 6], ([i, j]) => i! >= 1 && j! >= 2 && j! < 5 ? at(a, [i! - 1, j! - 2]) : 0.5),
  );
  assert.throws(
    () =>
      legalizeAndRun(
        [X],
        () => makeOpCall("relax.nn.pad", [X], { pad_width: [0, 0, 1, 1], pad_mode: "reflect" }),
        [a],
      ),
    { message: 'Cannot legalize "nn.pad": pad_mode "reflect" is not supported' },
  );
});

testOnTargets("legalize_conv");
