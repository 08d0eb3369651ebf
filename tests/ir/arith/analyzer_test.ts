import assert from "node:assert/strict";
import {
  add,
  floordiv,
  floormod,
  intImm,
  lt,
  primVar,
  range,
  sizeVar,
  sub,
} from "../../../ir/expr.ts";
import { Analyzer, simplify } from "../../../ir/arith/analyzer.ts";
import * as arith from "../../../ir/arith/mod.ts";
import { show } from "./_helpers.ts";

const i = primVar("i"), j = primVar("j"), x = primVar("x"), y = primVar("y");
const n = sizeVar("n");

Deno.test("Analyzer.bind() with a range bounds the variable", () => {
  const an = new Analyzer();
  an.bind(i, range(2, 6));
  assert.deepEqual(an.constIntBound(i), { min: 2, max: 7 });
  assert.ok(an.canProve(lt(i, 8)));
  assert.ok(!an.canProve(lt(i, 7)));
});

Deno.test("Analyzer.bind() with a symbolic range proves symbolic facts", () => {
  const an = new Analyzer();
  an.bind(i, range(0, n));
  assert.deepEqual(an.constIntBound(i), { min: 0, max: Infinity });
  assert.ok(an.canProve(lt(i, n)));
  assert.deepEqual(an.constIntBound(sub(i, n)), { min: -Infinity, max: -1 });
  assert.equal(show(an.simplify(floormod(i, n))), "i");
});

Deno.test("Analyzer.bind() with a value substitutes it", () => {
  const an = new Analyzer();
  an.bind(x, add(y, 3));
  assert.equal(show(an.simplify(sub(x, y))), "3");
  assert.ok(an.canProveEqual(x, add(y, 3)));
});

Deno.test("Analyzer.bind() of a value with a constant bound bounds the variable", () => {
  const an = new Analyzer();
  an.bind(i, range(0, 4));
  an.bind(x, i.mul(2));
  assert.deepEqual(an.constIntBound(x), { min: 0, max: 6 });
});

Deno.test("Analyzer.bind() replaces an earlier fact", () => {
  const an = new Analyzer();
  an.bind(i, range(0, 4));
  an.bind(i, range(0, 100));
  assert.deepEqual(an.constIntBound(i), { min: 0, max: 99 });
});

Deno.test("Analyzer.bind() rejects a value of another dtype", () => {
  const an = new Analyzer();
  assert.throws(() => an.bind(x, intImm(1, "int64")), {
    message: 'Cannot bind int64 value to int32 variable "x"',
  });
});

Deno.test("Analyzer.bindConstBound() bounds a variable", () => {
  const an = new Analyzer();
  an.bindConstBound(x, { min: -3, max: 3 });
  assert.deepEqual(an.constIntBound(x.mul(2)), { min: -6, max: 6 });
  assert.ok(an.canProve(lt(x, 4)));
});

Deno.test("Analyzer.bindConstBound() rejects an empty bound", () => {
  assert.throws(() => new Analyzer().bindConstBound(x, { min: 3, max: 1 }), {
    message: 'Cannot bind "x" to the empty bound [3, 1]',
  });
});

Deno.test("Analyzer.withScope() forgets bindings made inside, also on throw", () => {
  const an = new Analyzer();
  an.bind(i, range(0, 8));
  const inside = an.withScope(() => {
    an.bind(j, range(0, 4));
    an.bind(i, range(0, 2));
    return an.simplify(floordiv(i.mul(4).add(j), 8));
  });
  assert.equal(show(inside), "0");
  assert.deepEqual(an.constIntBound(j), { min: -Infinity, max: Infinity });
  assert.deepEqual(an.constIntBound(i), { min: 0, max: 7 });
  assert.throws(() =>
    an.withScope(() => {
      an.bind(j, range(0, 4));
      throw new Error("boom");
    }), { message: "boom" });
  assert.deepEqual(an.constIntBound(j), { min: -Infinity, max: Infinity });
});

Deno.test("Analyzer.canProve() says false when it cannot tell", () => {
  const an = new Analyzer();
  assert.ok(!an.canProve(lt(x, y)));
  assert.ok(!an.canProve(lt(x, 0)));
  assert.ok(an.canProve(lt(x, x.add(1))));
  assert.ok(an.canProve(x.mul(2).ne(7)));
});

Deno.test("Analyzer.canProveEqual() on integers and other dtypes", () => {
  const an = new Analyzer();
  assert.ok(an.canProveEqual(floordiv(x, 4).mul(4).add(floormod(x, 4)), x));
  assert.ok(an.canProveEqual(x.add(y), y.add(x)));
  assert.ok(!an.canProveEqual(x, y));
  const f = primVar("f", "float32");
  assert.ok(an.canProveEqual(f.mul(2), f.mul(2)));
  assert.ok(!an.canProveEqual(f.mul(2), f.mul(3)));
});

Deno.test("Analyzer.constIntBound() of unknown and size variables", () => {
  const an = new Analyzer();
  assert.deepEqual(an.constIntBound(x), { min: -Infinity, max: Infinity });
  assert.deepEqual(an.constIntBound(n), { min: 0, max: Infinity });
  assert.deepEqual(an.constIntBound(floormod(x, 8)), { min: 0, max: 7 });
});

Deno.test("simplify() is the one-shot form of Analyzer.simplify()", () => {
  const e = i.mul(4).add(j).sub(i.mul(4));
  assert.equal(show(simplify(e)), "j");
  const bounded = simplify(lt(i, 8), { bounds: new Map([[i, range(0, 8)]]) });
  assert.equal(show(bounded), "True");
});

Deno.test("mod.ts exports the analyzer API", () => {
  assert.equal(arith.Analyzer, Analyzer);
  assert.equal(typeof arith.simplify, "function");
  assert.equal(typeof arith.evalSet, "function");
});
