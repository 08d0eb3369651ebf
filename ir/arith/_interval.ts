/**
 * Symbolic interval arithmetic: the range of an expression when some variables range over
 * intervals. Ends are `undefined` when unbounded. Shared by `evalSet` and the analyzer's
 * symbolic bound proofs; private to `ir/arith/`.
 *
 * @module
 */

import { isInt, lanes } from "../dtype.ts";
import {
  add,
  boolImm,
  cast,
  floordiv,
  floormod,
  intImm,
  max,
  min,
  mul,
  type PrimExpr,
  sub,
  truncdiv,
  truncmod,
  type Var,
} from "../expr.ts";
import { freeVars, sameExpr } from "./_key.ts";
import type { IntBound } from "./bounds.ts";

/** An inclusive interval with symbolic ends; `undefined` marks an unbounded end. */
export interface Interval {
  readonly min: PrimExpr | undefined;
  readonly max: PrimExpr | undefined;
}

/** What interval evaluation needs from an analyzer. */
export interface IntervalContext {
  /** Simplifies an expression. */
  simplify(e: PrimExpr): PrimExpr;
  /** The constant bound of an expression. */
  constIntBound(e: PrimExpr): IntBound;
}

const UNBOUNDED: Interval = { min: undefined, max: undefined };

type Ends = PrimExpr | undefined;

/**
 * The interval of `e` when each variable in `doms` ranges over its interval; other variables
 * are fixed. Over-approximates: the true range is always inside the result.
 */
export function evalInterval(
  e: PrimExpr,
  doms: ReadonlyMap<Var, Interval>,
  cx: IntervalContext,
): Interval {
  return new IntervalEval(doms, cx).eval(e);
}

class IntervalEval {
  readonly #doms: Map<Var, Interval>;
  readonly #cx: IntervalContext;

  constructor(doms: ReadonlyMap<Var, Interval>, cx: IntervalContext) {
    this.#doms = new Map(doms);
    this.#cx = cx;
  }

  #s(e: PrimExpr): PrimExpr {
    return this.#cx.simplify(e);
  }

  #lift2(a: Ends, b: Ends, f: (x: PrimExpr, y: PrimExpr) => PrimExpr): Ends {
    return a && b ? this.#s(f(a, b)) : undefined;
  }

  #point(e: PrimExpr): Interval {
    return { min: e, max: e };
  }

  #isPoint(i: Interval): i is { min: PrimExpr; max: PrimExpr } {
    return i.min !== undefined && i.max !== undefined && sameExpr(i.min, i.max);
  }

  #dependsOnDoms(e: PrimExpr): boolean {
    return freeVars(e).some((v) => this.#doms.has(v));
  }

  /** -1, 0 or 1 when the sign of every value in `i` is known (0: unknown). */
  #sign(i: Interval): -1 | 0 | 1 {
    if (i.min && this.#cx.constIntBound(i.min).min >= 0) return 1;
    if (i.max && this.#cx.constIntBound(i.max).max <= 0) return -1;
    return 0;
  }

  eval(e: PrimExpr): Interval {
    if (!isInt(e.dtype) || lanes(e.dtype) !== 1) {
      if (e.kind === "Ramp" || e.kind === "Broadcast") return this.#vector(e);
      if (e.dtype === "bool") {
        return this.#dependsOnDoms(e)
          ? { min: boolImm(false), max: boolImm(true) }
          : this.#point(e);
      }
      return this.#dependsOnDoms(e) ? UNBOUNDED : this.#point(e);
    }
    switch (e.kind) {
      case "IntImm":
        return this.#point(e);
      case "Var":
        return this.#doms.get(e) ?? this.#point(e);
      case "Add": {
        const a = this.eval(e.a), b = this.eval(e.b);
        return { min: this.#lift2(a.min, b.min, add), max: this.#lift2(a.max, b.max, add) };
      }
      case "Sub": {
        const a = this.eval(e.a), b = this.eval(e.b);
        return { min: this.#lift2(a.min, b.max, sub), max: this.#lift2(a.max, b.min, sub) };
      }
      case "Mul":
        return this.#mul(this.eval(e.a), this.eval(e.b));
      case "FloorDiv":
      case "Div":
        return this.#div(e.kind, this.eval(e.a), this.eval(e.b));
      case "FloorMod":
      case "Mod":
        return this.#mod(e.kind, this.eval(e.a), this.eval(e.b));
      case "Min": {
        const a = this.eval(e.a), b = this.eval(e.b);
        return {
          min: this.#lift2(a.min, b.min, min),
          max: a.max && b.max ? this.#s(min(a.max, b.max)) : a.max ?? b.max,
        };
      }
      case "Max": {
        const a = this.eval(e.a), b = this.eval(e.b);
        return {
          min: a.min && b.min ? this.#s(max(a.min, b.min)) : a.min ?? b.min,
          max: this.#lift2(a.max, b.max, max),
        };
      }
      case "Select":
        return this.#union(this.eval(e.t), this.eval(e.f));
      case "Call":
        if (e.op === "tir.if_then_else") {
          return this.#union(this.eval(e.args[1]!), this.eval(e.args[2]!));
        }
        return this.#dependsOnDoms(e) ? UNBOUNDED : this.#point(e);
      case "Cast": {
        if (!isInt(e.value.dtype) || !this.#widens(e.value.dtype, e.dtype)) {
          return this.#dependsOnDoms(e) ? UNBOUNDED : this.#point(e);
        }
        const v = this.eval(e.value);
        return {
          min: v.min && this.#s(cast(v.min, e.dtype)),
          max: v.max && this.#s(cast(v.max, e.dtype)),
        };
      }
      case "Let": {
        const saved = this.#doms.get(e.var);
        this.#doms.set(e.var, this.eval(e.value));
        try {
          return this.eval(e.body);
        } finally {
          if (saved) this.#doms.set(e.var, saved);
          else this.#doms.delete(e.var);
        }
      }
      default:
        return this.#dependsOnDoms(e) ? UNBOUNDED : this.#point(e);
    }
  }

  #widens(from: string, to: string): boolean {
    const bits = (t: string) => Number(/\d+/.exec(t)?.[0] ?? 0);
    const signed = (t: string) => t.startsWith("int");
    return signed(from) === signed(to) && bits(from) <= bits(to);
  }

  #union(a: Interval, b: Interval): Interval {
    return { min: this.#lift2(a.min, b.min, min), max: this.#lift2(a.max, b.max, max) };
  }

  #mul(a: Interval, b: Interval): Interval {
    if (this.#isPoint(b)) return this.#scale(a, b.min);
    if (this.#isPoint(a)) return this.#scale(b, a.min);
    if (this.#sign(a) > 0 && this.#sign(b) > 0) {
      return { min: this.#lift2(a.min, b.min, mul), max: this.#lift2(a.max, b.max, mul) };
    }
    if (!a.min || !a.max || !b.min || !b.max) return UNBOUNDED;
    const corners = [mul(a.min, b.min), mul(a.min, b.max), mul(a.max, b.min), mul(a.max, b.max)];
    return {
      min: this.#s(corners.reduce((x, y) => min(x, y))),
      max: this.#s(corners.reduce((x, y) => max(x, y))),
    };
  }

  /** `a * k` for a fixed `k`. */
  #scale(a: Interval, k: PrimExpr): Interval {
    const sign = this.#sign({ min: k, max: k });
    const f = (x: PrimExpr) => mul(x, k);
    if (sign > 0) return { min: this.#lift2(a.min, k, f), max: this.#lift2(a.max, k, f) };
    if (sign < 0) return { min: this.#lift2(a.max, k, f), max: this.#lift2(a.min, k, f) };
    if (this.#isPoint(a)) return this.#point(this.#s(f(a.min)));
    return UNBOUNDED;
  }

  #div(kind: "FloorDiv" | "Div", a: Interval, b: Interval): Interval {
    const op = kind === "FloorDiv" ? floordiv : truncdiv;
    if (this.#isPoint(b)) {
      const d = b.min;
      // Both divisions are monotone in the dividend for a fixed divisor.
      const f = (x: PrimExpr) => op(x, d);
      const sign = this.#cx.constIntBound(d).min > 0
        ? 1
        : this.#cx.constIntBound(d).max < 0
        ? -1
        : 0;
      if (sign > 0) return { min: this.#lift2(a.min, d, f), max: this.#lift2(a.max, d, f) };
      if (sign < 0) return { min: this.#lift2(a.max, d, f), max: this.#lift2(a.min, d, f) };
    }
    if (this.#isPoint(a) && this.#isPoint(b)) return this.#point(this.#s(op(a.min, b.min)));
    return UNBOUNDED;
  }

  #mod(kind: "FloorMod" | "Mod", a: Interval, b: Interval): Interval {
    if (!this.#isPoint(b)) return UNBOUNDED;
    const d = b.min;
    if (this.#isPoint(a)) {
      return this.#point(this.#s(kind === "FloorMod" ? floormod(a.min, d) : truncmod(a.min, d)));
    }
    const db = this.#cx.constIntBound(d);
    const aNonNeg = this.#sign(a) > 0;
    if (db.max < 0 && kind === "FloorMod") {
      return { min: this.#s(add(d, 1)), max: intImm(0, d.dtype) };
    }
    if (db.min <= 0) return UNBOUNDED;
    if (kind === "Mod" && !aNonNeg) {
      return { min: this.#s(sub(1, d)), max: this.#s(sub(d, 1)) };
    }
    // Here the result is floormod(a, d) with d > 0.
    if (a.min && a.max) {
      if (aNonNeg && this.#cx.constIntBound(this.#s(sub(a.max, d))).max < 0) return a;
      const qa = this.#s(floordiv(a.min, d)), qb = this.#s(floordiv(a.max, d));
      if (sameExpr(qa, qb)) {
        return { min: this.#s(floormod(a.min, d)), max: this.#s(floormod(a.max, d)) };
      }
    }
    const top = this.#s(sub(d, 1));
    return {
      min: intImm(0, d.dtype),
      max: aNonNeg && a.max ? this.#s(min(a.max, top)) : top,
    };
  }

  #vector(e: PrimExpr): Interval {
    if (e.kind === "Broadcast") return this.eval(e.value);
    if (e.kind !== "Ramp") return UNBOUNDED;
    const base = this.eval(e.base);
    const stride = this.eval(e.stride);
    const last = this.#scale(stride, intImm(e.lanes - 1, e.stride.dtype));
    const zero = this.#point(intImm(0, e.base.dtype));
    const span = this.#union(zero, last);
    return {
      min: this.#lift2(base.min, span.min, add),
      max: this.#lift2(base.max, span.max, add),
    };
  }
}
