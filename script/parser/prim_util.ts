/**
 * Helpers of PrimExpr evaluation: Python arithmetic on literals and syntactic comparisons.
 *
 * @module
 */

import { type DType, elementDType } from "../../ir/dtype.ts";
import { type BinaryKind, isPrimExpr, type PrimExpr } from "../../ir/expr.ts";
import type { Located } from "./ast.ts";
import type { ParseContext } from "./context.ts";
import type { Lit } from "./prim_eval.ts";

/** Bits of an integer dtype's element. */
export function bits(t: DType): number {
  const m = /(\d+)/.exec(elementDType(t));
  return m ? Number(m[1]) : 0;
}

/** If `hi - lo` is a constant, that constant. */
export function constDiff(lo: PrimExpr, hi: PrimExpr): number | undefined {
  if (lo.kind === "IntImm" && hi.kind === "IntImm") return hi.value - lo.value;
  if (hi.kind === "Add" && hi.b.kind === "IntImm" && sameExpr(hi.a, lo)) return hi.b.value;
  return undefined;
}

/** Syntactic equality of two expressions (identical variables and buffers, same structure). */
export function sameExpr(a: PrimExpr, b: PrimExpr): boolean {
  if (a === b) return true;
  if (a.kind !== b.kind || a.dtype !== b.dtype || a.kind === "Var") return false;
  const ra = a as unknown as Record<string, unknown>;
  const rb = b as unknown as Record<string, unknown>;
  const same = (x: unknown, y: unknown): boolean => {
    if (isPrimExpr(x) && isPrimExpr(y)) return sameExpr(x, y);
    if (Array.isArray(x) && Array.isArray(y)) {
      return x.length === y.length && x.every((v, i) => same(v, y[i]));
    }
    return x === y;
  };
  return Object.keys(ra).every((k) => same(ra[k], rb[k]));
}

/** Python arithmetic on two literals. */
export function pyArith(kind: BinaryKind, a: Lit, b: Lit, ctx: ParseContext, at: Located): Lit {
  const x = a.value, y = b.value;
  const float = a.lit === "float" || b.lit === "float";
  const num = (v: number): Lit => ({ lit: float ? "float" : "int", value: v });
  const bool = (v: boolean): Lit => ({ lit: "bool", value: v ? 1 : 0 });
  if ((kind === "Div" || kind === "FloorDiv" || kind === "FloorMod" || kind === "Mod") && y === 0) {
    return ctx.fail("Division by zero", at);
  }
  switch (kind) {
    case "Add":
      return num(x + y);
    case "Sub":
      return num(x - y);
    case "Mul":
      return num(x * y);
    case "Div":
      return { lit: "float", value: x / y };
    case "FloorDiv":
      return num(Math.floor(x / y));
    case "FloorMod":
    case "Mod":
      return num(x - Math.floor(x / y) * y);
    case "Min":
      return num(Math.min(x, y));
    case "Max":
      return num(Math.max(x, y));
    case "EQ":
      return bool(x === y);
    case "NE":
      return bool(x !== y);
    case "LT":
      return bool(x < y);
    case "LE":
      return bool(x <= y);
    case "GT":
      return bool(x > y);
    case "GE":
      return bool(x >= y);
    case "And":
      return bool(x !== 0 && y !== 0);
    case "Or":
      return bool(x !== 0 || y !== 0);
  }
}
