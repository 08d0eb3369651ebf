/**
 * Test helpers for `ir/arith`: an infix printer that shows structure (used to compare simplifier
 * output), a reference evaluator of integer expressions, and small assertions.
 *
 * @module
 */

import { isFloat } from "../../../ir/dtype.ts";
import type { PrimExpr, Var } from "../../../ir/expr.ts";

const prec: Record<string, number> = {
  Or: 1,
  And: 2,
  Not: 3,
  EQ: 4,
  NE: 4,
  LT: 4,
  LE: 4,
  GT: 4,
  GE: 4,
  Add: 5,
  Sub: 5,
  Mul: 6,
  FloorDiv: 6,
  FloorMod: 6,
};

const infix: Record<string, string> = {
  Or: "or",
  And: "and",
  EQ: "==",
  NE: "!=",
  LT: "<",
  LE: "<=",
  GT: ">",
  GE: ">=",
  Add: "+",
  Sub: "-",
  Mul: "*",
  FloorDiv: "//",
  FloorMod: "%",
};

const call: Record<string, string> = { Div: "truncdiv", Mod: "truncmod", Min: "min", Max: "max" };

/**
 * Prints an expression in infix form with the fewest parentheses. int32 constants print bare,
 * other dtypes as `int64(4)`; bools as `True`/`False`; variables by name.
 */
export function show(e: PrimExpr): string {
  return showP(e, 0);
}

function showP(e: PrimExpr, outer: number): string {
  switch (e.kind) {
    case "Var":
      return e.name;
    case "IntImm":
      if (e.dtype === "bool") return e.value ? "True" : "False";
      return e.dtype === "int32" ? String(e.value) : `${e.dtype}(${e.value})`;
    case "FloatImm":
      return `${e.dtype}(${e.value})`;
    case "StringImm":
      return JSON.stringify(e.value);
    case "Not": {
      const s = `not ${showP(e.a, 3)}`;
      return outer > 3 ? `(${s})` : s;
    }
    case "Select":
      return `select(${show(e.cond)}, ${show(e.t)}, ${show(e.f)})`;
    case "Cast":
      return `${e.dtype}(${show(e.value)})`;
    case "Let":
      return `let(${e.var.name} = ${show(e.value)}, ${show(e.body)})`;
    case "Call":
      return `${e.op}(${e.args.map(show).join(", ")})`;
    case "BufferLoad":
      return `${e.buffer.name}[${e.indices.map(show).join(", ")}]`;
    case "Ramp":
      return `ramp(${show(e.base)}, ${show(e.stride)}, ${e.lanes})`;
    case "Broadcast":
      return `broadcast(${show(e.value)}, ${e.lanes})`;
    default: {
      const fn = call[e.kind];
      if (fn) return `${fn}(${show(e.a)}, ${show(e.b)})`;
      const p = prec[e.kind]!;
      const s = `${showP(e.a, p)} ${infix[e.kind]} ${showP(e.b, p + 1)}`;
      return outer > p ? `(${s})` : s;
    }
  }
}

/** Evaluates an integer/bool expression exactly (no overflow) under an assignment. */
export function evaluate(e: PrimExpr, env: ReadonlyMap<Var, number>): number {
  const ev = (x: PrimExpr) => evaluate(x, env);
  switch (e.kind) {
    case "Var": {
      const v = env.get(e);
      if (v === undefined) throw new Error(`Unbound variable "${e.name}"`);
      return v;
    }
    case "IntImm":
    case "FloatImm":
      return e.value;
    case "Add":
      return ev(e.a) + ev(e.b);
    case "Sub":
      return ev(e.a) - ev(e.b);
    case "Mul":
      return ev(e.a) * ev(e.b);
    case "Div":
    case "Mod":
    case "FloorDiv":
    case "FloorMod": {
      const a = ev(e.a), b = ev(e.b);
      if (b === 0) throw new DivByZero();
      if (isFloat(e.dtype)) throw new Error("float division is not evaluated");
      if (e.kind === "Div") return Math.trunc(a / b) || 0;
      if (e.kind === "Mod") return a % b || 0;
      if (e.kind === "FloorDiv") return Math.floor(a / b);
      return a - Math.floor(a / b) * b;
    }
    case "Min":
      return Math.min(ev(e.a), ev(e.b));
    case "Max":
      return Math.max(ev(e.a), ev(e.b));
    case "EQ":
      return +(ev(e.a) === ev(e.b));
    case "NE":
      return +(ev(e.a) !== ev(e.b));
    case "LT":
      return +(ev(e.a) < ev(e.b));
    case "LE":
      return +(ev(e.a) <= ev(e.b));
    case "GT":
      return +(ev(e.a) > ev(e.b));
    case "GE":
      return +(ev(e.a) >= ev(e.b));
    case "And":
      return +(ev(e.a) !== 0 && ev(e.b) !== 0);
    case "Or":
      return +(ev(e.a) !== 0 || ev(e.b) !== 0);
    case "Not":
      return +(ev(e.a) === 0);
    case "Select": {
      const c = ev(e.cond), t = ev(e.t), f = ev(e.f);
      return c ? t : f;
    }
    case "Call":
      if (e.op === "tir.if_then_else") return ev(e.args[0]!) ? ev(e.args[1]!) : ev(e.args[2]!);
      throw new Error(`Cannot evaluate call "${e.op}"`);
    case "Cast":
      return ev(e.value);
    case "Let": {
      const m = new Map(env);
      m.set(e.var, ev(e.value));
      return evaluate(e.body, m);
    }
    default:
      throw new Error(`Cannot evaluate ${e.kind}`);
  }
}

/** Thrown by {@link evaluate} on division by zero (such inputs are skipped). */
export class DivByZero extends Error {
  constructor() {
    super("Division by zero");
  }
}

/** A small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
