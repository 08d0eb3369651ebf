import assert from "node:assert/strict";
import { primVar } from "../../../../ir/expr.ts";
import { tupleGetItem } from "../../../../ir/relax/expr.ts";
import * as op from "../../../../ir/relax/op/mod.ts";
import { makeOpCall } from "../../../../ir/relax/op/mod.ts";
import * as R from "../../../../ir/relax/r.ts";
import type { ArrayArg } from "../../../_tir_interp.ts";
import {
  assertClose,
  at,
  legalizeAndRun,
  rand,
  tabulate,
  testOnTargets,
  type Value,
} from "./_run.ts";

const n = primVar("n", "int64");

/** Mean and population variance of `vals`. */
function moments(vals: number[]): [number, number] {
  const m = vals.reduce((a, b) => a + b, 0) / vals.length;
  return [m, vals.reduce((a, b) => a + (b - m) ** 2, 0) / vals.length];
}

Deno.test("layer_norm over the last axes, with gamma and beta", () => {
  const x = R.tensor([n, 2, 3], "float32", "x");
  const g = R.tensor([2, 3], "float32", "g"), b = R.tensor([2, 3], "float32", "b");
  const a = rand([2, 2, 3], 1, { lo: -2, hi: 3 }), gv = rand([2, 3], 2), bv = rand([2, 3], 3);
  const want = tabulate([2, 2, 3], ([i, j, k]) => {
    const vals = [0, 1].flatMap((p) => [0, 1, 2].map((q) => at(a, [i!, p, q])));
    const [m, v] = moments(vals);
    return (at(a, [i!, j!, k!]) - m) / Math.sqrt(v + 1e-5) * at(gv, [j!, k!]) + at(bv, [j!, k!]);
  });
  const got = legalizeAndRun([x, g, b], () => op.nn.layerNorm(x, g, b, { axes: [-2, -1] }), [
    a,
    gv,
    bv,
  ]);
  assertClose(got, want, { rtol: 1e-5, atol: 1e-5 });
});

Deno.test("layer_norm without scale and center reads neither gamma nor beta", () => {
  const x = R.tensor([2, 4], "float32", "x");
  const g = R.tensor([4], "float32", "g"), b = R.tensor([4], "float32", "b");
  const a = rand([2, 4], 4);
  const call = () =>
    makeOpCall("relax.nn.layer_norm", [x, g, b], {
      axes: [1],
      epsilon: 1e-3,
      center: false,
      scale: false,
    });
  const want = tabulate([2, 4], ([i, j]) => {
    const [m, v] = moments([0, 1, 2, 3].map((q) => at(a, [i!, q])));
    return (at(a, [i!, j!]) - m) / Math.sqrt(v + 1e-3);
  });
  const junk = { shape: [4], data: [NaN, NaN, NaN, NaN] };
  assertClose(legalizeAndRun([x, g, b], call, [a, junk, junk]), want, { rtol: 1e-5, atol: 1e-5 });
});

Deno.test("rms_norm scales by the root mean square", () => {
  const x = R.tensor([3, n], "float32", "x"), w = R.tensor([n], "float32", "w");
  const a = rand([3, 5], 5), wv = rand([5], 6);
  const want = tabulate([3, 5], ([i, j]) => {
    const ms = [0, 1, 2, 3, 4].reduce((s, q) => s + at(a, [i!, q]) ** 2, 0) / 5;
    return at(a, [i!, j!]) / Math.sqrt(ms + 1e-5) * at(wv, [j!]);
  });
  assertClose(legalizeAndRun([x, w], () => op.nn.rmsNorm(x, w), [a, wv]), want, {
    rtol: 1e-5,
    atol: 1e-5,
  });
});

Deno.test("group_norm normalizes groups of channels over the spatial axes", () => {
  const x = R.tensor([2, 4, 2, 3], "float32", "x");
  const g = R.tensor([4], "float32", "g"), b = R.tensor([4], "float32", "b");
  const a = rand([2, 4, 2, 3], 7, { lo: -1, hi: 2 }), gv = rand([4], 8), bv = rand([4], 9);
  const want = tabulate([2, 4, 2, 3], ([i, c, h, w]) => {
    const grp = Math.floor(c! / 2);
    const vals: number[] = [];
    for (let cc = grp * 2; cc < grp * 2 + 2; cc++) {
      for (let p = 0; p < 2; p++) for (let q = 0; q < 3; q++) vals.push(at(a, [i!, cc, p, q]));
    }
    const [m, v] = moments(vals);
    return (at(a, [i!, c!, h!, w!]) - m) / Math.sqrt(v + 1e-5) * at(gv, [c!]) + at(bv, [c!]);
  });
  assertClose(legalizeAndRun([x, g, b], () => op.nn.groupNorm(x, g, b, 2), [a, gv, bv]), want, {
    rtol: 1e-5,
    atol: 1e-5,
  });
});

function tensors(v: Value): ArrayArg[] {
  assert.ok(Array.isArray(v), "expected a tuple");
  return v as ArrayArg[];
}

Deno.test("batch_norm (inference) uses the moving statistics and returns them", () => {
  const x = R.tensor([2, 3, 2], "float32", "x");
  const ps = ["g", "b", "mm", "mv"].map((s) => R.tensor([3], "float32", s));
  const a = rand([2, 3, 2], 10);
  const [gv, bv, mm] = [rand([3], 11), rand([3], 12), rand([3], 13)];
  const mv = rand([3], 14, { lo: 0.5, hi: 2 });
  const got = tensors(
    legalizeAndRun([x, ...ps], () => op.nn.batchNorm(x, ps[0]!, ps[1]!, ps[2]!, ps[3]!), [
      a,
      gv,
      bv,
      mm,
      mv,
    ]),
  );
  const want = tabulate(
    [2, 3, 2],
    ([i, c, k]) =>
      (at(a, [i!, c!, k!]) - at(mm, [c!])) / Math.sqrt(at(mv, [c!]) + 1e-5) * at(gv, [c!]) +
      at(bv, [c!]),
  );
  assertClose(got[0]!, want, { rtol: 1e-5, atol: 1e-6 });
  assertClose(got[1]!, mm);
  assertClose(got[2]!, mv);
});

Deno.test("batch_norm (training) uses batch statistics and updates the moving ones", () => {
  const x = R.tensor([2, 3, 2], "float32", "x");
  const ps = ["g", "b", "mm", "mv"].map((s) => R.tensor([3], "float32", s));
  const a = rand([2, 3, 2], 15);
  const [gv, bv, mm] = [rand([3], 16), rand([3], 17), rand([3], 18)];
  const mv = rand([3], 19, { lo: 0.5, hi: 2 });
  const call = () =>
    makeOpCall("relax.nn.batch_norm", [x, ...ps], {
      axis: 1,
      epsilon: 1e-5,
      training: true,
      momentum: 0.25,
    });
  const got = tensors(legalizeAndRun([x, ...ps], call, [a, gv, bv, mm, mv]));
  const stats = [0, 1, 2].map((c) =>
    moments([0, 1].flatMap((i) => [0, 1].map((k) => at(a, [i, c, k]))))
  );
  const want = tabulate([2, 3, 2], ([i, c, k]) => {
    const [m, v] = stats[c!]!;
    return (at(a, [i!, c!, k!]) - m) / Math.sqrt(v + 1e-5) * at(gv, [c!]) + at(bv, [c!]);
  });
  assertClose(got[0]!, want, { rtol: 1e-5, atol: 1e-5 });
  assertClose(got[1]!, tabulate([3], ([c]) => 0.75 * at(mm, [c!]) + 0.25 * stats[c!]![0]));
  assertClose(got[2]!, tabulate([3], ([c]) => 0.75 * at(mv, [c!]) + 0.25 * stats[c!]![1]));
});

Deno.test("dropout is the identity with an all-ones mask", () => {
  const x = R.tensor([2, n], "float32", "x");
  const a = rand([2, 3], 20);
  const got = tensors(legalizeAndRun([x], () => op.nn.dropout(x, { rate: 0.3 }), [a]));
  assertClose(got[0]!, a);
  assertClose(got[1]!, { shape: [2, 3], data: [1, 1, 1, 1, 1, 1] });
  const first = legalizeAndRun([x], () => tupleGetItem(op.nn.dropout(x), 0), [a]);
  assertClose(first, a);
});

/** float64 attention over (B, S, N, D) arrays. */
function attentionRef(
  q: ArrayArg,
  k: ArrayArg,
  v: ArrayArg,
  o: { scale?: number; causal?: "TopLeft" | "BottomRight"; bias?: ArrayArg },
) {
  const [B, S, N, D] = q.shape as [number, number, number, number];
  const Skv = k.shape[1]!, Nk = k.shape[2]!, Dv = v.shape[3]!;
  const scale = o.scale ?? 1 / Math.sqrt(D);
  const off = o.causal === "BottomRight" ? Skv - S : 0;
  return tabulate([B, S, N, Dv], ([b, i, h, e]) => {
    const hk = Math.floor(h! / (N / Nk));
    const logits: number[] = [];
    for (let j = 0; j < Skv; j++) {
      let s = 0;
      for (let d = 0; d < D; d++) s += at(q, [b!, i!, h!, d]) * at(k, [b!, j, hk, d]);
      s *= scale;
      if (o.bias) {
        const bs = o.bias.shape;
        const full = [b!, h!, i!, j];
        s += at(o.bias, bs.map((dd, p) => (dd === 1 ? 0 : full[4 - bs.length + p]!)));
      }
      logits.push(o.causal && j > i! + off ? -Infinity : s);
    }
    const m = Math.max(...logits);
    const w = logits.map((l) => Math.exp(l - m));
    const z = w.reduce((x, y) => x + y, 0);
    return w.reduce((acc, wj, j) => acc + (wj / z) * at(v, [b!, j, hk, e!]), 0);
  });
}

Deno.test("attention: default and explicit scale, causal masks, bias, grouped heads", () => {
  const q = rand([2, 3, 2, 4], 30), k = rand([2, 5, 2, 4], 31), v = rand([2, 5, 2, 3], 32);
  const Q = R.tensor([2, 3, 2, 4], "float32", "q"), K = R.tensor([2, n, 2, 4], "float32", "k");
  const V = R.tensor([2, n, 2, 3], "float32", "v");
  const tol = { rtol: 1e-5, atol: 1e-6 };
  assertClose(
    legalizeAndRun([Q, K, V], () => op.nn.attention(Q, K, V), [q, k, v]),
    attentionRef(q, k, v, {}),
    tol,
  );
  for (const causal of ["TopLeft", "BottomRight"] as const) {
    assertClose(
      legalizeAndRun(
        [Q, K, V],
        () => op.nn.attention(Q, K, V, { causalMask: causal, scale: 0.3 }),
        [
          q,
          k,
          v,
        ],
      ),
      attentionRef(q, k, v, { causal, scale: 0.3 }),
      tol,
    );
  }
  const bias = rand([1, 3, 5], 33);
  const Bt = R.tensor([1, 3, 5], "float32", "bias");
  assertClose(
    legalizeAndRun([Q, K, V, Bt], () => op.nn.attention(Q, K, V, { bias: Bt }), [q, k, v, bias]),
    attentionRef(q, k, v, { bias }),
    tol,
  );
  // grouped-query attention: 4 query heads share 2 key/value heads
  const q4 = rand([1, 2, 4, 4], 34), k2 = rand([1, 3, 2, 4], 35), v2 = rand([1, 3, 2, 2], 36);
  const Q4 = R.tensor([1, 2, 4, 4], "float32", "q"), K2 = R.tensor([1, 3, 2, 4], "float32", "k");
  const V2 = R.tensor([1, 3, 2, 2], "float32", "v");
  assertClose(
    legalizeAndRun([Q4, K2, V2], () => op.nn.attention(Q4, K2, V2), [q4, k2, v2]),
    attentionRef(q4, k2, v2, {}),
    tol,
  );
});

Deno.test("attention with a sliding window cannot be legalized", () => {
  const Q = R.tensor([1, 2, 1, 4], "float32", "q");
  assert.throws(
    () =>
      legalizeAndRun([Q], () =>
        makeOpCall("relax.nn.attention", [Q, Q, Q], {
          scale: null,
          causal_mask: "TopLeft",
          window_size: 2,
        }), []),
    {
      message:
        'Cannot legalize "nn.attention": sliding-window attention (window_size) is not supported',
    },
  );
});

Deno.test("a non-numeric epsilon cannot be legalized", () => {
  const x = R.tensor([2, 3], "float32", "x"), g = R.tensor([3], "float32", "g");
  const call = () => makeOpCall("relax.nn.layer_norm", [x, g, g], { axes: [-1], epsilon: "tiny" });
  assert.throws(() => legalizeAndRun([x, g], call, []), {
    message: 'Cannot legalize "nn.layer_norm": attribute "epsilon" must be a number',
  });
});

testOnTargets("legalize_nn");
