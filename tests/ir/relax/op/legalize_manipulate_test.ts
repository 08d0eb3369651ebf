import assert from "node:assert/strict";
import { primVar } from "../../../../ir/expr.ts";
import { constant } from "../../../../ir/expr.ts";
import { primValue, tuple, tupleGetItem } from "../../../../ir/relax/expr.ts";
import * as op from "../../../../ir/relax/op/mod.ts";
import * as R from "../../../../ir/relax/r.ts";
import type { ArrayArg } from "../../../_tir_interp.ts";
import type { TensorStructInfo } from "../../../../ir/relax/struct_info.ts";
import {
  assertClose,
  at,
  evalDim,
  legalizeAndRun,
  rand,
  randInt,
  tabulate,
  testOnTargets,
  type Value,
} from "./_run.ts";

const n = primVar("n", "int64");
const a = rand([2, 3, 4], 1);
const X = R.tensor([2, n, 4], "float32", "x");

/** The element at flat offset `k` of `t`. */
const flat = (t: ArrayArg, k: number) => t.data[k]!;

Deno.test("reshape and flatten keep the row-major order", () => {
  assertClose(legalizeAndRun([X], () => op.reshape(X, [4, n, 2]), [a]), {
    shape: [4, 3, 2],
    data: a.data,
  });
  assertClose(legalizeAndRun([X], () => op.flatten(X), [a]), { shape: [24], data: a.data });
});

Deno.test("permute_dims and layout_transform move axes", () => {
  const want = tabulate([4, 2, 3], ([i, j, k]) => at(a, [j!, k!, i!]));
  assertClose(legalizeAndRun([X], () => op.permuteDims(X, [2, 0, 1]), [a]), want);
  assertClose(
    legalizeAndRun([X], () => op.permuteDims(X), [a]),
    tabulate([4, 3, 2], ([i, j, k]) => at(a, [k!, j!, i!])),
  );
  const x4 = rand([1, 2, 3, 2], 2), X4 = R.tensor([1, 2, 3, 2], "float32", "x");
  assertClose(
    legalizeAndRun([X4], () => op.layoutTransform(X4, "NCHW", "NHWC"), [x4]),
    tabulate([1, 3, 2, 2], ([b, h, w, c]) => at(x4, [b!, c!, h!, w!])),
  );
});

Deno.test("concat and stack of tuple expressions and tuple variables", () => {
  const b = rand([2, 1, 4], 3), Y = R.tensor([2, 1, 4], "float32", "y");
  const want = tabulate(
    [2, 4, 4],
    ([i, j, k]) => (j! < 3 ? at(a, [i!, j!, k!]) : at(b, [i!, 0, k!])),
  );
  assertClose(legalizeAndRun([X, Y], () => op.concat(tuple([X, Y]), { axis: 1 }), [a, b]), want);
  const T = R.param("t", R.Tuple(R.Tensor([2, n, 4], "float32"), R.Tensor([2, 1, 4], "float32")));
  assertClose(legalizeAndRun([T], () => op.concat(T, { axis: -2 }), [[a, b]]), want);
  const c = rand([2, 3, 4], 4), Z = R.tensor([2, n, 4], "float32", "z");
  assertClose(
    legalizeAndRun([X, Z], () => op.stack(tuple([X, Z]), { axis: 1 }), [a, c]),
    tabulate([2, 2, 3, 4], ([i, s, j, k]) => at(s ? c : a, [i!, j!, k!])),
  );
});

Deno.test("split into sections and at indices returns a tuple", () => {
  const x = rand([2, 6], 5), Xs = R.tensor([2, 6], "float32", "x");
  const parts = legalizeAndRun([Xs], () => op.split(Xs, 3, { axis: 1 }), [x]) as Value[];
  assert.equal(parts.length, 3);
  parts.forEach((p, s) => assertClose(p, tabulate([2, 2], ([i, j]) => at(x, [i!, 2 * s + j!]))));
  const idx = legalizeAndRun([Xs], () => op.split(Xs, [1, 4], { axis: -1 }), [x]) as Value[];
  const bounds = [0, 1, 4, 6];
  idx.forEach((p, s) =>
    assertClose(
      p,
      tabulate([2, bounds[s + 1]! - bounds[s]!], ([i, j]) => at(x, [i!, bounds[s]! + j!])),
    )
  );
  const Xd = R.tensor([n, 4], "float32", "x");
  const y = rand([3, 4], 6);
  const halves = legalizeAndRun([Xd], () => tupleGetItem(op.split(Xd, 2, { axis: 1 }), 1), [y]);
  assertClose(halves, tabulate([3, 2], ([i, j]) => at(y, [i!, 2 + j!])));
});

Deno.test("squeeze, expand_dims and broadcast_to", () => {
  const x = rand([1, 3, 1], 7), Xs = R.tensor([1, n, 1], "float32", "x");
  assertClose(legalizeAndRun([Xs], () => op.squeeze(Xs, { axis: [0] }), [x]), {
    shape: [3, 1],
    data: x.data,
  });
  const Xc = R.tensor([1, 3, 1], "float32", "x");
  assertClose(legalizeAndRun([Xc], () => op.squeeze(Xc), [x]), { shape: [3], data: x.data });
  assertClose(legalizeAndRun([Xs], () => op.expandDims(Xs, [0, -1]), [x]), {
    shape: [1, 1, 3, 1, 1],
    data: x.data,
  });
  assertClose(
    legalizeAndRun([Xs], () => op.broadcastTo(Xs, [2, 4, n, 5]), [x]),
    tabulate([2, 4, 3, 5], ([, , j]) => flat(x, j!)),
  );
});

Deno.test("repeat, tile and flip", () => {
  const x = rand([2, 3], 8), Xd = R.tensor([2, n], "float32", "x");
  assertClose(
    legalizeAndRun([Xd], () => op.repeat(Xd, 2, { axis: 1 }), [x]),
    tabulate([2, 6], ([i, j]) => at(x, [i!, Math.floor(j! / 2)])),
  );
  assertClose(
    legalizeAndRun([Xd], () => op.repeat(Xd, 3), [x]),
    tabulate([18], ([k]) => flat(x, Math.floor(k! / 3))),
  );
  assertClose(
    legalizeAndRun([Xd], () => op.tile(Xd, [2, 1, 2]), [x]),
    tabulate([2, 2, 6], ([, i, j]) => at(x, [i!, j! % 3])),
  );
  assertClose(
    legalizeAndRun([Xd], () => op.flip(Xd, 1), [x]),
    tabulate([2, 3], ([i, j]) => at(x, [i!, 2 - j!])),
  );
});

Deno.test("strided_slice: steps, negative bounds, open ends, symbolic dims", () => {
  const x = rand([4, 7], 9), Xs = R.tensor([4, 7], "float32", "x");
  const slice = (axes: number[], begin: number[], end: number[], st?: number[]) => () =>
    op.stridedSlice(Xs, { axes, begin, end }, st ? { strides: st } : {});
  assertClose(
    legalizeAndRun([Xs], slice([1], [1], [6], [2]), [x]),
    tabulate([4, 3], ([i, j]) => at(x, [i!, 1 + 2 * j!])),
  );
  assertClose(
    legalizeAndRun([Xs], slice([0, 1], [-1, 5], [-5, 0], [-1, -2]), [x]),
    tabulate([4, 3], ([i, j]) => at(x, [3 - i!, 5 - 2 * j!])),
  );
  // symbolic: numpy-style x[:, 1:] and x[:, -3:-1]
  const Xd = R.tensor([4, n], "float32", "x");
  const len = (e: { structInfo: unknown }, nv: number) =>
    evalDim((e.structInfo as TensorStructInfo).shape![1]!, new Map([[n, nv]]));
  const open = op.stridedSlice(Xd, { axes: [1], begin: [1], end: [2 ** 31 - 1] });
  assert.deepEqual([len(open, 7), len(open, 100)], [6, 99]);
  const tail = op.stridedSlice(Xd, { axes: [1], begin: [-3], end: [-1] });
  assert.deepEqual([len(tail, 7), len(tail, 100)], [2, 2]);
  const back = op.stridedSlice(Xd, { axes: [1], begin: [-1], end: [-(2 ** 31)] }, {
    strides: [-2],
  });
  assert.deepEqual([len(back, 7), len(back, 6)], [4, 3]);
  assertClose(
    legalizeAndRun([Xd], () => op.stridedSlice(Xd, { axes: [1], begin: [1], end: [2 ** 31 - 1] }), [
      x,
    ]),
    tabulate([4, 6], ([i, j]) => at(x, [i!, 1 + j!])),
  );
  assertClose(
    legalizeAndRun([Xd], () => op.stridedSlice(Xd, { axes: [1], begin: [-3], end: [-1] }), [x]),
    tabulate([4, 2], ([i, j]) => at(x, [i!, 4 + j!])),
  );
  const rev = () =>
    op.stridedSlice(Xd, { axes: [1], begin: [-1], end: [-(2 ** 31)] }, { strides: [-2] });
  assertClose(
    legalizeAndRun([Xd], rev, [x]),
    tabulate([4, 4], ([i, j]) => at(x, [i!, 6 - 2 * j!])),
  );
});

Deno.test("take along an axis and over the flattened tensor; clip and wrap modes", () => {
  const x = rand([3, 4], 10), Xd = R.tensor([n, 4], "float32", "x");
  const idx = { shape: [2, 2], data: [3, 0, 1, 3] }, I = R.tensor([2, 2], "int64", "i");
  assertClose(
    legalizeAndRun([Xd, I], () => op.take(Xd, I, { axis: 1 }), [x, idx]),
    tabulate([3, 2, 2], ([r, p, q]) => at(x, [r!, at(idx, [p!, q!])])),
  );
  assertClose(
    legalizeAndRun([Xd, I], () => op.take(Xd, I), [x, idx]),
    tabulate([2, 2], (ix) => flat(x, at(idx, ix))),
  );
  const bad = { shape: [2, 2], data: [-1, 5, 9, 2] };
  for (const mode of ["clip", "wrap"] as const) {
    const fix = (v: number) => (mode === "clip" ? Math.min(Math.max(v, 0), 3) : ((v % 4) + 4) % 4);
    const call = () => op.makeOpCall("relax.take", [Xd, I], { axis: 1, mode });
    assertClose(
      legalizeAndRun([Xd, I], call, [x, bad]),
      tabulate([3, 2, 2], ([r, p, q]) => at(x, [r!, fix(at(bad, [p!, q!]))])),
    );
  }
});

Deno.test("one_hot places on/off values along a new axis", () => {
  const I = R.tensor([n], "int32", "i");
  const idx = randInt([3], 11, 0, 4);
  const on = primValue(constant(2.5, "float32")), off = primValue(constant(-1, "float32"));
  assertClose(
    legalizeAndRun([I], () => op.oneHot(I, on, off, 4), [idx]),
    tabulate([3, 4], ([i, c]) => (at(idx, [i!]) === c ? 2.5 : -1)),
  );
  assertClose(
    legalizeAndRun([I], () => op.oneHot(I, on, off, 4, { axis: 0 }), [idx]),
    tabulate([4, 3], ([c, i]) => (at(idx, [i!]) === c ? 2.5 : -1)),
  );
});

Deno.test("take with an unsupported mode cannot be legalized", () => {
  const Xs = R.tensor([3, 4], "float32", "x"), I = R.tensor([2], "int64", "i");
  const call = () => op.makeOpCall("relax.take", [Xs, I], { axis: 0, mode: "nan" });
  assert.throws(() => legalizeAndRun([Xs, I], call, []), {
    message: 'Cannot legalize "take": mode "nan" is not supported (expected fast, clip or wrap)',
  });
});

testOnTargets("legalize_manipulate");
