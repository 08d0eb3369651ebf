import assert from "node:assert/strict";
import { sizeVar } from "../../../ir/expr.ts";
import { irModule } from "../../../ir/module.ts";
import { BlockBuilder } from "../../../ir/relax/block_builder.ts";
import {
  bindingBlock,
  dataflowBlock,
  dataflowVar,
  externFunc,
  globalVar,
  rcall,
  relaxFunction,
  rvar,
  seqExpr,
  shapeExpr,
  tuple,
  varBinding,
} from "../../../ir/relax/expr.ts";
import { callDPSPacked, callPacked, callTIR } from "../../../ir/relax/op/call.ts";
import * as R from "../../../ir/relax/r.ts";
import { assertStructuralEqual } from "../../../ir/structural.ts";
import { allocTensor, VOID_SINFO } from "../../../transform/relax/builtin_ops.ts";
import { callTIRRewrite } from "../../../transform/relax/call_tir_rewrite.ts";
import { assertThrowsMsg } from "../../runtime/_helpers.ts";

const n = sizeVar("n", "int64");
const m = sizeVar("m", "int64");
/** The attributes BlockBuilder gives function "main". */
const MAIN = { attrs: { global_symbol: "main" } };

Deno.test("CallTIRRewrite allocates the output and calls the PrimFunc with it", () => {
  const bb = new BlockBuilder();
  const x = R.tensor([n, 4], "float32", "x");
  const f = globalVar("f");
  bb.function("main", { x }, () => {
    const y = bb.emit(callTIR(f, [x], R.Tensor([n, 4], "float32"), { tirVars: [m] }), "y");
    return y;
  });
  const after = callTIRRewrite(bb.get()).functions.get("main");

  const alloc = rvar("alloc", R.Tensor([n, 4], "float32"));
  const y = rvar("y", R.Tensor([n, 4], "float32"));
  const expected = relaxFunction(
    [x],
    seqExpr([
      bindingBlock([
        varBinding(alloc, allocTensor(shapeExpr([n, 4]), "float32")),
        varBinding(
          rvar("_", VOID_SINFO),
          rcall(f, [x, alloc, shapeExpr([m])], { structInfo: VOID_SINFO }),
        ),
        varBinding(y, alloc),
      ]),
    ], y),
    MAIN,
  );
  assertStructuralEqual(after, expected);
});

Deno.test("CallTIRRewrite gives several outputs several allocations and a tuple", () => {
  const bb = new BlockBuilder();
  const x = R.tensor([4], "float32", "x");
  const f = globalVar("split2");
  bb.function(
    "main",
    { x },
    () =>
      bb.dataflow(() =>
        bb.emitOutput(callTIR(f, [x], [R.Tensor([2], "float32"), R.Tensor([2], "int32")]))
      ),
  );
  const after = callTIRRewrite(bb.get()).functions.get("main");

  const a0 = dataflowVar("alloc", R.Tensor([2], "float32"));
  const a1 = dataflowVar("alloc", R.Tensor([2], "int32"));
  const gv = rvar("gv", R.Tuple(R.Tensor([2], "float32"), R.Tensor([2], "int32")));
  const expected = relaxFunction(
    [x],
    seqExpr([
      dataflowBlock([
        varBinding(a0, allocTensor(shapeExpr([2]), "float32")),
        varBinding(a1, allocTensor(shapeExpr([2]), "int32")),
        varBinding(dataflowVar("_", VOID_SINFO), rcall(f, [x, a0, a1], { structInfo: VOID_SINFO })),
        varBinding(gv, tuple([a0, a1])),
      ]),
    ], gv),
    MAIN,
  );
  assertStructuralEqual(after, expected);
});

Deno.test("CallTIRRewrite turns call_dps_packed into a packed call with the outputs", () => {
  const bb = new BlockBuilder();
  const x = R.tensor([n], "float32", "x");
  bb.function(
    "main",
    { x },
    () => bb.emit(callDPSPacked("my.scale", [x], R.Tensor([n], "float32"))),
  );
  const after = callTIRRewrite(bb.get()).functions.get("main");

  const alloc = rvar("alloc", R.Tensor([n], "float32"));
  const lv = rvar("lv", R.Tensor([n], "float32"));
  assertStructuralEqual(
    after,
    relaxFunction(
      [x],
      seqExpr([
        bindingBlock([
          varBinding(alloc, allocTensor(shapeExpr([n]), "float32")),
          varBinding(rvar("_", VOID_SINFO), callPacked("my.scale", [x, alloc], VOID_SINFO)),
          varBinding(lv, alloc),
        ]),
      ], lv),
      MAIN,
    ),
  );
});

Deno.test("CallTIRRewrite leaves other calls alone and returns the module when nothing changes", () => {
  const x = rvar("x", R.Tensor([4], "float32"));
  const y = rvar("y", R.Tensor([4], "float32"));
  const f = relaxFunction(
    [x],
    seqExpr([
      bindingBlock([varBinding(y, rcall(externFunc("g"), [x], { structInfo: x.structInfo }))]),
    ], y),
  );
  const mod = irModule({ main: f });
  assert.equal(callTIRRewrite(mod), mod);
});

Deno.test("CallTIRRewrite rejects an output of unknown shape", () => {
  const bb = new BlockBuilder();
  const x = R.tensor([4], "float32", "x");
  bb.function(
    "main",
    { x },
    () => bb.emit(callTIR(globalVar("f"), [x], R.Tensor(undefined, "float32", 1))),
  );
  assertThrowsMsg(
    () => callTIRRewrite(bb.get()),
    'main: call_tir of "f": output 0 must have a known shape and dtype, got R.Tensor((?), "float32")',
  );
});
