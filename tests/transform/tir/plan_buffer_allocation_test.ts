import assert from "node:assert/strict";
import {
  add,
  bufferLoad,
  declBuffer,
  mul,
  primVar,
  range,
  type StorageScope,
} from "../../../ir/expr.ts";
import { irModule } from "../../../ir/module.ts";
import { assertStructuralEqual } from "../../../ir/structural.ts";
import { primFunc } from "../../../ir/tir/prim_func.ts";
import {
  bufferRegion,
  bufferStore,
  forLoop,
  iterVar,
  sblock,
  sblockRealize,
  seq,
} from "../../../ir/tir/stmt.ts";
import { planAndUpdateBufferAllocationLocation as plan } from "../../../transform/tir/plan_buffer_allocation.ts";

/** `T = A` then `B = T * 2`, tile by tile, with `T` allocated at the root or under the tile loop. */
function tiled(moved: boolean) {
  const A = declBuffer([16], "float32", "A"), B = declBuffer([16], "float32", "B");
  const T = declBuffer([16], "float32", "T");
  const i = primVar("i"), j1 = primVar("j1"), j2 = primVar("j2");
  const v1 = primVar("v1"), v2 = primVar("v2");
  const copy = sblock("T", bufferStore(T, bufferLoad(A, [v1]), [v1]), {
    iterVars: [iterVar(v1, range(0, 16))],
  });
  const scale = sblock("B", bufferStore(B, bufferLoad(T, [v2]).mul(2), [v2]), {
    iterVars: [iterVar(v2, range(0, 16))],
  });
  const tile = seq(
    forLoop(j1, range(0, 4), sblockRealize([add(mul(i, 4), j1)], copy)),
    forLoop(j2, range(0, 4), sblockRealize([add(mul(i, 4), j2)], scale)),
  );
  const inner = moved
    ? sblockRealize(
      [],
      sblock("", tile, {
        reads: [bufferRegion(A)],
        writes: [bufferRegion(B)],
        allocBuffers: [T],
      }),
    )
    : tile;
  const root = sblock("root", forLoop(i, range(0, 4), inner), { allocBuffers: moved ? [] : [T] });
  return irModule({ main: primFunc([A, B], sblockRealize([], root)) });
}

Deno.test("planAndUpdateBufferAllocationLocation() moves a buffer under the loop using it", () => {
  assertStructuralEqual(plan(tiled(false)), tiled(true));
});

Deno.test("planAndUpdateBufferAllocationLocation() keeps a buffer used by two loop nests", () => {
  const A = declBuffer([16], "float32", "A"), T = declBuffer([16], "float32", "T");
  const i = primVar("i"), j = primVar("j");
  const root = sblock(
    "root",
    seq(
      forLoop(i, range(0, 16), sblock("T", bufferStore(T, bufferLoad(A, [i]), [i]))),
      forLoop(j, range(0, 16), sblock("A", bufferStore(A, bufferLoad(T, [j]), [j]))),
    ),
    { allocBuffers: [T] },
  );
  const mod = irModule({ main: primFunc([A], sblockRealize([], root)) });
  assert.equal(plan(mod), mod);
});

/** A row sum per thread with a local accumulator, allocated at the root or under the threads. */
function threadSum(moved: boolean) {
  const A = declBuffer([64, 8], "float32", "A"), B = declBuffer([64], "float32", "B");
  const acc = declBuffer([64], "float32", "acc", { scope: "local" });
  const bx = primVar("bx"), tx = primVar("tx"), k = primVar("k");
  const row = add(mul(bx, 16), tx);
  const work = seq(
    sblockRealize([], sblock("init", bufferStore(acc, 0, [row]))),
    forLoop(
      k,
      range(0, 8),
      sblockRealize(
        [],
        sblock(
          "update",
          bufferStore(acc, bufferLoad(acc, [row]).add(bufferLoad(A, [row, k])), [row]),
        ),
      ),
    ),
    sblockRealize([], sblock("write", bufferStore(B, bufferLoad(acc, [row]), [row]))),
  );
  const inner = moved
    ? sblockRealize(
      [],
      sblock("", work, {
        reads: [bufferRegion(A)],
        writes: [bufferRegion(B)],
        allocBuffers: [acc],
      }),
    )
    : work;
  const loops = forLoop(
    bx,
    range(0, 4),
    forLoop(tx, range(0, 16), inner, { threadTag: "threadIdx.x" }),
    { threadTag: "blockIdx.x" },
  );
  const root = sblock("root", loops, { allocBuffers: moved ? [] : [acc] });
  return irModule({ main: primFunc([A, B], sblockRealize([], root)) });
}

Deno.test("planAndUpdateBufferAllocationLocation() puts a local accumulator under the threads", () => {
  assertStructuralEqual(plan(threadSum(false)), threadSum(true));
});

/** Two thread loops in one thread block share a staging buffer `S` of the given scope. */
function staged(scope: StorageScope, moved: boolean) {
  const A = declBuffer([64], "float32", "A"), B = declBuffer([64], "float32", "B");
  const S = declBuffer([64], "float32", "S", { scope });
  const bx = primVar("bx"), t1 = primVar("t1"), t2 = primVar("t2");
  const load = forLoop(
    t1,
    range(0, 16),
    sblockRealize(
      [],
      sblock("load", bufferStore(S, bufferLoad(A, [bx.mul(16).add(t1)]), [bx.mul(16).add(t1)])),
    ),
    { threadTag: "threadIdx.x" },
  );
  const store = forLoop(
    t2,
    range(0, 16),
    sblockRealize(
      [],
      sblock("store", bufferStore(B, bufferLoad(S, [bx.mul(16).add(t2)]), [bx.mul(16).add(t2)])),
    ),
    { threadTag: "threadIdx.x" },
  );
  const body = moved
    ? sblockRealize(
      [],
      sblock("", seq(load, store), {
        reads: [bufferRegion(A)],
        writes: [bufferRegion(B)],
        allocBuffers: [S],
      }),
    )
    : seq(load, store);
  const root = sblock("root", forLoop(bx, range(0, 4), body, { threadTag: "blockIdx.x" }), {
    allocBuffers: moved ? [] : [S],
  });
  return irModule({ main: primFunc([A, B], sblockRealize([], root)) });
}

Deno.test("planAndUpdateBufferAllocationLocation() moves a shared buffer into the thread block", () => {
  assertStructuralEqual(plan(staged("shared", false)), staged("shared", true));
});

Deno.test("planAndUpdateBufferAllocationLocation() keeps a global buffer outside blockIdx loops", () => {
  const mod = staged("global", false);
  assert.equal(plan(mod), mod);
});

Deno.test("planAndUpdateBufferAllocationLocation() leaves an unused buffer in place", () => {
  const A = declBuffer([4], "float32", "A"), T = declBuffer([4], "float32", "T");
  const i = primVar("i");
  const root = sblock("root", forLoop(i, range(0, 4), bufferStore(A, 0, [i])), {
    allocBuffers: [T],
  });
  const mod = irModule({ main: primFunc([A], sblockRealize([], root)) });
  assert.equal(plan(mod), mod);
});
