/**
 * A small pattern matcher for local rewrite rules written as data:
 * `[P.min(X, X), (m) => m.x] // min(x, x) -> x`.
 *
 * Patterns name their holes: `X`, `Y`, `Z` match any expression (a name used twice must match
 * structurally equal expressions), `C1`, `C2`, `C3` match integer constants.
 *
 * @module
 */

import type { DType } from "../dtype.ts";
import type { BinaryKind, PrimExpr } from "../expr.ts";
import { sameExpr } from "./_key.ts";

/** The name of an expression hole. */
export type ExprHole = "x" | "y" | "z";
/** The name of an integer-constant hole. */
export type ConstHole = "c1" | "c2" | "c3";

/** A pattern over `PrimExpr`s. */
export type Pattern =
  | { readonly p: "expr"; readonly name: ExprHole }
  | { readonly p: "const"; readonly name: ConstHole }
  | { readonly p: "node"; readonly kind: BinaryKind | "Not"; readonly args: readonly Pattern[] }
  | { readonly p: "select"; readonly args: readonly [Pattern, Pattern, Pattern] };

/** What a match captured. Only the holes that occur in the rule's pattern are meaningful. */
export interface Captures {
  /** What `X` matched. */
  readonly x: PrimExpr;
  /** What `Y` matched. */
  readonly y: PrimExpr;
  /** What `Z` matched. */
  readonly z: PrimExpr;
  /** The value `C1` matched. */
  readonly c1: number;
  /** The value `C2` matched. */
  readonly c2: number;
  /** The value `C3` matched. */
  readonly c3: number;
}

/** What a rule may ask about the expression being rewritten. */
export interface RuleContext {
  /** The dtype of the matched expression. */
  readonly dtype: DType;
  /** Whether `cond` is provably true. */
  prove(cond: PrimExpr): boolean;
  /** A constant of the matched expression's dtype (or of the dtype `t`). */
  c(v: number, t?: DType): PrimExpr;
}

/** A rewrite rule: a pattern and a replacement (or `undefined` when a side condition fails). */
export type Rule = readonly [Pattern, (m: Captures, cx: RuleContext) => PrimExpr | undefined];

/** Matches any expression; repeated uses must be equal. */
export const X: Pattern = { p: "expr", name: "x" };
/** Matches any expression; repeated uses must be equal. */
export const Y: Pattern = { p: "expr", name: "y" };
/** Matches any expression; repeated uses must be equal. */
export const Z: Pattern = { p: "expr", name: "z" };
/** Matches an integer constant. */
export const C1: Pattern = { p: "const", name: "c1" };
/** Matches an integer constant. */
export const C2: Pattern = { p: "const", name: "c2" };
/** Matches an integer constant. */
export const C3: Pattern = { p: "const", name: "c3" };

function op(kind: BinaryKind | "Not") {
  return (...args: Pattern[]): Pattern => ({ p: "node", kind, args });
}

/** Pattern constructors, one per node kind. */
export const P = {
  add: op("Add"),
  sub: op("Sub"),
  mul: op("Mul"),
  div: op("Div"),
  mod: op("Mod"),
  floordiv: op("FloorDiv"),
  floormod: op("FloorMod"),
  min: op("Min"),
  max: op("Max"),
  eq: op("EQ"),
  ne: op("NE"),
  lt: op("LT"),
  le: op("LE"),
  gt: op("GT"),
  ge: op("GE"),
  and: op("And"),
  or: op("Or"),
  not: op("Not"),
  select: (c: Pattern, t: Pattern, f: Pattern): Pattern => ({ p: "select", args: [c, t, f] }),
} as const;

type Slots = { -readonly [K in keyof Captures]?: Captures[K] };

function matchInto(p: Pattern, e: PrimExpr, m: Slots): boolean {
  switch (p.p) {
    case "expr": {
      const prev = m[p.name];
      if (prev) return sameExpr(prev, e);
      m[p.name] = e;
      return true;
    }
    case "const": {
      if (e.kind !== "IntImm") return false;
      const prev = m[p.name];
      if (prev !== undefined) return prev === e.value;
      m[p.name] = e.value;
      return true;
    }
    case "node":
      if (e.kind !== p.kind) return false;
      if (e.kind === "Not") return matchInto(p.args[0]!, e.a, m);
      if (!("b" in e)) return false;
      return matchInto(p.args[0]!, e.a, m) && matchInto(p.args[1]!, e.b, m);
    case "select":
      if (e.kind !== "Select") return false;
      return matchInto(p.args[0], e.cond, m) && matchInto(p.args[1], e.t, m) &&
        matchInto(p.args[2], e.f, m);
    default:
      p satisfies never;
      return false;
  }
}

/** Matches `e` against `p`, returning the captures or `undefined`. */
export function match(p: Pattern, e: PrimExpr): Captures | undefined {
  const m: Slots = {};
  return matchInto(p, e, m) ? (m as Captures) : undefined;
}

/** Tries the rules in order; returns the first replacement, or `undefined` when none applies. */
export function applyRules(
  rules: readonly Rule[],
  e: PrimExpr,
  cx: RuleContext,
): PrimExpr | undefined {
  for (const [pat, rewrite] of rules) {
    const m = match(pat, e);
    if (!m) continue;
    const r = rewrite(m, cx);
    if (r !== undefined) return r;
  }
  return undefined;
}
