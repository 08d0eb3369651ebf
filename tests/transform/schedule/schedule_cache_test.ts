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
import { primFunc } from "../../../ir/tir/prim_func.ts";
import { bufferStore, type Stmt } from "../../../ir/tir/stmt.ts";
import { Schedule } from "../../../transform/schedule/schedule.ts";
import { block, nest, reg, rootFunc } from "./_build.ts";
import { matmul, twoStage } from "./_fixtures.ts";
import { assertSameResults } from "../../_tir_interp.ts";
import { assertReplays, copyStage, lastTraceLine, matmulBlock } from "./_stages.ts";

const f32 = "float32";

/** A spatial 8 x 8 stage `out[vi, vj] = f(in[vi, vj])`. */
function stage(name: string, inp: Buffer, out: Buffer, f: (x: PrimExpr) => PrimExpr): Stmt {
  const i = primVar("i"), j = primVar("j"), vi = primVar("vi"), vj = primVar("vj");
  return nest(
    [[i, 8], [j, 8]],
    block(name, {
      iters: [[vi, 8, "spatial", i], [vj, 8, "spatial", j]],
      reads: [reg(inp, vi, vj)],
      writes: [reg(out, vi, vj)],
      body: bufferStore(out, f(bufferLoad(inp, [vi, vj])), [vi, vj]),
    }),
  );
}

function grid(n = 16): [Var, number][] {
  return [[primVar("ax0"), n], [primVar("ax1"), n]];
}

function mm(): [Buffer, Buffer, Buffer] {
  return [
    declBuffer([16, 16], f32, "A"),
    declBuffer([16, 16], f32, "B"),
    declBuffer([16, 16], f32, "C"),
  ];
}

Deno.test("cacheRead() copies an input into a new buffer at the start of the scope", () => {
  const before = matmul();
  const sch = new Schedule(before);
  const c = sch.getSBlock("C");
  const s = sch.cacheRead(c, 0, "shared");
  assert.equal(s.name, "A_shared");
  const [A, B, C] = mm();
  const As = declBuffer([16, 16], f32, "A_shared", { scope: "shared" });
  const i = primVar("i"), j = primVar("j"), k = primVar("k");
  const expected = rootFunc([A, B, C], [As], [
    copyStage("A_shared", A, As, grid(), (v) => v),
    nest([[i, 16], [j, 16], [k, 16]], matmulBlock("C", [As, B, C], [i, j, k])),
  ]);
  assertStructuralEqual(sch.func, expected);
  assertSameResults(before, sch.func, { outputs: [2] });
  assert.equal(
    lastTraceLine(sch),
    'b1 = sch.cache_read(block=b0, read_buffer_index=0, storage_scope="shared")',
  );
  assertReplays(before, sch);
});

function threeStage(): { A: Buffer; B: Buffer; C: Buffer; D: Buffer; stmts: Stmt[] } {
  const A = declBuffer([8, 8], f32, "A"), B = declBuffer([8, 8], f32, "B");
  const C = declBuffer([8, 8], f32, "C"), D = declBuffer([8, 8], f32, "D");
  return {
    A,
    B,
    C,
    D,
    stmts: [
      stage("B", A, B, (x) => x.mul(2)),
      stage("C", B, C, (x) => x.add(1)),
      stage("D", B, D, (x) => x.mul(3)),
    ],
  };
}

Deno.test("cacheRead() of an intermediate follows its writer and serves every reader", () => {
  const { A, B, C, D, stmts } = threeStage();
  const before = rootFunc([A, C, D], [B], stmts);
  const sch = new Schedule(before);
  sch.cacheRead(sch.getSBlock("C"), 0, "local");
  const Bl = declBuffer([8, 8], f32, "B_local", { scope: "local" });
  const expected = rootFunc([A, C, D], [B, Bl], [
    stage("B", A, B, (x) => x.mul(2)),
    copyStage("B_local", B, Bl, grid(8), (v) => v),
    stage("C", Bl, C, (x) => x.add(1)),
    stage("D", Bl, D, (x) => x.mul(3)),
  ]);
  assertStructuralEqual(sch.func, expected);
  assertSameResults(before, sch.func, { outputs: [1, 2] });
  assertReplays(before, sch);
});

Deno.test("cacheRead() with consumerBlocks redirects only those readers", () => {
  const { A, B, C, D, stmts } = threeStage();
  const before = rootFunc([A, C, D], [B], stmts);
  const sch = new Schedule(before);
  const d = sch.getSBlock("D");
  sch.cacheRead(sch.getSBlock("C"), 0, "shared", { consumerBlocks: [d] });
  const Bs = declBuffer([8, 8], f32, "B_shared", { scope: "shared" });
  const expected = rootFunc([A, C, D], [B, Bs], [
    stage("B", A, B, (x) => x.mul(2)),
    copyStage("B_shared", B, Bs, grid(8), (v) => v),
    stage("C", B, C, (x) => x.add(1)),
    stage("D", Bs, D, (x) => x.mul(3)),
  ]);
  assertStructuralEqual(sch.func, expected);
  assertSameResults(before, sch.func, { outputs: [1, 2] });
  assert.equal(
    lastTraceLine(sch),
    'b2 = sch.cache_read(block=b1, read_buffer_index=0, storage_scope="shared", consumer_blocks=[b0])',
  );
  assertReplays(before, sch);
});

Deno.test("cacheWrite() lets the block write a new buffer and copies it back after", () => {
  const before = matmul();
  const sch = new Schedule(before);
  const s = sch.cacheWrite(sch.getSBlock("C"), 0, "local");
  assert.equal(s.name, "C_local");
  const [A, B, C] = mm();
  const Cl = declBuffer([16, 16], f32, "C_local", { scope: "local" });
  const i = primVar("i"), j = primVar("j"), k = primVar("k");
  const expected = rootFunc([A, B, C], [Cl], [
    nest([[i, 16], [j, 16], [k, 16]], matmulBlock("C", [A, B, Cl], [i, j, k])),
    copyStage("C_local", Cl, C, grid(), (v) => v),
  ]);
  assertStructuralEqual(sch.func, expected);
  assertSameResults(before, sch.func, { outputs: [2] });
  assert.equal(
    lastTraceLine(sch),
    'b1 = sch.cache_write(block=b0, write_buffer_index=0, storage_scope="local")',
  );
  assertReplays(before, sch);
});

Deno.test("cacheWrite() copies back only the region the block writes", () => {
  // B writes rows 2..5 of an 8 x 8 output.
  const A = declBuffer([8, 8], f32, "A"), B = declBuffer([8, 8], f32, "B");
  const i = primVar("i"), j = primVar("j"), vi = primVar("vi"), vj = primVar("vj");
  const body = (out: Buffer) =>
    nest(
      [[i, 4], [j, 8]],
      block("B", {
        iters: [[vi, 8, "spatial", i.add(2)], [vj, 8, "spatial", j]],
        reads: [reg(A, vi, vj)],
        writes: [reg(out, vi, vj)],
        body: bufferStore(out, bufferLoad(A, [vi, vj]).mul(2), [vi, vj]),
      }),
    );
  const before = rootFunc([A, B], [], [body(B)]);
  const sch = new Schedule(before);
  sch.cacheWrite(sch.getSBlock("B"), 0, "local");
  const Bl = declBuffer([8, 8], f32, "B_local", { scope: "local" });
  const expected = rootFunc([A, B], [Bl], [
    body(Bl),
    copyStage("B_local", Bl, B, [[primVar("ax0"), 4], [primVar("ax1"), 8]], ([a, b]) => [
      a!.add(2),
      b!,
    ]),
  ]);
  assertStructuralEqual(sch.func, expected);
  assertSameResults(before, sch.func);
});

Deno.test("setScope() moves an intermediate buffer to another scope", () => {
  const before = twoStage(8, 8);
  const sch = new Schedule(before);
  sch.setScope(sch.getSBlock("B"), 0, "shared");
  const A = declBuffer([8, 8], f32, "A"), C = declBuffer([8, 8], f32, "C");
  const B = declBuffer([8, 8], f32, "B", { scope: "shared" });
  const expected = rootFunc([A, C], [B], [
    stage("B", A, B, (x) => x.mul(2)),
    stage("C", B, C, (x) => x.add(1)),
  ]);
  assertStructuralEqual(sch.func, expected);
  assertSameResults(before, sch.func, { outputs: [1] });
  assert.equal(
    lastTraceLine(sch),
    'sch.set_scope(block=b0, buffer_index=0, storage_scope="shared")',
  );
  assertReplays(before, sch);
  const same = sch.func;
  sch.setScope(sch.getSBlock("B"), 0, "shared");
  assert.equal(sch.func, same, "setting the same scope changes nothing");
});

Deno.test("cacheRead()/cacheWrite()/setScope() errors", () => {
  const sch = new Schedule(matmul());
  const c = sch.getSBlock("C");
  assert.throws(() => sch.cacheRead(c, 2, "shared"), {
    message: 'Cannot cacheRead block "C": block "C" has 2 read regions, index 2 is out of range',
  });
  assert.throws(() => sch.cacheWrite(c, -1, "local"), {
    message: 'Cannot cacheWrite block "C": block "C" has 1 write region, index -1 is out of range',
  });
  assert.throws(() => sch.cacheRead(c, 0, "texture" as "shared"), {
    message: 'Cannot cacheRead buffer "A" of block "C": "texture" is not a storage scope ' +
      "(expected one of global, shared, shared.dyn, local)",
  });
  assert.throws(() => sch.setScope(c, 0, "shared"), {
    message: 'Cannot set the scope of buffer "C": it is a parameter of the function',
  });

  // a buffer written by two blocks
  const { A, B, C, D } = threeStage();
  const twoWriters = rootFunc([A, C, D], [B], [
    stage("B", A, B, (x) => x.mul(2)),
    stage("B2", A, B, (x) => x.mul(4)),
    stage("C", B, C, (x) => x.add(1)),
  ]);
  const s2 = new Schedule(twoWriters);
  assert.throws(() => s2.cacheRead(s2.getSBlock("C"), 0, "shared"), {
    message: 'Cannot cacheRead buffer "B" of block "C": it is written by 2 blocks ("B", "B2")',
  });
  assert.throws(() => s2.cacheWrite(s2.getSBlock("B"), 0, "local"), {
    message: 'Cannot cacheWrite buffer "B" of block "B": it is written by 2 blocks ("B", "B2")',
  });

  // consumers that do not read the buffer; a block that reads what it writes
  const s3 = new Schedule(rootFunc(
    [A, C, D],
    [B],
    threeStage().stmts.slice(0, 1).concat([
      stage("C", B, C, (x) => x.add(1)),
    ]),
  ));
  assert.throws(
    () => s3.cacheRead(s3.getSBlock("C"), 0, "shared", { consumerBlocks: [s3.getSBlock("B")] }),
    {
      message:
        'Cannot cacheRead buffer "B" of block "C": block "B" does not read it in the same scope',
    },
  );
  const vi = primVar("vi"), i = primVar("i");
  const inPlace = rootFunc([A], [], [
    nest(
      [[i, 8]],
      block("S", {
        iters: [[vi, 8, "spatial", i]],
        reads: [reg(A, vi, 0)],
        writes: [reg(A, vi, 0)],
        body: bufferStore(A, bufferLoad(A, [vi, 0]).add(1), [vi, 0]),
      }),
    ),
  ]);
  const s4 = new Schedule(inPlace);
  assert.throws(() => s4.cacheRead(s4.getSBlock("S"), 0, "local"), {
    message: 'Cannot cacheRead buffer "A" of block "S": the block also writes it',
  });

  // a function without a root block
  const noRoot = primFunc([A, C], stage("C", A, C, (x) => x.add(1)));
  const s5 = new Schedule(noRoot);
  assert.throws(() => s5.cacheRead(s5.getSBlock("C"), 0, "shared"), {
    message:
      'Cannot cacheRead buffer "A" of block "C": the block has no enclosing block to allocate the cache in',
  });
  assert.throws(() => s5.setScope(s5.getSBlock("C"), 1, "shared"), {
    message: 'Cannot setScope of block "C": block "C" has 1 write region, index 1 is out of range',
  });
});
