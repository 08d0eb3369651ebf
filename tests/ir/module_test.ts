import assert from "node:assert/strict";
import { evaluate } from "../../ir/tir/stmt.ts";
import { primFunc } from "../../ir/tir/prim_func.ts";
import {
  freshGlobalName,
  getFunction,
  irModule,
  lookup,
  primFuncs,
  relaxFunctions,
  withAttrs,
  withFunction,
  without,
} from "../../ir/module.ts";

Deno.test("modules are functional: updates return new modules", () => {
  const f = primFunc([], evaluate(0));
  const g = primFunc([], evaluate(1));
  const m = irModule({ f });
  const m2 = withFunction(m, "g", g);
  assert.notEqual(m2, m);
  assert.equal(m.functions.size, 1);
  assert.equal(lookup(m2, "g"), g);
  assert.equal(withFunction(m2, "g", g), m2);
  assert.equal(without(m2, "zzz"), m2);
  assert.equal(without(m2, "g").functions.size, 1);
  assert.equal(withAttrs(m, { a: 1 }).attrs.a, 1);
  assert.equal(freshGlobalName(m2, "f"), "f1");
  assert.equal(freshGlobalName(m2, "h"), "h");
  assert.equal(primFuncs(m2).length, 2);
  assert.equal(relaxFunctions(m2).length, 0);
  assert.equal(typeof String(m), "string");
});

Deno.test("module errors name the problem", () => {
  const f = primFunc([], evaluate(0));
  assert.throws(() => irModule([["f", f], ["f", f]]), {
    message: 'Module already has a function named "f"',
  });
  assert.throws(() => irModule({ "1x": f }), {
    message: 'Invalid global function name "1x": expected an identifier',
  });
  assert.throws(() => getFunction(irModule({ f }), "main"), {
    message: 'Module has no function "main" (it has: f)',
  });
});
