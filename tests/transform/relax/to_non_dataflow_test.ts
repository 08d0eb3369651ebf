import assert from "node:assert/strict";
import { sizeVar } from "../../../ir/expr.ts";
import { irModule } from "../../../ir/module.ts";
import { BlockBuilder } from "../../../ir/relax/block_builder.ts";
import {
  bindingBlock,
  dataflowBlock,
  dataflowVar,
  type Function,
  ifExpr,
  relaxFunction,
  rvar,
  seqExpr,
  varBinding,
} from "../../../ir/relax/expr.ts";
import * as op from "../../../ir/relax/op/mod.ts";
import * as R from "../../../ir/relax/r.ts";
import { assertStructuralEqual } from "../../../ir/structural.ts";
import { wellFormed } from "../../../ir/well_formed.ts";
import { toNonDataflow } from "../../../transform/relax/to_non_dataflow.ts";

const n = sizeVar("n", "int64");

Deno.test("ToNonDataflow turns dataflow blocks and variables into plain ones", () => {
  const bb = new BlockBuilder();
  const x = R.tensor([n, 4], "float32", "x");
  bb.function("main", { x }, () =>
    bb.dataflow(() => {
      const lv = bb.emit(op.exp(x));
      const lv1 = bb.emit(op.add(lv, x));
      return bb.emitOutput(op.multiply(lv1, lv));
    }));
  const before = bb.get();
  const after = toNonDataflow(before);

  const x2 = R.tensor([n, 4], "float32", "x");
  const lv = rvar("lv", R.Tensor([n, 4], "float32"));
  const lv1 = rvar("lv1", R.Tensor([n, 4], "float32"));
  const gv = rvar("gv", R.Tensor([n, 4], "float32"));
  const expected = relaxFunction(
    [x2],
    seqExpr([
      bindingBlock([
        varBinding(lv, op.exp(x2)),
        varBinding(lv1, op.add(lv, x2)),
        varBinding(gv, op.multiply(lv1, lv)),
      ]),
    ], gv),
    { attrs: { global_symbol: "main" } },
  );
  assertStructuralEqual(after.functions.get("main"), expected);
  const f = after.functions.get("main") as Function;
  assert.equal(f.body.kind === "relax.SeqExpr" && f.body.blocks[0]!.kind, "BindingBlock");
  assert.deepEqual(wellFormed(after), []);
});

Deno.test("ToNonDataflow rewrites dataflow blocks inside If branches", () => {
  const c = rvar("c", R.Prim("bool"));
  const x = rvar("x", R.Tensor([4], "float32"));
  const d = dataflowVar("d", R.Tensor([4], "float32"));
  const o = rvar("o", R.Tensor([4], "float32"));
  const branch = seqExpr(
    [dataflowBlock([varBinding(d, op.exp(x)), varBinding(o, op.add(d, x))])],
    o,
  );
  const y = rvar("y", R.Tensor([4], "float32"));
  const f = relaxFunction(
    [c, x],
    seqExpr([bindingBlock([varBinding(y, ifExpr(c, branch, x))])], y),
  );
  const after = toNonDataflow(irModule({ main: f })).functions.get("main");

  const d2 = rvar("d", R.Tensor([4], "float32"));
  const o2 = rvar("o", R.Tensor([4], "float32"));
  const branch2 = seqExpr([
    bindingBlock([varBinding(d2, op.exp(x)), varBinding(o2, op.add(d2, x))]),
  ], o2);
  const y2 = rvar("y", R.Tensor([4], "float32"));
  assertStructuralEqual(
    after,
    relaxFunction([c, x], seqExpr([bindingBlock([varBinding(y2, ifExpr(c, branch2, x))])], y2)),
  );
});

Deno.test("ToNonDataflow returns the module itself when there is no dataflow block", () => {
  const bb = new BlockBuilder();
  const x = R.tensor([4], "float32", "x");
  bb.function("main", { x }, () => bb.emit(op.exp(x)));
  const mod = bb.get();
  assert.equal(toNonDataflow(mod), mod);
});
