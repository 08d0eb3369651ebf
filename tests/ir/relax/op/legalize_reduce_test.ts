import assert from "node:assert/strict";
import { primVar } from "../../../../ir/expr.ts";
import type { Expr } from "../../../../ir/relax/expr.ts";
import * as op from "../../../../ir/relax/op/mod.ts";
import * as R from "../../../../ir/relax/r.ts";
import type { ArrayArg } from "../../../_tir_interp.ts";
import { assertClose, at, legalizeAndRun, rand, strides, tabulate, testOnTargets } from "./_run.ts";

const n = primVar("n", "int64");

/** float64 reduction of `a` over `axes` with `f` over the reduced values. */
function reduceRef(
  a: ArrayArg,
  axes: readonly number[],
  keepdims: boolean,
  f: (vs: number[]) => number,
) {
  const shape = a.shape.flatMap((d, i) => (axes.includes(i) ? (keepdims ? [1] : []) : [d]));
  return tabulate(shape, (idx) => {
    const vals: number[] = [];
    const total = a.shape.reduce((x, y) => x * y, 1), st = strides(a.shape);
    for (let k = 0; k < total; k++) {
      const full = a.shape.map((d, i) => Math.floor(k / st[i]!) % d);
      let j = 0, ok = true;
      full.forEach((v, i) => {
        if (axes.includes(i)) {
          if (keepdims) j++;
        } else if (v !== idx[j++]) ok = false;
      });
      if (ok) vals.push(at(a, full));
    }
    return f(vals);
  });
}

const sum = (v: number[]) => v.reduce((x, y) => x + y, 0);
const mean = (v: number[]) => sum(v) / v.length;
const variance = (v: number[]) => mean(v.map((x) => (x - mean(v)) ** 2));

const REDUCE: [string, (x: Expr, o: op.ReduceOptions) => Expr, (v: number[]) => number][] = [
  ["sum", op.sum, sum],
  ["mean", op.mean, mean],
  ["max", op.max, (v) => Math.max(...v)],
  ["min", op.min, (v) => Math.min(...v)],
  ["prod", op.prod, (v) => v.reduce((x, y) => x * y, 1)],
  ["variance", op.variance, variance],
  ["std", op.std, (v) => Math.sqrt(variance(v))],
];

Deno.test("reductions over axes, with and without keepdims, static and symbolic", () => {
  const a = rand([3, 4, 2], 1, { lo: 0.5, hi: 1.5 });
  const xs = R.tensor([3, 4, 2], "float32", "x"), xd = R.tensor([n, 4, 2], "float32", "x");
  const cases: [number[] | undefined, boolean][] = [
    [[1], false],
    [[0, 2], true],
    [[-1], false],
    [undefined, false],
    [undefined, true],
  ];
  for (const [name, f, ref] of REDUCE) {
    for (const [axis, keepdims] of cases) {
      const norm = axis ? axis.map((x) => (x + 3) % 3) : [0, 1, 2];
      const want = reduceRef(a, norm, keepdims, ref);
      const o = { ...(axis ? { axis } : {}), keepdims };
      for (const x of [xs, xd]) {
        assertClose(legalizeAndRun([x], () => f(x, o), [a]), want, { rtol: 2e-6 });
      }
      assert.ok(name);
    }
  }
});

Deno.test("a reduction over no axes of a scalar copies it", () => {
  const x = R.tensor([], "float32", "x");
  assertClose(legalizeAndRun([x], () => op.sum(x), [{ shape: [], data: [2.5] }]), {
    shape: [],
    data: [2.5],
  });
});

Deno.test("argmax/argmin along an axis and over the flattened tensor (first index on ties)", () => {
  const x = R.tensor([n, 4], "float32", "x");
  const a = { shape: [3, 4], data: [1, 5, 5, 0, -2, -3, -3, -1, 7, 7, 7, 7] };
  const arg = (best: (u: number, v: number) => boolean) => (v: number[]) => {
    let k = 0;
    v.forEach((u, i) => (best(u, v[k]!) ? (k = i) : 0));
    return k;
  };
  const amax = arg((u, v) => u > v), amin = arg((u, v) => u < v);
  assertClose(
    legalizeAndRun([x], () => op.argmax(x, { axis: 1 }), [a]),
    reduceRef(a, [1], false, amax),
  );
  assertClose(
    legalizeAndRun([x], () => op.argmin(x, { axis: 0, keepdims: true }), [a]),
    reduceRef(a, [0], true, amin),
  );
  assertClose(legalizeAndRun([x], () => op.argmax(x), [a]), { shape: [], data: [8] });
  assertClose(legalizeAndRun([x], () => op.argmin(x, { keepdims: true }), [a]), {
    shape: [1, 1],
    data: [5],
  });
});

Deno.test("cumsum along an axis, flattened, exclusive, with an accumulation dtype", () => {
  const x = R.tensor([2, n], "float32", "x");
  const a = rand([2, 3], 4);
  const inc = (row: number, j: number, excl: boolean) => {
    let s = 0;
    for (let k = 0; k < (excl ? j : j + 1); k++) s += at(a, [row, k]);
    return s;
  };
  assertClose(
    legalizeAndRun([x], () => op.cumsum(x, { axis: 1 }), [a]),
    tabulate([2, 3], ([i, j]) => inc(i!, j!, false)),
  );
  assertClose(
    legalizeAndRun([x], () => op.cumsum(x, { axis: -1, exclusive: true }), [a]),
    tabulate([2, 3], ([i, j]) => inc(i!, j!, true)),
  );
  let acc = 0;
  assertClose(legalizeAndRun([x], () => op.cumsum(x), [a]), {
    shape: [6],
    data: a.data.map((v) => (acc += v)),
  });
  const xi = R.tensor([4], "int32", "x");
  const got = legalizeAndRun([xi], () => op.cumsum(xi, { axis: 0, dtype: "float32" }), [{
    shape: [4],
    data: [1, 2, 3, 4],
  }]);
  assertClose(got, { shape: [4], data: [1, 3, 6, 10] });
});

function softmaxRef(a: ArrayArg, axis: number, log: boolean) {
  return tabulate(a.shape, (idx) => {
    const row = Array.from(
      { length: a.shape[axis]! },
      (_, k) => at(a, idx.map((v, i) => (i === axis ? k : v))),
    );
    const m = Math.max(...row);
    const s = row.reduce((p, v) => p + Math.exp(v - m), 0);
    const x = at(a, idx);
    return log ? x - m - Math.log(s) : Math.exp(x - m) / s;
  });
}

Deno.test("softmax and log_softmax are numerically stable along any axis", () => {
  const x = R.tensor([2, n, 4], "float32", "x");
  // large logits: a naive exp would overflow float32
  const a = rand([2, 3, 4], 7, { lo: 80, hi: 100 });
  for (const axis of [-1, 1, 0]) {
    const ax = (axis + 3) % 3;
    assertClose(
      legalizeAndRun([x], () => op.nn.softmax(x, { axis }), [a]),
      softmaxRef(a, ax, false),
      {
        rtol: 1e-5,
      },
    );
    assertClose(
      legalizeAndRun([x], () => op.nn.logSoftmax(x, { axis }), [a]),
      softmaxRef(a, ax, true),
      { rtol: 1e-5, atol: 2e-5 },
    );
  }
});

function matmulRef(a: ArrayArg, b: ArrayArg) {
  const as = a.shape.length === 1 ? [1, a.shape[0]!] : a.shape;
  const bs = b.shape.length === 1 ? [b.shape[0]!, 1] : b.shape;
  const ab = as.slice(0, -2), bb = bs.slice(0, -2);
  const nb = Math.max(ab.length, bb.length);
  const batch = Array.from({ length: nb }, (_, i) => {
    const x = ab[ab.length - nb + i] ?? 1, y = bb[bb.length - nb + i] ?? 1;
    return x === 1 ? y : x;
  });
  const M = as[as.length - 2]!, K = as[as.length - 1]!, N = bs[bs.length - 1]!;
  const full = tabulate([...batch, M, N], (idx) => {
    const bi = idx.slice(0, nb), i = idx[nb]!, j = idx[nb + 1]!;
    const pick = (s: number[]) => s.map((d, q) => (d === 1 ? 0 : bi[nb - s.length + q]!));
    let s = 0;
    for (let k = 0; k < K; k++) {
      const av = a.shape.length === 1 ? at(a, [k]) : at(a, [...pick(ab), i, k]);
      const bv = b.shape.length === 1 ? at(b, [k]) : at(b, [...pick(bb), k, j]);
      s += av * bv;
    }
    return s;
  });
  const shape = [...batch, ...(a.shape.length > 1 ? [M] : []), ...(b.shape.length > 1 ? [N] : [])];
  return { shape, data: full.data };
}

Deno.test("matmul: 2-D, batched with broadcasting, 1-D promotion, symbolic dims", () => {
  const cases: [number[], number[]][] = [
    [[3, 4], [4, 2]],
    [[2, 1, 3, 4], [3, 4, 5]],
    [[4], [2, 4, 3]],
    [[2, 3, 4], [4]],
    [[4], [4]],
  ];
  cases.forEach(([sa, sb], c) => {
    const a = rand(sa, 30 + c), b = rand(sb, 40 + c);
    const x = R.tensor(sa, "float32", "x"), y = R.tensor(sb, "float32", "y");
    assertClose(legalizeAndRun([x, y], () => op.matmul(x, y), [a, b]), matmulRef(a, b), {
      rtol: 1e-5,
      atol: 1e-6,
    });
  });
  const m = primVar("m", "int64");
  const x = R.tensor([n, 4], "float32", "x"), y = R.tensor([4, m], "float32", "y");
  const a = rand([3, 4], 50), b = rand([4, 5], 51);
  assertClose(legalizeAndRun([x, y], () => op.matmul(x, y), [a, b]), matmulRef(a, b), {
    rtol: 1e-5,
    atol: 1e-6,
  });
});

Deno.test("matmul with out_dtype accumulates in the output dtype", () => {
  const x = R.tensor([2, 3], "int32", "x"), y = R.tensor([3, 2], "int32", "y");
  const a = { shape: [2, 3], data: [1, 2, 3, 4, 5, 6] },
    b = { shape: [3, 2], data: [1, 0, 0, 1, 1, 1] };
  const got = legalizeAndRun([x, y], () => op.matmul(x, y, { outDtype: "float32" }), [a, b]);
  assertClose(got, { shape: [2, 2], data: [4, 5, 10, 11] });
});

Deno.test("linear (permute_dims + matmul + add) legalizes end to end", () => {
  const x = R.tensor([n, 3], "float32", "x"), w = R.tensor([2, 3], "float32", "w");
  const bias = R.tensor([2], "float32", "b");
  const a = rand([2, 3], 60), wv = rand([2, 3], 61), bv = rand([2], 62);
  const want = tabulate(
    [2, 2],
    ([i, j]) => at(bv, [j!]) + [0, 1, 2].reduce((s, k) => s + at(a, [i!, k]) * at(wv, [j!, k]), 0),
  );
  assertClose(legalizeAndRun([x, w, bias], () => op.linear(x, w, bias), [a, wv, bv]), want);
});

testOnTargets("legalize_reduce");
