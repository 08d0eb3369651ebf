/**
 * Randomized checks of the simplifier: random small integer expressions are evaluated before and
 * after simplification on every assignment of their variables, and must agree.
 */

import assert from "node:assert/strict";
import {
  and,
  binary,
  callIntrin,
  cast,
  floordiv,
  floormod,
  intImm,
  letExpr,
  max,
  min,
  not,
  or,
  type PrimExpr,
  primVar,
  range,
  select,
  sizeVar,
  truncdiv,
  truncmod,
  type Var,
} from "../../../ir/expr.ts";
import { Analyzer } from "../../../ir/arith/analyzer.ts";
import { evalSet } from "../../../ir/arith/int_set.ts";
import { DivByZero, evaluate, rng, show } from "./_helpers.ts";

const x = primVar("x"), y = primVar("y"), z = primVar("z");
const VARS: readonly Var[] = [x, y, z];

class Gen {
  constructor(readonly rand: () => number, readonly vars: readonly Var[] = VARS) {}
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.rand() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rand() * xs.length)]!;
  }
  /** A random int32 expression of at most `depth` levels. */
  int32(depth: number): PrimExpr {
    if (depth <= 0 || this.rand() < 0.2) {
      return this.rand() < 0.6 ? this.pick(this.vars) : intImm(this.int(-6, 8));
    }
    const d = depth - 1;
    const divisor =
      () => (this.rand() < 0.75 ? intImm(this.pick([1, 2, 3, 4, 8, -2, -3])) : this.int32(d));
    switch (this.int(0, 11)) {
      case 0:
      case 1:
        return binary("Add", this.int32(d), this.int32(d));
      case 2:
        return binary("Sub", this.int32(d), this.int32(d));
      case 3:
        return binary(
          "Mul",
          this.int32(d),
          this.rand() < 0.6 ? intImm(this.int(-3, 4)) : this.int32(d),
        );
      case 4:
        return floordiv(this.int32(d), divisor());
      case 5:
        return floormod(this.int32(d), divisor());
      case 6:
        return this.rand() < 0.5
          ? truncdiv(this.int32(d), divisor())
          : truncmod(this.int32(d), divisor());
      case 7:
        return min(this.int32(d), this.int32(d));
      case 8:
        return max(this.int32(d), this.int32(d));
      case 9:
        return select(this.bool(d), this.int32(d), this.int32(d));
      case 10:
        return callIntrin("tir.if_then_else", [this.bool(d), this.int32(d), this.int32(d)]);
      default: // index-math shapes: a*c + b, (a*c + b) // c, (a*c + b) % c
      {
        const c = this.pick([2, 4, 8]);
        const s = binary("Add", binary("Mul", this.int32(d), intImm(c)), this.int32(d));
        return this.pick([s, floordiv(s, c), floormod(s, c)]);
      }
    }
  }
  /** A random boolean expression. */
  bool(depth: number): PrimExpr {
    const d = Math.max(depth - 1, 0);
    switch (depth <= 0 ? 4 : this.int(0, 4)) {
      case 0:
        return and(this.bool(d), this.bool(d));
      case 1:
        return or(this.bool(d), this.bool(d));
      case 2:
        return not(this.bool(d));
      default:
        return binary(
          this.pick(["EQ", "NE", "LT", "LE", "GT", "GE"] as const),
          this.int32(d),
          this.int32(d),
        );
    }
  }
}

function* assignments(doms: ReadonlyMap<Var, [number, number]>): Generator<Map<Var, number>> {
  const vars = [...doms.keys()];
  const rec = function* (i: number, cur: Map<Var, number>): Generator<Map<Var, number>> {
    if (i === vars.length) {
      yield new Map(cur);
      return;
    }
    const [lo, hi] = doms.get(vars[i]!)!;
    for (let v = lo; v <= hi; v++) {
      cur.set(vars[i]!, v);
      yield* rec(i + 1, cur);
    }
  };
  yield* rec(0, new Map());
}

function tryEval(e: PrimExpr, env: ReadonlyMap<Var, number>): number | "div0" {
  try {
    return evaluate(e, env);
  } catch (err) {
    if (err instanceof DivByZero) return "div0";
    throw err;
  }
}

function checkAgree(
  e: PrimExpr,
  s: PrimExpr,
  doms: ReadonlyMap<Var, [number, number]>,
  note: string,
): void {
  for (const env of assignments(doms)) {
    const want = tryEval(e, env);
    if (want === "div0") continue;
    const got = tryEval(s, env);
    if (got !== want) {
      const at = [...env].map(([v, n]) => `${v.name}=${n}`).join(" ");
      assert.fail(
        `${note}: ${show(e)}\n  simplified to ${show(s)}\n  at ${at}: expected ${want}, got ${got}`,
      );
    }
  }
}

function randomDoms(g: Gen): Map<Var, [number, number]> {
  const doms = new Map<Var, [number, number]>();
  for (const v of VARS) {
    const lo = g.pick([-5, -2, 0, 0, 0, 1]);
    doms.set(v, [lo, lo + g.int(0, 7)]);
  }
  return doms;
}

Deno.test("simplify() preserves values of random integer expressions under bounds", () => {
  const g = new Gen(rng(1234));
  for (let n = 0; n < 1500; n++) {
    const doms = randomDoms(g);
    const an = new Analyzer();
    for (const [v, [lo, hi]] of doms) an.bind(v, range(lo, hi - lo + 1));
    const e = g.int32(4);
    checkAgree(e, an.simplify(e), doms, `case ${n}`);
  }
});

Deno.test("simplify() preserves values of random integer expressions without bounds", () => {
  const g = new Gen(rng(99));
  const doms = new Map<Var, [number, number]>([[x, [-7, 7]], [y, [-5, 6]], [z, [-3, 3]]]);
  for (let n = 0; n < 800; n++) {
    const e = g.int32(4);
    checkAgree(e, new Analyzer().simplify(e), doms, `case ${n}`);
  }
});

Deno.test("simplify() preserves values of random boolean expressions", () => {
  const g = new Gen(rng(7));
  for (let n = 0; n < 800; n++) {
    const doms = randomDoms(g);
    const an = new Analyzer();
    for (const [v, [lo, hi]] of doms) an.bind(v, range(lo, hi - lo + 1));
    const e = g.bool(4);
    checkAgree(e, an.simplify(e), doms, `case ${n}`);
  }
});

Deno.test("simplify() is idempotent on random expressions", () => {
  const g = new Gen(rng(4242));
  for (let n = 0; n < 400; n++) {
    const an = new Analyzer();
    for (const [v, [lo, hi]] of randomDoms(g)) an.bind(v, range(lo, hi - lo + 1));
    const s = an.simplify(g.int32(4));
    assert.equal(show(an.simplify(s)), show(s), `case ${n}`);
  }
});

Deno.test("constIntBound() and evalSet() contain every value of random expressions", () => {
  const g = new Gen(rng(555));
  for (let n = 0; n < 800; n++) {
    const doms = randomDoms(g);
    const an = new Analyzer();
    const ranges = new Map([...doms].map(([v, [lo, hi]]) => [v, range(lo, hi - lo + 1)] as const));
    for (const [v, r] of ranges) an.bind(v, r);
    const e = g.int32(3);
    const b = an.constIntBound(e);
    const set = evalSet(e, ranges);
    const lo = tryEval(set.min, new Map()), hi = tryEval(set.max, new Map());
    if (lo === "div0" || hi === "div0") continue; // e divides by zero for every assignment
    for (const env of assignments(doms)) {
      const v = tryEval(e, env);
      if (v === "div0") continue;
      assert.ok(
        v >= b.min && v <= b.max,
        `case ${n}: ${show(e)} = ${v} outside bound [${b.min}, ${b.max}]`,
      );
      assert.ok(v >= lo && v <= hi, `case ${n}: ${show(e)} = ${v} outside set [${lo}, ${hi}]`);
    }
  }
});

Deno.test("simplify() preserves values under symbolic ranges", () => {
  // n is a size; x in [0, n), y in [n, n + 3), z in [0, 4)
  const n = sizeVar("n");
  const g = new Gen(rng(2024), [x, y, z, n]);
  for (let t = 0; t < 600; t++) {
    const an = new Analyzer();
    an.bind(x, range(0, n));
    an.bind(y, range(n, 3));
    an.bind(z, range(0, 4));
    const e = g.int32(4);
    const s = an.simplify(e);
    for (let nv = 1; nv <= 5; nv++) {
      const doms = new Map<Var, [number, number]>([[n, [nv, nv]], [x, [0, nv - 1]], [y, [
        nv,
        nv + 2,
      ]], [z, [0, 3]]]);
      checkAgree(e, s, doms, `case ${t} (n=${nv})`);
    }
  }
});

Deno.test("simplify() preserves values of let expressions and int64 math", () => {
  const g = new Gen(rng(77));
  const v = primVar("v");
  for (let t = 0; t < 300; t++) {
    const doms = randomDoms(g);
    const an = new Analyzer();
    for (const [w, [lo, hi]] of doms) an.bind(w, range(lo, hi - lo + 1));
    const e = letExpr(v, g.int32(2), binary("Add", g.int32(2), binary("Mul", v, g.int32(1))));
    checkAgree(e, an.simplify(e), doms, `let case ${t}`);
    const wide = cast(g.int32(3), "int64");
    const w = binary(
      "Add",
      binary("Mul", wide, intImm(3, "int64")),
      floordiv(wide, intImm(4, "int64")),
    );
    const sw = an.simplify(w);
    assert.equal(sw.dtype, "int64");
    checkAgree(w, sw, doms, `int64 case ${t}`);
  }
});
