import assert from "node:assert/strict";
import {
  type Buffer,
  bufferLoad,
  declBuffer,
  type PrimExpr,
  primVar,
  type Var,
} from "../../../ir/expr.ts";
import { assertStructuralEqual } from "../../../ir/structural.ts";
import type { PrimFunc } from "../../../ir/tir/prim_func.ts";
import { bufferStore, seq, type Stmt } from "../../../ir/tir/stmt.ts";
import { Schedule } from "../../../transform/schedule/schedule.ts";
import { block, nest, reg, rootFunc } from "./_build.ts";
import { twoStage } from "./_fixtures.ts";
import { assertSameResults } from "../../_tir_interp.ts";

/** A spatial 2-D stage `out[vi, vj] = f(vi, vj)` over `m x n`, reading `reads`. */
function stage(
  name: string,
  out: Buffer,
  reads: (vi: Var, vj: Var) => ReturnType<typeof reg>[],
  f: (vi: Var, vj: Var) => PrimExpr,
  m = 8,
  n = 8,
): Stmt {
  const i = primVar("i"), j = primVar("j"), vi = primVar("vi"), vj = primVar("vj");
  return nest(
    [[i, m], [j, n]],
    block(name, {
      iters: [[vi, m, "spatial", i], [vj, n, "spatial", j]],
      reads: reads(vi, vj),
      writes: [reg(out, vi, vj)],
      body: bufferStore(out, f(vi, vj), [vi, vj]),
    }),
  );
}

const f32 = "float32";

Deno.test("computeInline() substitutes the producer into its consumer and drops its buffer", () => {
  const before = twoStage(8, 8);
  const sch = new Schedule(before);
  sch.computeInline(sch.getSBlock("B"));
  const A = declBuffer([8, 8], f32, "A"), C = declBuffer([8, 8], f32, "C");
  const expected = rootFunc([A, C], [], [
    stage("C", C, (vi, vj) => [reg(A, vi, vj)], (vi, vj) => bufferLoad(A, [vi, vj]).mul(2).add(1)),
  ]);
  assertStructuralEqual(sch.func, expected);
  assertSameResults(before, sch.func, { outputs: [1] });
  assert.deepEqual(sch.getBlocks().map((b) => b.name), ["C"]);
});

Deno.test("computeInline() merges the regions of several loads", () => {
  const A = declBuffer([8, 10], f32, "A"),
    B = declBuffer([8, 10], f32, "B"),
    C = declBuffer([8, 8], f32, "C");
  const ld = (buf: Buffer, vi: Var, vj: Var) =>
    bufferLoad(buf, [vi, vj]).add(bufferLoad(buf, [vi, vj.add(1)])).add(
      bufferLoad(buf, [vi, vj.add(2)]),
    );
  const before = rootFunc([A, C], [B], [
    stage("B", B, (vi, vj) => [reg(A, vi, vj)], (vi, vj) => bufferLoad(A, [vi, vj]).mul(2), 8, 10),
    stage("C", C, (vi, vj) => [reg(B, vi, [vj, 3])], (vi, vj) => ld(B, vi, vj)),
  ]);
  const sch = new Schedule(before);
  sch.computeInline(sch.getSBlock("B"));
  const A2 = declBuffer([8, 10], f32, "A"), C2 = declBuffer([8, 8], f32, "C");
  const expected = rootFunc([A2, C2], [], [
    stage(
      "C",
      C2,
      (vi, vj) => [reg(A2, vi, [vj, 3])],
      (vi, vj) =>
        bufferLoad(A2, [vi, vj]).mul(2).add(bufferLoad(A2, [vi, vj.add(1)]).mul(2)).add(
          bufferLoad(A2, [vi, vj.add(2)]).mul(2),
        ),
    ),
  ]);
  assertStructuralEqual(sch.func, expected);
  assertSameResults(before, sch.func, { outputs: [1] });
});

Deno.test("computeInline() into two consumers", () => {
  const A = declBuffer([8, 8], f32, "A"), B = declBuffer([8, 8], f32, "B");
  const C = declBuffer([8, 8], f32, "C"), D = declBuffer([8, 8], f32, "D");
  const before = rootFunc([A, C, D], [B], [
    stage("B", B, (vi, vj) => [reg(A, vi, vj)], (vi, vj) => bufferLoad(A, [vi, vj]).mul(2)),
    stage("C", C, (vi, vj) => [reg(B, vi, vj)], (vi, vj) => bufferLoad(B, [vi, vj]).add(1)),
    stage(
      "D",
      D,
      (vi, vj) => [reg(B, vi, vj), reg(C, vi, vj)],
      (vi, vj) => bufferLoad(B, [vi, vj]).add(2).add(bufferLoad(C, [vi, vj])),
    ),
  ]);
  const sch = new Schedule(before);
  sch.computeInline(sch.getSBlock("B"));
  const expected = rootFunc([A, C, D], [], [
    stage("C", C, (vi, vj) => [reg(A, vi, vj)], (vi, vj) => bufferLoad(A, [vi, vj]).mul(2).add(1)),
    stage(
      "D",
      D,
      (vi, vj) => [reg(A, vi, vj), reg(C, vi, vj)],
      (vi, vj) => bufferLoad(A, [vi, vj]).mul(2).add(2).add(bufferLoad(C, [vi, vj])),
    ),
  ]);
  assertStructuralEqual(sch.func, expected);
  assertSameResults(before, sch.func, { outputs: [1, 2] });
});

/** `B = A * 2` then a reduction `R[i] = sum_j B[i, j]` (B intermediate). */
function intoReduction(): PrimFunc {
  const A = declBuffer([8, 8], f32, "A"),
    B = declBuffer([8, 8], f32, "B"),
    R = declBuffer([8], f32, "R");
  const i = primVar("i"), k = primVar("k"), vi = primVar("vi"), vk = primVar("vk");
  return rootFunc([A, R], [B], [
    stage("B", B, (vi, vj) => [reg(A, vi, vj)], (vi, vj) => bufferLoad(A, [vi, vj]).mul(2)),
    nest(
      [[i, 8], [k, 8]],
      block("R", {
        iters: [[vi, 8, "spatial", i], [vk, 8, "reduce", k]],
        reads: [reg(B, vi, vk)],
        writes: [reg(R, vi)],
        init: bufferStore(R, 0, [vi]),
        body: bufferStore(R, bufferLoad(R, [vi]).add(bufferLoad(B, [vi, vk])), [vi]),
      }),
    ),
  ]);
}

Deno.test("computeInline() into a reduction consumer keeps results", () => {
  const before = intoReduction();
  const sch = new Schedule(before);
  sch.computeInline(sch.getSBlock("B"));
  assertSameResults(before, sch.func, { outputs: [1] });
  assert.deepEqual(sch.getBlocks().map((b) => b.name), ["R"]);
  assert.deepEqual(sch.get(sch.getSBlock("R")).reads.map((r) => r.buffer.name), ["A"]);
});

Deno.test("computeInline() rejects reductions, outputs and non-elementwise bodies", () => {
  const sch = new Schedule(intoReduction());
  assert.throws(() => sch.computeInline(sch.getSBlock("R")), {
    message: 'Cannot inline block "R": it is a reduction',
  });
  const two = new Schedule(twoStage(4, 4));
  assert.throws(() => two.computeInline(two.getSBlock("C")), {
    message: 'Cannot inline block "C": it writes output buffer "C"',
  });
  assert.throws(() => two.computeInline(two.getSBlock("root")), {
    message: 'Cannot inline block "root": it is the root block',
  });
  const A = declBuffer([4, 4], f32, "A"),
    B = declBuffer([4, 4], f32, "B"),
    C = declBuffer([4, 4], f32, "C");
  const i = primVar("i"), vi = primVar("vi");
  const twoStores = rootFunc([A, C], [B], [
    nest(
      [[i, 4]],
      block("B", {
        iters: [[vi, 4, "spatial", i]],
        reads: [reg(A, vi, 0)],
        writes: [reg(B, vi, [0, 2])],
        body: seq(bufferStore(B, bufferLoad(A, [vi, 0]), [vi, 0]), bufferStore(B, 1, [vi, 1])),
      }),
    ),
    stage("C", C, (vi, vj) => [reg(B, vi, vj)], (vi, vj) => bufferLoad(B, [vi, vj]), 4, 4),
  ]);
  const s2 = new Schedule(twoStores);
  assert.throws(() => s2.computeInline(s2.getSBlock("B")), {
    message: 'Cannot inline block "B": its body is not a single buffer store',
  });
  const notVars = rootFunc([A, C], [B], [
    nest(
      [[i, 4]],
      block("B", {
        iters: [[vi, 4, "spatial", i]],
        reads: [reg(A, vi, 0)],
        writes: [reg(B, vi, 0)],
        body: bufferStore(B, bufferLoad(A, [vi, 0]), [vi, 0]),
      }),
    ),
    stage("C", C, (vi, vj) => [reg(B, vi, vj)], (vi, vj) => bufferLoad(B, [vi, vj]), 4, 4),
  ]);
  const s3 = new Schedule(notVars);
  assert.throws(() => s3.computeInline(s3.getSBlock("B")), {
    message: 'Cannot inline block "B": its store indices are not distinct iter vars',
  });
});

Deno.test("computeInline() rejects a consumer that accesses the buffer opaquely", () => {
  const A = declBuffer([4, 4], f32, "A"),
    B = declBuffer([4, 4], f32, "B"),
    C = declBuffer([4, 4], f32, "C");
  const func = rootFunc([A, C], [B], [
    stage("B", B, (vi, vj) => [reg(A, vi, vj)], (vi, vj) => bufferLoad(A, [vi, vj]).mul(2), 4, 4),
    stage("C", C, () => [reg(B, [0, 4], [0, 4])], (vi, vj) => bufferLoad(A, [vi, vj]), 4, 4),
  ]);
  const sch = new Schedule(func);
  assert.throws(() => sch.computeInline(sch.getSBlock("B")), {
    message: 'Cannot inline block "B": block "C" accesses buffer "B" opaquely',
  });
  assert.equal(sch.func, func, "a failed primitive leaves the function unchanged");
});

Deno.test("reverseComputeInline() moves an elementwise consumer into its producer", () => {
  const before = twoStage(8, 8);
  const sch = new Schedule(before);
  sch.reverseComputeInline(sch.getSBlock("C"));
  const A = declBuffer([8, 8], f32, "A"), C = declBuffer([8, 8], f32, "C");
  const expected = rootFunc([A, C], [], [
    stage("B", C, (vi, vj) => [reg(A, vi, vj)], (vi, vj) => bufferLoad(A, [vi, vj]).mul(2).add(1)),
  ]);
  assertStructuralEqual(sch.func, expected);
  assertSameResults(before, sch.func, { outputs: [1] });
});

Deno.test("reverseComputeInline() handles transposed loads and extra inputs", () => {
  const A = declBuffer([8, 8], f32, "A"), B = declBuffer([8, 8], f32, "B");
  const E = declBuffer([8, 8], f32, "E"), C = declBuffer([8, 8], f32, "C");
  const before = rootFunc([A, E, C], [B], [
    stage("B", B, (vi, vj) => [reg(A, vi, vj)], (vi, vj) => bufferLoad(A, [vi, vj]).mul(2)),
    stage(
      "C",
      C,
      (vi, vj) => [reg(B, vj, vi), reg(E, vi, vj)],
      (vi, vj) => bufferLoad(B, [vj, vi]).sub(bufferLoad(E, [vi, vj])),
    ),
  ]);
  const sch = new Schedule(before);
  sch.reverseComputeInline(sch.getSBlock("C"));
  const i = primVar("i"), j = primVar("j"), vi = primVar("vi"), vj = primVar("vj");
  const expected = rootFunc([A, E, C], [], [
    nest(
      [[i, 8], [j, 8]],
      block("B", {
        iters: [[vi, 8, "spatial", i], [vj, 8, "spatial", j]],
        reads: [reg(A, vi, vj), reg(E, vj, vi)],
        writes: [reg(C, vj, vi)],
        body: bufferStore(C, bufferLoad(A, [vi, vj]).mul(2).sub(bufferLoad(E, [vj, vi])), [vj, vi]),
      }),
    ),
  ]);
  assertStructuralEqual(sch.func, expected);
  assertSameResults(before, sch.func, { outputs: [2] });
});

Deno.test("reverseComputeInline() rejects reductions, several producers and odd loads", () => {
  const sch = new Schedule(intoReduction());
  assert.throws(() => sch.reverseComputeInline(sch.getSBlock("R")), {
    message: 'Cannot reverse-inline block "R": it is a reduction',
  });
  const A = declBuffer([4, 4], f32, "A"), B = declBuffer([4, 4], f32, "B");
  const B2 = declBuffer([4, 4], f32, "B2"),
    C = declBuffer([4, 4], f32, "C"),
    D = declBuffer([4, 4], f32, "D");
  const prodB = stage(
    "B",
    B,
    (vi, vj) => [reg(A, vi, vj)],
    (vi, vj) => bufferLoad(A, [vi, vj]),
    4,
    4,
  );
  const two = rootFunc([A, C], [B, B2], [
    prodB,
    stage("B2", B2, (vi, vj) => [reg(A, vi, vj)], (vi, vj) => bufferLoad(A, [vi, vj]), 4, 4),
    stage(
      "C",
      C,
      (vi, vj) => [reg(B, vi, vj), reg(B2, vi, vj)],
      (vi, vj) => bufferLoad(B, [vi, vj]).add(bufferLoad(B2, [vi, vj])),
      4,
      4,
    ),
  ]);
  const s2 = new Schedule(two);
  assert.throws(() => s2.reverseComputeInline(s2.getSBlock("C")), {
    message: 'Cannot reverse-inline block "C": it has 2 producer blocks ("B", "B2"), expected 1',
  });
  const shifted = rootFunc([A, C], [B], [
    prodB,
    stage("C", C, (vi) => [reg(B, vi, 0)], (vi) => bufferLoad(B, [vi, 0]), 4, 4),
  ]);
  const s3 = new Schedule(shifted);
  assert.throws(() => s3.reverseComputeInline(s3.getSBlock("C")), {
    message:
      'Cannot reverse-inline block "C": its loads of buffer "B" are not indexed by its iter vars',
  });
  const shared = rootFunc([A, C, D], [B], [
    prodB,
    stage("C", C, (vi, vj) => [reg(B, vi, vj)], (vi, vj) => bufferLoad(B, [vi, vj]), 4, 4),
    stage("D", D, (vi, vj) => [reg(B, vi, vj)], (vi, vj) => bufferLoad(B, [vi, vj]), 4, 4),
  ]);
  const s4 = new Schedule(shared);
  assert.throws(() => s4.reverseComputeInline(s4.getSBlock("C")), {
    message: 'Cannot reverse-inline block "C": buffer "B" is also read by block "D"',
  });
});

Deno.test("reverseComputeInline() rejects a reduction producer", () => {
  const A = declBuffer([4, 4], f32, "A"),
    R = declBuffer([4], f32, "R"),
    D = declBuffer([4], f32, "D");
  const i = primVar("i"), k = primVar("k"), vi = primVar("vi"), vk = primVar("vk");
  const i2 = primVar("i"), wi = primVar("wi");
  const func = rootFunc([A, D], [R], [
    nest(
      [[i, 4], [k, 4]],
      block("R", {
        iters: [[vi, 4, "spatial", i], [vk, 4, "reduce", k]],
        reads: [reg(A, vi, vk)],
        writes: [reg(R, vi)],
        init: bufferStore(R, 0, [vi]),
        body: bufferStore(R, bufferLoad(R, [vi]).add(bufferLoad(A, [vi, vk])), [vi]),
      }),
    ),
    nest(
      [[i2, 4]],
      block("D", {
        iters: [[wi, 4, "spatial", i2]],
        reads: [reg(R, wi)],
        writes: [reg(D, wi)],
        body: bufferStore(D, bufferLoad(R, [wi]).add(1), [wi]),
      }),
    ),
  ]);
  const sch = new Schedule(func);
  assert.throws(() => sch.reverseComputeInline(sch.getSBlock("D")), {
    message: 'Cannot reverse-inline block "D": its producer "R" is a reduction',
  });
});
