import assert from "node:assert/strict";
import type { DType } from "../../../ir/dtype.ts";
import { type PrimExpr, sizeVar } from "../../../ir/expr.ts";
import type { IRModule } from "../../../ir/module.ts";
import { BlockBuilder } from "../../../ir/relax/block_builder.ts";
import {
  type AnyVar,
  type Expr,
  globalVar,
  rcall,
  shapeExpr,
  tuple,
} from "../../../ir/relax/expr.ts";
import * as R from "../../../ir/relax/r.ts";
import { assertStructuralEqual } from "../../../ir/structural.ts";
import { primFunc } from "../../../ir/tir/prim_func.ts";
import { noOp } from "../../../ir/tir/stmt.ts";
import {
  allocStorage,
  allocTensor,
  allocTensorFromStorage,
  killStorage,
  VOID_SINFO,
} from "../../../transform/relax/builtin_ops.ts";
import { staticPlanBlockMemory } from "../../../transform/relax/static_plan_block_memory.ts";
import { assertThrowsMsg } from "../../runtime/_helpers.ts";

const n = sizeVar("n", "int64");
const f = globalVar("f");

/** A module with `main` built by `body` and a PrimFunc `f` (its body does not matter here). */
function module(
  params: readonly AnyVar[],
  body: (bb: BlockBuilder) => Expr,
  attrs: { readonly [k: string]: number | { readonly [k: string]: number } } = {},
): IRModule {
  const bb = new BlockBuilder();
  bb.addPrimFunc(primFunc([], noOp()), "f");
  bb.function("main", params as never, () => body(bb), { attrs });
  return bb.get();
}

const call = (bb: BlockBuilder, ...args: Expr[]) =>
  bb.emit(rcall(f, args, { structInfo: VOID_SINFO }));
const alloc = (bb: BlockBuilder, shape: readonly (PrimExpr | number)[], dtype: DType = "float32") =>
  bb.emit(allocTensor(shapeExpr(shape), dtype), "alloc");
const view = (
  bb: BlockBuilder,
  s: Expr,
  shape: readonly (PrimExpr | number)[],
  dtype: DType = "float32",
) => bb.emit(allocTensorFromStorage(s, shapeExpr(shape), dtype), "alloc");

Deno.test("StaticPlanBlockMemory reuses the storage of a dead tensor", () => {
  const x = R.tensor([2, 4], "float32", "x");
  // a = f(x); b = f(a); c = f(b); d = f(c); return d
  const before = module([x], (bb) => {
    let prev: Expr = x;
    for (let i = 0; i < 4; i++) {
      const a = alloc(bb, [2, 4]);
      call(bb, prev, a);
      prev = bb.emit(a);
    }
    return prev;
  });
  const expected = module([x], (bb) => {
    const s0 = bb.emit(allocStorage(32, "float32"), "storage");
    const a = view(bb, s0, [2, 4]);
    call(bb, x, a);
    const lv = bb.emit(a);
    const s1 = bb.emit(allocStorage(32, "float32"), "storage");
    const b = view(bb, s1, [2, 4]);
    call(bb, lv, b);
    const lv1 = bb.emit(b);
    const c = view(bb, s0, [2, 4]); // a is dead: its storage is reused
    call(bb, lv1, c);
    const lv2 = bb.emit(c);
    const d = alloc(bb, [2, 4]); // returned: never planned
    call(bb, lv2, d);
    const lv3 = bb.emit(d);
    bb.emit(killStorage(s0));
    bb.emit(killStorage(s1));
    return lv3;
  });
  assertStructuralEqual(
    staticPlanBlockMemory(before).functions.get("main"),
    expected.functions.get("main"),
  );
});

Deno.test("StaticPlanBlockMemory shares storage only within a dtype and grows it to the largest tensor", () => {
  const x = R.tensor([4], "float32", "x");
  const before = module([x], (bb) => {
    const a = alloc(bb, [4]);
    call(bb, x, a);
    const b = alloc(bb, [4], "int32");
    call(bb, a, b);
    const c = alloc(bb, [8]);
    call(bb, b, c);
    const out = alloc(bb, [1]);
    call(bb, c, out);
    return out;
  });
  const expected = module([x], (bb) => {
    const s0 = bb.emit(allocStorage(32, "float32"), "storage");
    const a = view(bb, s0, [4]);
    call(bb, x, a);
    const s1 = bb.emit(allocStorage(16, "int32"), "storage");
    const b = view(bb, s1, [4], "int32");
    call(bb, a, b);
    const c = view(bb, s0, [8]);
    call(bb, b, c);
    const out = alloc(bb, [1]);
    call(bb, c, out);
    bb.emit(killStorage(s0));
    bb.emit(killStorage(s1));
    return out;
  });
  assertStructuralEqual(
    staticPlanBlockMemory(before).functions.get("main"),
    expected.functions.get("main"),
  );
});

Deno.test("StaticPlanBlockMemory keeps a tensor alive while a tuple holding it is used", () => {
  const x = R.tensor([4], "float32", "x");
  const before = module([x], (bb) => {
    const a = alloc(bb, [4]);
    call(bb, x, a);
    const t = bb.emit(tuple([a, x]));
    const b = alloc(bb, [4]);
    call(bb, x, b);
    const out = alloc(bb, [4]);
    call(bb, b, out);
    bb.emit(tuple([t, out]));
    return out;
  });
  const after = staticPlanBlockMemory(before).functions.get("main");
  const expected = module([x], (bb) => {
    const s0 = bb.emit(allocStorage(16, "float32"), "storage");
    const a = view(bb, s0, [4]);
    call(bb, x, a);
    const t = bb.emit(tuple([a, x]));
    const s1 = bb.emit(allocStorage(16, "float32"), "storage"); // a is still used through t
    const b = view(bb, s1, [4]);
    call(bb, x, b);
    const out = alloc(bb, [4]);
    call(bb, b, out);
    bb.emit(tuple([t, out]));
    bb.emit(killStorage(s0));
    bb.emit(killStorage(s1));
    return out;
  });
  assertStructuralEqual(after, expected.functions.get("main"));
});

Deno.test("StaticPlanBlockMemory sizes symbolic tensors by tir_var_upper_bound, and leaves unbounded ones", () => {
  const x = R.tensor([n, 4], "float32", "x");
  const body = (bb: BlockBuilder) => {
    const a = alloc(bb, [n, 4]);
    call(bb, x, a);
    const out = alloc(bb, [n, 4]);
    call(bb, a, out);
    return out;
  };
  const unbounded = module([x], body);
  assert.equal(staticPlanBlockMemory(unbounded), unbounded);

  const bounded = module([x], body, { tir_var_upper_bound: { n: 16 } });
  const expected = module([x], (bb) => {
    const s = bb.emit(allocStorage(256, "float32"), "storage");
    const a = view(bb, s, [n, 4]);
    call(bb, x, a);
    const out = alloc(bb, [n, 4]);
    call(bb, a, out);
    bb.emit(killStorage(s));
    return out;
  }, { tir_var_upper_bound: { n: 16 } });
  assertStructuralEqual(
    staticPlanBlockMemory(bounded).functions.get("main"),
    expected.functions.get("main"),
  );
});

Deno.test("StaticPlanBlockMemory rejects a malformed tir_var_upper_bound", () => {
  const x = R.tensor([4], "float32", "x");
  const mod = module([x], (bb) => {
    const a = alloc(bb, [4]);
    call(bb, x, a);
    return a;
  }, { tir_var_upper_bound: { n: -1 } });
  assertThrowsMsg(
    () => staticPlanBlockMemory(mod),
    'main: upper bound of "n" must be a non-negative integer',
  );
  const mod2 = module([x], (bb) => bb.emit(x), { tir_var_upper_bound: 3 });
  assertThrowsMsg(
    () => staticPlanBlockMemory(mod2),
    'main: attribute "tir_var_upper_bound" must map variable names to integers',
  );
});

Deno.test("a tensor returned through an alias is never planned", () => {
  const x = R.tensor([4], "float32", "x");
  const mod = module([x], (bb) => {
    const a = alloc(bb, [4]);
    call(bb, x, a);
    const t = bb.emit(tuple([a]));
    return t;
  });
  assert.equal(staticPlanBlockMemory(mod), mod);
});
