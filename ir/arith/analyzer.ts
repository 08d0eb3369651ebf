/**
 * The arithmetic analyzer: facts about variables (`i` ranges over `[0, n)`, `x == 4`) and the
 * questions asked with them (simplify, prove, bound).
 *
 * @example
 * ```ts
 * import { floordiv, primVar, range } from "../expr.ts";
 * import { Analyzer } from "./analyzer.ts";
 *
 * const i = primVar("i"), j = primVar("j");
 * const an = new Analyzer();
 * an.bind(i, range(0, 8));
 * an.bind(j, range(0, 4));
 * an.simplify(floordiv(i.mul(4).add(j), 4)); // i
 * an.canProve(i.mul(4).add(j).lt(32)); // true
 * ```
 *
 * @module
 */

import { isInt } from "../dtype.ts";
import { add, eq, type PrimExpr, type Range, sub, type Var } from "../expr.ts";
import { sameExpr } from "./_key.ts";
import type { IntBound } from "./bounds.ts";
import { isLinearDType } from "./linear.ts";
import { Simplifier, type VarInfo } from "./simplify.ts";

/** Holds facts about variables and answers arithmetic questions under them. */
export class Analyzer {
  #vars = new Map<Var, VarInfo>();
  readonly #lookup = (v: Var): VarInfo | undefined => this.#vars.get(v);

  #engine(): Simplifier {
    return new Simplifier(this.#lookup);
  }

  /**
   * Records that `v` ranges over `[dom.min, dom.min + dom.extent)` (a `Range`) or equals `dom`
   * (an expression, which {@link simplify} then substitutes for `v`). A new fact about `v`
   * replaces the old one; use {@link withScope} to undo it.
   */
  bind(v: Var, dom: Range | PrimExpr): void {
    if (dom.kind === "Range") {
      const min = this.simplify(dom.min);
      const last = this.simplify(sub(add(min, dom.extent), 1));
      const bound = { min: this.constIntBound(min).min, max: this.constIntBound(last).max };
      const symbolic = min.kind !== "IntImm" || last.kind !== "IntImm";
      this.#vars.set(v, symbolic ? { bound, range: { min, max: last } } : { bound });
      return;
    }
    if (dom.dtype !== v.dtype) {
      throw new Error(`Cannot bind ${dom.dtype} value to ${v.dtype} variable "${v.name}"`);
    }
    const value = this.simplify(dom);
    this.#vars.set(v, isInt(v.dtype) ? { value, bound: this.constIntBound(value) } : { value });
  }

  /** Records constant bounds `[bound.min, bound.max]` (inclusive) of `v`. */
  bindConstBound(v: Var, bound: IntBound): void {
    if (bound.min > bound.max) {
      throw new Error(`Cannot bind "${v.name}" to the empty bound [${bound.min}, ${bound.max}]`);
    }
    this.#vars.set(v, { bound: { min: bound.min, max: bound.max } });
  }

  /** Simplifies `e` with the facts known; returns `e` itself when nothing changes. */
  simplify(e: PrimExpr): PrimExpr {
    return this.#engine().simplify(e);
  }

  /** Whether `cond` is provably true (false means "could not prove", not "false"). */
  canProve(cond: PrimExpr): boolean {
    return this.#engine().prove(cond);
  }

  /** Whether `a` and `b` provably have the same value. */
  canProveEqual(a: PrimExpr, b: PrimExpr): boolean {
    if (isLinearDType(a.dtype) && isLinearDType(b.dtype)) return this.canProve(eq(a, b));
    const s = this.#engine();
    return sameExpr(s.simplify(a), s.simplify(b));
  }

  /** The smallest and largest value of an integer expression; `±Infinity` where unknown. */
  constIntBound(e: PrimExpr): IntBound {
    return this.#engine().constIntBound(e);
  }

  /** Runs `fn`; facts bound inside it are forgotten afterwards (also when it throws). */
  withScope<T>(fn: () => T): T {
    const saved = new Map(this.#vars);
    try {
      return fn();
    } finally {
      this.#vars = saved;
    }
  }
}

/** Options of {@link simplify}. */
export interface SimplifyOptions {
  /** Ranges of variables, as for {@link Analyzer.bind}. */
  readonly bounds?: ReadonlyMap<Var, Range>;
}

/**
 * Simplifies an expression: constant folding, canonical affine sums, division and modulo by
 * constants, min/max and comparisons decided by bounds. Returns `e` itself when nothing changes.
 *
 * @example
 * ```ts
 * import { primVar } from "../expr.ts";
 * import { simplify } from "./analyzer.ts";
 *
 * const x = primVar("x");
 * simplify(x.add(2).add(x.mul(3)).sub(2)); // x * 4
 * ```
 */
export function simplify(e: PrimExpr, options: SimplifyOptions = {}): PrimExpr {
  const an = new Analyzer();
  for (const [v, r] of options.bounds ?? []) an.bind(v, r);
  return an.simplify(e);
}
