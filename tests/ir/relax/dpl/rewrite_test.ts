import assert from "node:assert/strict";
import type { Function } from "../../../../ir/relax/expr.ts";
import { isOp, wildcard } from "../../../../ir/relax/dpl/pattern.ts";
import { rewriteCall } from "../../../../ir/relax/dpl/rewrite.ts";
import * as op from "../../../../ir/relax/op/mod.ts";
import { assertStructuralEqual } from "../../../../ir/structural.ts";
import { parseTVMScript } from "../../../../script/parser/mod.ts";
import { printTVMScript } from "../../../../script/printer.ts";

const T4 = 'R.Tensor((4,), dtype="float32")';
const fn = (body: string, params = `x: ${T4}, y: ${T4}`) =>
  parseTVMScript(`
@I.ir_module
class Module:
    @R.function
    def main(${params}) -> ${T4}:
        with R.dataflow():
${body.trim().split("\n").map((l) => "            " + l.trim()).join("\n")}
            R.output(gv)
        return gv
`);

const inner = wildcard();
const reluOfRelu = isOp("relax.nn.relu")(isOp("relax.nn.relu")(inner));
// relu(relu(x)) -> relu(x)
const dedupRelu = rewriteCall(
  reluOfRelu,
  (m) => m.get(m.pattern.kind === "Call" ? m.pattern.args[0]! : inner),
);

Deno.test("rewriteCall collapses relu(relu(x)) to a fixed point and drops dead bindings", () => {
  const before = fn(`
    lv: ${T4} = R.nn.relu(x)
    lv1: ${T4} = R.nn.relu(lv)
    lv2: ${T4} = R.nn.relu(lv1)
    gv: ${T4} = R.add(lv2, y)`);
  const expected = fn(`
    lv: ${T4} = R.nn.relu(x)
    gv: ${T4} = R.add(lv, y)`);
  const after = dedupRelu(before);
  assertStructuralEqual(after, expected);
  assertStructuralEqual(parseTVMScript(printTVMScript(after)), expected);
});

Deno.test("rewriteCall normalizes nested replacements before the rewritten binding", () => {
  const x = wildcard(), y = wildcard();
  // x / sqrt(y) -> x * rsqrt(y)
  const rw = rewriteCall(
    isOp("relax.divide")(x, isOp("relax.sqrt")(y)),
    (m) => op.multiply(m.get(x), op.rsqrt(m.get(y))),
  );
  const before = fn(`
    lv: ${T4} = R.sqrt(y)
    lv1: ${T4} = R.divide(x, lv)
    gv: ${T4} = R.nn.relu(lv1)`);
  const expected = fn(`
    lv2: ${T4} = R.rsqrt(y)
    lv1: ${T4} = R.multiply(x, lv2)
    gv: ${T4} = R.nn.relu(lv1)`);
  assertStructuralEqual(rw(before), expected);
});

Deno.test("rewriteCall returns the same object when nothing matches or the rewriter declines", () => {
  const before = fn(`gv: ${T4} = R.add(x, y)`);
  assert.equal(dedupRelu(before), before);
  const main = before.functions.get("main") as Function;
  assert.equal(dedupRelu(main), main);
  const declines = rewriteCall(isOp("relax.add")(wildcard(), wildcard()), () => undefined);
  assert.equal(declines(before), before);
  const same = rewriteCall(isOp("relax.add")(wildcard(), wildcard()), (m) => m.expr);
  assert.equal(same(before), before);
});

Deno.test("rewriteCall on a function rewrites just that function", () => {
  const before = fn(`
    lv: ${T4} = R.nn.relu(x)
    gv: ${T4} = R.nn.relu(lv)`);
  const main = before.functions.get("main") as Function;
  const after = dedupRelu(main);
  assert.notEqual(after, main);
  assertStructuralEqual(after, fn(`gv: ${T4} = R.nn.relu(x)`).functions.get("main"));
});

Deno.test("a rewriter that never settles is reported", () => {
  const a = wildcard(), b = wildcard();
  // add(a, b) -> add(b, a): undoes itself every round
  const swap = rewriteCall(isOp("relax.add")(a, b), (m) => op.add(m.get(b), m.get(a)), {
    maxRounds: 5,
  });
  assert.throws(
    () => swap(fn(`gv: ${T4} = R.add(x, y)`)),
    {
      message:
        /rewriteCall: isOp\("relax.add"\)\(wildcard\(\), wildcard\(\)\) still rewrites after 5 rounds/,
    },
  );
});
