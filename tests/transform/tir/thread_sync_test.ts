import assert from "node:assert/strict";
import { irModule } from "../../../ir/module.ts";
import { assertStructuralEqual } from "../../../ir/structural.ts";
import type { PrimFunc } from "../../../ir/tir/prim_func.ts";
import type { Stmt } from "../../../ir/tir/stmt.ts";
import { visitStmt } from "../../../ir/visit.ts";
import { parseTVMScript } from "../../../script/parser/mod.ts";
import { printTVMScript } from "../../../script/printer.ts";
import { Schedule } from "../../../transform/schedule/schedule.ts";
import { lowerTIRPipeline } from "../../../transform/tir/pipeline.ts";
import { threadSync, threadSyncPrimFunc } from "../../../transform/tir/thread_sync.ts";
import { matmul } from "../schedule/_fixtures.ts";

/** A module with one function `main(A, B)` over 64 floats, whose body is `body` (indented). */
function mod(
  body: string,
  params = `A: T.Buffer((64,), "float32"), B: T.Buffer((64,), "float32")`,
) {
  return parseTVMScript(`
# from tvm.script import tir as T

@T.prim_func
def main(${params}):
${body}`);
}

/** Checks `threadSync(before) == expected`, and that the result round-trips through TVMScript. */
function check(before: string, expected: string, params?: string): void {
  const got = threadSync(mod(before, params));
  assertStructuralEqual(got, mod(expected, params));
  assertStructuralEqual(parseTVMScript(printTVMScript(got)), got);
}

function barriers(s: Stmt): number {
  let n = 0;
  visitStmt(s, {
    stmt: (x) =>
      void (x.kind === "Evaluate" && x.value.kind === "Call" &&
        x.value.op === "tir.tvm_storage_sync" && n++),
  });
  return n;
}

Deno.test("threadSync() puts a barrier between a shared store and another thread's load", () => {
  check(
    `
    for bx in T.thread_binding(1, thread="blockIdx.x"):
        for tx in T.thread_binding(64, thread="threadIdx.x"):
            sh = T.alloc_buffer((64,), scope="shared")
            sh[tx] = A[tx]
            B[tx] = sh[63 - tx]
`,
    `
    for bx in T.thread_binding(1, thread="blockIdx.x"):
        for tx in T.thread_binding(64, thread="threadIdx.x"):
            sh = T.alloc_buffer((64,), scope="shared")
            sh[tx] = A[tx]
            T.tvm_storage_sync("shared")
            B[tx] = sh[63 - tx]
`,
  );
});

Deno.test("threadSync() syncs after the loads of a k loop before its tile is overwritten", () => {
  check(
    `
    for bx in T.thread_binding(1, thread="blockIdx.x"):
        for tx in T.thread_binding(8, thread="threadIdx.x"):
            acc = T.alloc_buffer((1,), scope="local")
            sh = T.alloc_buffer((8,), scope="shared")
            acc[0] = T.float32(0)
            for k0 in range(8):
                sh[tx] = A[k0 * 8 + tx]
                for k1 in range(8):
                    acc[0] = acc[0] + sh[k1]
            B[tx] = acc[0]
`,
    `
    for bx in T.thread_binding(1, thread="blockIdx.x"):
        for tx in T.thread_binding(8, thread="threadIdx.x"):
            acc = T.alloc_buffer((1,), scope="local")
            sh = T.alloc_buffer((8,), scope="shared")
            acc[0] = T.float32(0)
            for k0 in range(8):
                sh[tx] = A[k0 * 8 + tx]
                T.tvm_storage_sync("shared")
                for k1 in range(8):
                    acc[0] = acc[0] + sh[k1]
                T.tvm_storage_sync("shared")
            B[tx] = acc[0]
`,
  );
});

Deno.test("threadSync() needs no barrier when each thread reads back its own element", () => {
  const before = mod(`
    for bx in T.thread_binding(1, thread="blockIdx.x"):
        for tx in T.thread_binding(64, thread="threadIdx.x"):
            sh = T.alloc_buffer((64,), scope="shared")
            sh[tx] = A[tx]
            sh[tx] = sh[tx] * T.float32(2)
            B[tx] = sh[tx]
`);
  assert.equal(threadSync(before), before);
});

Deno.test("threadSync() syncs an element shared by threads of another axis", () => {
  // sh[tx] is written by every threadIdx.y: the write of one races with the read of another
  check(
    `
    for bx in T.thread_binding(1, thread="blockIdx.x"):
        for ty in T.thread_binding(2, thread="threadIdx.y"):
            for tx in T.thread_binding(32, thread="threadIdx.x"):
                sh = T.alloc_buffer((32,), scope="shared")
                sh[tx] = A[ty * 32 + tx]
                B[ty * 32 + tx] = sh[tx]
`,
    `
    for bx in T.thread_binding(1, thread="blockIdx.x"):
        for ty in T.thread_binding(2, thread="threadIdx.y"):
            for tx in T.thread_binding(32, thread="threadIdx.x"):
                sh = T.alloc_buffer((32,), scope="shared")
                sh[tx] = A[ty * 32 + tx]
                T.tvm_storage_sync("shared")
                B[ty * 32 + tx] = sh[tx]
`,
  );
});

Deno.test("threadSync() puts the barrier outside a branch that depends on the thread", () => {
  check(
    `
    for bx in T.thread_binding(1, thread="blockIdx.x"):
        for tx in T.thread_binding(64, thread="threadIdx.x"):
            sh = T.alloc_buffer((64,), scope="shared")
            if tx < 32:
                sh[tx] = A[tx]
                sh[tx + 32] = A[tx + 32]
            if tx >= 32:
                B[tx] = sh[tx - 32]
`,
    `
    for bx in T.thread_binding(1, thread="blockIdx.x"):
        for tx in T.thread_binding(64, thread="threadIdx.x"):
            sh = T.alloc_buffer((64,), scope="shared")
            if tx < 32:
                sh[tx] = A[tx]
                sh[tx + 32] = A[tx + 32]
            T.tvm_storage_sync("shared")
            if tx >= 32:
                B[tx] = sh[tx - 32]
`,
  );
});

Deno.test("threadSync() puts no barrier in a thread loop narrower than the workgroup", () => {
  // only threads 0..31 of 64 run the second loop: the barrier goes before it
  check(
    `
    for bx in T.thread_binding(1, thread="blockIdx.x"):
        sh = T.alloc_buffer((64,), scope="shared")
        for tx in T.thread_binding(64, thread="threadIdx.x"):
            sh[tx] = A[tx]
        for tx2 in T.thread_binding(32, thread="threadIdx.x"):
            B[tx2] = sh[tx2 * 2]
            sh[tx2] = B[tx2 + 32]
            B[tx2 + 32] = sh[31 - tx2]
`,
    `
    for bx in T.thread_binding(1, thread="blockIdx.x"):
        sh = T.alloc_buffer((64,), scope="shared")
        for tx in T.thread_binding(64, thread="threadIdx.x"):
            sh[tx] = A[tx]
        T.tvm_storage_sync("shared")
        for tx2 in T.thread_binding(32, thread="threadIdx.x"):
            B[tx2] = sh[tx2 * 2]
            sh[tx2] = B[tx2 + 32]
            B[tx2 + 32] = sh[31 - tx2]
`,
  );
});

Deno.test("threadSync() treats a branch on a loaded value as depending on the thread", () => {
  check(
    `
    for bx in T.thread_binding(1, thread="blockIdx.x"):
        for tx in T.thread_binding(64, thread="threadIdx.x"):
            sh = T.alloc_buffer((64,), scope="shared")
            if A[0] > T.float32(0):
                sh[tx] = A[tx]
                B[tx] = sh[63 - tx]
`,
    `
    for bx in T.thread_binding(1, thread="blockIdx.x"):
        for tx in T.thread_binding(64, thread="threadIdx.x"):
            sh = T.alloc_buffer((64,), scope="shared")
            if A[0] > T.float32(0):
                sh[tx] = A[tx]
                B[tx] = sh[63 - tx]
`,
  );
});

Deno.test("threadSync() syncs inside a branch every thread takes", () => {
  check(
    `
    for bx in T.thread_binding(4, thread="blockIdx.x"):
        for tx in T.thread_binding(16, thread="threadIdx.x"):
            sh = T.alloc_buffer((16,), scope="shared")
            if bx < 2:
                sh[tx] = A[bx * 16 + tx]
                B[bx * 16 + tx] = sh[15 - tx]
`,
    `
    for bx in T.thread_binding(4, thread="blockIdx.x"):
        for tx in T.thread_binding(16, thread="threadIdx.x"):
            sh = T.alloc_buffer((16,), scope="shared")
            if bx < 2:
                sh[tx] = A[bx * 16 + tx]
                T.tvm_storage_sync("shared")
                B[bx * 16 + tx] = sh[15 - tx]
`,
  );
});

Deno.test("threadSync() syncs between two thread loops of one workgroup (a GEMV combine)", () => {
  check(
    `
    for bx in T.thread_binding(8, thread="blockIdx.x"):
        red = T.alloc_buffer((8,), scope="shared")
        for tx in T.thread_binding(8, thread="threadIdx.x"):
            red[tx] = A[bx * 8 + tx]
        for u in T.thread_binding(1, thread="threadIdx.x"):
            B[bx] = T.float32(0)
            for r in range(8):
                B[bx] = B[bx] + red[r]
`,
    `
    for bx in T.thread_binding(8, thread="blockIdx.x"):
        red = T.alloc_buffer((8,), scope="shared")
        for tx in T.thread_binding(8, thread="threadIdx.x"):
            red[tx] = A[bx * 8 + tx]
        T.tvm_storage_sync("shared")
        for u in T.thread_binding(1, thread="threadIdx.x"):
            B[bx] = T.float32(0)
            for r in range(8):
                B[bx] = B[bx] + red[r]
`,
  );
});

Deno.test("threadSync() keeps existing barriers and adds none where they already suffice", () => {
  const before = mod(`
    for bx in T.thread_binding(1, thread="blockIdx.x"):
        for tx in T.thread_binding(64, thread="threadIdx.x"):
            sh = T.alloc_buffer((64,), scope="shared")
            for k in range(4):
                sh[tx] = A[tx]
                T.tvm_storage_sync("shared")
                B[tx] = sh[63 - tx]
                T.tvm_storage_sync("shared")
`);
  assert.equal(threadSync(before), before);
});

Deno.test("threadSync() syncs a read of the shared buffer before another thread overwrites it", () => {
  check(
    `
    for bx in T.thread_binding(1, thread="blockIdx.x"):
        for tx in T.thread_binding(64, thread="threadIdx.x"):
            sh = T.alloc_buffer((64,), scope="shared")
            sh[tx] = A[tx]
            T.tvm_storage_sync("shared")
            B[tx] = sh[63 - tx]
            sh[tx] = B[tx] * T.float32(2)
`,
    `
    for bx in T.thread_binding(1, thread="blockIdx.x"):
        for tx in T.thread_binding(64, thread="threadIdx.x"):
            sh = T.alloc_buffer((64,), scope="shared")
            sh[tx] = A[tx]
            T.tvm_storage_sync("shared")
            B[tx] = sh[63 - tx]
            T.tvm_storage_sync("shared")
            sh[tx] = B[tx] * T.float32(2)
`,
  );
});

Deno.test("threadSync() keeps pending accesses across a loop that may not run", () => {
  // the loop over n may run zero times: its barrier does not cover the store before it
  check(
    `
    for bx in T.thread_binding(1, thread="blockIdx.x"):
        for tx in T.thread_binding(64, thread="threadIdx.x"):
            sh = T.alloc_buffer((64,), scope="shared")
            sh[tx] = A[tx]
            for k in range(n):
                T.tvm_storage_sync("shared")
                B[tx] = B[tx] + T.float32(1)
            B[tx] = sh[63 - tx]
`,
    `
    for bx in T.thread_binding(1, thread="blockIdx.x"):
        for tx in T.thread_binding(64, thread="threadIdx.x"):
            sh = T.alloc_buffer((64,), scope="shared")
            sh[tx] = A[tx]
            for k in range(n):
                T.tvm_storage_sync("shared")
                B[tx] = B[tx] + T.float32(1)
            T.tvm_storage_sync("shared")
            B[tx] = sh[63 - tx]
`,
    `A: T.Buffer((64,), "float32"), B: T.Buffer((64,), "float32"), n: T.int32`,
  );
});

Deno.test("threadSync() returns functions without shared memory (or kernels) unchanged", () => {
  const local = mod(`
    for bx in T.thread_binding(1, thread="blockIdx.x"):
        for tx in T.thread_binding(64, thread="threadIdx.x"):
            t = T.alloc_buffer((64,), scope="local")
            t[tx] = A[tx]
            B[tx] = t[63 - tx]
`);
  assert.equal(threadSync(local), local);
  // outside thread-bound loops there is no workgroup to synchronize
  const serial = mod(`
    sh = T.alloc_buffer((64,), scope="shared")
    for i in range(64):
        sh[i] = A[i]
    for i in range(64):
        B[i] = sh[63 - i]
`);
  assert.equal(threadSync(serial), serial);
});

Deno.test("threadSync() rejects a function that still has blocks", () => {
  const f = irModule({ main: matmul(8, 8, 8) }).functions.get("main") as PrimFunc;
  const withShared = new Schedule(f);
  withShared.cacheRead(withShared.getSBlock("C"), 0, "shared");
  assert.throws(
    () => threadSyncPrimFunc(withShared.func, { name: "mm" }),
    {
      message:
        `Cannot insert thread barriers into "mm": it still contains block "root"; lower its blocks first`,
    },
  );
});

Deno.test("lowerTIRPipeline() ends with threadSync: a tiled matmul gets two barriers per k tile", () => {
  const sch = new Schedule(matmul(32, 32, 16));
  const c = sch.getSBlock("C");
  const [i, j, k] = sch.getLoops(c);
  const [bi, ti, ii] = sch.split(i!, [undefined, 4, 4]);
  const [bj, tj, jj] = sch.split(j!, [undefined, 4, 4]);
  const [k0, k1] = sch.split(k!, [undefined, 8]);
  sch.reorder(bi!, bj!, ti!, tj!, k0!, k1!, ii!, jj!);
  sch.bind(bi!, "blockIdx.y");
  sch.bind(bj!, "blockIdx.x");
  sch.bind(ti!, "threadIdx.y");
  sch.bind(tj!, "threadIdx.x");
  for (const index of [0, 1]) {
    const shared = sch.cacheRead(c, index, "shared");
    sch.computeAt(shared, k0!);
    const [, ty, tx] = sch.split(sch.fuse(...sch.getLoops(shared).slice(-2)), [undefined, 4, 4]);
    sch.bind(ty!, "threadIdx.y");
    sch.bind(tx!, "threadIdx.x");
  }
  const low = lowerTIRPipeline()(sch.mod).functions.get("main") as PrimFunc;
  assert.equal(barriers(low.body), 2);
  // both inside the k0 loop: after the tile copies and at the end of the body
  let k0Body: Stmt | undefined;
  visitStmt(low.body, {
    stmt: (s) => void (s.kind === "For" && s.loopVar.name === "k_0" && (k0Body = s.body)),
  });
  assert.ok(k0Body);
  assert.equal(barriers(k0Body), 2);
});
