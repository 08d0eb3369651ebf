import assert from "node:assert/strict";
import { add, bufferLoad, declBuffer, lt, mul, primVar, range } from "../../../ir/expr.ts";
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
} from "../../../ir/tir/stmt.ts";
import { convertBlocksToOpaque } from "../../../transform/tir/convert_blocks_to_opaque.ts";

function addOne(opaque: boolean) {
  const A = declBuffer([16], "float32", "A"), B = declBuffer([16], "float32", "B");
  const i = primVar("i"), vi = primVar("vi");
  const x = opaque ? i : vi;
  const blk = sblock("B", bufferStore(B, bufferLoad(A, [x]).add(1), [x]), {
    iterVars: opaque ? [] : [iterVar(vi, range(0, 16))],
    reads: [bufferRegion(A, [range(x, 1)])],
    writes: [bufferRegion(B, [range(x, 1)])],
  });
  const body = forLoop(i, range(0, 16), sblockRealize(opaque ? [] : [i], blk));
  return irModule({ main: primFunc([A, B], body) });
}

Deno.test("convertBlocksToOpaque() substitutes iteration variables in body and regions", () => {
  assertStructuralEqual(convertBlocksToOpaque(addOne(false)), addOne(true));
});

function nested(opaque: boolean) {
  const A = declBuffer([16], "float32", "A");
  const i = primVar("i"), j = primVar("j"), vo = primVar("vo"), vi = primVar("vi");
  const outerVal = mul(i, 4);
  const innerVal = opaque ? add(outerVal, j) : add(vo, j);
  const inner = sblock("inner", bufferStore(A, 0, [opaque ? innerVal : vi]), {
    iterVars: opaque ? [] : [iterVar(vi, range(0, 16))],
  });
  const outer = sblock(
    "outer",
    forLoop(j, range(0, 4), sblockRealize(opaque ? [] : [innerVal], inner)),
    { iterVars: opaque ? [] : [iterVar(vo, range(0, 16))] },
  );
  const body = forLoop(i, range(0, 4), sblockRealize(opaque ? [] : [outerVal], outer));
  return irModule({ main: primFunc([A], body) });
}

Deno.test("convertBlocksToOpaque() substitutes outer bindings into inner block values", () => {
  assertStructuralEqual(convertBlocksToOpaque(nested(false)), nested(true));
});

function predicated(opaque: boolean) {
  const A = declBuffer([10], "float32", "A");
  const io = primVar("io"), ii = primVar("ii"), vi = primVar("vi");
  const idx = add(mul(io, 4), ii);
  const blk = sblock("A", bufferStore(A, 1, [opaque ? idx : vi]), {
    iterVars: opaque ? [] : [iterVar(vi, range(0, 10))],
  });
  const body = forLoop(
    io,
    range(0, 3),
    forLoop(ii, range(0, 4), sblockRealize(opaque ? [] : [idx], blk, lt(idx, 10))),
  );
  return irModule({ main: primFunc([A], body) });
}

Deno.test("convertBlocksToOpaque() keeps the realize predicate", () => {
  assertStructuralEqual(convertBlocksToOpaque(predicated(false)), predicated(true));
});

Deno.test("convertBlocksToOpaque() returns the module itself when blocks are opaque", () => {
  const mod = addOne(true);
  assert.equal(convertBlocksToOpaque(mod), mod);
});

Deno.test("convertBlocksToOpaque() rejects a block that still has an init", () => {
  const C = declBuffer([1], "float32", "C");
  const k = primVar("k"), vk = primVar("vk");
  const blk = sblock("C", bufferStore(C, bufferLoad(C, [0]).add(1), [0]), {
    iterVars: [iterVar(vk, range(0, 4), "reduce")],
    init: bufferStore(C, 0, [0]),
  });
  const mod = irModule({ f: primFunc([C], forLoop(k, range(0, 4), sblockRealize([k], blk))) });
  assert.throws(
    () => convertBlocksToOpaque(mod),
    {
      message: 'Cannot convert block "C" of "f" to opaque: it still has an init statement ' +
        "(run lowerInitBlock first)",
    },
  );
});

Deno.test("convertBlocksToOpaque() rejects a bare block with iteration variables", () => {
  const C = declBuffer([1], "float32", "C");
  const v = primVar("v");
  const blk = sblock("C", bufferStore(C, 0, [0]), { iterVars: [iterVar(v, range(0, 1))] });
  const mod = irModule({ g: primFunc([C], blk) });
  assert.throws(
    () => convertBlocksToOpaque(mod),
    {
      message:
        'Cannot convert block "C" of "g" to opaque: it has iteration variables but no realize binds them',
    },
  );
});
