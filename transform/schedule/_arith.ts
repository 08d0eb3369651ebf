/**
 * Arithmetic helpers of the schedule primitives: structural expression equality, substitution,
 * and simplification and proofs through the arithmetic analyzer.
 *
 * @module
 */

import { Analyzer } from "../../ir/arith/analyzer.ts";
import { floordiv, type PrimExpr, type Range, sub, type Var } from "../../ir/expr.ts";
import { rewritePrimExpr, rewriteStmt } from "../../ir/visit.ts";
import { exprDeepEqual } from "../../ir/expr_equal.ts";
import type { Stmt } from "../../ir/tir/stmt.ts";

/** Known ranges of loop variables, used to simplify and to prove facts. */
export type VarRanges = ReadonlyMap<Var, Range>;

/** Whether two expressions are the same tree (variables compared by identity). */
export const exprEqual: (a: PrimExpr, b: PrimExpr) => boolean = exprDeepEqual;

/** Replaces variables in an expression. */
export function substExpr(e: PrimExpr, map: ReadonlyMap<Var, PrimExpr>): PrimExpr {
  if (map.size === 0) return e;
  return rewritePrimExpr(e, { preExpr: (x) => (x.kind === "Var" ? map.get(x) : undefined) });
}

/** Replaces variables everywhere in a statement. */
export function substStmt(s: Stmt, map: ReadonlyMap<Var, PrimExpr>): Stmt {
  if (map.size === 0) return s;
  return rewriteStmt(s, { preExpr: (x) => (x.kind === "Var" ? map.get(x) : undefined) });
}

/** Whether `v` occurs in `e`. */
export function usesVar(e: PrimExpr, v: Var | ReadonlySet<Var>): boolean {
  let found = false;
  rewritePrimExpr(e, {
    preExpr: (x) => {
      if (found) return x;
      if (x.kind === "Var" && (v instanceof Set ? v.has(x) : x === v)) found = true;
      return undefined;
    },
  });
  return found;
}

/** The variables occurring in `e`, in order of first occurrence. */
export function varsOf(e: PrimExpr): Var[] {
  const out: Var[] = [];
  rewritePrimExpr(e, {
    preExpr: (x) => {
      if (x.kind === "Var" && !out.includes(x)) out.push(x);
      return undefined;
    },
  });
  return out;
}

/** `ceil(a / b)` for positive `b`, as `(a + b - 1) // b` (constants fold). */
export function ceilDiv(a: PrimExpr, b: PrimExpr): PrimExpr {
  if (a.kind === "IntImm" && b.kind === "IntImm") return floordiv(a.value + b.value - 1, b);
  const bm1 = b.kind === "IntImm" ? b.value - 1 : sub(b, 1);
  return floordiv(a.add(bm1), b);
}

function analyzer(ranges: VarRanges): Analyzer {
  const an = new Analyzer();
  // a loop of extent 1 takes only its start value (as TVM's analyzer binds it)
  for (const [v, r] of ranges) {
    an.bind(v, r.extent.kind === "IntImm" && r.extent.value === 1 ? r.min : r);
  }
  return an;
}

/** Simplifies an expression, knowing the ranges of loop variables. */
export function simplify(e: PrimExpr, ranges: VarRanges = new Map()): PrimExpr {
  return analyzer(ranges).simplify(e);
}

/** Whether `cond` can be proven true, knowing the ranges of loop variables. */
export function canProve(cond: PrimExpr, ranges: VarRanges = new Map()): boolean {
  if (cond.kind === "IntImm") return cond.value !== 0;
  return analyzer(ranges).canProve(cond);
}

/** Whether `a == b` can be proven. */
export function proveEqual(a: PrimExpr, b: PrimExpr, ranges: VarRanges = new Map()): boolean {
  if (exprEqual(a, b)) return true;
  if (a.dtype !== b.dtype) return false;
  return analyzer(ranges).canProveEqual(a, b);
}
