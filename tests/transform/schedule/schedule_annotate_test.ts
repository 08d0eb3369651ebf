import assert from "node:assert/strict";
import { bufferLoad, constIntValue, declBuffer, primVar, sizeVar } from "../../../ir/expr.ts";
import { irModule } from "../../../ir/module.ts";
import { assertStructuralEqual } from "../../../ir/structural.ts";
import { bufferStore, forLoop } from "../../../ir/tir/stmt.ts";
import { visitStmt } from "../../../ir/visit.ts";
import { Schedule } from "../../../transform/schedule/schedule.ts";
import { lowerTIRPipeline, verifyLowered } from "../../../transform/tir/mod.ts";
import { assertSameResults, randomArray, runPrimFunc } from "../../_tir_interp.ts";
import { block, nest, reg, rootFunc } from "./_build.ts";
import { elementwise, matmul, twoStage } from "./_fixtures.ts";
import { assertReplays, lastTraceLine } from "./_stages.ts";

Deno.test("vectorize(), unroll() and parallel() set loop kinds", () => {
  const before = elementwise(8, 8);
  const sch = new Schedule(before);
  const [i, j] = sch.getLoops(sch.getSBlock("B"));
  const [j0, j1] = sch.split(j!, [undefined, 4]);
  sch.vectorize(j1!);
  sch.unroll(j0!);
  sch.parallel(i!);
  const A = declBuffer([8, 8], "float32", "A"), B = declBuffer([8, 8], "float32", "B");
  const [iv, a, b, vi, vj] = ["i", "j_0", "j_1", "vi", "vj"].map((n) => primVar(n));
  const body = block("B", {
    iters: [[vi!, 8, "spatial", iv!], [vj!, 8, "spatial", a!.mul(4).add(b!)]],
    reads: [reg(A, vi!, vj!)],
    writes: [reg(B, vi!, vj!)],
    body: bufferStore(B, bufferLoad(A, [vi!, vj!]).mul(2), [vi!, vj!]),
  });
  const expected = rootFunc([A, B], [], [
    forLoop(
      iv!,
      { min: 0, extent: 8 },
      forLoop(
        a!,
        { min: 0, extent: 2 },
        forLoop(b!, { min: 0, extent: 4 }, body, { forKind: "vectorized" }),
        { forKind: "unrolled" },
      ),
      { forKind: "parallel" },
    ),
  ]);
  assertStructuralEqual(sch.func, expected);
  assertSameResults(before, sch.func, { outputs: [1] });
  assert.deepEqual(String(sch.trace).split("\n").slice(-3), [
    "sch.vectorize(loop=l4)",
    "sch.unroll(loop=l3)",
    "sch.parallel(loop=l1)",
  ]);
  assertReplays(before, sch);
  const same = sch.func;
  sch.vectorize(j1!);
  assert.equal(sch.func, same, "a loop already of the kind is left as is");
});

Deno.test("unroll() accepts a reduction loop; vectorize() and parallel() do not", () => {
  const sch = new Schedule(matmul(4, 4, 4));
  const c = sch.getSBlock("C");
  const [i, , k] = sch.getLoops(c);
  sch.unroll(k!);
  assert.equal(sch.get(k!).forKind, "unrolled");
  assert.throws(() => sch.vectorize(k!), {
    message: 'Cannot vectorize loop "k" of block "C": it carries reduction iter var "vk"',
  });
  assert.throws(() => sch.parallel(k!), {
    message: 'Cannot parallelize loop "k" of block "C": it carries reduction iter var "vk"',
  });
  sch.bind(i!, "blockIdx.x");
  for (
    const [f, verb] of [[() => sch.unroll(i!), "unroll"], [
      () => sch.vectorize(i!),
      "vectorize",
    ]] as const
  ) {
    assert.throws(f, {
      message: `Cannot ${verb} loop "i" of block "C": it is bound to blockIdx.x`,
    });
  }
});

Deno.test("vectorize() errors: non-constant extent, opaque iteration variables", () => {
  const sch = new Schedule(elementwise(sizeVar("n"), 8));
  const [i] = sch.getLoops(sch.getSBlock("B"));
  const [, i1] = sch.split(i!, [4, undefined]);
  assert.throws(() => sch.vectorize(i1!), {
    message: 'Cannot vectorize loop "i_1" of block "B": it has a non-constant extent',
  });
  const A = declBuffer([8], "float32", "A");
  const l = primVar("i"), v = primVar("v");
  const opaque = rootFunc([A], [], [
    nest(
      [[l, 8]],
      block("S", {
        iters: [[v, 8, "opaque", l]],
        reads: [],
        writes: [reg(A, v)],
        body: bufferStore(A, 1, [v]),
      }),
    ),
  ]);
  const s2 = new Schedule(opaque);
  const [l2] = s2.getLoops(s2.getSBlock("S"));
  assert.throws(() => s2.parallel(l2!), {
    message: 'Cannot parallelize loop "i" of block "S": it carries opaque iter var "v"',
  });
});

Deno.test("annotate() and unannotate() edit block and loop annotations", () => {
  const before = matmul(4, 4, 4);
  const sch = new Schedule(before);
  const c = sch.getSBlock("C");
  const [i] = sch.getLoops(c);
  sch.annotate(c, "meta_schedule.tiling_structure", "SSRSRS");
  sch.annotate(i!, "pragma_auto_unroll_max_step", 16);
  sch.annotate(c, "tags", { a: [1, true], b: null });
  assert.deepEqual(sch.get(c).annotations, {
    "meta_schedule.tiling_structure": "SSRSRS",
    tags: { a: [1, true], b: null },
  });
  assert.deepEqual(sch.get(i!).annotations, { pragma_auto_unroll_max_step: 16 });
  assert.equal(
    lastTraceLine(sch),
    'sch.annotate(block_or_loop=b0, ann_key="tags", ann_val={"a": [1, True], "b": None})',
  );
  sch.unannotate(c, "tags");
  sch.unannotate(i!, "pragma_auto_unroll_max_step");
  assert.deepEqual(sch.get(c).annotations, { "meta_schedule.tiling_structure": "SSRSRS" });
  assert.deepEqual(sch.get(i!).annotations, {});
  assert.equal(
    lastTraceLine(sch),
    'sch.unannotate(block_or_loop=l1, ann_key="pragma_auto_unroll_max_step")',
  );
  assertReplays(before, sch);
  assert.throws(() => sch.unannotate(c, "tags"), {
    message: 'Cannot unannotate block "C": it has no annotation "tags"',
  });
  assert.throws(() => sch.unannotate(i!, "x"), {
    message: 'Cannot unannotate loop "i": it has no annotation "x"',
  });
});

Deno.test("storageAlign() records buffer_dim_align on the block writing the buffer", () => {
  const before = matmul(8, 8, 8);
  const sch = new Schedule(before);
  const c = sch.getSBlock("C");
  const s = sch.cacheRead(c, 0, "shared");
  sch.storageAlign(s, 0, 0, 32, 8);
  sch.storageAlign(s, 0, -1, 4, 1);
  sch.storageAlign(s, 0, 0, 16, 1);
  assert.deepEqual(sch.get(s).annotations, { buffer_dim_align: [[0, 1, 4, 1], [0, 0, 16, 1]] });
  assert.equal(
    lastTraceLine(sch),
    "sch.storage_align(block=b1, buffer_index=0, axis=0, factor=16, offset=1)",
  );
  assertReplays(before, sch);
  assertSameResults(before, sch.func, { outputs: [2] });
  const err = (f: () => void, why: string) =>
    assert.throws(f, {
      message: `Cannot storageAlign buffer "A_shared" of block "A_shared": ${why}`,
    });
  err(() => sch.storageAlign(s, 0, 2, 32, 0), "axis 2 is out of range for its 2 dimensions");
  err(() => sch.storageAlign(s, 0, -3, 32, 0), "axis -3 is out of range for its 2 dimensions");
  err(() => sch.storageAlign(s, 0, 0, 0, 0), "factor 0 is not a positive integer");
  err(() => sch.storageAlign(s, 0, 0, 32, 32), "offset 32 is not an integer in [0, 32)");
  assert.throws(() => sch.storageAlign(c, 0, 0, 32, 8), {
    message: 'Cannot storageAlign buffer "C" of block "C": it is a parameter of the function',
  });
  assert.throws(() => sch.storageAlign(s, 1, 0, 32, 8), {
    message: 'Cannot storageAlign block "A_shared": block "A_shared" has 1 write region, ' +
      "index 1 is out of range",
  });
});

Deno.test("storageAlign() on a buffer that keeps its shape gives it padded strides when lowered", () => {
  const before = twoStage(8, 8);
  const sch = new Schedule(before);
  sch.storageAlign(sch.getSBlock("B"), 0, 0, 16, 3);
  const low = lowerTIRPipeline()(irModule([["main", sch.func]])).functions.get("main");
  assert.ok(low?.kind === "PrimFunc");
  verifyLowered(low);
  const sizes: number[] = [];
  visitStmt(low.body, {
    stmt: (s) => void (s.kind === "AllocBuffer" && sizes.push(constIntValue(s.buffer.shape[0]!)!)),
  });
  assert.deepEqual(sizes, [7 * 19 + 8], "rows of 8 padded to a stride of 19 (3 modulo 16)");
  const a = randomArray(64, 3), c = new Float32Array(64).fill(NaN);
  runPrimFunc(low, [{ data: a, shape: [8, 8] }, { data: c, shape: [8, 8] }]);
  assert.deepEqual(Array.from(c), Array.from(a, (x) => Math.fround(Math.fround(x * 2) + 1)));
});
