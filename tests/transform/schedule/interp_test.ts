import assert from "node:assert/strict";
import { bufferLoad, declBuffer, primVar } from "../../../ir/expr.ts";
import { bufferStore } from "../../../ir/tir/stmt.ts";
import { block, nest, reg, rootFunc } from "./_build.ts";
import { elementwise } from "./_fixtures.ts";
import { assertSameResults, runPrimFunc } from "../../_tir_interp.ts";

// The interpreter is the numeric check of every schedule test: these tests make sure it fails
// on the kinds of bugs a schedule primitive could introduce.

function splitElementwise(stride: number) {
  const A = declBuffer([8, 4], "float32", "A"), B = declBuffer([8, 4], "float32", "B");
  const i0 = primVar("i_0"),
    i1 = primVar("i_1"),
    j = primVar("j"),
    vi = primVar("vi"),
    vj = primVar("vj");
  return rootFunc([A, B], [], [
    nest(
      [[i0, 2], [i1, 4], [j, 4]],
      block("B", {
        iters: [[vi, 8, "spatial", i0.mul(stride).add(i1)], [vj, 4, "spatial", j]],
        reads: [reg(A, vi, vj)],
        writes: [reg(B, vi, vj)],
        body: bufferStore(B, bufferLoad(A, [vi, vj]).mul(2), [vi, vj]),
      }),
    ),
  ]);
}

Deno.test("interp: computes an elementwise function", () => {
  const f = elementwise(2, 3);
  const [a, b] = [new Float64Array([1, 2, 3, 4, 5, 6]), new Float64Array(6)];
  runPrimFunc(f, [{ shape: [2, 3], data: a }, { shape: [2, 3], data: b }]);
  assert.deepEqual([...a!], [1, 2, 3, 4, 5, 6]);
  assert.deepEqual([...b!], [2, 4, 6, 8, 10, 12]);
});

Deno.test("interp: a correct split matches, a wrong one is caught", () => {
  assertSameResults(elementwise(8, 4), splitElementwise(4), { outputs: [1] });
  assert.throws(
    () => assertSameResults(elementwise(8, 4), splitElementwise(2), { outputs: [1] }),
    /results differ/,
  );
  assert.throws(
    () => assertSameResults(elementwise(8, 4), splitElementwise(5), { outputs: [1] }),
    /iter var "vi" = 8 outside \[0, 8\)/,
  );
});

Deno.test("interp: reverseThreads exposes a dependence between threads", () => {
  const A = declBuffer([8], "float32", "A");
  const mk = (tag?: "threadIdx.x") => {
    const i = primVar("i"), vi = primVar("vi");
    return rootFunc([A], [], [
      nest(
        [tag ? [i, 7, tag] : [i, 7]],
        block("S", {
          iters: [[vi, 7, "spatial", i]],
          reads: [reg(A, vi)],
          writes: [reg(A, vi.add(1))],
          body: bufferStore(A, bufferLoad(A, [vi]).add(1), [vi.add(1)]),
        }),
      ),
    ]);
  };
  assertSameResults(mk(), mk("threadIdx.x"));
  assert.throws(
    () => assertSameResults(mk(), mk("threadIdx.x"), { reverseThreads: true }),
    /results differ/,
  );
});

Deno.test("interp: out-of-bounds accesses throw", () => {
  const A = declBuffer([4], "float32", "A");
  const i = primVar("i"), vi = primVar("vi");
  const f = rootFunc([A], [], [
    nest(
      [[i, 4]],
      block("S", {
        iters: [[vi, 4, "spatial", i]],
        reads: [],
        writes: [reg(A, vi)],
        body: bufferStore(A, 0, [vi.add(1)]),
      }),
    ),
  ]);
  assert.throws(
    () => runPrimFunc(f, [{ shape: [4], data: new Float64Array(4) }]),
    /index 4 out of bounds/,
  );
});
