// Every remaining error message of the schedule primitives, one bad input each.
import assert from "node:assert/strict";
import { bufferLoad, declBuffer, floatImm, primVar, type Var } from "../../../ir/expr.ts";
import type { PrimFunc } from "../../../ir/tir/prim_func.ts";
import { bufferStore, forLoop, ifThenElse, seq, type Stmt } from "../../../ir/tir/stmt.ts";
import { Schedule } from "../../../transform/schedule/schedule.ts";
import { block, nest, reg, rootFunc } from "./_build.ts";
import { matmul, twoStage } from "./_fixtures.ts";

const f32 = "float32";
const A = declBuffer([4, 4], f32, "A");
const B = declBuffer([4, 4], f32, "B");
const C = declBuffer([4, 4], f32, "C");
const D = declBuffer([4, 4], f32, "D");

/** `out[vi, vj] = value(vi, vj)` over 4 x 4 with fresh loops. */
function stage(
  name: string,
  out: typeof A,
  value: (vi: Var, vj: Var) => Parameters<typeof bufferStore>[1],
): Stmt {
  const i = primVar("i"), j = primVar("j"), vi = primVar("vi"), vj = primVar("vj");
  return nest(
    [[i, 4], [j, 4]],
    block(name, {
      iters: [[vi, 4, "spatial", i], [vj, 4, "spatial", j]],
      reads: [],
      writes: [reg(out, vi, vj)],
      body: bufferStore(out, value(vi, vj), [vi, vj]),
    }),
  );
}

/** A function of one 1-D block `S` under the given loop statement maker. */
function oneLoop(loop: (body: Stmt) => Stmt, kind: "spatial" | "opaque" = "spatial"): PrimFunc {
  const vi = primVar("vi");
  const i = primVar("i");
  const s = block("S", {
    iters: [[vi, 8, kind, i]],
    reads: [],
    writes: [reg(A, 0, 0)],
    body: bufferStore(A, 1, [0, 0]),
  });
  return rootFunc([A], [], [loop(forLoop(i, { min: 0, extent: 8 }, s))]);
}

function expectError(what: string, fn: () => void, message: string): void {
  assert.throws(fn, { message }, what);
}

Deno.test("split() errors", () => {
  const sch = new Schedule(matmul());
  const [i, j] = sch.getLoops(sch.getSBlock("C"));
  expectError(
    "float factor",
    () => sch.split(j!, [undefined, floatImm(2)]),
    'Cannot split loop "j" of block "C": factor of dtype float32 is not an integer',
  );
  sch.bind(i!, "blockIdx.x");
  expectError(
    "bound",
    () => sch.split(i!, [undefined, 2]),
    'Cannot split loop "i" of block "C": it is bound to blockIdx.x',
  );
});

Deno.test("fuse() errors", () => {
  const sch = new Schedule(matmul());
  expectError("no loops", () => sch.fuse(), "Cannot fuse: expected at least one loop");
  const i = primVar("i"),
    j = primVar("j", "int64"),
    vi = primVar("vi"),
    vj = primVar("vj", "int64");
  const mixed = rootFunc([A], [], [
    nest(
      [[i, 4], [j, 4]],
      block("S", {
        iters: [[vi, 4, "spatial", i], [vj, 4, "spatial", j]],
        reads: [],
        writes: [reg(A, vi, 0)],
        body: bufferStore(A, 1, [vi, 0]),
      }),
    ),
  ]);
  const s2 = new Schedule(mixed);
  const [li, lj] = s2.getLoops(s2.getSBlock("S"));
  expectError(
    "dtypes",
    () => s2.fuse(li!, lj!),
    'Cannot fuse loops "i", "j": their variables have different dtypes',
  );
  const t = primVar("t"), u = primVar("u"), vt = primVar("vt");
  const tri = rootFunc([A], [], [
    forLoop(
      t,
      { min: 0, extent: 4 },
      forLoop(
        u,
        { min: 0, extent: t.add(1) },
        block("S", {
          iters: [[vt, 4, "spatial", t]],
          reads: [],
          writes: [reg(A, vt, 0)],
          body: bufferStore(A, 1, [vt, 0]),
        }),
      ),
    ),
  ]);
  const s3 = new Schedule(tri);
  const [lt, lu] = s3.getLoops(s3.getSBlock("S"));
  expectError(
    "triangular",
    () => s3.fuse(lt!, lu!),
    'Cannot fuse loops "t", "u": the range of "u" depends on "t"',
  );
  expectError(
    "triangular",
    () => s3.reorder(lu!, lt!),
    'Cannot reorder loops "u", "t": the range of "u" depends on "t"',
  );
});

Deno.test("reorder() error: a non-loop between the loops", () => {
  const i = primVar("i"), j = primVar("j"), vi = primVar("vi");
  const func = rootFunc([A], [], [
    forLoop(
      i,
      { min: 0, extent: 4 },
      ifThenElse(
        i.lt(2),
        forLoop(
          j,
          { min: 0, extent: 4 },
          block("S", {
            iters: [[vi, 4, "spatial", i]],
            reads: [],
            writes: [reg(A, vi, 0)],
            body: bufferStore(A, 1, [vi, 0]),
          }),
        ),
      ),
    ),
  ]);
  const sch = new Schedule(func);
  const [li, lj] = sch.getLoops(sch.getSBlock("S"));
  expectError(
    "if",
    () => sch.reorder(lj!, li!),
    'Cannot reorder loops "j", "i": a IfThenElse separates them',
  );
});

Deno.test("bind() errors: loop start and opaque iteration variables", () => {
  const vi = primVar("vi"), i = primVar("i");
  const shifted = rootFunc([A], [], [
    forLoop(
      i,
      { min: 2, extent: 2 },
      block("S", {
        iters: [[vi, 4, "spatial", i]],
        reads: [],
        writes: [reg(A, vi, 0)],
        body: bufferStore(A, 1, [vi, 0]),
      }),
    ),
  ]);
  const s1 = new Schedule(shifted);
  const [l] = s1.getLoops(s1.getSBlock("S"));
  expectError(
    "min",
    () => s1.bind(l!, "threadIdx.x"),
    'Cannot bind loop "i" of block "S" to threadIdx.x: it does not start at 0',
  );
  const s2 = new Schedule(oneLoop((x) => x, "opaque"));
  const [l2] = s2.getLoops(s2.getSBlock("S"));
  expectError(
    "opaque",
    () => s2.bind(l2!, "blockIdx.x"),
    'Cannot bind loop "i" of block "S" to blockIdx.x: it carries opaque iter var "vi"',
  );
  expectError(
    "unit loop",
    () => s2.addUnitLoop({ kind: "BlockRV", name: "X" }),
    'Block "X" is not in the function',
  );
});

Deno.test("computeInline() errors", () => {
  const s1 = new Schedule(oneLoop((x) => x, "opaque"));
  expectError(
    "opaque iter",
    () => s1.computeInline(s1.getSBlock("S")),
    'Cannot inline block "S": it has opaque iter var "vi"',
  );
  const i = primVar("i"), k = primVar("k"), vi = primVar("vi"), vk = primVar("vk");
  const E = declBuffer([4], f32, "E");
  const stray = rootFunc([A, C], [E], [
    nest(
      [[i, 4], [k, 4]],
      block("E", {
        iters: [[vi, 4, "spatial", i], [vk, 4, "spatial", k]],
        reads: [reg(A, vi, vk)],
        writes: [reg(E, vi)],
        body: bufferStore(E, bufferLoad(A, [vi, vk]), [vi]),
      }),
    ),
    stage("C", C, (vi) => bufferLoad(E, [vi])),
  ]);
  const s2 = new Schedule(stray);
  expectError(
    "stray",
    () => s2.computeInline(s2.getSBlock("E")),
    'Cannot inline block "E": its value uses iter var "vk", which does not index the store',
  );
  const self = rootFunc([A, C], [B], [
    stage("B", B, (vi, vj) => bufferLoad(B, [vi, vj]).add(1)),
    stage("C", C, (vi, vj) => bufferLoad(B, [vi, vj])),
  ]);
  const s3 = new Schedule(self);
  expectError(
    "self",
    () => s3.computeInline(s3.getSBlock("B")),
    'Cannot inline block "B": its value reads the buffer it writes',
  );
  const twice = rootFunc([A, C], [B], [
    stage("B", B, (vi, vj) => bufferLoad(A, [vi, vj])),
    stage("B2", B, () => floatImm(0)),
    stage("C", C, (vi, vj) => bufferLoad(B, [vi, vj])),
  ]);
  const s4 = new Schedule(twice);
  expectError(
    "two writers",
    () => s4.computeInline(s4.getSBlock("B")),
    'Cannot inline block "B": buffer "B" is also written by block "B2"',
  );
  const overwritten = rootFunc([A, C], [B], [
    stage("B", B, (vi, vj) => bufferLoad(A, [vi, vj])),
    stage("Z", A, () => floatImm(0)),
    stage("C", C, (vi, vj) => bufferLoad(B, [vi, vj])),
  ]);
  const s5 = new Schedule(overwritten);
  expectError(
    "input overwritten",
    () => s5.computeInline(s5.getSBlock("B")),
    'Cannot inline block "B": buffer "A" that it reads is written later by block "Z"',
  );
});

Deno.test("reverseComputeInline() errors on the consumer", () => {
  const two = new Schedule(twoStage(4, 4));
  expectError(
    "root",
    () => two.reverseComputeInline(two.getSBlock("root")),
    'Cannot reverse-inline block "root": it is the root block',
  );
  const i = primVar("i"), j = primVar("j"), vi = primVar("vi"), vj = primVar("vj");
  const pred = rootFunc([A, C], [B], [
    stage("B", B, (vi, vj) => bufferLoad(A, [vi, vj])),
    nest(
      [[i, 4], [j, 4]],
      block("C", {
        iters: [[vi, 4, "spatial", i], [vj, 4, "spatial", j]],
        reads: [reg(B, vi, vj)],
        writes: [reg(C, vi, vj)],
        body: bufferStore(C, bufferLoad(B, [vi, vj]), [vi, vj]),
        predicate: i.lt(3),
      }),
    ),
  ]);
  const s1 = new Schedule(pred);
  expectError(
    "predicate",
    () => s1.reverseComputeInline(s1.getSBlock("C")),
    'Cannot reverse-inline block "C": it has a predicate',
  );
  const writesOwn = rootFunc([A, C], [B], [
    stage("B", B, (vi, vj) => bufferLoad(A, [vi, vj])),
    stage("C", B, (vi, vj) => bufferLoad(B, [vi, vj]).add(1)),
    stage("D", C, (vi, vj) => bufferLoad(A, [vi, vj])),
  ]);
  const s2 = new Schedule(writesOwn);
  expectError(
    "same buffer",
    () => s2.reverseComputeInline(s2.getSBlock("C")),
    'Cannot reverse-inline block "C": it writes the buffer it reads',
  );
  const i2 = primVar("i"), j2 = primVar("j"), wi = primVar("wi"), wj = primVar("wj");
  const smaller = rootFunc([A, C], [B], [
    stage("B", B, (vi, vj) => bufferLoad(A, [vi, vj])),
    nest(
      [[i2, 2], [j2, 4]],
      block("C", {
        iters: [[wi, 2, "spatial", i2], [wj, 4, "spatial", j2]],
        reads: [reg(B, wi, wj)],
        writes: [reg(C, wi, wj)],
        body: bufferStore(C, bufferLoad(B, [wi, wj]), [wi, wj]),
      }),
    ),
  ]);
  const s3 = new Schedule(smaller);
  expectError(
    "domain",
    () => s3.reverseComputeInline(s3.getSBlock("C")),
    'Cannot reverse-inline block "C": its iteration domain differs from that of its producer "B"',
  );
  const between = rootFunc([A, C, D], [B], [
    stage("B", B, (vi, vj) => bufferLoad(A, [vi, vj])),
    stage("X", D, (vi, vj) => bufferLoad(C, [vi, vj])),
    stage("C", C, (vi, vj) => bufferLoad(B, [vi, vj])),
  ]);
  const s4 = new Schedule(between);
  expectError(
    "between",
    () => s4.reverseComputeInline(s4.getSBlock("C")),
    'Cannot reverse-inline block "C": block "X" between it and its producer accesses "C"',
  );
});

Deno.test("reverseComputeInline() errors on the producer", () => {
  const vi = primVar("vi"), i = primVar("i");
  const twoStores = rootFunc([A, C], [B], [
    nest(
      [[i, 4]],
      block("B", {
        iters: [[vi, 4, "spatial", i]],
        reads: [],
        writes: [reg(B, vi, [0, 2])],
        body: seq(bufferStore(B, 0, [vi, 0]), bufferStore(B, 1, [vi, 1])),
      }),
    ),
    stage("C", C, (vi, vj) => bufferLoad(B, [vi, vj])),
  ]);
  const s1 = new Schedule(twoStores);
  expectError(
    "seq",
    () => s1.reverseComputeInline(s1.getSBlock("C")),
    'Cannot reverse-inline block "C": its producer "B" is not a single buffer store',
  );
  const notVars = rootFunc([A, C], [B], [
    nest(
      [[i, 4]],
      block("B", {
        iters: [[vi, 4, "spatial", i]],
        reads: [],
        writes: [reg(B, vi, 0)],
        body: bufferStore(B, 0, [vi, 0]),
      }),
    ),
    stage("C", C, (vi, vj) => bufferLoad(B, [vi, vj])),
  ]);
  const s2 = new Schedule(notVars);
  expectError(
    "indices",
    () => s2.reverseComputeInline(s2.getSBlock("C")),
    'Cannot reverse-inline block "C": its producer "B" does not store at distinct iter vars',
  );
  const output = rootFunc([A, B, C], [], [
    stage("B", B, (vi, vj) => bufferLoad(A, [vi, vj])),
    stage("C", C, (vi, vj) => bufferLoad(B, [vi, vj])),
  ]);
  const s3 = new Schedule(output);
  expectError(
    "output",
    () => s3.reverseComputeInline(s3.getSBlock("C")),
    'Cannot reverse-inline block "C": its producer "B" writes output buffer "B"',
  );
  const j = primVar("j"), wj = primVar("wj");
  const opaque = rootFunc([A, C, D], [B], [
    stage("B", B, (vi, vj) => bufferLoad(A, [vi, vj])),
    stage("C", C, (vi, vj) => bufferLoad(B, [vi, vj])),
    nest(
      [[j, 4]],
      block("Z", {
        iters: [[wj, 4, "spatial", j]],
        reads: [],
        writes: [reg(D, wj, 0), reg(B, [0, 4], [0, 4])],
        body: bufferStore(D, 0, [wj, 0]),
      }),
    ),
  ]);
  const s4 = new Schedule(opaque);
  expectError(
    "opaque",
    () => s4.reverseComputeInline(s4.getSBlock("C")),
    'Cannot reverse-inline block "C": buffer "B" is accessed opaquely',
  );
});
