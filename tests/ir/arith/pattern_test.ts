import assert from "node:assert/strict";
import {
  binary,
  constant,
  floordiv,
  intImm,
  max,
  min,
  notExpr,
  primVar,
  select,
} from "../../../ir/expr.ts";
import {
  applyRules,
  C1,
  C2,
  match,
  P,
  type Rule,
  type RuleContext,
  X,
  Y,
} from "../../../ir/arith/pattern.ts";
import { show } from "./_helpers.ts";

const x = primVar("x"), y = primVar("y");
const c = primVar("c", "bool");
const cx: RuleContext = {
  dtype: "int32",
  prove: () => false,
  c: (v, t = "int32") => constant(v, t),
};

Deno.test("match() captures holes and constants", () => {
  const m = match(P.floordiv(P.add(X, Y), C1), floordiv(x.add(y), 4));
  assert.ok(m);
  assert.equal(m.x, x);
  assert.equal(m.y, y);
  assert.equal(m.c1, 4);
});

Deno.test("match() requires a repeated hole to match equal expressions", () => {
  assert.ok(match(P.min(X, X), min(x, x)));
  assert.ok(match(P.min(X, X), binary("Min", x.add(1), x.add(1))));
  assert.equal(match(P.min(X, X), min(x, y)), undefined);
  assert.ok(match(P.add(C1, C1), binary("Add", intImm(3), intImm(3))));
  assert.equal(match(P.add(C1, C1), binary("Add", intImm(3), intImm(4))), undefined);
});

Deno.test("match() fails on other kinds and on non-constants for constant holes", () => {
  assert.equal(match(P.min(X, Y), max(x, y)), undefined);
  assert.equal(match(P.min(X, C1), min(x, y)), undefined);
  assert.equal(match(P.not(X), c), undefined);
});

Deno.test("match() on not and select", () => {
  const m = match(P.select(P.not(X), Y, C2), select(notExpr(c), y, 5));
  assert.ok(m);
  assert.equal(m.x, c);
  assert.equal(m.c2, 5);
});

Deno.test("applyRules() uses the first rule whose replacement is defined", () => {
  const rules: Rule[] = [
    [P.min(X, C1), (m) => (m.c1 > 10 ? m.x : undefined)], // skipped below
    [P.min(X, C1), (m, k) => k.c(m.c1)],
    [P.min(X, Y), (m) => m.y],
  ];
  assert.equal(show(applyRules(rules, min(x, 3), cx)!), "3");
  assert.equal(show(applyRules(rules, min(x, 30), cx)!), "x");
  assert.equal(show(applyRules(rules, min(x, y), cx)!), "y");
  assert.equal(applyRules(rules, max(x, y), cx), undefined);
});
