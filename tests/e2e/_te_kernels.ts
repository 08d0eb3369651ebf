/**
 * Size: over ~600 lines on purpose: one flat table of 30 kernels with their references reads
 * better than the same table split across files.
 *
 * The te kernel suite: each case builds a PrimFunc with the te DSL and gives a float64
 * reference. `tests/e2e/te_kernels_test.ts` runs every case on both targets.
 */

import * as te from "../../ir/te/mod.ts";
import type { PrimFunc } from "../../ir/tir/prim_func.ts";
import type { DType } from "../../ir/dtype.ts";
import type { PrimExpr, Var } from "../../ir/expr.ts";

/** One input or output of a case. */
export interface ArgSpec {
  /** Concrete shape for this run. */
  readonly shape: readonly number[];
  /** Element type. */
  readonly dtype: DType;
  /** How to fill an input (default: uniform in [-1, 1], never zero). */
  readonly fill?: "positive" | "index";
  /** For `index` fills: values in [0, max). */
  readonly max?: number;
}

/** A kernel case. */
export interface KernelCase {
  /** Case name. */
  readonly name: string;
  /** The PrimFunc (parameters: inputs then outputs). */
  readonly func: PrimFunc;
  /** Input specs, in parameter order. */
  readonly inputs: readonly ArgSpec[];
  /** Output specs, in parameter order after the inputs. */
  readonly outputs: readonly ArgSpec[];
  /** The float64 reference: inputs as float64 arrays, one array per output. */
  readonly ref: (xs: readonly Float64Array[]) => Float64Array[];
  /** Relative tolerance (default 1e-5). */
  readonly rtol?: number;
}

const f32 = "float32" as const;
const spec = (
  shape: readonly number[],
  dtype: DType = f32,
  extra: Partial<ArgSpec> = {},
): ArgSpec => ({
  shape,
  dtype,
  ...extra,
});

/** Row-major index helpers for references. */
function idx(shape: readonly number[], ...ix: number[]): number {
  let o = 0;
  for (let d = 0; d < shape.length; d++) o = o * shape[d]! + ix[d]!;
  return o;
}

function elementwise(
  name: string,
  m: number,
  n: number,
  f: (a: te.Tensor) => (i: Var, j: Var) => PrimExpr,
  ref: (x: number) => number,
  extra: Partial<ArgSpec> = {},
): KernelCase {
  const A = te.placeholder([m, n], f32, "A");
  const body = f(A);
  const B = te.compute([m, n], ([i, j]) => body(i, j), { name: "B" });
  return {
    name,
    func: te.createPrimFunc([A, B], { name }),
    inputs: [spec([m, n], f32, extra)],
    outputs: [spec([m, n])],
    ref: ([a]) => [a!.map(ref)],
  };
}

/** Builds all cases (fresh IR each call). */
export function kernelCases(): KernelCase[] {
  const cases: KernelCase[] = [];

  // 1. broadcast add: A[m, n] + b[n]
  {
    const A = te.placeholder([5, 7], f32, "A");
    const b = te.placeholder([7], f32, "b");
    const C = te.compute([5, 7], ([i, j]) => A.at(i, j).add(b.at(j)), { name: "C" });
    cases.push({
      name: "broadcast_add",
      func: te.createPrimFunc([A, b, C], { name: "broadcast_add" }),
      inputs: [spec([5, 7]), spec([7])],
      outputs: [spec([5, 7])],
      ref: ([a, bb]) => [a!.map((x, k) => x + bb![k % 7]!)],
    });
  }
  // 2. outer-product broadcast multiply: A[m, 1] * B[1, n]
  {
    const A = te.placeholder([6, 1], f32, "A");
    const B = te.placeholder([1, 4], f32, "B");
    const C = te.compute([6, 4], ([i, j]) => A.at(i, 0).mul(B.at(0, j)), { name: "C" });
    cases.push({
      name: "broadcast_mul",
      func: te.createPrimFunc([A, B, C], { name: "broadcast_mul" }),
      inputs: [spec([6, 1]), spec([1, 4])],
      outputs: [spec([6, 4])],
      ref: (
        [a, b],
      ) => [Float64Array.from({ length: 24 }, (_, k) => a![Math.floor(k / 4)]! * b![k % 4]!)],
    });
  }
  // 3-6. elementwise math
  cases.push(elementwise("exp", 4, 9, (A) => (i, j) => te.exp(A.at(i, j)), Math.exp));
  cases.push(
    elementwise(
      "sigmoid_tanh",
      3,
      11,
      (A) => (i, j) => te.sigmoid(A.at(i, j)).add(te.tanh(A.at(i, j))),
      (x) => 1 / (1 + Math.exp(-x)) + Math.tanh(x),
    ),
  );
  cases.push(
    elementwise("relu", 4, 8, (A) => (i, j) => te.maximum(A.at(i, j), 0), (x) => Math.max(x, 0)),
  );
  cases.push(
    elementwise(
      "gelu_erf",
      3,
      10,
      (A) => (i, j) => A.at(i, j).mul(0.5).mul(te.erf(A.at(i, j).mul(Math.SQRT1_2)).add(1)),
      (x) => 0.5 * x * (1 + erf(x * Math.SQRT1_2)),
    ),
  );
  cases.push(
    elementwise(
      "sqrt_log",
      5,
      5,
      (A) => (i, j) => te.sqrt(A.at(i, j)).add(te.log(A.at(i, j))),
      (x) => Math.sqrt(x) + Math.log(x),
      { fill: "positive" },
    ),
  );
  cases.push(
    elementwise(
      "clip",
      4,
      6,
      (A) => (i, j) => te.minimum(te.maximum(A.at(i, j), -0.5), 0.5),
      (x) => Math.min(Math.max(x, -0.5), 0.5),
    ),
  );

  // reductions over each axis
  {
    const A = te.placeholder([6, 10], f32, "A");
    const k = te.reduceAxis([0, 10], "k");
    const S = te.compute([6], ([i]) => te.sum(A.at(i, k), [k]), { name: "S" });
    cases.push({
      name: "row_sum",
      func: te.createPrimFunc([A, S], { name: "row_sum" }),
      inputs: [spec([6, 10])],
      outputs: [spec([6])],
      ref: (
        [a],
      ) => [Float64Array.from({ length: 6 }, (_, i) => sumRange(10, (j) => a![i * 10 + j]!))],
    });
  }
  {
    const A = te.placeholder([6, 10], f32, "A");
    const k = te.reduceAxis([0, 6], "k");
    const S = te.compute([10], ([j]) => te.sum(A.at(k, j), [k]), { name: "S" });
    cases.push({
      name: "col_sum",
      func: te.createPrimFunc([A, S], { name: "col_sum" }),
      inputs: [spec([6, 10])],
      outputs: [spec([10])],
      ref: (
        [a],
      ) => [Float64Array.from({ length: 10 }, (_, j) => sumRange(6, (i) => a![i * 10 + j]!))],
    });
  }
  {
    const A = te.placeholder([4, 5, 6], f32, "A");
    const k = te.reduceAxis([0, 5], "k");
    const M = te.compute([4, 6], ([i, j]) => te.max(A.at(i, k, j), [k]), { name: "M" });
    cases.push({
      name: "max_middle_axis",
      func: te.createPrimFunc([A, M], { name: "max_middle_axis" }),
      inputs: [spec([4, 5, 6])],
      outputs: [spec([4, 6])],
      ref: ([a]) => [
        Float64Array.from({ length: 24 }, (_, o) => {
          const i = Math.floor(o / 6), j = o % 6;
          let m = -Infinity;
          for (let q = 0; q < 5; q++) m = Math.max(m, a![idx([4, 5, 6], i, q, j)]!);
          return m;
        }),
      ],
    });
  }
  {
    const A = te.placeholder([8, 3], f32, "A");
    const k = te.reduceAxis([0, 8], "k");
    const M = te.compute([3], ([j]) => te.min(A.at(k, j), [k]), { name: "M" });
    cases.push({
      name: "min_axis0",
      func: te.createPrimFunc([A, M], { name: "min_axis0" }),
      inputs: [spec([8, 3])],
      outputs: [spec([3])],
      ref: (
        [a],
      ) => [
        Float64Array.from(
          { length: 3 },
          (_, j) => Math.min(...Array.from({ length: 8 }, (_, i) => a![i * 3 + j]!)),
        ),
      ],
    });
  }
  {
    const A = te.placeholder([5, 4], f32, "A");
    const i = te.reduceAxis([0, 5], "i");
    const j = te.reduceAxis([0, 4], "j");
    const S = te.compute([], () => te.sum(A.at(i, j), [i, j]), { name: "S" });
    cases.push({
      name: "sum_all",
      func: te.createPrimFunc([A, S], { name: "sum_all" }),
      // positive inputs: a sum with cancellation has no meaningful relative error
      inputs: [spec([5, 4], f32, { fill: "positive" })],
      outputs: [spec([])],
      ref: ([a]) => [Float64Array.of(a!.reduce((x, y) => x + y, 0))],
    });
  }
  // softmax over rows
  {
    const [m, n] = [4, 12];
    const A = te.placeholder([m, n], f32, "A");
    const k = te.reduceAxis([0, n], "k");
    const mx = te.compute([m], ([i]) => te.max(A.at(i, k), [k]), { name: "maxelem" });
    const e = te.compute([m, n], ([i, j]) => te.exp(A.at(i, j).sub(mx.at(i))), { name: "exp" });
    const k2 = te.reduceAxis([0, n], "k2");
    const s = te.compute([m], ([i]) => te.sum(e.at(i, k2), [k2]), { name: "expsum" });
    const out = te.compute([m, n], ([i, j]) => e.at(i, j).div(s.at(i)), { name: "softmax" });
    cases.push({
      name: "softmax",
      func: te.createPrimFunc([A, out], { name: "softmax" }),
      inputs: [spec([m, n])],
      outputs: [spec([m, n])],
      ref: ([a]) => {
        const o = new Float64Array(m * n);
        for (let i = 0; i < m; i++) {
          const row = a!.subarray(i * n, i * n + n);
          const mxv = Math.max(...row);
          const ex = row.map((x) => Math.exp(x - mxv));
          const tot = ex.reduce((x, y) => x + y, 0);
          ex.forEach((x, j) => (o[i * n + j] = x / tot));
        }
        return [o];
      },
    });
  }
  // layer norm over rows with gamma and beta
  {
    const [m, n] = [3, 16];
    const A = te.placeholder([m, n], f32, "A");
    const g = te.placeholder([n], f32, "gamma");
    const b = te.placeholder([n], f32, "beta");
    const k = te.reduceAxis([0, n], "k");
    const s1 = te.compute([m], ([i]) => te.sum(A.at(i, k), [k]), { name: "s1" });
    const k2 = te.reduceAxis([0, n], "k2");
    const s2 = te.compute([m], ([i]) => te.sum(A.at(i, k2).mul(A.at(i, k2)), [k2]), { name: "s2" });
    const out = te.compute([m, n], ([i, j]) => {
      const mu = s1.at(i).div(n);
      const v = s2.at(i).div(n).sub(mu.mul(mu));
      return A.at(i, j).sub(mu).mul(te.rsqrt(v.add(1e-5))).mul(g.at(j)).add(b.at(j));
    }, { name: "layer_norm" });
    cases.push({
      name: "layer_norm",
      func: te.createPrimFunc([A, g, b, out], { name: "layer_norm" }),
      inputs: [spec([m, n]), spec([n]), spec([n])],
      outputs: [spec([m, n])],
      ref: ([a, gg, bb]) => {
        const o = new Float64Array(m * n);
        for (let i = 0; i < m; i++) {
          const row = a!.subarray(i * n, i * n + n);
          const mu = row.reduce((x, y) => x + y, 0) / n;
          const v = row.reduce((x, y) => x + (y - mu) ** 2, 0) / n;
          row.forEach((
            x,
            j,
          ) => (o[i * n + j] = ((x - mu) / Math.sqrt(v + 1e-5)) * gg![j]! + bb![j]!));
        }
        return [o];
      },
    });
  }
  // matmul and batched matmul
  {
    const [m, n, kk] = [7, 5, 9];
    const A = te.placeholder([m, kk], f32, "A");
    const B = te.placeholder([kk, n], f32, "B");
    const k = te.reduceAxis([0, kk], "k");
    const C = te.compute([m, n], ([i, j]) => te.sum(A.at(i, k).mul(B.at(k, j)), [k]), {
      name: "C",
    });
    cases.push({
      name: "matmul",
      func: te.createPrimFunc([A, B, C], { name: "matmul" }),
      inputs: [spec([m, kk]), spec([kk, n])],
      outputs: [spec([m, n])],
      ref: ([a, b]) => [Float64Array.from({ length: m * n }, (_, o) => {
        const i = Math.floor(o / n), j = o % n;
        return sumRange(kk, (q) => a![i * kk + q]! * b![q * n + j]!);
      })],
    });
  }
  {
    const [bt, m, n, kk] = [3, 4, 5, 6];
    const A = te.placeholder([bt, m, kk], f32, "A");
    const B = te.placeholder([bt, kk, n], f32, "B");
    const k = te.reduceAxis([0, kk], "k");
    const C = te.compute([bt, m, n], ([b, i, j]) => te.sum(A.at(b, i, k).mul(B.at(b, k, j)), [k]), {
      name: "C",
    });
    cases.push({
      name: "batch_matmul",
      func: te.createPrimFunc([A, B, C], { name: "batch_matmul" }),
      inputs: [spec([bt, m, kk]), spec([bt, kk, n])],
      outputs: [spec([bt, m, n])],
      ref: ([a, b]) => [Float64Array.from({ length: bt * m * n }, (_, o) => {
        const q0 = Math.floor(o / (m * n)), i = Math.floor(o / n) % m, j = o % n;
        return sumRange(
          kk,
          (q) => a![idx([bt, m, kk], q0, i, q)]! * b![idx([bt, kk, n], q0, q, j)]!,
        );
      })],
    });
  }
  // conv2d NCHW, 3x3, padding 1
  {
    const [N, C, H, W, O, K] = [1, 3, 6, 6, 4, 3];
    const X = te.placeholder([N, C, H, W], f32, "X");
    const Wt = te.placeholder([O, C, K, K], f32, "W");
    const pad = te.compute(
      [N, C, H + 2, W + 2],
      ([n, c, h, w]) =>
        te.ifThenElse(
          te.all(h.ge(1), h.lt(H + 1), w.ge(1), w.lt(W + 1)),
          X.at(n, c, h.sub(1), w.sub(1)),
          0,
        ),
      { name: "pad" },
    );
    const rc = te.reduceAxis([0, C], "rc"),
      rh = te.reduceAxis([0, K], "rh"),
      rw = te.reduceAxis([0, K], "rw");
    const Y = te.compute(
      [N, O, H, W],
      ([n, o, h, w]) =>
        te.sum(pad.at(n, rc, h.add(rh), w.add(rw)).mul(Wt.at(o, rc, rh, rw)), [rc, rh, rw]),
      { name: "conv" },
    );
    cases.push({
      name: "conv2d_nchw",
      func: te.createPrimFunc([X, Wt, Y], { name: "conv2d_nchw" }),
      inputs: [spec([N, C, H, W]), spec([O, C, K, K])],
      outputs: [spec([N, O, H, W])],
      ref: ([x, w]) => {
        const y = new Float64Array(N * O * H * W);
        for (let o = 0; o < O; o++) {
          for (let h = 0; h < H; h++) {
            for (let ww = 0; ww < W; ww++) {
              let acc = 0;
              for (let c = 0; c < C; c++) {
                for (let p = 0; p < K; p++) {
                  for (let q = 0; q < K; q++) {
                    const ih = h + p - 1, iw = ww + q - 1;
                    if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                    acc += x![idx([N, C, H, W], 0, c, ih, iw)]! *
                      w![idx([O, C, K, K], o, c, p, q)]!;
                  }
                }
              }
              y[idx([N, O, H, W], 0, o, h, ww)] = acc;
            }
          }
        }
        return [y];
      },
    });
  }
  // max pool and avg pool 2x2 stride 2
  for (const kind of ["max", "avg"] as const) {
    const [N, C, H, W] = [1, 2, 6, 8];
    const X = te.placeholder([N, C, H, W], f32, "X");
    const rh = te.reduceAxis([0, 2], "rh"), rw = te.reduceAxis([0, 2], "rw");
    const P = kind === "max"
      ? te.compute(
        [N, C, H / 2, W / 2],
        ([n, c, h, w]) => te.max(X.at(n, c, h.mul(2).add(rh), w.mul(2).add(rw)), [rh, rw]),
        { name: "pool" },
      )
      : te.compute(
        [N, C, H / 2, W / 2],
        ([n, c, h, w]) => te.sum(X.at(n, c, h.mul(2).add(rh), w.mul(2).add(rw)), [rh, rw]),
        { name: "pool_sum" },
      );
    const out = kind === "max"
      ? P
      : te.compute([N, C, H / 2, W / 2], ([n, c, h, w]) => P.at(n, c, h, w).mul(0.25), {
        name: "pool",
      });
    cases.push({
      name: `${kind}_pool2d`,
      func: te.createPrimFunc([X, out], { name: `${kind}_pool2d` }),
      inputs: [spec([N, C, H, W])],
      outputs: [spec([N, C, H / 2, W / 2])],
      ref: ([x]) => {
        const y = new Float64Array(N * C * (H / 2) * (W / 2));
        for (let c = 0; c < C; c++) {
          for (let h = 0; h < H / 2; h++) {
            for (let w = 0; w < W / 2; w++) {
              const vals = [0, 1].flatMap((p) =>
                [0, 1].map((q) => x![idx([N, C, H, W], 0, c, 2 * h + p, 2 * w + q)]!)
              );
              y[idx([N, C, H / 2, W / 2], 0, c, h, w)] = kind === "max"
                ? Math.max(...vals)
                : vals.reduce((a, b) => a + b, 0) / 4;
            }
          }
        }
        return [y];
      },
    });
  }
  // transpose and a 3-D permutation
  {
    const A = te.placeholder([5, 3], f32, "A");
    const T = te.compute([3, 5], ([i, j]) => A.at(j, i), { name: "T" });
    cases.push({
      name: "transpose",
      func: te.createPrimFunc([A, T], { name: "transpose" }),
      inputs: [spec([5, 3])],
      outputs: [spec([3, 5])],
      ref: (
        [a],
      ) => [Float64Array.from({ length: 15 }, (_, o) => a![(o % 5) * 3 + Math.floor(o / 5)]!)],
    });
  }
  {
    const A = te.placeholder([2, 3, 4], f32, "A");
    const T = te.compute([4, 2, 3], ([i, j, k]) => A.at(j, k, i), { name: "T" });
    cases.push({
      name: "permute_3d",
      func: te.createPrimFunc([A, T], { name: "permute_3d" }),
      inputs: [spec([2, 3, 4])],
      outputs: [spec([4, 2, 3])],
      ref: ([a]) => [Float64Array.from({ length: 24 }, (_, o) => {
        const i = Math.floor(o / 6), j = Math.floor(o / 3) % 2, k = o % 3;
        return a![idx([2, 3, 4], j, k, i)]!;
      })],
    });
  }
  // concat along axis 1
  {
    const A = te.placeholder([3, 2], f32, "A");
    const B = te.placeholder([3, 5], f32, "B");
    const C = te.compute(
      [3, 7],
      ([i, j]) =>
        te.ifThenElse(j.lt(2), A.at(i, te.minimum(j, 1)), B.at(i, te.maximum(j.sub(2), 0))),
      { name: "C" },
    );
    cases.push({
      name: "concat",
      func: te.createPrimFunc([A, B, C], { name: "concat" }),
      inputs: [spec([3, 2]), spec([3, 5])],
      outputs: [spec([3, 7])],
      ref: ([a, b]) => [Float64Array.from({ length: 21 }, (_, o) => {
        const i = Math.floor(o / 7), j = o % 7;
        return j < 2 ? a![i * 2 + j]! : b![i * 5 + j - 2]!;
      })],
    });
  }
  // take (gather rows by int32 indices)
  {
    const A = te.placeholder([6, 4], f32, "A");
    const I = te.placeholder([5], "int32", "I");
    const C = te.compute([5, 4], ([i, j]) => A.at(I.at(i), j), { name: "C" });
    cases.push({
      name: "take",
      func: te.createPrimFunc([A, I, C], { name: "take" }),
      inputs: [spec([6, 4]), spec([5], "int32", { fill: "index", max: 6 })],
      outputs: [spec([5, 4])],
      ref: (
        [a, ii],
      ) => [
        Float64Array.from({ length: 20 }, (_, o) => a![ii![Math.floor(o / 4)]! * 4 + (o % 4)]!),
      ],
    });
  }
  // argmax along axis 1 (index and value outputs)
  {
    const A = te.placeholder([5, 9], f32, "A");
    const k = te.reduceAxis([0, 9], "k");
    const [ai, av] = te.compute([5], ([i]) => te.argmax(A.at(i, k), k), { name: "argmax" });
    cases.push({
      name: "argmax",
      func: te.createPrimFunc([A, ai!, av!], { name: "argmax" }),
      inputs: [spec([5, 9])],
      outputs: [spec([5], "int32"), spec([5])],
      ref: ([a]) => {
        const is = new Float64Array(5), vs = new Float64Array(5);
        for (let i = 0; i < 5; i++) {
          let bi = 0;
          for (let j = 1; j < 9; j++) if (a![i * 9 + j]! > a![i * 9 + bi]!) bi = j;
          is[i] = bi;
          vs[i] = a![i * 9 + bi]!;
        }
        return [is, vs];
      },
    });
  }
  // where
  {
    const C = te.placeholder([4, 6], f32, "C");
    const A = te.placeholder([4, 6], f32, "A");
    const B = te.placeholder([4, 6], f32, "B");
    const D = te.compute([4, 6], ([i, j]) => te.select(C.at(i, j).gt(0), A.at(i, j), B.at(i, j)), {
      name: "D",
    });
    cases.push({
      name: "where",
      func: te.createPrimFunc([C, A, B, D], { name: "where" }),
      inputs: [spec([4, 6]), spec([4, 6]), spec([4, 6])],
      outputs: [spec([4, 6])],
      ref: ([c, a, b]) => [c!.map((x, k) => (x > 0 ? a![k]! : b![k]!))],
    });
  }
  // cumulative sum along axis 1
  {
    const A = te.placeholder([3, 8], f32, "A");
    const k = te.reduceAxis([0, 8], "k");
    const S = te.compute([3, 8], ([i, j]) => te.sum(A.at(i, k), [k], { where: k.le(j) }), {
      name: "cumsum",
    });
    cases.push({
      name: "cumsum",
      func: te.createPrimFunc([A, S], { name: "cumsum" }),
      inputs: [spec([3, 8])],
      outputs: [spec([3, 8])],
      ref: ([a]) => [Float64Array.from({ length: 24 }, (_, o) => {
        const i = Math.floor(o / 8), j = o % 8;
        return sumRange(j + 1, (q) => a![i * 8 + q]!);
      })],
    });
  }
  // pad with a constant border
  {
    const A = te.placeholder([3, 4], f32, "A");
    const P = te.compute(
      [5, 8],
      ([i, j]) =>
        te.ifThenElse(te.all(i.ge(1), i.lt(4), j.ge(2), j.lt(6)), A.at(i.sub(1), j.sub(2)), -2),
      { name: "P" },
    );
    cases.push({
      name: "pad",
      func: te.createPrimFunc([A, P], { name: "pad" }),
      inputs: [spec([3, 4])],
      outputs: [spec([5, 8])],
      ref: ([a]) => [Float64Array.from({ length: 40 }, (_, o) => {
        const i = Math.floor(o / 8), j = o % 8;
        return i >= 1 && i < 4 && j >= 2 && j < 6 ? a![(i - 1) * 4 + j - 2]! : -2;
      })],
    });
  }
  // mean over the last axis
  {
    const A = te.placeholder([4, 10], f32, "A");
    const k = te.reduceAxis([0, 10], "k");
    const S = te.compute([4], ([i]) => te.sum(A.at(i, k), [k]), { name: "S" });
    const M = te.compute([4], ([i]) => S.at(i).div(10), { name: "mean" });
    cases.push({
      name: "mean",
      func: te.createPrimFunc([A, M], { name: "mean" }),
      inputs: [spec([4, 10])],
      outputs: [spec([4])],
      ref: (
        [a],
      ) => [Float64Array.from({ length: 4 }, (_, i) => sumRange(10, (j) => a![i * 10 + j]!) / 10)],
    });
  }
  return cases;
}

/** A kernel over a symbolic size `n`: `B[i] = A[i] * 2 + 1`. */
export function symbolicCase(): { func: PrimFunc; ref: (a: Float64Array) => Float64Array } {
  const n = te.var("n");
  const A = te.placeholder([n], f32, "A");
  const B = te.compute([n], ([i]) => A.at(i).mul(2).add(1), { name: "B" });
  return {
    func: te.createPrimFunc([A, B], { name: "scale_shift" }),
    ref: (a) => a.map((x) => x * 2 + 1),
  };
}

function sumRange(n: number, f: (i: number) => number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += f(i);
  return s;
}

/** The error function (Abramowitz-Stegun 7.1.26 is too coarse; this uses a series/continued fraction). */
export function erf(x: number): number {
  const t = Math.abs(x);
  if (t < 2.5) {
    // Taylor series: converges quickly for |x| < 2.5
    let sum = t, term = t;
    for (let k = 1; k < 80; k++) {
      term *= (-t * t) / k;
      sum += term / (2 * k + 1);
      if (Math.abs(term) < 1e-17) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // continued fraction for erfc
  let f = 0;
  for (let k = 60; k >= 1; k--) f = (k / 2) / (t + f);
  const erfc = Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + f);
  return Math.sign(x) * (1 - erfc);
}
