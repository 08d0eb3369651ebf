import assert from "node:assert/strict";
import {
  bufferLoad,
  cast,
  declBuffer,
  floordiv,
  floormod,
  intImm,
  letExpr,
  max,
  min,
  type PrimExpr,
  primVar,
  ramp,
  type Range,
  range,
  select,
  sizeVar,
  truncdiv,
  truncmod,
  type Var,
} from "../../../ir/expr.ts";
import { Analyzer } from "../../../ir/arith/analyzer.ts";
import {
  evalSet,
  intervalFromRange,
  type IntervalSet,
  intervalSet,
  intervalToRange,
} from "../../../ir/arith/int_set.ts";
import { show } from "./_helpers.ts";

const i = primVar("i"), j = primVar("j"), x = primVar("x"), y = primVar("y");
const n = sizeVar("n");
const c = primVar("c", "bool");
/** i in [0, 8), j in [0, 4). */
const D = new Map<Var, Range>([[i, range(0, 8)], [j, range(0, 4)]]);

function set(e: PrimExpr, doms: ReadonlyMap<Var, Range | IntervalSet> = D, an?: Analyzer): string {
  const s = evalSet(e, doms, an);
  return `[${show(s.min)}, ${show(s.max)}]`;
}

Deno.test("evalSet() of affine index math", () => {
  assert.equal(set(i.mul(4).add(j)), "[0, 31]");
  assert.equal(set(i.sub(j)), "[-3, 7]");
  assert.equal(set(intImm(10).sub(i)), "[3, 10]");
  assert.equal(set(i.mul(j)), "[0, 21]");
  assert.equal(set(i.sub(4).mul(j.sub(2))), "[-6, 8]");
});

Deno.test("evalSet() keeps variables outside the domains fixed", () => {
  assert.equal(set(x.add(i)), "[x, x + 7]");
  assert.equal(set(x), "[x, x]");
});

Deno.test("evalSet() with symbolic domains", () => {
  const doms = new Map([[i, range(0, n)], [j, range(0, 4)]]);
  assert.equal(set(i.mul(4).add(j), doms), "[0, n * 4 - 1]");
  assert.equal(set(floordiv(i, n), new Map([[i, range(0, n)]])), "[0, 0]");
  assert.equal(set(j.mul(2), new Map([[j, intervalSet(x, x.add(3))]])), "[x * 2, x * 2 + 6]");
});

Deno.test("evalSet() of division and modulo", () => {
  assert.equal(set(floordiv(i, 4)), "[0, 1]");
  assert.equal(set(floordiv(i.mul(4).add(j), 4)), "[0, 7]");
  assert.equal(set(floordiv(i, -2)), "[-4, 0]");
  assert.equal(set(floormod(i, 4)), "[0, 3]");
  assert.equal(set(floormod(j, 8)), "[0, 3]");
  assert.equal(set(floormod(i.add(8), 8)), "[0, 7]");
  assert.equal(set(floormod(i, 4), new Map([[i, range(0, n)]])), "[0, min(n - 1, 3)]");
  assert.equal(set(truncmod(i, 3)), "[0, 2]");
  assert.equal(set(truncmod(i.sub(4), 3)), "[-2, 2]");
  assert.equal(set(truncdiv(i.sub(4), 3)), "[-1, 1]");
});

Deno.test("evalSet() of min, max, select, cast and let", () => {
  assert.equal(set(min(i, x)), "[min(x, 0), min(x, 7)]");
  assert.equal(set(max(i, 3)), "[3, 7]");
  assert.equal(set(select(c, i, j.add(10))), "[0, 13]");
  assert.equal(set(cast(i, "int64")), "[int64(0), int64(7)]");
  const v = primVar("v");
  assert.equal(set(letExpr(v, i.mul(2), v.add(1))), "[1, 15]");
});

Deno.test("evalSet() of a vector index covers every lane", () => {
  assert.equal(set(ramp(i.mul(4), intImm(1), 4)), "[0, 31]");
  assert.equal(set(ramp(i, intImm(-2), 3)), "[-4, 7]");
});

Deno.test("evalSet() falls back to the dtype's limits for what it cannot bound", () => {
  assert.equal(set(floordiv(i, y)), "[-2147483648, 2147483647]");
  const A = declBuffer([8], "int32", "A");
  assert.equal(set(bufferLoad(A, [i])), "[-2147483648, 2147483647]");
  assert.equal(set(bufferLoad(A, [x])), "[A[x], A[x]]");
  const B = declBuffer([8], "uint8", "B");
  assert.equal(set(bufferLoad(B, [i])), "[uint8(0), uint8(255)]");
  const m = primVar("m", "int64");
  const s = evalSet(
    floordiv(m, y.cast("int64")),
    new Map([[m, range(intImm(0, "int64"), intImm(4, "int64"))]]),
  );
  assert.equal(show(s.max), `int64(${Number.MAX_SAFE_INTEGER})`);
});

Deno.test("evalSet() simplifies ends with the analyzer's facts", () => {
  const an = new Analyzer();
  an.bind(x, range(10, 10));
  assert.equal(set(min(i, x), D, an), "[0, 7]");
  assert.equal(set(i.mul(x), D, an), "[0, x * 7]");
});

Deno.test("intervalFromRange() and intervalToRange() convert both ways", () => {
  const s = intervalFromRange(range(x, 4));
  assert.equal(`${show(s.min)} ${show(s.max)}`, "x x + 4 - 1");
  const r = intervalToRange(intervalSet(x, x.add(3)));
  assert.equal(`${show(r.min)} ${show(r.extent)}`, "x 4");
});
