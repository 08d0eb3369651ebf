import assert from "node:assert/strict";
import { bufferLoad, declBuffer, floordiv, floormod, primVar } from "../../../ir/expr.ts";
import { assertStructuralEqual } from "../../../ir/structural.ts";
import * as te from "../../../ir/te/mod.ts";
import type { PrimFunc } from "../../../ir/tir/prim_func.ts";
import { bufferStore, ifThenElse, seq } from "../../../ir/tir/stmt.ts";
import { parseTVMScript } from "../../../script/parser/mod.ts";
import { Fallback } from "../../../transform/dlight/fallback.ts";
import { makeTarget } from "../../../transform/target.ts";
import { block, type LoopSpec, nest, reg, rootFunc } from "../schedule/_build.ts";
import { elementwise } from "../schedule/_fixtures.ts";
import { assertSameResults } from "../../_tir_interp.ts";
import { assertAllBound } from "./_bound.ts";

const webgpu = makeTarget("webgpu");

function schedule(func: PrimFunc, target = webgpu): PrimFunc {
  const sch = new Fallback().apply(func, target);
  assert.ok(sch, "the Fallback rule applies");
  assertAllBound(sch.func);
  return sch.func;
}

/** Row sum `R[i] = sum_k A[i, k]` over `m x 64`, with the given loops and values. */
function rowSum(
  m: number,
  loops?: (k: ReturnType<typeof primVar>) => { loops: LoopSpec[]; vi: unknown; pred?: unknown },
) {
  const A = declBuffer([m, 64], "float32", "A"), R = declBuffer([m], "float32", "R");
  const i = primVar("i"), k = primVar("k"), vi = primVar("vi"), vk = primVar("vk");
  const spec = loops ? loops(k) : { loops: [[i, m], [k, 64]] as LoopSpec[], vi: i };
  return rootFunc([A, R], [], [
    nest(
      spec.loops,
      block("R", {
        iters: [[vi, m, "spatial", spec.vi as typeof i], [vk, 64, "reduce", k]],
        reads: [reg(A, vi, vk)],
        writes: [reg(R, vi)],
        init: bufferStore(R, 0, [vi]),
        body: bufferStore(R, bufferLoad(R, [vi]).add(bufferLoad(A, [vi, vk])), [vi]),
        ...(spec.pred ? { predicate: spec.pred as typeof i } : {}),
      }),
    ),
  ]);
}

/** The PrimFunc `main` of a TVMScript module. */
function parsed(text: string): PrimFunc {
  return parseTVMScript(`# from tvm.script import tir as T\n\n${text}`).functions.get(
    "main",
  ) as PrimFunc;
}

Deno.test("Fallback gives each thread 4 consecutive elements of a contiguous elementwise nest", () => {
  const before = elementwise(128, 128);
  const after = schedule(before);
  const expected = parsed(`@T.prim_func
def main(A: T.Buffer((128, 128), "float32"), B: T.Buffer((128, 128), "float32")):
    T.func_attr({"tir.noalias": True})
    for f0 in T.thread_binding(16, thread="blockIdx.x"):
        for f1 in T.thread_binding(256, thread="threadIdx.x"):
            for v in T.vectorized(4):
                with T.sblock("B"):
                    vi = T.axis.spatial(128, f0 * 8 + (f1 * 4 + v) // 128)
                    vj = T.axis.spatial(128, (f1 * 4 + v) % 128)
                    T.reads(A[vi, vj])
                    T.writes(B[vi, vj])
                    B[vi, vj] = A[vi, vj] * T.float32(2.0)
`);
  assertStructuralEqual(after, expected);
  assertSameResults(before, after, { outputs: [1], reverseThreads: true });
  // fewer runs than 256: as many threads as runs
  const small = schedule(elementwise(4, 8));
  assertStructuralEqual(
    small,
    parsed(`@T.prim_func
def main(A: T.Buffer((4, 8), "float32"), B: T.Buffer((4, 8), "float32")):
    T.func_attr({"tir.noalias": True})
    for f0 in T.thread_binding(1, thread="blockIdx.x"):
        for f1 in T.thread_binding(8, thread="threadIdx.x"):
            for v in T.vectorized(4):
                with T.sblock("B"):
                    vi = T.axis.spatial(4, (f1 * 4 + v) // 8)
                    vj = T.axis.spatial(8, (f1 * 4 + v) % 8)
                    T.reads(A[vi, vj])
                    T.writes(B[vi, vj])
                    B[vi, vj] = A[vi, vj] * T.float32(2.0)
`),
  );
  assertSameResults(elementwise(4, 8), small, { outputs: [1], reverseThreads: true });
});

Deno.test("Fallback binds one element per thread when rows are not whole vectors", () => {
  const before = elementwise(128, 126);
  const after = schedule(before);
  const A = declBuffer([128, 126], "float32", "A"), B = declBuffer([128, 126], "float32", "B");
  const f0 = primVar("f0"), f1 = primVar("f1"), vi = primVar("vi"), vj = primVar("vj");
  const fused = f0.mul(256).add(f1);
  const expected = rootFunc([A, B], [], [
    nest(
      [[f0, 63, "blockIdx.x"], [f1, 256, "threadIdx.x"]],
      block("B", {
        iters: [[vi, 128, "spatial", floordiv(fused, 126)], [
          vj,
          126,
          "spatial",
          floormod(fused, 126),
        ]],
        reads: [reg(A, vi, vj)],
        writes: [reg(B, vi, vj)],
        body: bufferStore(B, bufferLoad(A, [vi, vj]).mul(2), [vi, vj]),
      }),
    ),
  ]);
  assertStructuralEqual(after, expected);
  assertSameResults(before, after, { outputs: [1], reverseThreads: true });
});

Deno.test("Fallback uses as many threads as elements when there are fewer than 256", () => {
  const before = elementwise(5, 6);
  const after = schedule(before);
  const A = declBuffer([5, 6], "float32", "A"), B = declBuffer([5, 6], "float32", "B");
  const f0 = primVar("f0"), f1 = primVar("f1"), vi = primVar("vi"), vj = primVar("vj");
  const expected = rootFunc([A, B], [], [
    nest(
      [[f0, 1, "blockIdx.x"], [f1, 30, "threadIdx.x"]],
      block("B", {
        iters: [[vi, 5, "spatial", floordiv(f1, 6)], [vj, 6, "spatial", floormod(f1, 6)]],
        reads: [reg(A, vi, vj)],
        writes: [reg(B, vi, vj)],
        body: bufferStore(B, bufferLoad(A, [vi, vj]).mul(2), [vi, vj]),
      }),
    ),
  ]);
  assertStructuralEqual(after, expected);
  assertSameResults(before, after, { outputs: [1], reverseThreads: true });
});

Deno.test("Fallback keeps a row sum's reduction loop serial inside each thread", () => {
  const before = rowSum(300);
  const after = schedule(before);
  const i0 = primVar("i_0"), i1 = primVar("i_1");
  const fused = i0.mul(256).add(i1);
  const expected = rowSum(300, (k) => ({
    loops: [[i0, 2, "blockIdx.x"], [i1, 256, "threadIdx.x"], [k, 64]],
    vi: fused,
    pred: fused.lt(300),
  }));
  assertStructuralEqual(after, expected);
  assertSameResults(before, after, { outputs: [1], reverseThreads: true });
});

Deno.test("Fallback moves spatial loops outside reduction loops", () => {
  const A = declBuffer([5, 6], "float32", "A"), R = declBuffer([5], "float32", "R");
  const i = primVar("i"), k = primVar("k"), vi = primVar("vi"), vk = primVar("vk");
  const before = rootFunc([A, R], [], [
    nest(
      [[k, 6], [i, 5]],
      block("R", {
        iters: [[vi, 5, "spatial", i], [vk, 6, "reduce", k]],
        reads: [reg(A, vi, vk)],
        writes: [reg(R, vi)],
        init: bufferStore(R, 0, [vi]),
        body: bufferStore(R, bufferLoad(R, [vi]).add(bufferLoad(A, [vi, vk])), [vi]),
      }),
    ),
  ]);
  const after = schedule(before);
  assertSameResults(before, after, { outputs: [1], reverseThreads: true });
});

Deno.test("Fallback schedules a matmul with the reduction per thread", () => {
  const A = te.placeholder([9, 7], "float32", "A"), B = te.placeholder([7, 11], "float32", "B");
  const k = te.reduceAxis([0, 7], "k");
  const C = te.compute([9, 11], ([i, j]) => te.sum(A.at(i, k).mul(B.at(k, j)), [k]), { name: "C" });
  const before = te.createPrimFunc([A, B, C]);
  const after = schedule(before);
  assertSameResults(before, after, { outputs: [2], reverseThreads: true });
});

Deno.test("Fallback gives each block of a softmax its own grid", () => {
  const n = te.var("n"), m = te.var("m");
  const A = te.placeholder([n, m], "float32", "A");
  const k = te.reduceAxis([0, m], "k");
  const mx = te.compute([n], ([i]) => te.max(A.at(i, k), [k]), { name: "T_max" });
  const ex = te.compute([n, m], ([i, j]) => te.exp(A.at(i, j).sub(mx.at(i))), { name: "T_exp" });
  const k2 = te.reduceAxis([0, m], "k");
  const sum = te.compute([n], ([i]) => te.sum(ex.at(i, k2), [k2]), { name: "T_sum" });
  const out = te.compute([n, m], ([i, j]) => ex.at(i, j).div(sum.at(i)), { name: "T_div" });
  const before = te.createPrimFunc([A, out]);
  const sch = new Fallback().apply(before, webgpu)!;
  assertAllBound(sch.func);
  assert.deepEqual(sch.getBlocks().map((b) => b.name), ["T_max", "T_sum", "T_div"]);
  const root = sch.func.body;
  assert.ok(root.kind === "SBlockRealize" && root.block.body.kind === "SeqStmt");
  assert.deepEqual(root.block.body.seq.map((s) => s.kind === "For" && s.threadTag), [
    "blockIdx.x",
    "blockIdx.x",
    "blockIdx.x",
  ]);
  assert.deepEqual(root.block.allocBuffers.map((b) => b.name), ["T_max", "T_sum"]);
  assertSameResults(before, sch.func, {
    outputs: [1],
    sizes: { n: 5, m: 7 },
    reverseThreads: true,
  });
  assertSameResults(before, sch.func, {
    outputs: [1],
    sizes: { n: 300, m: 3 },
    reverseThreads: true,
  });
});

Deno.test("Fallback handles symbolic sizes with a predicate", () => {
  const n = te.var("n");
  const A = te.placeholder([n, 3], "float32", "A");
  const B = te.compute([n, 3], ([i, j]) => A.at(i, j).add(1), { name: "B" });
  const before = te.createPrimFunc([A, B]);
  const after = schedule(before);
  for (const size of [1, 85, 86, 300]) {
    assertSameResults(before, after, { outputs: [1], sizes: { n: size }, reverseThreads: true });
  }
});

Deno.test("Fallback binds scalar (0-D) outputs to one thread", () => {
  const S = te.placeholder([], "float32", "S");
  const sc = te.compute([], () => S.at().add(1), { name: "sc" });
  const V = te.placeholder([10], "float32", "V");
  const k = te.reduceAxis([0, 10], "k");
  const total = te.compute([], () => te.sum(V.at(k), [k]), { name: "total" });
  for (const before of [te.createPrimFunc([S, sc]), te.createPrimFunc([V, total])]) {
    const after = schedule(before);
    const top = after.body.kind === "SBlockRealize" ? after.body.block.body : after.body;
    assert.ok(top.kind === "For" && top.threadTag === "blockIdx.x" && top.extent.kind === "IntImm");
    assert.equal(top.extent.value, 1);
    assertSameResults(before, after, { outputs: [1] });
  }
});

Deno.test("Fallback runs a nest shared by several blocks on a single thread", () => {
  const A = declBuffer([4, 4], "float32", "A"), B = declBuffer([4, 4], "float32", "B");
  const i = primVar("i"), j = primVar("j"), j2 = primVar("j2");
  const vi = primVar("vi"), vj = primVar("vj"), wi = primVar("wi"), wj = primVar("wj");
  const before = rootFunc([A, B], [], [
    nest(
      [[i, 4]],
      seq(
        nest(
          [[j, 4]],
          block("S", {
            iters: [[vi, 4, "spatial", i], [vj, 4, "spatial", j]],
            reads: [reg(A, vi, vj)],
            writes: [reg(A, vi, vj)],
            body: bufferStore(A, bufferLoad(A, [vi, vj]).add(1), [vi, vj]),
          }),
        ),
        nest(
          [[j2, 4]],
          block("T", {
            iters: [[wi, 4, "spatial", i], [wj, 4, "spatial", j2]],
            reads: [reg(A, wi, wj)],
            writes: [reg(B, wi, wj)],
            body: bufferStore(B, bufferLoad(A, [wi, wj]), [wi, wj]),
          }),
        ),
      ),
    ),
  ]);
  const after = schedule(before);
  const top = after.body.kind === "SBlockRealize" ? after.body.block.body : after.body;
  assert.ok(top.kind === "For" && top.threadTag === "blockIdx.x" && top.body.kind === "For");
  assert.equal(top.body.threadTag, "threadIdx.x");
  assertSameResults(before, after, { outputs: [1] });
});

Deno.test("Fallback respects the target's and its own thread limits", () => {
  const before = elementwise(16, 18);
  const extentOf = (f: PrimFunc, depth: number) => {
    let s = f.body.kind === "SBlockRealize" ? f.body.block.body : f.body;
    for (let d = 0; d < depth && s.kind === "For"; d++) s = s.body;
    return s.kind === "For" && s.extent.kind === "IntImm" ? s.extent.value : -1;
  };
  const small = schedule(before, makeTarget("webgpu", { maxThreadsPerBlock: 64 }));
  assert.deepEqual([extentOf(small, 0), extentOf(small, 1)], [5, 64]);
  const own = new Fallback({ maxThreads: 128 }).apply(before, webgpu)!.func;
  assert.deepEqual([extentOf(own, 0), extentOf(own, 1)], [3, 128]);
  assertSameResults(before, small, { outputs: [1], reverseThreads: true });
});

Deno.test("Fallback does not apply to bound functions or to tops it cannot wrap", () => {
  const once = schedule(elementwise(8, 8));
  assert.equal(new Fallback().apply(once, webgpu), undefined);
  const n = primVar("n");
  const plain = elementwise(4, 4);
  const body = plain.body.kind === "SBlockRealize" ? plain.body.block.body : plain.body;
  const guarded: PrimFunc = {
    ...plain,
    params: [...plain.params, n],
    body: ifThenElse(n.gt(0), body),
  };
  assert.equal(new Fallback().apply(guarded, webgpu), undefined);
});

Deno.test("Fallback binds loops that hold no blocks", () => {
  const A = declBuffer([6], "float32", "A");
  const i = primVar("i");
  const before = rootFunc([A], [], [
    nest([[i, 6]], bufferStore(A, bufferLoad(A, [i]).mul(3), [i])),
  ]);
  const after = schedule(before);
  assertSameResults(before, after);
});
