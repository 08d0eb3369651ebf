import assert from "node:assert/strict";
import { bufferLoad, declBuffer, floatImm, max, primVar, type Var } from "../../../ir/expr.ts";
import { assertStructuralEqual } from "../../../ir/structural.ts";
import { primFunc } from "../../../ir/tir/prim_func.ts";
import { bufferStore, forLoop, seq } from "../../../ir/tir/stmt.ts";
import { Schedule } from "../../../transform/schedule/schedule.ts";
import { block, nest, reg, rootFunc } from "./_build.ts";
import { matmul } from "./_fixtures.ts";
import { assertSameResults } from "../../_tir_interp.ts";
import { assertReplays, lastTraceLine, matmulBlock } from "./_stages.ts";

const f32 = "float32";

function mmBuffers(m = 16, n = 16, k = 16) {
  return [
    declBuffer([m, k], f32, "A"),
    declBuffer([k, n], f32, "B"),
    declBuffer([m, n], f32, "C"),
  ] as const;
}

function vars(...names: string[]): Var[] {
  return names.map((n) => primVar(n));
}

/** The init block `C[vi, vj] = 0` bound to `values`. */
function initBlock(C: ReturnType<typeof mmBuffers>[2], values: readonly [Var, Var], n = 16) {
  const [vi, vj] = vars("vi", "vj");
  return block("C_init", {
    iters: [[vi!, n, "spatial", values[0]], [vj!, n, "spatial", values[1]]],
    reads: [],
    writes: [reg(C, vi!, vj!)],
    body: bufferStore(C, 0, [vi!, vj!]),
  });
}

Deno.test("decomposeReduction() at the outermost loop copies the spatial loops", () => {
  const before = matmul();
  const sch = new Schedule(before);
  const c = sch.getSBlock("C");
  const [i] = sch.getLoops(c);
  const init = sch.decomposeReduction(c, i!);
  assert.equal(init.name, "C_init");
  const [A, B, C] = mmBuffers();
  const [ii, ji, iv, jv, kv] = vars("i_init", "j_init", "i", "j", "k");
  const expected = rootFunc([A, B, C], [], [
    nest([[ii!, 16], [ji!, 16]], initBlock(C, [ii!, ji!])),
    nest(
      [[iv!, 16], [jv!, 16], [kv!, 16]],
      matmulBlock("C", [A, B, C], [iv!, jv!, kv!], { init: false, readsOutput: true }),
    ),
  ]);
  assertStructuralEqual(sch.func, expected);
  assertSameResults(before, sch.func, { outputs: [2] });
  assert.equal(lastTraceLine(sch), "b4 = sch.decompose_reduction(block=b0, loop=l1)");
  assertReplays(before, sch);
});

Deno.test("decomposeReduction() at the reduction loop puts the init right before it", () => {
  const before = matmul();
  const sch = new Schedule(before);
  const c = sch.getSBlock("C");
  const [, , k] = sch.getLoops(c);
  sch.decomposeReduction(c, k!);
  const [A, B, C] = mmBuffers();
  const [iv, jv, kv] = vars("i", "j", "k");
  const expected = rootFunc([A, B, C], [], [
    nest(
      [[iv!, 16], [jv!, 16]],
      seq(
        initBlock(C, [iv!, jv!]),
        forLoop(
          kv!,
          { min: 0, extent: 16 },
          matmulBlock("C", [A, B, C], [iv!, jv!, kv!], { init: false, readsOutput: true }),
        ),
      ),
    ),
  ]);
  assertStructuralEqual(sch.func, expected);
  assertSameResults(before, sch.func, { outputs: [2] });
});

Deno.test("decomposeReduction() keeps the predicate parts of the loops it copies", () => {
  const before = matmul(10, 4, 10);
  const sch = new Schedule(before);
  const c = sch.getSBlock("C");
  const [i, , k] = sch.getLoops(c);
  const [i0] = sch.split(i!, [undefined, 4]);
  sch.split(k!, [undefined, 4]);
  sch.decomposeReduction(c, i0!);
  const r = sch.getSBlockRealize(sch.getSBlock("C_init"));
  const [io, ii] = sch.getLoops(sch.getSBlock("C_init")).map((l) => sch.get(l).loopVar);
  assert.deepEqual(
    sch.getLoops(sch.getSBlock("C_init")).map((l) => l.var.name),
    ["i_0_init", "i_1_init", "j_init"],
  );
  assertStructuralEqual(r.predicate, io!.mul(4).add(ii!).lt(10));
  assertSameResults(before, sch.func, { outputs: [2] });
  assertSameResults(before, sch.func, { outputs: [2], reverseThreads: true });
});

Deno.test("rfactor() computes partial sums over the factored loop, then reduces them", () => {
  const before = matmul(4, 4, 16);
  const sch = new Schedule(before);
  const c = sch.getSBlock("C");
  const [, , k] = sch.getLoops(c);
  const [, k1] = sch.split(k!, [4, 4]);
  const rf = sch.rfactor(k1!, 0);
  assert.equal(rf.name, "C_rf");
  const [A, B, C] = mmBuffers(4, 4, 16);
  const Crf = declBuffer([4, 4, 4], f32, "C_rf");
  const [i, j, k0, k1v, i2, j2, k12] = vars("i", "j", "k_0", "k_1", "i", "j", "k_1");
  const [vi, vj, vk0, vk1, wi, wj, wk1] = vars("vi", "vj", "vk_0", "vk_1", "vi", "vj", "vk_1");
  const vk = vk0!.mul(4).add(vk1!);
  const rfAt = [vk1!, vi!, vj!];
  const rfBlock = block("C_rf", {
    iters: [
      [vi!, 4, "spatial", i!],
      [vj!, 4, "spatial", j!],
      [vk0!, 4, "reduce", k0!],
      [vk1!, 4, "spatial", k1v!],
    ],
    reads: [reg(A, vi!, vk), reg(B, vk, vj!)],
    writes: [reg(Crf, ...rfAt)],
    init: bufferStore(Crf, 0, rfAt),
    body: bufferStore(
      Crf,
      bufferLoad(Crf, rfAt).add(bufferLoad(A, [vi!, vk]).mul(bufferLoad(B, [vk, vj!]))),
      rfAt,
    ),
  });
  const wbAt = [wk1!, wi!, wj!];
  const wbBlock = block("C", {
    iters: [[wi!, 4, "spatial", i2!], [wj!, 4, "spatial", j2!], [wk1!, 4, "reduce", k12!]],
    reads: [reg(Crf, ...wbAt)],
    writes: [reg(C, wi!, wj!)],
    init: bufferStore(C, 0, [wi!, wj!]),
    body: bufferStore(C, bufferLoad(C, [wi!, wj!]).add(bufferLoad(Crf, wbAt)), [wi!, wj!]),
  });
  const expected = rootFunc([A, B, C], [Crf], [
    nest([[i!, 4], [j!, 4], [k0!, 4], [k1v!, 4]], rfBlock),
    nest([[i2!, 4], [j2!, 4], [k12!, 4]], wbBlock),
  ]);
  assertStructuralEqual(sch.func, expected);
  assertSameResults(before, sch.func, { outputs: [2] });
  assert.equal(lastTraceLine(sch), "b6 = sch.rfactor(loop=l5, factor_axis=0)");
  assertReplays(before, sch);
});

Deno.test("rfactor() keeps results for any factor axis, outer loops and non-divisible splits", () => {
  for (const [kk, f, outer, axis] of [[16, 4, true, 2], [10, 4, false, -1], [10, 3, true, 1]]) {
    const before = matmul(3, 5, kk as number);
    const sch = new Schedule(before);
    const c = sch.getSBlock("C");
    const [, , k] = sch.getLoops(c);
    const [k0, k1] = sch.split(k!, [undefined, f as number]);
    const rf = sch.rfactor(outer ? k0! : k1!, axis as number);
    assert.equal(sch.get(rf).writes[0]!.buffer.shape.length, 3);
    assertSameResults(before, sch.func, { outputs: [2] });
  }
});

Deno.test("rfactor() of a max reduction starts the partial results at the lowest float", () => {
  const A = declBuffer([4, 12], f32, "A"), M = declBuffer([4], f32, "M");
  const [i, k, vi, vk] = vars("i", "k", "vi", "vk");
  const before = rootFunc([A, M], [], [
    nest(
      [[i!, 4], [k!, 12]],
      block("M", {
        iters: [[vi!, 4, "spatial", i!], [vk!, 12, "reduce", k!]],
        reads: [reg(A, vi!, vk!)],
        writes: [reg(M, vi!)],
        init: bufferStore(M, floatImm(-5), [vi!]),
        body: bufferStore(M, max(bufferLoad(M, [vi!]), bufferLoad(A, [vi!, vk!])), [vi!]),
      }),
    ),
  ]);
  const sch = new Schedule(before);
  const [, kl] = sch.getLoops(sch.getSBlock("M"));
  const [, k1] = sch.split(kl!, [3, 4]);
  const rf = sch.rfactor(k1!, 1);
  const init = sch.get(rf).init;
  assert.ok(init?.kind === "BufferStore");
  assertStructuralEqual(init.value, floatImm(-3.4028234663852886e38));
  assertSameResults(before, sch.func, { outputs: [1] });
});

Deno.test("decomposeReduction() errors", () => {
  const sch = new Schedule(matmul());
  const c = sch.getSBlock("C");
  const [i, j, k] = sch.getLoops(c);
  sch.reorder(k!, i!, j!);
  assert.throws(() => sch.decomposeReduction(c, i!), {
    message: 'Cannot decomposeReduction block "C" at loop "i": ' +
      'loop "k" above it carries reduction iter var "vk"',
  });
  const s = sch.cacheRead(c, 0, "local");
  const [ax0] = sch.getLoops(s);
  assert.throws(() => sch.decomposeReduction(c, ax0!), {
    message:
      'Cannot decomposeReduction block "C" at loop "ax0": the loop does not enclose the block',
  });
  sch.decomposeReduction(c, k!);
  assert.throws(() => sch.decomposeReduction(c, k!), {
    message: 'Cannot decomposeReduction block "C" at loop "k": ' +
      "the block has no init (it is not a reduction)",
  });
  const [A, B, C] = mmBuffers(4, 4, 4);
  const [vi, vo, li, lo] = vars("vi", "vo", "i", "o");
  const odd = rootFunc([A, B, C], [], [
    nest(
      [[lo!, 4], [li!, 4]],
      block("X", {
        iters: [[vo!, 4, "opaque", lo!], [vi!, 4, "reduce", li!]],
        reads: [reg(A, vo!, vi!)],
        writes: [reg(C, vo!, 0)],
        init: bufferStore(C, 0, [vo!, 0]),
        body: bufferStore(C, bufferLoad(C, [vo!, 0]).add(bufferLoad(A, [vo!, vi!])), [vo!, 0]),
      }),
    ),
  ]);
  const s2 = new Schedule(odd);
  const x = s2.getSBlock("X");
  const [o2, i2] = s2.getLoops(x);
  assert.throws(() => s2.decomposeReduction(x, o2!), {
    message: 'Cannot decomposeReduction block "X" at loop "o": block "X" has opaque iter var "vo"',
  });
  assert.throws(() => s2.rfactor(i2!, 0), {
    message: 'Cannot rfactor loop "i" of block "X": block "X" has opaque iter var "vo"',
  });
});

/** A 4 x 8 row reduction `R[vi] = combine(R[vi], A[vi, vk])` with the given body and init. */
function rowReduce(
  body: (
    R: ReturnType<typeof declBuffer>,
    A: ReturnType<typeof declBuffer>,
    vi: Var,
    vk: Var,
  ) => ReturnType<typeof bufferStore>,
  init?: (R: ReturnType<typeof declBuffer>, vi: Var) => ReturnType<typeof bufferStore>,
  root = true,
) {
  const A = declBuffer([4, 8], f32, "A"), R = declBuffer([4], f32, "R");
  const [i, k, vi, vk] = vars("i", "k", "vi", "vk");
  const s = nest(
    [[i!, 4], [k!, 8]],
    block("R", {
      iters: [[vi!, 4, "spatial", i!], [vk!, 8, "reduce", k!]],
      reads: [reg(A, vi!, vk!)],
      writes: [reg(R, vi!)],
      init: init ? init(R, vi!) : bufferStore(R, 0, [vi!]),
      body: body(R, A, vi!, vk!),
    }),
  );
  return root ? rootFunc([A, R], [], [s]) : primFunc([A, R], s);
}

const sum = (
  R: ReturnType<typeof declBuffer>,
  A: ReturnType<typeof declBuffer>,
  vi: Var,
  vk: Var,
) => bufferStore(R, bufferLoad(R, [vi]).add(bufferLoad(A, [vi, vk])), [vi]);

Deno.test("rfactor() errors", () => {
  const rfErr = (f: ReturnType<typeof rowReduce>, message: string) => {
    const sch = new Schedule(f);
    const [, k] = sch.getLoops(sch.getSBlock("R"));
    assert.throws(() => sch.rfactor(k!, 0), { message });
  };
  rfErr(
    rowReduce((R, A, vi, vk) =>
      bufferStore(R, bufferLoad(R, [vi]).sub(bufferLoad(A, [vi, vk])), [vi])
    ),
    'Cannot rfactor loop "k" of block "R": its update is not a supported reduction ' +
      "(W[...] = W[...] op x with op +, *, min or max)",
  );
  rfErr(
    rowReduce(sum, (R) => bufferStore(R, 0, [0])),
    'Cannot rfactor loop "k" of block "R": its init does not store into "R" at the update\'s indices',
  );
  rfErr(
    rowReduce(sum, undefined, false),
    'Cannot rfactor loop "k" of block "R": the block has no enclosing block',
  );

  const sch = new Schedule(rowReduce(sum));
  const r = sch.getSBlock("R");
  const [i, k] = sch.getLoops(r);
  assert.throws(() => sch.rfactor(i!, 0), {
    message: 'Cannot rfactor loop "i" of block "R": it carries no reduction iter var',
  });
  assert.throws(() => sch.rfactor(k!, 2), {
    message: 'Cannot rfactor loop "k" of block "R": factor axis 2 is out of range [-2, 1]',
  });
  const [k0, k1] = sch.split(k!, [2, 4]);
  const fused = sch.fuse(i!, k0!);
  assert.throws(() => sch.rfactor(fused, 0), {
    message:
      'Cannot rfactor loop "i_k_0_fused" of block "R": it also carries spatial iter var "vi"',
  });
  assert.throws(() => sch.rfactor(k1!, 0), {
    message: 'Cannot rfactor loop "k_1" of block "R": ' +
      'loop "i_k_0_fused" also carries spatial iter var "vi"',
  });

  const mm = new Schedule(matmul(4, 4, 8));
  const c = mm.getSBlock("C");
  const [, , kk] = mm.getLoops(c);
  const [kk0, kk1] = mm.split(kk!, [2, 4]);
  mm.computeAt(mm.cacheRead(c, 0, "shared"), kk0!);
  assert.throws(() => mm.rfactor(kk1!, 0), {
    message:
      'Cannot rfactor loop "k_1" of block "C": reduction loop "k_0" also encloses other blocks',
  });
  assert.throws(() => mm.rfactor(kk0!, 0), {
    message: 'Cannot rfactor loop "k_0": it contains 2 blocks, expected 1',
  });
  mm.decomposeReduction(c, kk0!);
  assert.throws(() => mm.rfactor(kk1!, 0), {
    message:
      'Cannot rfactor loop "k_1" of block "C": the block has no init (it is not a reduction)',
  });
});
