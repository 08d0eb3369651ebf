import assert from "node:assert/strict";
import {
  add,
  bufferLoad,
  declBuffer,
  intImm,
  mul,
  primVar,
  range,
  type StorageScope,
} from "../../../ir/expr.ts";
import { irModule } from "../../../ir/module.ts";
import { assertStructuralEqual } from "../../../ir/structural.ts";
import { primFunc } from "../../../ir/tir/prim_func.ts";
import {
  allocBuffer,
  bufferRegion,
  bufferStore,
  forLoop,
  sblock,
  sblockRealize,
  seq,
} from "../../../ir/tir/stmt.ts";
import { compactBufferAllocation as compact } from "../../../transform/tir/compact_buffer_allocation.ts";

/** A row sum per thread; the local accumulator `acc` has `size` elements. */
function threadSum(size: number) {
  const A = declBuffer([64, 8], "float32", "A"), B = declBuffer([64], "float32", "B");
  const acc = declBuffer([size], "float32", "acc", { scope: "local" });
  const bx = primVar("bx"), tx = primVar("tx"), k = primVar("k");
  const row = add(mul(bx, 16), tx);
  const at = size === 1 ? intImm(0) : row;
  const work = seq(
    sblockRealize([], sblock("init", bufferStore(acc, 0, [at]))),
    forLoop(
      k,
      range(0, 8),
      sblockRealize(
        [],
        sblock(
          "update",
          bufferStore(acc, bufferLoad(acc, [at]).add(bufferLoad(A, [row, k])), [at]),
        ),
      ),
    ),
    sblockRealize([], sblock("write", bufferStore(B, bufferLoad(acc, [at]), [row]))),
  );
  const alloc = sblockRealize(
    [],
    sblock("", work, { reads: [bufferRegion(A)], writes: [bufferRegion(B)], allocBuffers: [acc] }),
  );
  const loops = forLoop(
    bx,
    range(0, 4),
    forLoop(tx, range(0, 16), alloc, { threadTag: "threadIdx.x" }),
    { threadTag: "blockIdx.x" },
  );
  return irModule({ main: primFunc([A, B], loops) });
}

Deno.test("compactBufferAllocation() shrinks a local accumulator under the threads to one element", () => {
  assertStructuralEqual(compact(threadSum(64)), threadSum(1));
});

/** Tiles of `T` under loop `i`: `T` is the whole (16,) buffer or just the (4,) tile. */
function tiled(compacted: boolean) {
  const A = declBuffer([16], "float32", "A"), B = declBuffer([16], "float32", "B");
  const T = declBuffer([compacted ? 4 : 16], "float32", "T");
  const i = primVar("i"), j1 = primVar("j1"), j2 = primVar("j2");
  const at = (j: typeof j1) => (compacted ? j : add(mul(i, 4), j));
  const body = seq(
    forLoop(j1, range(0, 4), bufferStore(T, bufferLoad(A, [add(mul(i, 4), j1)]), [at(j1)])),
    forLoop(j2, range(0, 4), bufferStore(B, bufferLoad(T, [at(j2)]).mul(2), [add(mul(i, 4), j2)])),
  );
  const region = [range(compacted ? intImm(0) : mul(i, 4), 4)];
  const blk = sblock("", body, { allocBuffers: [T], writes: [bufferRegion(T, region)] });
  return irModule({ main: primFunc([A, B], forLoop(i, range(0, 4), sblockRealize([], blk))) });
}

Deno.test("compactBufferAllocation() shrinks a tile buffer and shifts its accesses and regions", () => {
  assertStructuralEqual(compact(tiled(false)), tiled(true));
});

/** A buffer of `scope` allocated under a threadIdx loop and indexed by the thread. */
function perThread(scope: StorageScope, size: number) {
  const A = declBuffer([16], "float32", "A");
  const S = declBuffer([size], "float32", "S", { scope });
  const tx = primVar("tx");
  const at = size === 1 ? intImm(0) : tx;
  const body = seq(
    bufferStore(S, bufferLoad(A, [tx]), [at]),
    bufferStore(A, bufferLoad(S, [at]), [tx]),
  );
  const blk = sblockRealize([], sblock("", body, { allocBuffers: [S] }));
  return irModule({
    main: primFunc([A], forLoop(tx, range(0, 16), blk, { threadTag: "threadIdx.x" })),
  });
}

Deno.test("compactBufferAllocation() keeps a shared buffer whole across threads", () => {
  const mod = perThread("shared", 16);
  assert.equal(compact(mod), mod);
});

Deno.test("compactBufferAllocation() gives each thread one element of a local buffer", () => {
  assertStructuralEqual(compact(perThread("local", 16)), perThread("local", 1));
});

Deno.test("compactBufferAllocation() keeps a buffer indexed by loaded values whole", () => {
  const A = declBuffer([16], "float32", "A"), I = declBuffer([16], "int32", "I");
  const T = declBuffer([16], "float32", "T");
  const i = primVar("i");
  const body = forLoop(
    i,
    range(0, 16),
    sblockRealize(
      [],
      sblock(
        "",
        seq(bufferStore(T, 1, [bufferLoad(I, [i])]), bufferStore(A, bufferLoad(T, [i]), [i])),
        {
          allocBuffers: [T],
        },
      ),
    ),
  );
  const mod = irModule({ main: primFunc([A, I], body) });
  assert.equal(compact(mod), mod);
});

/** A triangular loop: the region under `i` grows with `i`; its bound is the largest. */
function triangle(compacted: boolean) {
  const A = declBuffer([4], "float32", "A");
  const T = declBuffer([compacted ? 4 : 16], "float32", "T");
  const i = primVar("i"), j = primVar("j");
  const body = forLoop(
    i,
    range(0, 4),
    sblockRealize(
      [],
      sblock(
        "",
        forLoop(
          j,
          range(0, add(i, 1)),
          seq(bufferStore(T, 0, [j]), bufferStore(A, bufferLoad(T, [j]), [i])),
        ),
        { allocBuffers: [T] },
      ),
    ),
  );
  return irModule({ main: primFunc([A], body) });
}

Deno.test("compactBufferAllocation() uses the constant bound of an extent that varies by loop", () => {
  assertStructuralEqual(compact(triangle(false)), triangle(true));
});

function allocStmt(compacted: boolean) {
  const A = declBuffer([8, 4], "float32", "A");
  const T = declBuffer(compacted ? [1, 4] : [8, 4], "float32", "T");
  const i = primVar("i"), j = primVar("j");
  const r = compacted ? intImm(0) : i;
  const body = forLoop(
    i,
    range(0, 8),
    allocBuffer(
      T,
      forLoop(
        j,
        range(0, 4),
        seq(bufferStore(T, 1, [r, j]), bufferStore(A, bufferLoad(T, [r, j]), [i, j])),
      ),
    ),
  );
  return irModule({ main: primFunc([A], body) });
}

Deno.test("compactBufferAllocation() also shrinks AllocBuffer statements, per dimension", () => {
  assertStructuralEqual(compact(allocStmt(false)), allocStmt(true));
});

/** A shared staging buffer allocated per thread block and indexed by `bx * 16 + t`. */
function sharedTile(compacted: boolean) {
  const A = declBuffer([64], "float32", "A"), B = declBuffer([64], "float32", "B");
  const S = declBuffer([compacted ? 16 : 64], "float32", "S", { scope: "shared" });
  const bx = primVar("bx"), t1 = primVar("t1"), t2 = primVar("t2");
  const at = (t: typeof t1) => (compacted ? t : add(mul(bx, 16), t));
  const body = seq(
    forLoop(t1, range(0, 16), bufferStore(S, bufferLoad(A, [add(mul(bx, 16), t1)]), [at(t1)]), {
      threadTag: "threadIdx.x",
    }),
    forLoop(t2, range(0, 16), bufferStore(B, bufferLoad(S, [at(t2)]), [add(mul(bx, 16), t2)]), {
      threadTag: "threadIdx.x",
    }),
  );
  const blk = sblockRealize([], sblock("", body, { allocBuffers: [S] }));
  return irModule({
    main: primFunc([A, B], forLoop(bx, range(0, 4), blk, { threadTag: "blockIdx.x" })),
  });
}

Deno.test("compactBufferAllocation() shrinks a shared buffer to its thread block's tile", () => {
  assertStructuralEqual(compact(sharedTile(false)), sharedTile(true));
});
