/**
 * Rewrite cases of the simplifier. Results are compared through an infix printer (`show`), so
 * each case reads as `input -> expected`.
 */

import assert from "node:assert/strict";
import {
  binary,
  type BinaryKind,
  boolImm,
  bufferLoad,
  callIntrin,
  castExpr,
  declBuffer,
  floatImm,
  floordiv,
  floormod,
  intImm,
  letExpr,
  max,
  min,
  neg,
  not,
  notExpr,
  type PrimExpr,
  primVar,
  ramp,
  range,
  select,
  sizeVar,
  truncdiv,
  truncmod,
} from "../../../ir/expr.ts";
import { Analyzer, simplify } from "../../../ir/arith/analyzer.ts";
import { Simplifier } from "../../../ir/arith/simplify.ts";
import { show } from "./_helpers.ts";

const x = primVar("x"), y = primVar("y"), z = primVar("z");
const i = primVar("i"), j = primVar("j"), k = primVar("k");
const n = sizeVar("n");
const m = primVar("m", "int64");
const f = primVar("f", "float32"), g = primVar("g", "float32");
const c = primVar("c", "bool"), d = primVar("d", "bool");

/** The raw node, without the folding the fluent helpers do. */
const B = (kind: BinaryKind, a: PrimExpr | number, b: PrimExpr | number): PrimExpr =>
  binary(
    kind,
    typeof a === "number" ? intImm(a) : a,
    typeof b === "number" ? intImm(b) : b,
  );
const f32 = (v: number) => floatImm(v, "float32");

/** i in [0, 8), j in [0, 4), k in [0, n). */
function analyzer(): Analyzer {
  const an = new Analyzer();
  an.bind(i, range(0, 8));
  an.bind(j, range(0, 4));
  an.bind(k, range(0, n));
  return an;
}

/** [description, input, expected] */
const cases: ReadonlyArray<readonly [string, PrimExpr, string]> = [
  // constant folding
  ["3 + 4 -> 7", B("Add", 3, 4), "7"],
  ["-7 // 2 -> -4", B("FloorDiv", -7, 2), "-4"],
  ["-7 % 2 -> 1", B("FloorMod", -7, 2), "1"],
  ["truncdiv(-7, 2) -> -3", B("Div", -7, 2), "-3"],
  ["truncmod(-7, 2) -> -1", B("Mod", -7, 2), "-1"],
  ["min(3, 5) -> 3", B("Min", 3, 5), "3"],
  ["max(3, 5) -> 5", B("Max", 3, 5), "5"],
  ["3 < 5 -> True", B("LT", 3, 5), "True"],
  [
    "int8 100 + 100 does not fold (it would overflow)",
    B("Add", intImm(100, "int8"), intImm(100, "int8")),
    "int8(100) + int8(100)",
  ],
  ["x // 0 is left alone", B("FloorDiv", x, 0), "x // 0"],
  [
    "float32 0.1 + 0.2 rounds to float32",
    B("Add", f32(0.1), f32(0.2)),
    `float32(${Math.fround(Math.fround(0.1) + Math.fround(0.2))})`,
  ],
  ["float constant compare", B("LT", f32(1.5), f32(2.5)), "True"],
  [
    "float math is not reassociated",
    B("Add", B("Add", f, f32(1)), f32(2)),
    "f + float32(1) + float32(2)",
  ],
  ["f * 1.0 is left alone", B("Mul", f, f32(1)), "f * float32(1)"],
  ["f - f is left alone (NaN)", B("Sub", f, f), "f - f"],
  ["cast of 300 to int8 wraps", castExpr("int8", intImm(300)), "int8(44)"],
  ["cast of 2.7 to int32 truncates", castExpr("int32", f32(2.7)), "2"],
  ["cast of 3 to float32", castExpr("float32", intImm(3)), "float32(3)"],
  ["cast of 2 to bool", castExpr("bool", intImm(2)), "True"],
  ["cast of a variable stays", castExpr("int64", B("Add", x, 0)), "int64(x)"],
  // canonical sums
  ["x + 2 + x*3 - 2 -> x*4", B("Sub", B("Add", B("Add", x, 2), B("Mul", x, 3)), 2), "x * 4"],
  ["(i*4 + j) - i*4 -> j", B("Sub", B("Add", B("Mul", i, 4), j), B("Mul", i, 4)), "j"],
  ["-i + j -> j - i", B("Add", neg(i), j), "j - i"],
  ["x - x -> 0", B("Sub", x, x), "0"],
  ["(x + 1) * 4 -> x*4 + 4", B("Mul", B("Add", x, 1), 4), "x * 4 + 4"],
  ["(x + y) - (y + x) -> 0", B("Sub", B("Add", x, y), B("Add", y, x)), "0"],
  ["x*y - y*x -> 0", B("Sub", B("Mul", x, y), B("Mul", y, x)), "0"],
  ["2 * (x * 3) -> x*6", B("Mul", 2, B("Mul", x, 3)), "x * 6"],
  ["(x*2) * (y*3) -> x*y*6", B("Mul", B("Mul", x, 2), B("Mul", y, 3)), "x * y * 6"],
  ["0 - x -> x * -1", B("Sub", 0, x), "x * -1"],
  ["x - (y - x) -> x*2 - y", B("Sub", x, B("Sub", y, x)), "x * 2 - y"],
  [
    "(x + 1) * (y + 2) stays a product",
    B("Mul", B("Add", x, 1), B("Add", y, 2)),
    "(x + 1) * (y + 2)",
  ],
  [
    "x*3 - 5 - x*3 + y + 5 -> y",
    B("Add", B("Add", B("Sub", B("Sub", B("Mul", x, 3), 5), B("Mul", x, 3)), y), 5),
    "y",
  ],
  ["x // 4 * 4 + x % 4 -> x", B("Add", B("Mul", floordiv(x, 4), 4), floormod(x, 4)), "x"],
  [
    "(x // 4 * 4 + x % 4) * 2 -> x*2",
    B("Mul", B("Add", B("Mul", floordiv(x, 4), 4), floormod(x, 4)), 2),
    "x * 2",
  ],
  ["x // n * n + x % n -> x", B("Add", B("Mul", floordiv(x, n), n), floormod(x, n)), "x"],
  [
    "truncdiv(x, 8) * 8 + truncmod(x, 8) -> x",
    B("Add", B("Mul", truncdiv(x, 8), 8), truncmod(x, 8)),
    "x",
  ],
  // division and modulo
  ["(x*4 + j) // 4 -> x", floordiv(B("Add", B("Mul", x, 4), j), 4), "x"],
  ["(x*4 + j) % 4 -> j", floormod(B("Add", B("Mul", x, 4), j), 4), "j"],
  [
    "(x*4 + y) // 4 -> x + y // 4 (y unbounded)",
    floordiv(B("Add", B("Mul", x, 4), y), 4),
    "x + y // 4",
  ],
  ["(x*4 + y) % 4 -> y % 4", floormod(B("Add", B("Mul", x, 4), y), 4), "y % 4"],
  ["x // 1 -> x", B("FloorDiv", x, 1), "x"],
  ["x % 1 -> 0", B("FloorMod", x, 1), "0"],
  ["x // 4 // 8 -> x // 32", floordiv(floordiv(x, 4), 8), "x // 32"],
  ["x % 8 % 4 -> x % 4", floormod(floormod(x, 8), 4), "x % 4"],
  ["x % 4 % 8 -> x % 4", floormod(floormod(x, 4), 8), "x % 4"],
  ["x % 6 % 4 stays", floormod(floormod(x, 6), 4), "x % 6 % 4"],
  ["x*6 // 4 -> x*3 // 2", floordiv(B("Mul", x, 6), 4), "x * 3 // 2"],
  ["(x*8 + 5) // 4 -> x*2 + 1", floordiv(B("Add", B("Mul", x, 8), 5), 4), "x * 2 + 1"],
  ["(x*8 + 5) % 4 -> 1", floormod(B("Add", B("Mul", x, 8), 5), 4), "1"],
  ["(x - 1) // 4 keeps its shape", floordiv(B("Sub", x, 1), 4), "(x - 1) // 4"],
  ["i // 8 -> 0", floordiv(i, 8), "0"],
  ["(i + 8) // 8 -> 1", floordiv(B("Add", i, 8), 8), "1"],
  ["(i + 8) % 8 -> i", floormod(B("Add", i, 8), 8), "i"],
  ["(i*4 + j) // 8 stays", floordiv(B("Add", B("Mul", i, 4), j), 8), "(i * 4 + j) // 8"],
  ["truncdiv(i*4 + j, 4) -> i", truncdiv(B("Add", B("Mul", i, 4), j), 4), "i"],
  ["truncmod(i*4 + j, 4) -> j", truncmod(B("Add", B("Mul", i, 4), j), 4), "j"],
  [
    "truncdiv(x*4 + j, 4) stays (x may be negative)",
    truncdiv(B("Add", B("Mul", x, 4), j), 4),
    "truncdiv(x * 4 + j, 4)",
  ],
  ["truncdiv(truncdiv(x, 2), 3) -> truncdiv(x, 6)", truncdiv(truncdiv(x, 2), 3), "truncdiv(x, 6)"],
  ["truncmod(truncmod(x, 8), 2) -> truncmod(x, 2)", truncmod(truncmod(x, 8), 2), "truncmod(x, 2)"],
  ["k // n -> 0 for k in [0, n)", floordiv(k, n), "0"],
  ["k % n -> k for k in [0, n)", floormod(k, n), "k"],
  ["0 // x -> 0", B("FloorDiv", 0, x), "0"],
  ["(i + 1) // (i + 1) -> 1", floordiv(B("Add", i, 1), B("Add", i, 1)), "1"],
  ["x // x stays (x may be 0)", floordiv(x, x), "x // x"],
  // min and max
  ["min(x, x + 1) -> x", min(x, B("Add", x, 1)), "x"],
  ["max(x, x + 1) -> x + 1", max(x, B("Add", x, 1)), "x + 1"],
  ["max(i, 0) -> i", max(i, 0), "i"],
  ["min(i, 8) -> i", min(i, 8), "i"],
  ["min(i, 3) stays", min(i, 3), "min(i, 3)"],
  ["min(5, x) -> min(x, 5)", min(5, x), "min(x, 5)"],
  ["min(min(x, 4), 2) -> min(x, 2)", min(min(x, 4), 2), "min(x, 2)"],
  ["max(max(x, 4), 2) -> max(x, 4)", max(max(x, 4), 2), "max(x, 4)"],
  ["min(max(x, 4), 2) -> 2", min(max(x, 4), 2), "2"],
  ["max(min(x, 2), 4) -> 4", max(min(x, 2), 4), "4"],
  ["min(x, max(x, y)) -> x", min(x, max(x, y)), "x"],
  ["max(min(x, y), x) -> x", max(min(x, y), x), "x"],
  ["min(min(x, y), x) -> min(x, y)", min(min(x, y), x), "min(x, y)"],
  ["min(x + y, x + z) -> x + min(y, z)", min(B("Add", x, y), B("Add", x, z)), "x + min(y, z)"],
  ["min(x*4, y*4) -> min(x, y)*4", min(B("Mul", x, 4), B("Mul", y, 4)), "min(x, y) * 4"],
  ["max(x*-2, y*-2) -> min(x, y)*-2", max(B("Mul", x, -2), B("Mul", y, -2)), "min(x, y) * -2"],
  ["min(k, n) -> k for k in [0, n)", min(k, n), "k"],
  ["max(x // 8 * 8, x) -> x", max(B("Mul", floordiv(x, 8), 8), x), "x"],
  ["min(x // 8 * 8, x) -> x // 8 * 8", min(x, B("Mul", floordiv(x, 8), 8)), "x // 8 * 8"],
  ["min(x, y) stays", min(x, y), "min(x, y)"],
  ["float min folds constants only", min(f, f), "min(f, f)"],
  // comparisons
  ["i < 16 -> True", B("LT", i, 16), "True"],
  ["i >= 8 -> False", B("GE", i, 8), "False"],
  ["i * 4 + j < 32 -> True", B("LT", B("Add", B("Mul", i, 4), j), 32), "True"],
  ["x - x == 0 -> True", B("EQ", B("Sub", x, x), 0), "True"],
  ["x + 1 < y -> x < y - 1", B("LT", B("Add", x, 1), y), "x < y - 1"],
  ["x * 2 < 7 -> x < 4", B("LT", B("Mul", x, 2), 7), "x < 4"],
  ["x * 2 <= 7 -> x <= 3", B("LE", B("Mul", x, 2), 7), "x <= 3"],
  ["5 < x -> x > 5", B("LT", 5, x), "x > 5"],
  ["x * 2 == 7 -> False", B("EQ", B("Mul", x, 2), 7), "False"],
  ["x * 4 != 6 -> True", B("NE", B("Mul", x, 4), 6), "True"],
  ["x * 3 == y * 3 -> x == y", B("EQ", B("Mul", x, 3), B("Mul", y, 3)), "x == y"],
  ["k < n -> True for k in [0, n)", B("LT", k, n), "True"],
  ["k * 4 + j < n * 4 -> True", B("LT", B("Add", B("Mul", k, 4), j), B("Mul", n, 4)), "True"],
  ["n >= 0 for a size variable", B("GE", n, 0), "True"],
  ["f == f stays (NaN)", B("EQ", f, f), "f == f"],
  ["c == c -> True", B("EQ", c, c), "True"],
  ["x < y stays", B("LT", x, y), "x < y"],
  // logic
  ["True and c -> c", B("And", boolImm(true), c), "c"],
  ["c or False -> c", B("Or", c, boolImm(false)), "c"],
  ["c and not c -> False", B("And", c, notExpr(c)), "False"],
  ["c or not c -> True", B("Or", c, notExpr(c)), "True"],
  ["c and c -> c", B("And", c, c), "c"],
  ["c and (c or d) -> c", B("And", c, B("Or", c, d)), "c"],
  ["not not c -> c", notExpr(notExpr(c)), "c"],
  ["not (x < y) -> x >= y", not(B("LT", x, y)), "x >= y"],
  ["not (x == y) -> x != y", not(B("EQ", x, y)), "x != y"],
  ["not (f < g) stays on floats", not(B("LT", f, g)), "not f < g"],
  ["i < 8 and j < 4 -> True", B("And", B("LT", i, 8), B("LT", j, 4)), "True"],
  ["i < 4 or i >= 4 stays", B("Or", B("LT", i, 4), B("GE", i, 4)), "i < 4 or i >= 4"],
  // select, if_then_else, likely
  ["select(True, x, y) -> x", select(boolImm(true), x, y), "x"],
  ["select(c, x, x) -> x", select(c, x, x), "x"],
  ["select(not c, x, y) -> select(c, y, x)", select(notExpr(c), x, y), "select(c, y, x)"],
  ["select(i < 8, x, y) -> x", select(B("LT", i, 8), x, y), "x"],
  ["if_then_else(i < 8, x, y) -> x", callIntrin("tir.if_then_else", [B("LT", i, 8), x, y]), "x"],
  ["if_then_else(c, x, x) -> x", callIntrin("tir.if_then_else", [c, x, x]), "x"],
  ["likely(i < 8) -> True", callIntrin("tir.likely", [B("LT", i, 8)]), "True"],
  ["likely(x < y) stays", callIntrin("tir.likely", [B("LT", x, y)]), "tir.likely(x < y)"],
  // other nodes keep their shape, children simplified
  ["let keeps its binding", letExpr(z, B("Add", x, 0), B("Add", z, z)), "let(z = x, z * 2)"],
  ["ramp children", ramp(B("Add", x, 0), B("Sub", y, y), 4), "ramp(x, 0, 4)"],
];

for (const [name, input, want] of cases) {
  Deno.test(`simplify(): ${name}`, () => {
    const got = analyzer().simplify(input);
    assert.equal(show(got), want);
    assert.equal(got.dtype, input.dtype);
  });
}

Deno.test("simplify() keeps int64 expressions int64", () => {
  const e = B("Add", B("Add", m, intImm(1, "int64")), m);
  const s = simplify(e);
  assert.equal(show(s), "m * int64(2) + int64(1)");
  assert.equal(s.dtype, "int64");
  const q = simplify(floordiv(B("Mul", m, intImm(8, "int64")), intImm(4, "int64")));
  assert.equal(show(q), "m * int64(2)");
});

Deno.test("simplify() returns the very same object when nothing changes", () => {
  for (const e of [B("Add", x, y), min(x, y), B("LT", x, y), floordiv(x, 3), f.add(g)]) {
    assert.equal(simplify(e), e);
  }
  const changed = B("Add", x, 0);
  assert.notEqual(simplify(changed), changed);
});

Deno.test("simplify() simplifies buffer indices", () => {
  const A = declBuffer([32], "float32", "A");
  const e = bufferLoad(A, [B("Sub", B("Add", B("Mul", i, 4), j), B("Mul", i, 4))]);
  assert.equal(show(simplify(e)), "A[j]");
});

Deno.test("simplify() with the bounds option", () => {
  const e = floordiv(B("Add", B("Mul", x, 4), y), 4);
  assert.equal(show(simplify(e, { bounds: new Map([[y, range(0, 4)]]) })), "x");
  assert.equal(show(simplify(e)), "x + y // 4");
});

Deno.test("simplify() substitutes variables bound to values", () => {
  const an = new Analyzer();
  an.bind(z, B("Add", x, 1));
  assert.equal(show(an.simplify(B("Mul", z, 2))), "x * 2 + 2");
});

Deno.test("simplify() terminates on large and deeply nested input", () => {
  let e: PrimExpr = x;
  for (let t = 0; t < 300; t++) {
    e = t % 3 === 0
      ? min(B("Add", e, t), B("Sub", y, t))
      : t % 3 === 1
      ? max(B("Mul", e, 2), z)
      : floordiv(e, 2);
  }
  const start = performance.now();
  const s = simplify(e);
  assert.ok(performance.now() - start < 5000, "took too long");
  assert.equal(s.dtype, "int32");
});

Deno.test("Simplifier stops applying rules when its fuel runs out", () => {
  const e = min(5, x);
  assert.equal(show(new Simplifier(() => undefined, { fuel: 0 }).simplify(e)), "min(5, x)");
  assert.equal(show(new Simplifier(() => undefined, { fuel: 1 }).simplify(e)), "min(x, 5)");
});

Deno.test("simplify() keeps the bounds of one let apart from a sibling let of the same variable", () => {
  const v = primVar("v");
  const e = B(
    "Add",
    letExpr(v, intImm(1), floordiv(v, 4)),
    letExpr(v, intImm(100), floordiv(v, 4)),
  );
  assert.equal(show(simplify(e)), "let(v = 1, 0) + let(v = 100, 25)");
});
