import assert from "node:assert/strict";
import { bufferLoad, callIntrin, declBuffer, floatImm, primVar, range } from "../../../ir/expr.ts";
import { primFunc } from "../../../ir/tir/prim_func.ts";
import {
  allocBuffer,
  assertStmt,
  bufferRegion,
  bufferStore,
  declBufferStmt,
  evaluate,
  forLoop,
  ifThenElse,
  iterVar,
  letStmt,
  matchBufferRegion,
  sblock,
  sblockRealize,
  seq,
  whileLoop,
} from "../../../ir/tir/stmt.ts";
import { printTVMScript } from "../../../script/printer.ts";
import { text } from "./_text.ts";

const i = primVar("i"), j = primVar("j"), k = primVar("k");

Deno.test("printTVMScript() prints nested plain loops as T.grid and other kinds by name", () => {
  const A = declBuffer([8, 8], "float32", "A");
  const grid = forLoop(
    i,
    { min: 0, extent: 8 },
    forLoop(j, { min: 0, extent: 8 }, bufferStore(A, 0, [i, j])),
  );
  const kinds = seq(
    forLoop(i, { min: 2, extent: 6 }, bufferStore(A, 1, [i, 0]), { forKind: "parallel" }),
    forLoop(j, { min: 0, extent: 8 }, bufferStore(A, 2, [0, j]), { forKind: "vectorized" }),
    forLoop(k, { min: 0, extent: 4 }, evaluate(k), { forKind: "unrolled", annotations: { u: 1 } }),
    forLoop(k, { min: 0, extent: 4 }, evaluate(k), { annotations: { pragma: "x" } }),
    forLoop(k, { min: 1, extent: 4 }, evaluate(k)),
  );
  assert.equal(
    printTVMScript(primFunc([A], seq(grid, kinds))),
    text(`
      # from tvm.script import tir as T

      @T.prim_func
      def main(A: T.Buffer((8, 8), "float32")):
          for i, j in T.grid(8, 8):
              A[i, j] = T.float32(0.0)
          for i in T.parallel(2, 8):
              A[i, 0] = T.float32(1.0)
          for j in T.vectorized(8):
              A[0, j] = T.float32(2.0)
          for k in T.unroll(4, annotations={"u": 1}):
              T.evaluate(k)
          for k in T.serial(4, annotations={"pragma": "x"}):
              T.evaluate(k)
          for k in range(1, 5):
              T.evaluate(k)
    `),
  );
});

Deno.test("printTVMScript() stops a T.grid at a loop whose extent uses an outer loop variable", () => {
  const A = declBuffer([8, 8], "float32", "A");
  const tri = forLoop(
    i,
    { min: 0, extent: 8 },
    forLoop(j, { min: 0, extent: i.add(1) }, bufferStore(A, 0, [i, j])),
  );
  assert.equal(
    printTVMScript(primFunc([A], tri)),
    text(`
      # from tvm.script import tir as T

      @T.prim_func
      def main(A: T.Buffer((8, 8), "float32")):
          for i in range(8):
              for j in range(i + 1):
                  A[i, j] = T.float32(0.0)
    `),
  );
});

Deno.test("printTVMScript() prints thread-bound loops with their thread axis", () => {
  const A = declBuffer([1024], "float32", "A");
  const bx = primVar("bx"), tx = primVar("tx");
  const body = forLoop(
    bx,
    { min: 0, extent: 8 },
    forLoop(tx, { min: 0, extent: 128 }, bufferStore(A, 0, [bx.mul(128).add(tx)]), {
      threadTag: "threadIdx.x",
    }),
    { threadTag: "blockIdx.x" },
  );
  assert.equal(
    printTVMScript(primFunc([A], body)),
    text(`
      # from tvm.script import tir as T

      @T.prim_func
      def main(A: T.Buffer((1024,), "float32")):
          for bx in T.thread_binding(8, thread="blockIdx.x"):
              for tx in T.thread_binding(128, thread="threadIdx.x"):
                  A[bx * 128 + tx] = T.float32(0.0)
    `),
  );
});

Deno.test("printTVMScript() prints a reduction block with init, remapped axes and regions", () => {
  const A = declBuffer([64, 64], "float32", "A");
  const B = declBuffer([64], "float32", "B");
  const v0 = primVar("v0"), v1 = primVar("v1"), v2 = primVar("v2");
  const tmp = declBuffer([1], "float32", "tmp", { scope: "local" });
  const sub = declBuffer([8], "float32", "sub");
  const blk = sblock("B", bufferStore(B, bufferLoad(B, [v0]).add(bufferLoad(A, [v0, v1])), [v0]), {
    iterVars: [iterVar(v0, 64), iterVar(v1, 64, "reduce"), iterVar(v2, range(2, 6), "opaque")],
    reads: [bufferRegion(A, [range(v0, 1), range(v1, 1)])],
    writes: [bufferRegion(B, [range(v0, 1)])],
    allocBuffers: [tmp],
    matchBuffers: [matchBufferRegion(sub, bufferRegion(A, [range(v0, 1), range(0, 8)]))],
    annotations: { note: "x", "meta_schedule.unroll": 16 },
    init: seq(bufferStore(B, floatImm(0), [v0]), bufferStore(tmp, floatImm(0), [0])),
  });
  const loops = forLoop(
    i,
    { min: 0, extent: 64 },
    forLoop(j, { min: 0, extent: 64 }, sblockRealize([i, j, i.add(2)], blk, i.lt(60))),
  );
  assert.equal(
    printTVMScript(primFunc([A, B], sblockRealize([], sblock("root", loops)))),
    text(`
      # from tvm.script import tir as T

      @T.prim_func
      def main(A: T.Buffer((64, 64), "float32"), B: T.Buffer((64,), "float32")):
          # with T.sblock("root"):
          for i, j in T.grid(64, 64):
              with T.sblock("B"):
                  v0, v1 = T.axis.remap("SR", [i, j])
                  v2 = T.axis.opaque((2, 8), i + 2)
                  T.where(i < 60)
                  T.reads(A[v0, v1])
                  T.writes(B[v0])
                  T.sblock_attr({"meta_schedule.unroll": 16, "note": "x"})
                  tmp = T.sblock_alloc_buffer((1,), scope="local")
                  sub = T.match_buffer(A[v0, 0:8], (8,))
                  with T.init():
                      B[v0] = T.float32(0.0)
                      tmp[0] = T.float32(0.0)
                  B[v0] = B[v0] + A[v0, v1]
    `),
  );
});

Deno.test("printTVMScript() remaps only iteration variables bound to matching loops", () => {
  const A = declBuffer([16, 16], "float32", "A");
  const vi = primVar("vi"), vj = primVar("vj"), vk = primVar("vk");
  const blk = sblock("s", bufferStore(A, 0, [vi, vj]), {
    iterVars: [iterVar(vi, 16), iterVar(vj, 8), iterVar(vk, 16, "reduce")],
    writes: [bufferRegion(A, [range(vi, 1), range(vj, 1)])],
  });
  const loops = forLoop(
    i,
    { min: 0, extent: 16 },
    forLoop(
      j,
      { min: 0, extent: 16 },
      forLoop(k, { min: 0, extent: 16 }, sblockRealize([i, j.floordiv(2), k], blk)),
    ),
  );
  assert.equal(
    printTVMScript(primFunc([A], sblockRealize([], sblock("root", loops)))),
    text(`
      # from tvm.script import tir as T

      @T.prim_func
      def main(A: T.Buffer((16, 16), "float32")):
          # with T.sblock("root"):
          for i, j, k in T.grid(16, 16, 16):
              with T.sblock("s"):
                  vi = T.axis.spatial(16, i)
                  vj = T.axis.spatial(8, j // 2)
                  vk = T.axis.reduce(16, k)
                  T.reads()
                  T.writes(A[vi, vj])
                  A[vi, vj] = T.float32(0.0)
    `),
  );
});

Deno.test("printTVMScript() splices the last scoped statement and scopes the others with `with`", () => {
  const B = declBuffer([16], "int32", "B");
  const x = primVar("x"), y = primVar("y");
  const body = seq(
    letStmt(y, i.mul(2), bufferStore(B, y, [0])),
    bufferStore(B, 1, [1]),
    letStmt(x, i.add(1), bufferStore(B, x, [x])),
  );
  assert.equal(
    printTVMScript(primFunc([B, i], body)),
    text(`
      # from tvm.script import tir as T

      @T.prim_func
      def main(B: T.Buffer((16,), "int32"), i: T.int32):
          with T.LetStmt(i * 2) as y:
              B[0] = y
          B[1] = 1
          x: T.int32 = i + 1
          B[x] = x
    `),
  );
});

Deno.test("printTVMScript() prints allocations, buffer views and assertions", () => {
  const sh = declBuffer([16], "float32", "sh", { scope: "shared" });
  const loc = declBuffer([4], "float16", "loc", { scope: "local" });
  const view = declBuffer([4, 4], "float32", "view", { data: sh.data });
  const body = seq(
    allocBuffer(loc, bufferStore(loc, floatImm(0, "float16"), [0])),
    allocBuffer(
      sh,
      declBufferStmt(
        view,
        seq(bufferStore(view, floatImm(1), [0, 1]), assertStmt(i.lt(4), "i too big", evaluate(0))),
      ),
    ),
  );
  assert.equal(
    printTVMScript(primFunc([i], body)),
    text(`
      # from tvm.script import tir as T

      @T.prim_func
      def main(i: T.int32):
          with T.alloc_buffer((4,), "float16", scope="local") as loc:
              loc[0] = T.float16(0.0)
          sh = T.alloc_buffer((16,), scope="shared")
          view = T.decl_buffer((4, 4), data=sh.data)
          view[0, 1] = T.float32(1.0)
          assert i < 4, "i too big"
          T.evaluate(0)
    `),
  );
});

Deno.test("printTVMScript() prints a lone statement after declaring its free variables", () => {
  const n = primVar("n");
  const A = declBuffer([n], "float32", "A");
  assert.equal(
    printTVMScript(forLoop(i, { min: 0, extent: n }, bufferStore(A, floatImm(0), [i]))),
    text(`
      n = T.int32()
      for i in range(n):
          A = T.Buffer((n,))
          A[i] = T.float32(0.0)
    `),
  );
  const w = whileLoop(
    i.lt(10),
    ifThenElse(i.eq(0), evaluate(callIntrin("tir.exp", [floatImm(1)])), evaluate(i)),
  );
  assert.equal(
    printTVMScript(w),
    text(`
      i = T.int32()
      while i < 10:
          if i == 0:
              T.exp(T.float32(1.0))
          else:
              T.evaluate(i)
    `),
  );
  const x = primVar("x");
  assert.equal(
    printTVMScript(seq(assertStmt(i.gt(0), "bad", evaluate(0)), letStmt(x, 5, evaluate(x)))),
    text(`
      i = T.int32()
      with T.Assert(i > 0, "bad"):
          T.evaluate(0)
      x: T.int32 = 5
      T.evaluate(x)
    `),
  );
});

Deno.test("printTVMScript() prints a block without its realize", () => {
  const A = declBuffer([4], "float32", "A");
  const vi = primVar("vi");
  const blk = sblock("b", bufferStore(A, 0, [vi]), {
    iterVars: [iterVar(vi, 4)],
    writes: [bufferRegion(A, [range(vi, 1)])],
  });
  assert.equal(
    printTVMScript(blk),
    text(`
      with T.sblock("b", no_realize=True):
          vi = T.axis.spatial(4)
          T.reads()
          A = T.Buffer((4,))
          T.writes(A[vi])
          A[vi] = T.float32(0.0)
    `),
  );
});
