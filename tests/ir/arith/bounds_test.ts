import assert from "node:assert/strict";
import {
  callIntrin,
  castExpr,
  floordiv,
  floormod,
  intImm,
  letExpr,
  max,
  min,
  type PrimExpr,
  primVar,
  select,
  sizeVar,
  truncdiv,
  truncmod,
  type Var,
} from "../../../ir/expr.ts";
import {
  addBound,
  constIntBoundOf,
  dtypeBound,
  EVERYTHING,
  floorDivBound,
  floorModBound,
  type IntBound,
  intersectBound,
  mulBound,
  negBound,
  subBound,
  truncDivBound,
  truncModBound,
  unionBound,
} from "../../../ir/arith/bounds.ts";

const i = primVar("i"), j = primVar("j"), x = primVar("x");
const c = primVar("c", "bool");
const env = (m: ReadonlyMap<Var, IntBound>) => (v: Var) => m.get(v);
/** i in [0, 7], j in [0, 3], x unknown. */
const E = env(new Map([[i, { min: 0, max: 7 }], [j, { min: 0, max: 3 }]]));
const bound = (e: PrimExpr) => constIntBoundOf(e, E);
const b = (min: number, max: number): IntBound => ({ min, max });

Deno.test("constIntBoundOf() of affine index math", () => {
  assert.deepEqual(bound(i.mul(4).add(j)), b(0, 31));
  assert.deepEqual(bound(i.sub(j)), b(-3, 7));
  assert.deepEqual(bound(i.mul(-2).add(1)), b(-13, 1));
  assert.deepEqual(bound(intImm(5)), b(5, 5));
});

Deno.test("constIntBoundOf() of unknown variables is unbounded, except sizes and small types", () => {
  assert.deepEqual(bound(x), EVERYTHING);
  assert.deepEqual(bound(x.add(i)), EVERYTHING);
  assert.deepEqual(bound(sizeVar("n")), b(0, Infinity));
  assert.deepEqual(bound(primVar("u", "uint8")), b(0, 255));
  assert.deepEqual(bound(primVar("s", "int8")), b(-128, 127));
  assert.deepEqual(bound(c), b(0, 1));
  assert.deepEqual(bound(primVar("f", "float32")), EVERYTHING);
});

Deno.test("constIntBoundOf() of a product with an unbounded factor known to be 0", () => {
  assert.deepEqual(bound(x.mul(intImm(0))), b(0, 0));
  assert.deepEqual(mulBound(b(0, 0), EVERYTHING), b(0, 0));
});

Deno.test("constIntBoundOf() of division and modulo", () => {
  assert.deepEqual(bound(floordiv(i, 3)), b(0, 2));
  assert.deepEqual(bound(floordiv(i.sub(4), 3)), b(-2, 1));
  assert.deepEqual(bound(floordiv(i, -2)), b(-4, 0));
  assert.deepEqual(bound(floormod(x, 4)), b(0, 3));
  assert.deepEqual(bound(floormod(i.add(8), 8)), b(0, 7));
  assert.deepEqual(bound(floormod(i.add(9), 8)), b(0, 7));
  assert.deepEqual(bound(floormod(j.add(4), 8)), b(4, 7));
  assert.deepEqual(bound(floormod(x, -4)), b(-3, 0));
  assert.deepEqual(bound(truncdiv(i.sub(4), 3)), b(-1, 1));
  assert.deepEqual(bound(truncmod(x, 4)), b(-3, 3));
  assert.deepEqual(bound(truncmod(i, 4)), b(0, 3));
  assert.deepEqual(bound(truncmod(i.sub(7), 4)), b(-3, 0));
  assert.deepEqual(bound(floordiv(i, x)), EVERYTHING);
});

Deno.test("bound arithmetic on infinite ends", () => {
  assert.deepEqual(floorDivBound(b(-5, Infinity), b(1, Infinity)), b(-5, Infinity));
  assert.deepEqual(floorDivBound(b(-5, -1), b(2, Infinity)), b(-3, -1));
  assert.deepEqual(truncDivBound(b(-5, 7), b(2, Infinity)), b(-2, 3));
  assert.deepEqual(truncDivBound(b(-5, 7), b(-3, -2)), b(-3, 2));
  assert.deepEqual(floorModBound(b(0, 100), b(1, 8)), b(0, 7));
  assert.deepEqual(floorModBound(b(-Infinity, 100), b(-8, 8)), b(-7, 7));
  assert.deepEqual(truncModBound(b(-2, 100), b(5, 5)), b(-2, 4));
  assert.deepEqual(negBound(b(-Infinity, 3)), b(-3, Infinity));
  assert.deepEqual(addBound(b(0, Infinity), b(-Infinity, 0)), EVERYTHING);
  assert.deepEqual(subBound(b(0, 2), b(-1, 5)), b(-5, 3));
  assert.deepEqual(intersectBound(b(0, 9), b(5, 20)), b(5, 9));
  assert.deepEqual(unionBound(b(0, 1), b(5, 20)), b(0, 20));
});

Deno.test("constIntBoundOf() of min, max, select and if_then_else", () => {
  assert.deepEqual(bound(min(i, 3)), b(0, 3));
  assert.deepEqual(bound(max(i, 10)), b(10, 10));
  assert.deepEqual(bound(select(c, i, j.add(10))), b(0, 13));
  assert.deepEqual(bound(callIntrin("tir.if_then_else", [c, i, intImm(-1)])), b(-1, 7));
  assert.deepEqual(bound(i.lt(j)), b(0, 1));
});

Deno.test("constIntBoundOf() of casts", () => {
  assert.deepEqual(bound(castExpr("int64", i)), b(0, 7));
  assert.deepEqual(bound(castExpr("int8", i.mul(100))), b(-128, 127));
  assert.deepEqual(bound(castExpr("uint8", i)), b(0, 7));
  assert.deepEqual(bound(castExpr("int32", primVar("f", "float32"))), EVERYTHING);
  assert.deepEqual(bound(castExpr("bool", i.add(1))), b(1, 1));
});

Deno.test("constIntBoundOf() of let binds the value's bound", () => {
  const v = primVar("v");
  assert.deepEqual(bound(letExpr(v, i.mul(2), v.add(1))), b(1, 15));
});

Deno.test("constIntBoundOf() uses a cache when given one", () => {
  const cache = new WeakMap<PrimExpr, IntBound>();
  const e = i.mul(4).add(j);
  const r = constIntBoundOf(e, E, cache);
  assert.equal(cache.get(e), r);
  assert.equal(constIntBoundOf(e, E, cache), r);
});

Deno.test("dtypeBound() of each kind of dtype", () => {
  assert.deepEqual(dtypeBound("int16"), b(-32768, 32767));
  assert.deepEqual(dtypeBound("uint32"), b(0, Infinity));
  assert.deepEqual(dtypeBound("int64"), EVERYTHING);
  assert.deepEqual(dtypeBound("bool"), b(0, 1));
  assert.deepEqual(dtypeBound("float16"), EVERYTHING);
});
