/**
 * Soundness of every rewrite rule: each rule's pattern is instantiated many times with random
 * sub-expressions and constants, and where the rule fires its result must evaluate like the
 * input on every assignment of the variables.
 */

import assert from "node:assert/strict";
import {
  binary,
  type BinaryKind,
  constant,
  intImm,
  isCmpKind,
  notExpr,
  type PrimExpr,
  primVar,
  select,
  type Var,
} from "../../../ir/expr.ts";
import type { ExprHole, Pattern, Rule, RuleContext } from "../../../ir/arith/pattern.ts";
import { applyRules } from "../../../ir/arith/pattern.ts";
import * as rules from "../../../ir/arith/rules.ts";
import { DivByZero, evaluate, rng, show } from "./_helpers.ts";

const a = primVar("a"), b = primVar("b");
const p = primVar("p", "bool"), q = primVar("q", "bool");

type Want = "int" | "bool";

function instantiate(pat: Pattern, rand: () => number): PrimExpr {
  const holes = new Map<string, PrimExpr>();
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const hole = (name: ExprHole | string, want: Want): PrimExpr => {
    const key = `${name}:${want}`;
    let e = holes.get(key);
    if (!e) {
      e = want === "bool"
        ? pick([p, q, binary("LT", a, b), notExpr(p)])
        : pick([a, b, a.add(b), binary("Mul", a, intImm(2)), intImm(pick([-3, 0, 2, 5]))]);
      holes.set(key, e);
    }
    return e;
  };
  const consts = new Map<string, number>();
  const rec = (x: Pattern, want: Want): PrimExpr => {
    switch (x.p) {
      case "expr":
        return hole(x.name, want);
      case "const": {
        let v = consts.get(x.name);
        if (v === undefined) {
          v = pick([-8, -3, -2, -1, 1, 2, 3, 4, 6, 8, 12]);
          consts.set(x.name, v);
        }
        return intImm(v);
      }
      case "select":
        return select(rec(x.args[0], "bool"), rec(x.args[1], want), rec(x.args[2], want));
      case "node": {
        if (x.kind === "Not") return notExpr(rec(x.args[0]!, "bool"));
        const kind: BinaryKind = x.kind;
        const sub: Want = kind === "And" || kind === "Or" ? "bool" : "int";
        return binary(kind, rec(x.args[0]!, sub), rec(x.args[1]!, sub));
      }
    }
  };
  const top = pat.p === "node" &&
      (pat.kind === "And" || pat.kind === "Or" || pat.kind === "Not" || isCmpKind(pat.kind))
    ? "bool"
    : "int";
  return rec(pat, top);
}

function agree(before: PrimExpr, after: PrimExpr): string | undefined {
  for (let av = -5; av <= 5; av++) {
    for (let bv = -5; bv <= 5; bv++) {
      for (const pv of [0, 1]) {
        for (const qv of [0, 1]) {
          const env = new Map<Var, number>([[a, av], [b, bv], [p, pv], [q, qv]]);
          let want: number;
          try {
            want = evaluate(before, env);
          } catch (e) {
            if (e instanceof DivByZero) continue;
            throw e;
          }
          const got = evaluate(after, env);
          if (got !== want) return `a=${av} b=${bv} p=${pv} q=${qv}: ${want} vs ${got}`;
        }
      }
    }
  }
  return undefined;
}

const cx: RuleContext = {
  dtype: "int32",
  prove: () => false,
  c: (v, t = "int32") => constant(v, t),
};

for (const [table, list] of Object.entries(rules) as [string, readonly Rule[]][]) {
  Deno.test(`every rule of ${table} is sound`, () => {
    const rand = rng(table.length * 7919);
    list.forEach((rule, n) => {
      let fired = 0;
      for (let t = 0; t < 60; t++) {
        const e = instantiate(rule[0], rand);
        const r = applyRules([rule], e, { ...cx, dtype: e.dtype });
        if (r === undefined) continue;
        fired++;
        const bad = agree(e, r);
        if (bad) assert.fail(`${table}[${n}]: ${show(e)} -> ${show(r)} differs at ${bad}`);
      }
      assert.ok(fired > 0, `${table}[${n}] never fired`);
    });
  });
}
