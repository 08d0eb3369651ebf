import assert from "node:assert/strict";
import { bufferLoad, declBuffer, primVar, range } from "../../../ir/expr.ts";
import { irModule } from "../../../ir/module.ts";
import { assertStructuralEqual } from "../../../ir/structural.ts";
import { primFunc } from "../../../ir/tir/prim_func.ts";
import {
  bufferRegion,
  bufferStore,
  forLoop,
  ifThenElse,
  iterVar,
  sblock,
  sblockRealize,
  seq,
  type Stmt,
} from "../../../ir/tir/stmt.ts";
import { lowerInitBlock } from "../../../transform/tir/lower_init_block.ts";

/** `C[i] = sum_k A[i, k]` over `k in [kmin, kmin + kext)`, with or without lowering the init. */
function rowSum(lowered: boolean, kmin = 0) {
  const A = declBuffer([8, 16], "float32", "A"), C = declBuffer([8], "float32", "C");
  const i = primVar("i"), k = primVar("k"), vi = primVar("vi"), vk = primVar("vk");
  const init = bufferStore(C, 0, [vi]);
  const update = bufferStore(C, bufferLoad(C, [vi]).add(bufferLoad(A, [vi, vk])), [vi]);
  const opts = {
    iterVars: [iterVar(vi, range(0, 8)), iterVar(vk, range(kmin, 16 - kmin), "reduce")],
    reads: [bufferRegion(C, [range(vi, 1)]), bufferRegion(A, [range(vi, 1), range(vk, 1)])],
    writes: [bufferRegion(C, [range(vi, 1)])],
  };
  const blk = lowered
    ? sblock("C", seq(ifThenElse(vk.eq(kmin), init), update), opts)
    : sblock("C", update, { ...opts, init });
  const body = forLoop(
    i,
    range(0, 8),
    forLoop(k, range(kmin, 16 - kmin), sblockRealize([i, k], blk)),
  );
  return irModule({ main: primFunc([A, C], body) });
}

Deno.test("lowerInitBlock() guards the init of a reduction with 'reduce var == 0'", () => {
  assertStructuralEqual(lowerInitBlock(rowSum(false)), rowSum(true));
});

Deno.test("lowerInitBlock() compares with the start of a reduction domain that is not 0", () => {
  assertStructuralEqual(lowerInitBlock(rowSum(false, 2)), rowSum(true, 2));
});

function twoReduce(lowered: boolean) {
  const A = declBuffer([4, 4], "float32", "A"), S = declBuffer([1], "float32", "S");
  const k = primVar("k"), l = primVar("l"), vk = primVar("vk"), vl = primVar("vl");
  const init = bufferStore(S, 0, [0]);
  const update = bufferStore(S, bufferLoad(S, [0]).add(bufferLoad(A, [vk, vl])), [0]);
  const iterVars = [iterVar(vk, range(0, 4), "reduce"), iterVar(vl, range(0, 4), "reduce")];
  const blk = lowered
    ? sblock("S", seq(ifThenElse(vk.eq(0).and(vl.eq(0)), init), update), { iterVars })
    : sblock("S", update, { iterVars, init });
  const body = forLoop(k, range(0, 4), forLoop(l, range(0, 4), sblockRealize([k, l], blk)));
  return irModule({ main: primFunc([A, S], body) });
}

Deno.test("lowerInitBlock() requires every reduction variable to be at its start", () => {
  assertStructuralEqual(lowerInitBlock(twoReduce(false)), twoReduce(true));
});

Deno.test("lowerInitBlock() runs the init unconditionally when no variable reduces", () => {
  const B = declBuffer([4], "float32", "B");
  const i = primVar("i"), vi = primVar("vi");
  const make = (lowered: boolean) => {
    const init = bufferStore(B, 0, [vi]);
    const body: Stmt = bufferStore(B, bufferLoad(B, [vi]).add(1), [vi]);
    const iterVars = [iterVar(vi, range(0, 4))];
    const blk = lowered
      ? sblock("B", seq(init, body), { iterVars })
      : sblock("B", body, { iterVars, init });
    return irModule({ main: primFunc([B], forLoop(i, range(0, 4), sblockRealize([i], blk))) });
  };
  assertStructuralEqual(lowerInitBlock(make(false)), make(true));
});

Deno.test("lowerInitBlock() returns the module itself when no block has an init", () => {
  const mod = rowSum(true);
  assert.equal(lowerInitBlock(mod), mod);
});

Deno.test("lowerInitBlock() lowers an init nested in a bare block", () => {
  const B = declBuffer([1], "float32", "B");
  const make = (lowered: boolean) => {
    const init = bufferStore(B, 0, [0]);
    const upd = bufferStore(B, bufferLoad(B, [0]).add(1), [0]);
    const inner = lowered ? sblock("x", seq(init, upd)) : sblock("x", upd, { init });
    return irModule({ main: primFunc([B], sblock("root", inner)) });
  };
  const out = lowerInitBlock(make(false));
  assertStructuralEqual(out, make(true));
});
