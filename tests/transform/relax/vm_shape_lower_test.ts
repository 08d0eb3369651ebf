import assert from "node:assert/strict";
import { sizeVar } from "../../../ir/expr.ts";
import type { IRModule } from "../../../ir/module.ts";
import { BlockBuilder } from "../../../ir/relax/block_builder.ts";
import {
  type AnyVar,
  bindingBlock,
  dataTypeImm,
  type Expr,
  primValue,
  relaxFunction,
  rvar,
  seqExpr,
  shapeExpr,
  tupleGetItem,
  varBinding,
} from "../../../ir/relax/expr.ts";
import * as R from "../../../ir/relax/r.ts";
import { assertStructuralEqual } from "../../../ir/structural.ts";
import { allocTensor, callBuiltin, VOID_SINFO } from "../../../transform/relax/builtin_ops.ts";
import { vmShapeLower } from "../../../transform/relax/vm_shape_lower.ts";
import { assertThrowsMsg } from "../../runtime/_helpers.ts";

const n = sizeVar("n", "int64");
const m = sizeVar("m", "int64");

function module(params: readonly AnyVar[], body: (bb: BlockBuilder) => Expr): IRModule {
  const bb = new BlockBuilder();
  bb.function("main", params as never, () => body(bb));
  return bb.get();
}

const heapOf = (bb: BlockBuilder, slots: number) =>
  bb.emit(callBuiltin("alloc_shape_heap", [slots], R.Object()), "shape_heap");
const builtin = (bb: BlockBuilder, name: string, args: readonly (Expr | number | string)[]) =>
  bb.emit(callBuiltin(name, args));
const f32 = dataTypeImm("float32");

function lowered(mod: IRModule): unknown {
  return vmShapeLower(mod).functions.get("main");
}

Deno.test("VMShapeLower checks parameters, matches symbolic dims and makes shapes from the heap", () => {
  const x = R.tensor([n, 4], "float32", "x");
  const y = R.tensor([n], "float32", "y");
  const before = module([x, y], (bb) => bb.emit(allocTensor(shapeExpr([n, 4]), "float32")));
  const ex = 'main: parameter "x" expects R.Tensor((n, 4), "float32")';
  const ey = 'main: parameter "y" expects R.Tensor((n,), "float32")';
  const expected = module([x, y], (bb) => {
    const h = heapOf(bb, 1);
    builtin(bb, "check_tensor_info", [x, 2, f32, ex]);
    builtin(bb, "check_tensor_info", [y, 1, f32, ey]);
    builtin(bb, "match_shape", [x, h, 2, 1, 0, 0, 4, ex]); // store n in slot 0; 4 == 4
    builtin(bb, "match_shape", [y, h, 1, 2, 0, ey]); // y's n must equal slot 0
    const s = bb.emit(callBuiltin("make_shape", [h, 2, 1, 0, 0, 4], R.Shape([n, 4])), "shape");
    return bb.emit(allocTensor(s, "float32"));
  });
  assertStructuralEqual(lowered(before), expected.functions.get("main"));
});

Deno.test("VMShapeLower computes composite dimensions once their variables are known", () => {
  // x's n + 1 is checked after y defines n.
  const x = R.tensor([n.add(1)], "float32", "x");
  const y = R.tensor([n], "float32", "y");
  const before = module(
    [x, y],
    (bb) => bb.emit(allocTensor(shapeExpr([n.add(1), n.mul(2)]), "float32")),
  );
  const ex = 'main: parameter "x" expects R.Tensor(((n + 1),), "float32")';
  const ey = 'main: parameter "y" expects R.Tensor((n,), "float32")';
  const expected = module([x, y], (bb) => {
    const h = heapOf(bb, 3);
    builtin(bb, "check_tensor_info", [x, 1, f32, ex]);
    builtin(bb, "check_tensor_info", [y, 1, f32, ey]);
    builtin(bb, "match_shape", [y, h, 1, 1, 0, ey]);
    builtin(bb, "eval_shape_expr", [h, 1, '["add","s0",1]']);
    builtin(bb, "match_shape", [x, h, 1, 2, 1, ex]);
    builtin(bb, "eval_shape_expr", [h, 2, '["mul","s0",2]']);
    const s = bb.emit(callBuiltin("make_shape", [h, 2, 1, 1, 1, 2], R.Shape([n.add(1), n.mul(2)])));
    return bb.emit(allocTensor(s, "float32"));
  });
  assertStructuralEqual(lowered(before), expected.functions.get("main"));
});

Deno.test("VMShapeLower lowers match_cast, tuple and scalar parameters", () => {
  const t = rvar("t", R.Tuple(R.Tensor(undefined, "float32", 2), R.Object()));
  const k = rvar("k", R.Prim("int64", n));
  const before = module([t, k], (bb) => {
    const f0 = bb.emit(tupleGetItem(t, 0));
    bb.matchCast(f0, R.Tensor([m, n], "float32"), "c");
    return bb.emit(primValue(m.add(n)));
  });
  const et = 'main: parameter "t" expects R.Tuple(R.Tensor("float32", ndim=2), R.Object)';
  const ef = 'main: parameter "t" field 0 expects R.Tensor("float32", ndim=2)';
  const ek = 'main: parameter "k" expects R.Prim(value=n)';
  const ec = 'main: R.match_cast to "c" expects R.Tensor((m, n), "float32")';
  const h = rvar("shape_heap", R.Object());
  const field = rvar("field", R.Tensor(undefined, "float32", 2));
  const f0 = rvar("lv", R.Tensor(undefined, "float32", 2));
  const c = rvar("c", R.Tensor([m, n], "float32"));
  const v = rvar("value", R.Prim("int64", m.add(n)));
  const out = rvar("lv1", R.Prim("int64", m.add(n)));
  const call = (name: string, args: readonly (Expr | number | string)[]) =>
    varBinding(rvar("_", VOID_SINFO), callBuiltin(name, args));
  const expected = relaxFunction(
    [t, k],
    seqExpr([bindingBlock([
      varBinding(h, callBuiltin("alloc_shape_heap", [3], R.Object())),
      call("check_tuple_info", [t, 2, et]),
      varBinding(field, tupleGetItem(t, 0)),
      call("check_tensor_info", [field, 2, f32, ef]),
      call("check_prim_value_info", [k, dataTypeImm("int64"), ek]),
      call("match_prim_value", [k, h, 1, 0, ek]),
      varBinding(f0, tupleGetItem(t, 0)),
      call("check_tensor_info", [f0, 2, f32, ec]),
      call("match_shape", [f0, h, 2, 1, 1, 2, 0, ec]),
      varBinding(c, f0),
      call("eval_shape_expr", [h, 2, '["add","s1","s0"]']),
      varBinding(v, callBuiltin("make_prim_value", [h, 1, 2], R.Prim("int64", m.add(n)))),
      varBinding(out, v),
    ])], out),
    { attrs: { global_symbol: "main" } },
  );
  assertStructuralEqual(lowered(before), expected);
});

Deno.test("VMShapeLower checks static dimensions and leaves constant shapes", () => {
  const x = R.tensor([2, 3], "float32", "x");
  const before = module([x], (bb) => bb.emit(allocTensor(shapeExpr([2, 3]), "float32")));
  const e = 'main: parameter "x" expects R.Tensor((2, 3), "float32")';
  const expected = module([x], (bb) => {
    const h = heapOf(bb, 0);
    builtin(bb, "check_tensor_info", [x, 2, f32, e]);
    builtin(bb, "match_shape", [x, h, 2, 0, 2, 0, 3, e]);
    return bb.emit(allocTensor(shapeExpr([2, 3]), "float32"));
  });
  const after = vmShapeLower(before);
  assertStructuralEqual(after.functions.get("main"), expected.functions.get("main"));
  const noParams = module([], (bb) => bb.emit(shapeExpr([1])));
  assert.equal(vmShapeLower(noParams), noParams);
});

Deno.test("VMShapeLower rejects variables no parameter defines", () => {
  const x = R.tensor([n.mul(2)], "float32", "x");
  assertThrowsMsg(
    () => vmShapeLower(module([x], (bb) => bb.emit(x))),
    'main: parameter "x": cannot check dimension "n * 2": "n" is not defined by a parameter or match_cast',
  );
  const y = R.tensor([4], "float32", "y");
  assertThrowsMsg(
    () => vmShapeLower(module([y], (bb) => bb.emit(allocTensor(shapeExpr([m]), "float32")))),
    'main: shape (m) uses "m", which no parameter or match_cast defines',
  );
});
