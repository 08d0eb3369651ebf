import assert from "node:assert/strict";
import {
  add,
  binary,
  bufferLoad,
  declBuffer,
  intImm,
  lt,
  mul,
  primVar,
  range,
} from "../../../ir/expr.ts";
import { irModule } from "../../../ir/module.ts";
import { assertStructuralEqual } from "../../../ir/structural.ts";
import { primFunc } from "../../../ir/tir/prim_func.ts";
import {
  allocBuffer,
  bufferRegion,
  bufferStore,
  forLoop,
  ifThenElse,
  iterVar,
  sblock,
  sblockRealize,
  seq,
} from "../../../ir/tir/stmt.ts";
import { lowerOpaqueBlock } from "../../../transform/tir/lower_opaque_block.ts";

Deno.test("lowerOpaqueBlock() turns the root block's allocations into AllocBuffer", () => {
  const make = (lowered: boolean) => {
    const A = declBuffer([8], "float32", "A");
    const T = declBuffer([8], "float32", "T"), U = declBuffer([8], "float32", "U");
    const i = primVar("i");
    const work = forLoop(
      i,
      range(0, 8),
      seq(
        bufferStore(T, 1, [i]),
        bufferStore(U, bufferLoad(T, [i]), [i]),
        bufferStore(A, bufferLoad(U, [i]), [i]),
      ),
    );
    const body = lowered ? allocBuffer(T, allocBuffer(U, work)) : sblockRealize(
      [],
      sblock("root", work, { allocBuffers: [T, U], reads: [bufferRegion(A)] }),
    );
    return irModule({ main: primFunc([A], body) });
  };
  assertStructuralEqual(lowerOpaqueBlock(make(false)), make(true));
});

Deno.test("lowerOpaqueBlock() turns a predicate into an IfThenElse inside the allocations", () => {
  const make = (lowered: boolean) => {
    const A = declBuffer([10], "float32", "A"), T = declBuffer([1], "float32", "T");
    const io = primVar("io"), ii = primVar("ii");
    const idx = add(mul(io, 4), ii);
    const work = seq(
      bufferStore(T, bufferLoad(A, [idx]), [0]),
      bufferStore(A, bufferLoad(T, [0]).add(1), [idx]),
    );
    const inner = lowered
      ? allocBuffer(T, ifThenElse(lt(idx, 10), work))
      : sblockRealize([], sblock("A", work, { allocBuffers: [T] }), lt(idx, 10));
    const body = forLoop(io, range(0, 3), forLoop(ii, range(0, 4), inner));
    return irModule({ main: primFunc([A], body) });
  };
  assertStructuralEqual(lowerOpaqueBlock(make(false)), make(true));
});

Deno.test("lowerOpaqueBlock() removes unit loops but keeps thread loops of extent 1", () => {
  const make = (lowered: boolean) => {
    const A = declBuffer([4], "float32", "A");
    const i = primVar("i"), j = primVar("j"), t = primVar("t");
    const idx = lowered ? binary("Add", binary("Mul", intImm(0), intImm(4)), j) : add(mul(i, 4), j);
    const store = sblockRealize([], sblock("A", bufferStore(A, 0, [idx])));
    const inner = forLoop(j, range(0, 4), lowered ? bufferStore(A, 0, [idx]) : store);
    const body = forLoop(t, range(0, 1), lowered ? inner : forLoop(i, range(0, 1), inner), {
      threadTag: "threadIdx.x",
    });
    return irModule({ main: primFunc([A], body) });
  };
  assertStructuralEqual(lowerOpaqueBlock(make(false)), make(true));
});

Deno.test("lowerOpaqueBlock() keeps annotated unit loops", () => {
  const A = declBuffer([1], "float32", "A");
  const i = primVar("i");
  const body = forLoop(i, range(0, 1), bufferStore(A, 0, [i]), { annotations: { pragma_x: 1 } });
  const mod = irModule({ main: primFunc([A], body) });
  assert.equal(lowerOpaqueBlock(mod), mod);
});

Deno.test("lowerOpaqueBlock() returns the module itself when there are no blocks", () => {
  const A = declBuffer([4], "float32", "A"), T = declBuffer([4], "float32", "T");
  const i = primVar("i");
  const body = allocBuffer(T, forLoop(i, range(0, 4), bufferStore(A, bufferLoad(T, [i]), [i])));
  const mod = irModule({ main: primFunc([A], body) });
  assert.equal(lowerOpaqueBlock(mod), mod);
});

Deno.test("lowerOpaqueBlock() rejects blocks that are not opaque, have init or match buffers", () => {
  const A = declBuffer([4], "float32", "A"), M = declBuffer([2], "float32", "M");
  const i = primVar("i"), vi = primVar("vi");
  const withIter = sblock("B", bufferStore(A, 0, [vi]), { iterVars: [iterVar(vi, range(0, 4))] });
  const mod1 = irModule({
    f: primFunc([A], forLoop(i, range(0, 4), sblockRealize([i], withIter))),
  });
  assert.throws(() => lowerOpaqueBlock(mod1), {
    message: 'Cannot lower block "B" of "f": it is not opaque (run convertBlocksToOpaque first)',
  });
  const withInit = sblock("C", bufferStore(A, 1, [0]), { init: bufferStore(A, 0, [0]) });
  assert.throws(() => lowerOpaqueBlock(irModule({ f: primFunc([A], withInit) })), {
    message:
      'Cannot lower block "C" of "f": it still has an init statement (run lowerInitBlock first)',
  });
  const withMatch = sblock("D", bufferStore(M, 0, [0]), {
    matchBuffers: [{
      kind: "MatchBufferRegion",
      buffer: M,
      source: bufferRegion(A, [range(0, 2)]),
    }],
  });
  assert.throws(() => lowerOpaqueBlock(irModule({ f: primFunc([A], withMatch) })), {
    message: 'Cannot lower block "D" of "f": match_buffer "M" is not supported',
  });
});
