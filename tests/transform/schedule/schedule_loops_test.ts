import assert from "node:assert/strict";
import {
  bufferLoad,
  declBuffer,
  floordiv,
  floormod,
  type PrimExprLike,
  primVar,
  sizeVar,
} from "../../../ir/expr.ts";
import { assertStructuralEqual } from "../../../ir/structural.ts";
import type { PrimFunc } from "../../../ir/tir/prim_func.ts";
import { bufferStore, seq } from "../../../ir/tir/stmt.ts";
import { Schedule } from "../../../transform/schedule/schedule.ts";
import { block, type LoopSpec, nest, reg, rootFunc } from "./_build.ts";
import { elementwise, matmul } from "./_fixtures.ts";
import { assertSameResults } from "../../_tir_interp.ts";

/** The elementwise function with the given loops and iteration values. */
function elementwiseWith(
  m: PrimExprLike,
  n: PrimExprLike,
  loops: readonly LoopSpec[],
  values: readonly [PrimExprLike, PrimExprLike],
  predicate?: PrimExprLike,
): PrimFunc {
  const A = declBuffer([m, n], "float32", "A"), B = declBuffer([m, n], "float32", "B");
  const vi = primVar("vi"), vj = primVar("vj");
  const body = nest(
    loops,
    block("B", {
      iters: [[vi, m, "spatial", values[0]], [vj, n, "spatial", values[1]]],
      reads: [reg(A, vi, vj)],
      writes: [reg(B, vi, vj)],
      body: bufferStore(B, bufferLoad(A, [vi, vj]).mul(2), [vi, vj]),
      ...(predicate === undefined ? {} : { predicate }),
    }),
  );
  return rootFunc([A, B], [], [body]);
}

Deno.test("split() divides a loop and rewrites the block's iteration values", () => {
  const before = elementwise();
  const sch = new Schedule(before);
  const [i] = sch.getLoops(sch.getSBlock("B"));
  const outs = sch.split(i!, [undefined, 32]);
  assert.equal(outs.length, 2);
  const i0 = primVar("i_0"), i1 = primVar("i_1"), j = primVar("j");
  assertStructuralEqual(
    sch.func,
    elementwiseWith(128, 128, [[i0, 4], [i1, 32], [j, 128]], [i0.mul(32).add(i1), j]),
  );
  assertSameResults(before, sch.func, { outputs: [1] });
});

Deno.test("split() into three factors infers the missing one", () => {
  const before = elementwise();
  const sch = new Schedule(before);
  const [i] = sch.getLoops(sch.getSBlock("B"));
  sch.split(i!, [2, undefined, 16]);
  const a = primVar("a"), b = primVar("b"), c = primVar("c"), j = primVar("j");
  const expected = elementwiseWith(
    128,
    128,
    [[a, 2], [b, 4], [c, 16], [j, 128]],
    [a.mul(64).add(b.mul(16)).add(c), j],
  );
  assertStructuralEqual(sch.func, expected);
  assertSameResults(before, sch.func, { outputs: [1] });
});

Deno.test("split() of a non-divisible extent adds a predicate", () => {
  const before = elementwise(100, 8);
  const sch = new Schedule(before);
  const [i] = sch.getLoops(sch.getSBlock("B"));
  sch.split(i!, [undefined, 32]);
  const i0 = primVar("i_0"), i1 = primVar("i_1"), j = primVar("j");
  const fused = i0.mul(32).add(i1);
  assertStructuralEqual(
    sch.func,
    elementwiseWith(100, 8, [[i0, 4], [i1, 32], [j, 8]], [fused, j], fused.lt(100)),
  );
  assertSameResults(before, sch.func, { outputs: [1] });
});

Deno.test("split() with given factors whose product exceeds the extent adds a predicate", () => {
  const before = elementwise(100, 8);
  const sch = new Schedule(before);
  const [i] = sch.getLoops(sch.getSBlock("B"));
  sch.split(i!, [5, 21]);
  const i0 = primVar("i_0"), i1 = primVar("i_1"), j = primVar("j");
  const fused = i0.mul(21).add(i1);
  assertStructuralEqual(
    sch.func,
    elementwiseWith(100, 8, [[i0, 5], [i1, 21], [j, 8]], [fused, j], fused.lt(100)),
  );
  assertSameResults(before, sch.func, { outputs: [1] });
});

Deno.test("split() of a symbolic extent uses a ceiling division and a predicate", () => {
  const n = sizeVar("n");
  const before = elementwise(n, 4);
  const sch = new Schedule(before);
  const [i] = sch.getLoops(sch.getSBlock("B"));
  sch.split(i!, [undefined, 64]);
  const m = before.bufferMap.values().next().value!.shape[0]!;
  assert.equal(m, n);
  const i0 = primVar("i_0"), i1 = primVar("i_1"), j = primVar("j");
  const fused = i0.mul(64).add(i1);
  const expected = elementwiseWith(n, 4, [[i0, floordiv(n.add(63), 64)], [i1, 64], [j, 4]], [
    fused,
    j,
  ], fused.lt(n));
  assertStructuralEqual(sch.func, expected);
  assertSameResults(before, sch.func, { outputs: [1], sizes: { n: 70 } });
  assertSameResults(before, sch.func, { outputs: [1], sizes: { n: 128 } });
});

Deno.test("split() rejects factors that do not cover the extent, naming the loop and block", () => {
  const sch = new Schedule(elementwise());
  const [i] = sch.getLoops(sch.getSBlock("B"));
  assert.throws(() => sch.split(i!, [3, 5]), {
    message:
      'Cannot split loop "i" of block "B": factors [3, 5] multiply to 15, less than its extent 128',
  });
  assert.throws(() => sch.split(i!, [undefined, undefined]), {
    message: 'Cannot split loop "i" of block "B": at most one factor may be undefined, got 2',
  });
  assert.throws(() => sch.split(i!, [undefined, 0]), {
    message: 'Cannot split loop "i" of block "B": factor 0 is not a positive integer',
  });
  assert.throws(() => sch.split(i!, [128]), {
    message: 'Cannot split loop "i" of block "B": expected at least 2 factors, got 1',
  });
  assert.equal(sch.trace.records.length, 2, "failed primitives are not recorded");
  sch.split(i!, [undefined, 2]);
  assert.throws(() => sch.split(i!, [undefined, 2]), {
    message: 'Loop "i" is not in the function (it was replaced or removed)',
  });
});

Deno.test("fuse() merges two loops with floordiv/floormod iteration values", () => {
  const before = elementwise(16, 8);
  const sch = new Schedule(before);
  const [i, j] = sch.getLoops(sch.getSBlock("B"));
  sch.fuse(i!, j!);
  const f = primVar("i_j_fused");
  assertStructuralEqual(
    sch.func,
    elementwiseWith(16, 8, [[f, 128]], [floordiv(f, 8), floormod(f, 8)]),
  );
  assertSameResults(before, sch.func, { outputs: [1] });
});

Deno.test("fuse() of three loops, then split(), keeps results", () => {
  const A = declBuffer([2, 3, 4], "float32", "A"), B = declBuffer([2, 3, 4], "float32", "B");
  const mk = (loops: readonly LoopSpec[], vals: readonly PrimExprLike[]) => {
    const vs = [primVar("va"), primVar("vb"), primVar("vc")];
    return rootFunc([A, B], [], [
      nest(
        loops,
        block("B", {
          iters: vs.map((v, d) => [v, [2, 3, 4][d]!, "spatial", vals[d]!] as const),
          reads: [reg(A, ...vs)],
          writes: [reg(B, ...vs)],
          body: bufferStore(B, bufferLoad(A, vs).add(1), vs),
        }),
      ),
    ]);
  };
  const a = primVar("a"), b = primVar("b"), c = primVar("c");
  const before = mk([[a, 2], [b, 3], [c, 4]], [a, b, c]);
  const sch = new Schedule(before);
  const loops = sch.getLoops(sch.getSBlock("B"));
  sch.fuse(...loops);
  const f = primVar("f");
  assertStructuralEqual(
    sch.func,
    mk([[f, 24]], [floordiv(f, 12), floordiv(floormod(f, 12), 4), floormod(f, 4)]),
  );
  assertSameResults(before, sch.func, { outputs: [1] });
  const [fused] = sch.getLoops(sch.getSBlock("B"));
  sch.split(fused!, [undefined, 5]);
  assertSameResults(before, sch.func, { outputs: [1] });
});

Deno.test("fuse() rejects loops that are not perfectly nested or are bound", () => {
  const sch = new Schedule(matmul());
  const [i, j, k] = sch.getLoops(sch.getSBlock("C"));
  assert.throws(() => sch.fuse(i!, k!), {
    message: 'Cannot fuse loops "i", "k": "k" is not the only statement directly inside "i"',
  });
  assert.throws(() => sch.fuse(i!, i!), {
    message: 'Cannot fuse loops "i", "i": "i" is given twice',
  });
  sch.bind(i!, "blockIdx.x");
  assert.throws(() => sch.fuse(i!, j!), {
    message: 'Cannot fuse loop "i" of block "C": it is bound to blockIdx.x',
  });
});

Deno.test("reorder() permutes loops of a nest, leaving unnamed loops in place", () => {
  const before = matmul(4, 5, 6);
  const sch = new Schedule(before);
  const [i, j, k] = sch.getLoops(sch.getSBlock("C"));
  sch.reorder(k!, i!);
  const got = sch.getLoops(sch.getSBlock("C")).map((l) => l.var);
  assert.deepEqual(got, [k!.var, j!.var, i!.var]);
  assertSameResults(before, sch.func, { outputs: [2] });
  sch.reorder(j!, k!);
  assert.deepEqual(sch.getLoops(sch.getSBlock("C")).map((l) => l.var), [j!.var, k!.var, i!.var]);
  assertSameResults(before, sch.func, { outputs: [2] });
});

Deno.test("reorder() gives the expected structure", () => {
  const sch = new Schedule(elementwise(4, 8));
  const [i, j] = sch.getLoops(sch.getSBlock("B"));
  sch.reorder(j!, i!);
  const a = primVar("i"), b = primVar("j");
  assertStructuralEqual(sch.func, elementwiseWith(4, 8, [[b, 8], [a, 4]], [a, b]));
});

Deno.test("reorder() rejects loops of different nests and imperfect nests", () => {
  const A = declBuffer([4, 4], "float32", "A"), B = declBuffer([4, 4], "float32", "B");
  const C = declBuffer([4], "float32", "C");
  const i = primVar("i"), j = primVar("j"), j2 = primVar("j2");
  const vi = primVar("vi"), vj = primVar("vj"), wi = primVar("wi");
  const func = rootFunc([A, B, C], [], [
    nest(
      [[i, 4]],
      seq(
        nest(
          [[j, 4]],
          block("B", {
            iters: [[vi, 4, "spatial", i], [vj, 4, "spatial", j]],
            reads: [reg(A, vi, vj)],
            writes: [reg(B, vi, vj)],
            body: bufferStore(B, bufferLoad(A, [vi, vj]), [vi, vj]),
          }),
        ),
        nest(
          [[j2, 4]],
          block("C", {
            iters: [[wi, 4, "spatial", j2]],
            reads: [reg(A, wi, 0)],
            writes: [reg(C, wi)],
            body: bufferStore(C, bufferLoad(A, [wi, 0]), [wi]),
          }),
        ),
      ),
    ),
  ]);
  const sch = new Schedule(func);
  const [li, lj] = sch.getLoops(sch.getSBlock("B"));
  const [, lj2] = sch.getLoops(sch.getSBlock("C"));
  assert.throws(() => sch.reorder(lj!, lj2!), {
    message: 'Cannot reorder loops "j", "j2": "j" and "j2" are not in the same loop nest',
  });
  assert.throws(() => sch.reorder(lj!, li!), {
    message: 'Cannot reorder loops "j", "i": loop "i" has more than one statement in its body',
  });
  assert.throws(() => sch.reorder(lj!, lj!), {
    message: 'Cannot reorder loops "j", "j": "j" is given twice',
  });
});

Deno.test("bind() turns loops into thread bindings", () => {
  const before = elementwise(4, 8);
  const sch = new Schedule(before);
  const [i, j] = sch.getLoops(sch.getSBlock("B"));
  sch.bind(i!, "blockIdx.x");
  sch.bind(j!, "threadIdx.x");
  const a = primVar("i"), b = primVar("j");
  assertStructuralEqual(
    sch.func,
    elementwiseWith(4, 8, [[a, 4, "blockIdx.x"], [b, 8, "threadIdx.x"]], [a, b]),
  );
  assertSameResults(before, sch.func, { outputs: [1], reverseThreads: true });
});

Deno.test("bind() rejects reduction loops, bad thread axes and bound loops", () => {
  const sch = new Schedule(matmul());
  const [i, , k] = sch.getLoops(sch.getSBlock("C"));
  assert.throws(() => sch.bind(k!, "blockIdx.x"), {
    message: 'Cannot bind loop "k" of block "C" to blockIdx.x: it carries reduction iter var "vk"',
  });
  assert.throws(() => sch.bind(k!, "threadIdx.x"), {
    message:
      'Cannot bind loop "k" of block "C" to threadIdx.x: it carries reduction iter var "vk" ' +
      "(cross-thread reduction is not supported yet)",
  });
  // @ts-expect-error: not a thread axis
  assert.throws(() => sch.bind(i!, "warp.x"), {
    message: 'Cannot bind loop "i" to "warp.x": not a thread axis (e.g. "blockIdx.x")',
  });
  sch.bind(i!, "blockIdx.x");
  assert.throws(() => sch.bind(i!, "blockIdx.y"), {
    message: 'Cannot bind loop "i" of block "C" to blockIdx.y: it is already bound to blockIdx.x',
  });
});

Deno.test("addUnitLoop() wraps a block or a loop in a loop of extent 1", () => {
  const before = matmul(3, 3, 3);
  const sch = new Schedule(before);
  const blockRv = sch.getSBlock("C");
  const [i] = sch.getLoops(blockRv);
  const u = sch.addUnitLoop(i!);
  assert.equal(sch.getLoops(blockRv)[0]!.var, u.var);
  const u2 = sch.addUnitLoop(blockRv);
  assert.deepEqual(sch.getLoops(blockRv).map((l) => l.var).slice(-1), [u2.var]);
  assert.equal(sch.getLoops(blockRv).length, 5);
  assertSameResults(before, sch.func, { outputs: [2] });
  assert.throws(() => sch.addUnitLoop(sch.getSBlock("root")), {
    message: 'Cannot add a unit loop above the root block "root"',
  });
});
