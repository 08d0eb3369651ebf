import assert from "node:assert/strict";
import { binary, floordiv, floormod, intImm, type PrimExpr, primVar } from "../../../ir/expr.ts";
import { gcd, isLinearDType, LinearSum } from "../../../ir/arith/linear.ts";
import { show } from "./_helpers.ts";

const x = primVar("x"), y = primVar("y"), z = primVar("z");
const terms = (s: LinearSum) =>
  s.terms.map((t) => `${t.coef}*${show(t.term)}`).join(" ") + ` + ${s.constant}`;

Deno.test("LinearSum.of() splits sums and products with constants", () => {
  const e = x.mul(3).add(y).sub(x).add(7).mul(2);
  assert.equal(terms(LinearSum.of(e)), "4*x 2*y + 14");
});

Deno.test("LinearSum.of() keeps other nodes as terms, collecting constant factors", () => {
  const e = binary("Mul", x.mul(2), y.mul(3)).add(floordiv(x, 4));
  assert.equal(terms(LinearSum.of(e)), "6*x * y 1*x // 4 + 0");
  const p = binary("Mul", x.add(1), y);
  assert.equal(terms(LinearSum.of(p)), "1*(x + 1) * y + 0");
});

Deno.test("LinearSum.toExpr() puts added terms first, in first-appearance order", () => {
  const s = new LinearSum("int32").addTerm(z, -1).addTerm(y, 2).addTerm(x, 1);
  s.constant = -3;
  assert.equal(show(s.toExpr()), "y * 2 + x - z - 3");
  const negOnly = new LinearSum("int32").addTerm(x, -2).addTerm(y, -1);
  assert.equal(show(negOnly.toExpr()), "x * -2 - y");
  assert.equal(show(new LinearSum("int32").toExpr()), "0");
});

Deno.test("LinearSum.toExpr() on unsigned sums starts with 0 - x", () => {
  const u = primVar("u", "uint32");
  assert.equal(show(new LinearSum("uint32").addTerm(u, -1).toExpr()), "uint32(0) - u");
});

Deno.test("LinearSum drops terms that cancel and keeps dtype", () => {
  const m = primVar("m", "int64");
  const s = LinearSum.of(binary("Sub", binary("Add", m, intImm(2, "int64")), m));
  assert.ok(s.isConstant);
  assert.equal(s.constant, 2);
  assert.equal(s.toExpr().dtype, "int64");
});

Deno.test("LinearSum.splitBy() separates the multiples of c", () => {
  const s = LinearSum.of(x.mul(8).add(y.mul(3)).add(z.mul(4)).add(-5));
  const { quotient, rest } = s.splitBy(4);
  assert.equal(terms(quotient), "2*x 1*z + -2");
  assert.equal(terms(rest), "3*y + 3");
});

Deno.test("LinearSum.mergeDivMod() recombines x // c * c + x % c", () => {
  const s = LinearSum.of(floordiv(x, 4).mul(8).add(floormod(x, 4).mul(2)).add(y));
  assert.ok(s.mergeDivMod());
  assert.equal(show(s.toExpr()), "y + x * 2");
  const t = LinearSum.of(floordiv(x, 4).mul(4).add(floormod(x, 4).mul(2)));
  assert.ok(!t.mergeDivMod());
});

Deno.test("LinearSum.coefGcd(), divideExact(), scale() and clone()", () => {
  const s = LinearSum.of(x.mul(6).add(y.mul(4)).add(10));
  assert.equal(s.coefGcd(false), 2);
  assert.equal(s.coefGcd(true), 2);
  const half = s.clone().divideExact(2);
  assert.equal(terms(half), "3*x 2*y + 5");
  assert.equal(terms(s), "6*x 4*y + 10");
  assert.equal(terms(s.scale(-1)), "-6*x -4*y + -10");
  assert.equal(s.coefOf(y), -4);
  assert.equal(s.coefOf(z), 0);
});

Deno.test("LinearSum.isExact rejects coefficients that overflow the dtype", () => {
  const b = primVar("b", "int8");
  const big: PrimExpr = binary("Mul", b, intImm(100, "int8"));
  assert.ok(!LinearSum.of(binary("Add", big, big)).isExact);
  assert.ok(LinearSum.of(big).isExact);
});

Deno.test("gcd() and isLinearDType()", () => {
  assert.equal(gcd(12, -18), 6);
  assert.equal(gcd(0, 5), 5);
  assert.equal(gcd(0, 0), 0);
  assert.ok(isLinearDType("int64"));
  assert.ok(!isLinearDType("int32x4"));
  assert.ok(!isLinearDType("float32"));
  assert.ok(!isLinearDType("bool"));
});
