import assert from "node:assert/strict";
import type { AnyVar, Expr, Function, VarBinding } from "../../../../ir/relax/expr.ts";
import { BlockBuilder } from "../../../../ir/relax/block_builder.ts";
import * as R from "../../../../ir/relax/r.ts";
import * as te from "../../../../ir/te/mod.ts";
import {
  isCallTIR,
  isConst,
  isDFVar,
  isExpr,
  isGV,
  isOp,
  isShape,
  isTuple,
  isTupleGetItem,
  isVar,
  wildcard,
} from "../../../../ir/relax/dpl/pattern.ts";
import { matchDataflow, usedVars, varToValue } from "../../../../ir/relax/dpl/match.ts";
import { parseTVMScript } from "../../../../script/parser/mod.ts";

const mod = parseTVMScript(`
@I.ir_module
class Module:
    @R.function
    def main(x: R.Tensor((1, 4, 8, 8), dtype="float32"), w: R.Tensor((4, 4, 3, 3), dtype="float32"), b: R.Tensor((1, 4, 6, 6), dtype="float32")) -> R.Tensor((1, 4, 6, 6), dtype="float32"):
        with R.dataflow():
            lv: R.Tensor((1, 4, 6, 6), dtype="float32") = R.nn.conv2d(x, w)
            lv1: R.Tensor((1, 4, 6, 6), dtype="float32") = R.nn.relu(lv)
            lv2: R.Tensor((1, 4, 6, 6), dtype="float32") = R.add(b, lv1)
            c: R.Tensor((1, 4, 6, 6), dtype="float32") = R.const(1.5, "float32")
            lv3: R.Tensor((1, 4, 6, 6), dtype="float32") = R.multiply(lv2, lv2)
            lv4: R.Tensor((1, 4, 6, 6), dtype="float32") = R.multiply(lv3, c)
            t: R.Tuple(R.Tensor((1, 4, 6, 6), dtype="float32"), R.Tensor((1, 4, 6, 6), dtype="float32")) = (lv3, lv4)
            gv: R.Tensor((1, 4, 6, 6), dtype="float32") = t[1]
            R.output(gv)
        return gv
`);
const main = mod.functions.get("main") as Function;
const env = varToValue(main);
const body = main.body.kind === "relax.SeqExpr" ? main.body : undefined!;
const block = body.blocks[0]!;
const bind = (name: string) => block.bindings.find((b) => b.var.name === name)! as VarBinding;
const value = (name: string): Expr => bind(name).value;
const varOf = (name: string): AnyVar => bind(name).var;

Deno.test("varToValue maps each bound variable to its value", () => {
  assert.equal(env.size, 8);
  assert.equal(env.get(varOf("lv1")), value("lv1"));
  assert.deepEqual([...usedVars(value("lv2"))].map((v) => v.name), ["b", "lv1"]);
});

Deno.test("a call pattern looks through bindings and captures sites and values", () => {
  const x = wildcard(), w = wildcard();
  const conv = isOp("relax.nn.conv2d")(x, w);
  const p = isOp("relax.nn.relu")(conv);
  assert.equal(p.match(value("lv1")), undefined, "without bindings lv is just a variable");
  const m = p.match(value("lv1"), { bindings: env });
  assert.ok(m);
  assert.equal(m.expr, value("lv1"));
  assert.equal(m.get(conv), varOf("lv"), "the site of the conv is the variable lv");
  assert.equal(m.value(conv), value("lv"), "its value is the conv2d call");
  assert.equal(m.get(x), main.params[0]);
  assert.equal(m.has(w), true);
  assert.equal(m.captures().size, 6);
  assert.throws(() => m.get(isConst()), { message: /Pattern isConst\(\) did not take part/ });
});

Deno.test("add and multiply match with swapped arguments", () => {
  const relu = isOp("relax.nn.relu")(wildcard());
  const p = isOp("relax.add")(relu, isVar("b"));
  const m = p.match(value("lv2"), { bindings: env });
  assert.ok(m);
  assert.equal(m.get(relu), varOf("lv1"));
  assert.equal(
    isOp("relax.subtract")(relu, isVar("b")).match(value("lv2"), { bindings: env }),
    undefined,
  );
});

Deno.test("a pattern used twice must match the same value", () => {
  const a = wildcard();
  const square = isOp("relax.multiply")(a, a);
  assert.ok(square.match(value("lv3"), { bindings: env }));
  assert.equal(square.match(value("lv4"), { bindings: env }), undefined);
  const op = isOp("relax.multiply");
  assert.ok(op(op(wildcard(), wildcard()), wildcard()).match(value("lv4"), { bindings: env }));
});

Deno.test("constants match through variables; alternatives, conjunction and negation", () => {
  const k = isConst();
  const p = isOp("relax.multiply")(wildcard(), k);
  const m = p.match(value("lv4"), { bindings: env });
  assert.ok(m);
  assert.equal(m.get(k), varOf("c"));
  assert.equal(m.value(k).kind, "relax.Constant");
  const relu = isOp("relax.nn.relu")(wildcard());
  const alt = isOp("relax.nn.gelu")(wildcard()).or(relu);
  const am = alt.match(value("lv1"));
  assert.ok(am);
  assert.equal(am.has(relu), true);
  assert.ok(wildcard().and(relu).match(value("lv1")));
  assert.equal(relu.not().match(value("lv1")), undefined);
  assert.ok(relu.not().match(value("lv2")));
});

Deno.test("attribute, shape and dtype constraints", () => {
  const conv = isOp("relax.nn.conv2d")(wildcard(), wildcard());
  assert.ok(conv.with({ attrs: { data_layout: "NCHW", strides: [1, 1] } }).match(value("lv")));
  assert.equal(conv.with({ attrs: { data_layout: "NHWC" } }).match(value("lv")), undefined);
  assert.ok(
    conv.with({ shape: [1, 4, 6, 6], dtype: "float32" }).match(varOf("lv"), { bindings: env }),
  );
  assert.equal(conv.with({ shape: [1, 4, 6, 7] }).match(value("lv")), undefined);
  assert.equal(conv.with({ dtype: "float16" }).match(value("lv")), undefined);
  assert.ok(conv.with({ structInfo: varOf("lv").structInfo }).match(value("lv")));
});

Deno.test("variables, tuples, tuple items, globals and expressions", () => {
  assert.ok(isVar("x").match(main.params[0]!));
  assert.equal(isVar("w").match(main.params[0]!), undefined);
  assert.equal(isVar().match(varOf("lv"), { bindings: env }), undefined, "bound variables unwrap");
  assert.ok(isDFVar().match(varOf("lv")));
  assert.equal(isDFVar().match(main.params[0]!), undefined);
  const item = isTupleGetItem(
    isTuple([wildcard(), isOp("relax.multiply")(wildcard(), isConst())]),
    1,
  );
  assert.ok(item.match(value("gv"), { bindings: env }));
  assert.equal(isTupleGetItem(wildcard(), 0).match(value("gv")), undefined);
  const unordered = isTuple([isOp("relax.multiply")(wildcard(), isConst()), wildcard()], {
    unordered: true,
  });
  assert.ok(unordered.match(value("t"), { bindings: env }));
  assert.equal(isTuple([isConst(), wildcard()]).match(value("t"), { bindings: env }), undefined);
  assert.ok(isExpr(main.params[1]!).match(main.params[1]!));
  assert.equal(isGV("ma").match(main.params[0]!), undefined);
  assert.equal(isShape([1]).match(main.params[0]!), undefined);
});

Deno.test("matchDataflow assigns graph patterns to bindings along use edges", () => {
  const conv = isOp("relax.nn.conv2d")(wildcard(), wildcard());
  const relu = isOp("relax.nn.relu")(wildcard());
  const add = isOp("relax.add")(wildcard(), wildcard());
  const m = matchDataflow(conv.usedBy(relu, 0).onlyUsedBy(add), block);
  assert.ok(m);
  assert.deepEqual([m.get(conv)!.name, m.get(relu)!.name, m.get(add)!.name], ["lv", "lv1", "lv2"]);
  assert.equal(matchDataflow(relu.usedBy(add, 0), block), undefined, "lv1 is argument 1 of add");
  assert.ok(matchDataflow(relu.usedBy(add, 1), block));
  const mul = isOp("relax.multiply")(wildcard(), wildcard());
  assert.equal(matchDataflow(add.onlyUsedBy(mul), block)?.get(mul)?.name, "lv3");
  const mul2 = isOp("relax.multiply")(wildcard(), wildcard());
  assert.equal(matchDataflow(mul.onlyUsedBy(mul2), block), undefined, "lv3 is also used by t");
  assert.equal(
    matchDataflow([mul.usedBy(mul2), isOp("relax.nn.gelu")(wildcard())], block),
    undefined,
  );
  const both = matchDataflow([mul.usedBy(mul2), conv], block);
  assert.deepEqual([both?.get(mul)?.name, both?.get(mul2)?.name], ["lv3", "lv4"]);
});

Deno.test("isCallTIR matches call_tir of a PrimFunc by name, with or without tir_vars", () => {
  const bb = new BlockBuilder();
  const a = R.tensor([4], "float32", "a");
  let call: Expr | undefined;
  bb.function("main", { a }, () =>
    bb.dataflow(() => {
      call = bb.callTe((t) => te.compute(t.shape, ([i]) => t.at(i!).mul(2), { name: "dbl" }), [a], {
        name: "double_it",
      });
      return bb.emitOutput(call);
    }));
  assert.ok(call);
  assert.ok(isCallTIR("double").match(call));
  assert.ok(isCallTIR("double_it", [isVar("a")]).match(call));
  assert.equal(isCallTIR("double_it", [isConst()]).match(call), undefined);
  assert.equal(isCallTIR("triple").match(call), undefined);
});
