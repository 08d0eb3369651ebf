/**
 * The canonical form of integer index math: a sum of `coefficient * term` plus a constant, where
 * a term is anything that is not itself a sum or a product with a constant (a variable, a
 * `floordiv`, a `min`, a load, a product of two terms, ...).
 *
 * Rebuilding is deterministic: terms with a positive coefficient first, then the subtracted ones,
 * each group in first-appearance order, then the constant (`x + 2 + x*3 - 2` -> `x * 4`,
 * `-i + j` -> `j - i`).
 *
 * @module
 */

import { type DType, isInt, isUInt, lanes } from "../dtype.ts";
import { add, binary, intImm, mul, type PrimExpr, sub } from "../expr.ts";
import { exprKey } from "./_key.ts";
import { fitsInt } from "./fold.ts";

/** One `coef * term` of a {@link LinearSum}. */
export interface LinearTerm {
  /** The term (never a sum or a constant). */
  readonly term: PrimExpr;
  /** Its coefficient. */
  readonly coef: number;
}

/** Whether expressions of this dtype have a canonical linear form (scalar integers). */
export function isLinearDType(t: DType): boolean {
  return isInt(t) && lanes(t) === 1;
}

/** Greatest common divisor of two integers (non-negative result). */
export function gcd(a: number, b: number): number {
  a = Math.abs(a);
  b = Math.abs(b);
  while (b) [a, b] = [b, a % b];
  return a;
}

/**
 * Whether a scalar integer expression is provably a multiple of `n` from its linear form: the
 * constant is, and each term times its coefficient is (`i * 8 + j * 4` and
 * `floormod(i * 4, 256)` are multiples of 4).
 */
export function isMultipleOf(e: PrimExpr, n: number): boolean {
  if (!isLinearDType(e.dtype)) return false;
  if (n === 1) return true;
  const sum = LinearSum.of(e);
  if (sum.constant % n !== 0) return false;
  return sum.terms.every(({ term, coef }) => {
    // coef * term is a multiple of n when term is a multiple of m = n / gcd(coef, n).
    const m = n / gcd(coef, n);
    if (m === 1) return true;
    // floormod(x, c) = x - c * floordiv(x, c): a multiple of m when x and c are.
    return term.kind === "FloorMod" && term.b.kind === "IntImm" && term.b.value % m === 0 &&
      isMultipleOf(term.a, m);
  });
}

/** A mutable sum `sum(coef * term) + constant` of one integer dtype. */
export class LinearSum {
  /** The dtype of the sum and its terms. */
  readonly dtype: DType;
  /** The constant part. */
  constant = 0;
  readonly #terms = new Map<string, { term: PrimExpr; coef: number }>();

  /** An empty sum (the constant 0). */
  constructor(dtype: DType) {
    this.dtype = dtype;
  }

  /** The sum that `e` denotes, splitting additions, subtractions and products with constants. */
  static of(e: PrimExpr): LinearSum {
    const s = new LinearSum(e.dtype);
    s.addExpr(e, 1);
    return s;
  }

  /** The non-zero terms in first-appearance order. */
  get terms(): LinearTerm[] {
    return [...this.#terms.values()].filter((t) => t.coef !== 0);
  }

  /** Whether the sum has no terms (it is the constant {@link constant}). */
  get isConstant(): boolean {
    return this.terms.length === 0;
  }

  /** A copy. */
  clone(): LinearSum {
    const s = new LinearSum(this.dtype);
    s.constant = this.constant;
    for (const [k, t] of this.#terms) s.#terms.set(k, { ...t });
    return s;
  }

  /** The coefficient of `term` (0 when absent). */
  coefOf(term: PrimExpr): number {
    return this.#terms.get(exprKey(term))?.coef ?? 0;
  }

  /** Adds `coef * term` where `term` is taken as an opaque term. */
  addTerm(term: PrimExpr, coef: number): this {
    if (coef === 0) return this;
    const k = exprKey(term);
    const t = this.#terms.get(k);
    if (t) t.coef += coef;
    else this.#terms.set(k, { term, coef });
    return this;
  }

  /** Adds `k * other`. */
  addSum(other: LinearSum, k: number): this {
    for (const t of other.terms) this.addTerm(t.term, t.coef * k);
    this.constant += other.constant * k;
    return this;
  }

  /** Adds `k * e`, splitting `e` into terms. */
  addExpr(e: PrimExpr, k: number): this {
    switch (e.kind) {
      case "IntImm":
        this.constant += e.value * k;
        return this;
      case "Add":
        return this.addExpr(e.a, k).addExpr(e.b, k);
      case "Sub":
        return this.addExpr(e.a, k).addExpr(e.b, -k);
      case "Mul": {
        const a = LinearSum.of(e.a), b = LinearSum.of(e.b);
        if (a.isConstant) return this.addSum(b, a.constant * k);
        if (b.isConstant) return this.addSum(a, b.constant * k);
        const [ta] = a.terms, [tb] = b.terms;
        if (a.terms.length === 1 && b.terms.length === 1 && !a.constant && !b.constant) {
          // (x*c1) * (y*c2) -> (x*y) * (c1*c2)
          return this.addTerm(mul(ta!.term, tb!.term), ta!.coef * tb!.coef * k);
        }
        return this.addTerm(e, k);
      }
      default:
        return this.addTerm(e, k);
    }
  }

  /** Multiplies every coefficient and the constant by `k`. */
  scale(k: number): this {
    for (const t of this.#terms.values()) t.coef *= k;
    this.constant *= k;
    return this;
  }

  /** Divides every coefficient and the constant by `g`, which must divide them all. */
  divideExact(g: number): this {
    for (const t of this.#terms.values()) t.coef /= g;
    this.constant /= g;
    return this;
  }

  /** The gcd of all coefficients and, when `withConstant`, the constant (0 for the empty sum). */
  coefGcd(withConstant: boolean): number {
    let g = withConstant ? Math.abs(this.constant) : 0;
    for (const t of this.terms) g = gcd(g, t.coef);
    return g;
  }

  /**
   * Whether the sum can be rebuilt in its dtype: the magnitude of every coefficient and of the
   * constant fits (nothing overflowed), and a constant-only sum fits as it is.
   */
  get isExact(): boolean {
    const terms = this.terms;
    if (terms.length === 0) return fitsInt(this.constant, this.dtype);
    const ok = (v: number) => fitsInt(Math.abs(v), this.dtype);
    return ok(this.constant) && terms.every((t) => ok(t.coef));
  }

  /**
   * Splits the sum as `c * quotient + rest`, where `quotient` takes every term whose coefficient
   * `c` divides and `rest` keeps the others plus a constant in `[0, c)`. Requires `c > 0`.
   */
  splitBy(c: number): { quotient: LinearSum; rest: LinearSum } {
    const quotient = new LinearSum(this.dtype), rest = new LinearSum(this.dtype);
    for (const t of this.terms) {
      if (t.coef % c === 0) quotient.addTerm(t.term, t.coef / c);
      else rest.addTerm(t.term, t.coef);
    }
    const q = Math.floor(this.constant / c);
    quotient.constant = q;
    rest.constant = this.constant - q * c;
    return { quotient, rest };
  }

  /** Rebuilds the sum as an expression (see the module docs for the order). */
  toExpr(): PrimExpr {
    const c = (v: number) => intImm(v, this.dtype);
    let acc: PrimExpr | undefined;
    const terms = this.terms;
    for (const t of terms) {
      if (t.coef <= 0) continue;
      const x = t.coef === 1 ? t.term : mul(t.term, c(t.coef));
      acc = acc ? add(acc, x) : x;
    }
    for (const t of terms) {
      if (t.coef >= 0) continue;
      const x = t.coef === -1 ? t.term : mul(t.term, c(-t.coef));
      if (acc) acc = sub(acc, x);
      else acc = isUInt(this.dtype) ? sub(c(0), x) : mul(t.term, c(t.coef)); // unsigned: 0 - x
    }
    if (!acc) return c(this.constant);
    if (this.constant > 0) return add(acc, c(this.constant));
    if (this.constant < 0) return sub(acc, c(-this.constant));
    return acc;
  }

  /**
   * Merges `floordiv(x, c) * (k*c) + floormod(x, c) * k` into `x * k`, likewise
   * `floordiv(x, y) * y * k + floormod(x, y) * k` for a symbolic `y`, and the same for truncating
   * division; `x` is added back split into terms. Returns whether anything merged.
   */
  mergeDivMod(): boolean {
    let merged = false;
    for (let round = 0; round < 8; round++) {
      let found = false;
      for (const t of this.terms) {
        const m = t.term;
        if (m.kind !== "FloorMod" && m.kind !== "Mod") continue;
        const d = binary(m.kind === "FloorMod" ? "FloorDiv" : "Div", m.a, m.b);
        let dt;
        if (m.b.kind === "IntImm") {
          // floordiv(x, c) * c + floormod(x, c) -> x
          dt = this.#terms.get(exprKey(d));
          if (!dt || dt.coef !== t.coef * m.b.value) continue;
        } else {
          // floordiv(x, y) * y + floormod(x, y) -> x
          dt = this.#terms.get(exprKey(mul(d, m.b)));
          if (!dt || dt.coef !== t.coef) continue;
        }
        const k = t.coef;
        dt.coef = 0;
        this.#terms.get(exprKey(m))!.coef = 0;
        this.addExpr(m.a, k);
        found = merged = true;
        break;
      }
      if (!found) break;
    }
    return merged;
  }
}
