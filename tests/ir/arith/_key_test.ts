import assert from "node:assert/strict";
import {
  binary,
  bufferLoad,
  declBuffer,
  floordiv,
  intImm,
  letExpr,
  max,
  min,
  primVar,
} from "../../../ir/expr.ts";
import { exprKey, freeVars, identical, sameExpr } from "../../../ir/arith/_key.ts";

const x = primVar("x"), y = primVar("y"), x2 = primVar("x");
const f = primVar("f", "float32"), g = primVar("g", "float32");

Deno.test("exprKey() identifies variables by identity, not name", () => {
  assert.notEqual(exprKey(x), exprKey(x2));
  assert.equal(exprKey(x.add(1)), exprKey(binary("Add", x, intImm(1))));
});

Deno.test("sameExpr() ignores the order of commutative integer operands", () => {
  assert.ok(sameExpr(x.add(y), y.add(x)));
  assert.ok(sameExpr(x.mul(y).mul(2), binary("Mul", y, x.mul(2))));
  assert.ok(sameExpr(min(x, y), min(y, x)));
  assert.ok(sameExpr(x.sub(y).add(1), binary("Add", intImm(1), x).sub(y)));
  assert.ok(!sameExpr(x.sub(y), y.sub(x)));
  assert.ok(!sameExpr(floordiv(x, y), floordiv(y, x)));
  assert.ok(!sameExpr(intImm(1), intImm(1, "int64")));
});

Deno.test("sameExpr() keeps float operand order for sums but not for max", () => {
  assert.ok(!sameExpr(f.add(g), g.add(f)));
  assert.ok(!sameExpr(max(f, g), max(g, f)));
});

Deno.test("identical() compares exact trees", () => {
  assert.ok(identical(x.add(y), x.add(y)));
  assert.ok(!identical(x.add(y), y.add(x)));
  const A = declBuffer([4], "float32", "A"), B = declBuffer([4], "float32", "A");
  assert.ok(identical(bufferLoad(A, [x]), bufferLoad(A, [x])));
  assert.ok(!identical(bufferLoad(A, [x]), bufferLoad(B, [x])));
});

Deno.test("freeVars() lists free variables in first-use order, skipping let-bound ones", () => {
  const v = primVar("v");
  assert.deepEqual(freeVars(letExpr(v, y.add(1), v.add(x).add(y))), [y, x]);
});
