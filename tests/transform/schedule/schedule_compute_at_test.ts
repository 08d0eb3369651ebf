import assert from "node:assert/strict";
import {
  type Buffer,
  bufferLoad,
  declBuffer,
  intImm,
  min,
  type PrimExpr,
  type PrimExprLike,
  primVar,
  type Var,
} from "../../../ir/expr.ts";
import { assertStructuralEqual } from "../../../ir/structural.ts";
import {
  bufferStore,
  forLoop,
  sblock,
  sblockRealize,
  seq,
  type Stmt,
} from "../../../ir/tir/stmt.ts";
import { Schedule } from "../../../transform/schedule/schedule.ts";
import { block, type LoopSpec, nest, reg, rootFunc } from "./_build.ts";
import { matmul, twoStage } from "./_fixtures.ts";
import { assertSameResults } from "../../_tir_interp.ts";
import { assertReplays, copyStage, lastTraceLine, matmulBlock } from "./_stages.ts";

const f32 = "float32";

/** A 2-D spatial block `out[vi, vj] = f(in[vi, vj])` bound to `values`. */
function cell(
  name: string,
  inp: Buffer,
  out: Buffer,
  f: (x: PrimExpr) => PrimExpr,
  values: readonly [PrimExprLike, PrimExprLike],
  extents: readonly [PrimExprLike, PrimExprLike] = [8, 8],
) {
  const vi = primVar("vi"), vj = primVar("vj");
  return block(name, {
    iters: [[vi, extents[0], "spatial", values[0]], [vj, extents[1], "spatial", values[1]]],
    reads: [reg(inp, vi, vj)],
    writes: [reg(out, vi, vj)],
    body: bufferStore(out, f(bufferLoad(inp, [vi, vj])), [vi, vj]),
  });
}

const double = (x: PrimExpr) => x.mul(2);
const plusOne = (x: PrimExpr) => x.add(1);

function bufs(): { A: Buffer; B: Buffer; C: Buffer } {
  return {
    A: declBuffer([8, 8], f32, "A"),
    B: declBuffer([8, 8], f32, "B"),
    C: declBuffer([8, 8], f32, "C"),
  };
}

function loops(...specs: readonly [string, PrimExprLike][]): [Var, PrimExprLike][] {
  return specs.map(([n, e]) => [primVar(n), e]);
}

Deno.test("computeAt() moves a producer under its consumer's loop, one row per iteration", () => {
  const before = twoStage(8, 8);
  const sch = new Schedule(before);
  const [i] = sch.getLoops(sch.getSBlock("C"));
  sch.computeAt(sch.getSBlock("B"), i!);
  const { A, B, C } = bufs();
  const iv = primVar("i"), j = primVar("j"), ax0 = primVar("ax0");
  const expected = rootFunc([A, C], [B], [
    forLoop(
      iv,
      { min: 0, extent: 8 },
      seq(
        nest([[ax0, 8]], cell("B", A, B, double, [iv, ax0])),
        nest([[j, 8]], cell("C", B, C, plusOne, [iv, j])),
      ),
    ),
  ]);
  assertStructuralEqual(sch.func, expected);
  assertSameResults(before, sch.func, { outputs: [1] });
  assert.equal(lastTraceLine(sch), "sch.compute_at(block=b3, loop=l1, preserve_unit_loops=False)");
  assertReplays(before, sch);
  assert.deepEqual(sch.getLoops(sch.getSBlock("B")).map((l) => l.var.name), ["i", "ax0"]);
});

Deno.test("computeAt() with preserveUnitLoops keeps the loop of extent 1", () => {
  const before = twoStage(8, 8);
  const sch = new Schedule(before);
  const [i] = sch.getLoops(sch.getSBlock("C"));
  sch.computeAt(sch.getSBlock("B"), i!, { preserveUnitLoops: true });
  const { A, B, C } = bufs();
  const iv = primVar("i"), j = primVar("j"), ax0 = primVar("ax0"), ax1 = primVar("ax1");
  const expected = rootFunc([A, C], [B], [
    forLoop(
      iv,
      { min: 0, extent: 8 },
      seq(
        nest([[ax0, 1], [ax1, 8]], cell("B", A, B, double, [iv.add(ax0), ax1])),
        nest([[j, 8]], cell("C", B, C, plusOne, [iv, j])),
      ),
    ),
  ]);
  assertStructuralEqual(sch.func, expected);
  assertSameResults(before, sch.func, { outputs: [1] });
  assertReplays(before, sch);
});

Deno.test("computeAt() under a split loop computes the tile its consumer needs", () => {
  const before = twoStage(8, 8);
  const sch = new Schedule(before);
  const [i] = sch.getLoops(sch.getSBlock("C"));
  const [i0] = sch.split(i!, [2, 4]);
  sch.computeAt(sch.getSBlock("B"), i0!);
  const { A, B, C } = bufs();
  const [o, ii, j, ax0, ax1] = ["i_0", "i_1", "j", "ax0", "ax1"].map((n) => primVar(n)) as Var[];
  const expected = rootFunc([A, C], [B], [
    forLoop(
      o!,
      { min: 0, extent: 2 },
      seq(
        nest([[ax0!, 4], [ax1!, 8]], cell("B", A, B, double, [o!.mul(4).add(ax0!), ax1!])),
        nest([[ii!, 4], [j!, 8]], cell("C", B, C, plusOne, [o!.mul(4).add(ii!), j!])),
      ),
    ),
  ]);
  assertStructuralEqual(sch.func, expected);
  assertSameResults(before, sch.func, { outputs: [1] });
});

Deno.test("computeAt() clips the tile of a non-divisible split to the block's domain", () => {
  const before = twoStage(10, 4);
  const sch = new Schedule(before);
  const [i] = sch.getLoops(sch.getSBlock("C"));
  const [i0] = sch.split(i!, [undefined, 4]);
  sch.computeAt(sch.getSBlock("B"), i0!);
  const [, ax0] = sch.getLoops(sch.getSBlock("B"));
  const ext = sch.get(ax0!).extent;
  const o = sch.get(i0!).loopVar;
  assertStructuralEqual(ext, min(o.mul(-4).add(10), 4));
  assertSameResults(before, sch.func, { outputs: [1] });
});

/** matmul with `i` split into 4 blocks of 4 threads and A cached in `scope` under the thread loop. */
function cachedUnderThreads(scope: "shared" | "local") {
  const before = matmul();
  const sch = new Schedule(before);
  const c = sch.getSBlock("C");
  const [i] = sch.getLoops(c);
  const [bx, tx] = sch.split(i!, [4, 4]);
  sch.bind(bx!, "blockIdx.x");
  sch.bind(tx!, "threadIdx.x");
  const s = sch.cacheRead(c, 0, scope);
  sch.computeAt(s, tx!);
  return { before, sch };
}

function threadExpected(
  scope: "shared" | "local",
  stage: (bx: Var, tx: Var, A: Buffer, As: Buffer) => Stmt,
) {
  const A = declBuffer([16, 16], f32, "A"), B = declBuffer([16, 16], f32, "B");
  const C = declBuffer([16, 16], f32, "C");
  const As = declBuffer([16, 16], f32, `A_${scope}`, { scope });
  const bx = primVar("i_0"), tx = primVar("i_1"), j = primVar("j"), k = primVar("k");
  const inner = seq(
    stage(bx, tx, A, As),
    nest([[j, 16], [k, 16]], matmulBlock("C", [As, B, C], [bx.mul(4).add(tx), j, k])),
  );
  return rootFunc([A, B, C], [As], [
    nest([[bx, 4, "blockIdx.x"], [tx, 4, "threadIdx.x"]], inner),
  ]);
}

Deno.test("computeAt() of a shared cache covers every thread of the workgroup", () => {
  const { before, sch } = cachedUnderThreads("shared");
  const expected = threadExpected("shared", (bx, _tx, A, As) =>
    copyStage(
      "A_shared",
      A,
      As,
      loops(["ax0", 4], ["ax1", 16]),
      ([a, b]) => [bx.mul(4).add(a!), b!],
    ));
  assertStructuralEqual(sch.func, expected);
  assertSameResults(before, sch.func, { outputs: [2] });
  assertSameResults(before, sch.func, { outputs: [2], reverseThreads: true });
});

Deno.test("computeAt() of a local cache covers only its own thread", () => {
  const { before, sch } = cachedUnderThreads("local");
  const expected = threadExpected("local", (bx, tx, A, As) =>
    copyStage(
      "A_local",
      A,
      As,
      loops(["ax0", 16]),
      ([a]) => [bx.mul(4).add(tx), a!],
    ));
  assertStructuralEqual(sch.func, expected);
  assertSameResults(before, sch.func, { outputs: [2], reverseThreads: true });
});

Deno.test("reverseComputeAt() moves a consumer under its producer's loop", () => {
  const before = twoStage(8, 8);
  const sch = new Schedule(before);
  const [i] = sch.getLoops(sch.getSBlock("B"));
  sch.reverseComputeAt(sch.getSBlock("C"), i!);
  const { A, B, C } = bufs();
  const iv = primVar("i"), j = primVar("j"), ax0 = primVar("ax0");
  const expected = rootFunc([A, C], [B], [
    forLoop(
      iv,
      { min: 0, extent: 8 },
      seq(
        nest([[j, 8]], cell("B", A, B, double, [iv, j])),
        nest([[ax0, 8]], cell("C", B, C, plusOne, [iv, ax0])),
      ),
    ),
  ]);
  assertStructuralEqual(sch.func, expected);
  assertSameResults(before, sch.func, { outputs: [1] });
  assert.equal(
    lastTraceLine(sch),
    "sch.reverse_compute_at(block=b3, loop=l1, preserve_unit_loops=False)",
  );
  assertReplays(before, sch);
});

Deno.test("reverseComputeAt() of a cacheWrite stage writes back one thread's tile", () => {
  const before = matmul();
  const sch = new Schedule(before);
  const c = sch.getSBlock("C");
  const [i, j] = sch.getLoops(c);
  const [, ti] = sch.split(i!, [4, 4]);
  sch.bind(ti!, "threadIdx.x");
  sch.split(j!, [8, 2]);
  const [bx, tx, jo, ji, k] = sch.getLoops(c);
  sch.reorder(bx!, tx!, jo!, k!, ji!);
  const w = sch.cacheWrite(c, 0, "local");
  sch.reverseComputeAt(w, jo!);
  assert.deepEqual(sch.getLoops(w).map((l) => l.var.name), ["i_0", "i_1", "j_0", "ax0"]);
  assertStructuralEqual(sch.get(sch.getLoops(w)[3]!).extent, intImm(2));
  assertSameResults(before, sch.func, { outputs: [2], reverseThreads: true });
});

Deno.test("computeAt()/reverseComputeAt() errors", () => {
  const sch = new Schedule(twoStage(8, 8));
  const b = sch.getSBlock("B"), c = sch.getSBlock("C");
  const [bi] = sch.getLoops(b);
  const [ci] = sch.getLoops(c);
  assert.throws(() => sch.computeAt(b, bi!), {
    message: 'Cannot computeAt block "B" under loop "i": the loop encloses the block',
  });
  assert.throws(() => sch.computeAt(c, bi!), {
    message: 'Cannot computeAt block "C" under loop "i": it writes output buffer "C"',
  });
  assert.throws(() => sch.computeAt(sch.getSBlock("root"), ci!), {
    message: 'Cannot computeAt block "root" under loop "i": it is the root block',
  });
  assert.throws(() => sch.reverseComputeAt(b, ci!), {
    message:
      'Cannot reverseComputeAt block "B" under loop "i": the loop does not enclose a producer of "B"',
  });

  // consumers: one missing, none under the loop
  const { A, B, C } = bufs();
  const D = declBuffer([8, 8], f32, "D"), E = declBuffer([8, 8], f32, "E");
  const grid = (): LoopSpec[] => loops(["i", 8], ["j", 8]);
  const mk = (name: string, inp: Buffer, out: Buffer) => {
    const l = grid();
    return nest(l, cell(name, inp, out, plusOne, [l[0]![0], l[1]![0]]));
  };
  const s2 = new Schedule(
    rootFunc([A, C, D, E], [B], [mk("B", A, B), mk("C", B, C), mk("D", B, D), mk("E", A, E)]),
  );
  const [c2] = s2.getLoops(s2.getSBlock("C"));
  const [e2] = s2.getLoops(s2.getSBlock("E"));
  assert.throws(() => s2.computeAt(s2.getSBlock("B"), c2!), {
    message: 'Cannot computeAt block "B" under loop "i": its consumer "D" is not under the loop',
  });
  assert.throws(() => s2.computeAt(s2.getSBlock("B"), e2!), {
    message:
      'Cannot computeAt block "B" under loop "i": the loop does not enclose a consumer of "B"',
  });

  // a producer after the loop, a consumer before it
  const P0 = declBuffer([8, 8], f32, "P");
  const s7 = new Schedule(
    rootFunc([A, C, D], [P0, B], [mk("B", P0, B), mk("C", B, C), mk("P", A, P0)]),
  );
  const [i7] = s7.getLoops(s7.getSBlock("C"));
  assert.throws(() => s7.computeAt(s7.getSBlock("B"), i7!), {
    message: 'Cannot computeAt block "B" under loop "i": its producer "P" comes after the loop',
  });
  const s8 = new Schedule(rootFunc([A, D], [B, C], [mk("D", C, D), mk("B", A, B), mk("C", B, C)]));
  const [i8] = s8.getLoops(s8.getSBlock("B"));
  assert.throws(() => s8.reverseComputeAt(s8.getSBlock("C"), i8!), {
    message:
      'Cannot reverseComputeAt block "C" under loop "i": its consumer "D" comes before the loop',
  });

  // a producer and a consumer of B in the same statement under the loop
  const P = declBuffer([8, 8], f32, "P");
  const [i, j] = [primVar("i"), primVar("j")];
  const fusedPC = nest(
    [[i, 8], [j, 8]],
    seq(cell("P", A, P, plusOne, [i, j]), cell("C", B, C, plusOne, [i, j])),
  );
  const s3 = new Schedule(rootFunc([A, C], [P, B], [fusedPC, mk("B", P, B)]));
  const [i3] = s3.getLoops(s3.getSBlock("C"));
  assert.throws(() => s3.computeAt(s3.getSBlock("B"), i3!), {
    message: 'Cannot computeAt block "B" under loop "i": ' +
      "no place under the loop follows its producers and precedes its consumers",
  });

  // a loop in another block scope
  const inner = sblockRealize([], sblock("P", mk("C", B, C)));
  const s4 = new Schedule(rootFunc([A, C], [B], [mk("B", A, B), inner]));
  const [i4] = s4.getLoops(s4.getSBlock("C"));
  assert.throws(() => s4.computeAt(s4.getSBlock("B"), i4!), {
    message: 'Cannot computeAt block "B" under loop "i": they are not in the same block scope',
  });

  // reverseComputeAt inside the producer's reduction
  const M = declBuffer([16, 16], f32, "M"), O = declBuffer([16, 16], f32, "O");
  const MA = declBuffer([16, 16], f32, "A"), MB = declBuffer([16, 16], f32, "B");
  const [mi, mj, mk2] = [primVar("i"), primVar("j"), primVar("k")];
  const [oi, oj] = [primVar("i"), primVar("j")];
  const s5 = new Schedule(rootFunc([MA, MB, O], [M], [
    nest([[mi, 16], [mj, 16], [mk2, 16]], matmulBlock("M", [MA, MB, M], [mi, mj, mk2])),
    nest([[oi, 16], [oj, 16]], cell("O", M, O, plusOne, [oi, oj], [16, 16])),
  ]));
  const [, , k5] = s5.getLoops(s5.getSBlock("M"));
  assert.throws(() => s5.reverseComputeAt(s5.getSBlock("O"), k5!), {
    message: 'Cannot reverseComputeAt block "O" under loop "k": the loop is inside the reduction ' +
      'of its producer "M"',
  });

  // an access the domain cannot be inferred from
  const W = declBuffer([8, 17], f32, "W");
  const [wi, wj, wvi, wvj] = [primVar("i"), primVar("j"), primVar("vi"), primVar("vj")];
  const odd = nest(
    [[wi, 8], [wj, 8]],
    block("W", {
      iters: [[wvi, 8, "spatial", wi], [wvj, 8, "spatial", wj]],
      reads: [reg(A, wvi, wvj)],
      writes: [reg(W, wvi, wvj.mul(2).add(1))],
      body: bufferStore(W, bufferLoad(A, [wvi, wvj]), [wvi, wvj.mul(2).add(1)]),
    }),
  );
  const [ri, rj, rvi, rvj] = [primVar("i"), primVar("j"), primVar("vi"), primVar("vj")];
  const reader = nest(
    [[ri, 8], [rj, 8]],
    block("R", {
      iters: [[rvi, 8, "spatial", ri], [rvj, 8, "spatial", rj]],
      reads: [reg(W, rvi, rvj.mul(2).add(1))],
      writes: [reg(C, rvi, rvj)],
      body: bufferStore(C, bufferLoad(W, [rvi, rvj.mul(2).add(1)]), [rvi, rvj]),
    }),
  );
  const s6 = new Schedule(rootFunc([A, C], [W], [odd, reader]));
  const [r6] = s6.getLoops(s6.getSBlock("R"));
  assert.throws(() => s6.computeAt(s6.getSBlock("W"), r6!), {
    message: 'Cannot computeAt block "W" under loop "i": ' +
      'cannot infer its iteration domain from its access to "W" in dimension 1',
  });
});

/** `out[vi, vj] = in[at(vi), vj]` (plus `in[at2(vi), vj]`) over `rows` x 8, as a loop nest. */
function rowStage(
  name: string,
  inp: Buffer,
  out: Buffer,
  rows: number,
  at: (vi: Var) => PrimExpr,
  write: (vi: Var) => PrimExpr = (vi) => vi,
  at2?: (vi: Var) => PrimExpr,
): Stmt {
  const [i, j, vi, vj] = ["i", "j", "vi", "vj"].map((n) => primVar(n)) as Var[];
  const value = at2
    ? bufferLoad(inp, [at(vi!), vj!]).add(bufferLoad(inp, [at2(vi!), vj!]))
    : bufferLoad(inp, [at(vi!), vj!]).mul(2);
  return nest(
    [[i!, rows], [j!, 8]],
    block(name, {
      iters: [[vi!, rows, "spatial", i!], [vj!, 8, "spatial", j!]],
      reads: [reg(inp, at(vi!), vj!), ...(at2 ? [reg(inp, at2(vi!), vj!)] : [])],
      writes: [reg(out, write(vi!), vj!)],
      body: bufferStore(out, value, [write(vi!), vj!]),
    }),
  );
}

Deno.test("computeAt() solves a strided write for the rows its consumer reads", () => {
  // P writes the even rows of an 8 x 8 buffer; C reads them back.
  const { A } = bufs();
  const P = declBuffer([8, 8], f32, "P"), C4 = declBuffer([4, 8], f32, "C");
  const before = rootFunc([A, C4], [P], [
    rowStage("P", A, P, 4, (vi) => vi.mul(2), (vi) => vi.mul(2)),
    rowStage("C", P, C4, 4, (vi) => vi.mul(2)),
  ]);
  const sch = new Schedule(before);
  const [i] = sch.getLoops(sch.getSBlock("C"));
  sch.computeAt(sch.getSBlock("P"), i!);
  const r = sch.getSBlockRealize(sch.getSBlock("P"));
  assertStructuralEqual(r.iterValues[0]!, sch.get(i!).loopVar);
  assertSameResults(before, sch.func, { outputs: [1] });
});

Deno.test("reverseComputeAt() rejects consumers that read beyond what an iteration produced", () => {
  const { A, B } = bufs();
  const C4 = declBuffer([4, 8], f32, "C"), C7 = declBuffer([7, 8], f32, "C");
  const strided = new Schedule(rootFunc([A, C4], [B], [
    rowStage("B", A, B, 8, (vi) => vi),
    rowStage("C", B, C4, 4, (vi) => vi.mul(2)),
  ]));
  const [i] = strided.getLoops(strided.getSBlock("B"));
  assert.throws(() => strided.reverseComputeAt(strided.getSBlock("C"), i!), {
    message: 'Cannot reverseComputeAt block "C" under loop "i": ' +
      'cannot infer its iteration domain from its access to "B" in dimension 0',
  });
  const stencil = new Schedule(rootFunc([A, C7], [B], [
    rowStage("B", A, B, 8, (vi) => vi),
    rowStage("C", B, C7, 7, (vi) => vi, (vi) => vi, (vi) => vi.add(1)),
  ]));
  const [i2] = stencil.getLoops(stencil.getSBlock("B"));
  assert.throws(() => stencil.reverseComputeAt(stencil.getSBlock("C"), i2!), {
    message: 'Cannot reverseComputeAt block "C" under loop "i": ' +
      'its reads of "B" need different domains of "vi"',
  });
});

Deno.test("random computeAt/reverseComputeAt on a 3-stage pipeline keep the results", () => {
  let seed = 7;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return Math.floor((seed / 2147483648) * n);
  };
  let applied = 0, rejected = 0;
  for (let trial = 0; trial < 25; trial++) {
    const { A, B, C } = bufs();
    const D = declBuffer([8, 8], f32, "D");
    const mk = (name: string, inp: Buffer, out: Buffer, f: (x: PrimExpr) => PrimExpr) => {
      const l = loops(["i", 8], ["j", 8]);
      return nest(l, cell(name, inp, out, f, [l[0]![0], l[1]![0]]));
    };
    const before = rootFunc([A, D], [B, C], [
      mk("B", A, B, double),
      mk("C", B, C, plusOne),
      mk("D", C, D, double),
    ]);
    const sch = new Schedule(before);
    for (const name of ["B", "C", "D"]) {
      const [i] = sch.getLoops(sch.getSBlock(name));
      if (rand(2)) sch.split(i!, [undefined, 1 + rand(4)]);
    }
    for (let step = 0; step < 3; step++) {
      const names = ["B", "C", "D"];
      const who = names[rand(3)]!, at = names[rand(3)]!;
      const target = sch.getLoops(sch.getSBlock(at));
      const loop = target[rand(target.length)]!;
      const prev = sch.func;
      try {
        if (rand(2)) sch.computeAt(sch.getSBlock(who), loop);
        else sch.reverseComputeAt(sch.getSBlock(who), loop);
        applied++;
      } catch (e) {
        assert.ok(e instanceof Error && e.message.startsWith("Cannot"), String(e));
        assert.equal(sch.func, prev);
        rejected++;
      }
      assertSameResults(before, sch.func, { outputs: [1] });
    }
  }
  assert.ok(applied > 10 && rejected > 10, `applied ${applied}, rejected ${rejected}`);
});
