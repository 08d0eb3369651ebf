/**
 * Integer sets: the range of values an index expression takes when its loop variables range
 * over their domains, as used by buffer region analysis.
 *
 * @example
 * ```ts
 * import { primVar, range } from "../expr.ts";
 * import { evalSet } from "./int_set.ts";
 *
 * const i = primVar("i"), j = primVar("j");
 * evalSet(i.mul(4).add(j), new Map([[i, range(0, 8)], [j, range(0, 4)]])); // [0, 31]
 * ```
 *
 * @module
 */

import { type DType, intRange, isInt } from "../dtype.ts";
import { add, intImm, type PrimExpr, type Range, sub, type Var } from "../expr.ts";
import { evalInterval, type Interval } from "./_interval.ts";
import { Analyzer } from "./analyzer.ts";

/** An inclusive interval `[min, max]` with symbolic ends. */
export interface IntervalSet {
  /** The smallest value (inclusive). */
  readonly min: PrimExpr;
  /** The largest value (inclusive). */
  readonly max: PrimExpr;
}

/** The set `[min, max]` (inclusive). */
export function intervalSet(min: PrimExpr, max: PrimExpr): IntervalSet {
  return { min, max };
}

/** The set of values in a range `[r.min, r.min + r.extent)`. */
export function intervalFromRange(r: Range): IntervalSet {
  return { min: r.min, max: sub(add(r.min, r.extent), 1) };
}

/** The range `[s.min, s.max + 1)` covering a set. */
export function intervalToRange(s: IntervalSet, analyzer: Analyzer = new Analyzer()): Range {
  return {
    kind: "Range",
    min: s.min,
    extent: analyzer.simplify(add(sub(s.max, s.min), 1)),
  };
}

/** The most extreme value a dtype holds, as a safe JS integer (int64 is clamped to 2^53 - 1). */
function limit(t: DType, which: "min" | "max"): PrimExpr {
  const r = intRange(isInt(t) ? t : "int32");
  const v = Number(r[which]);
  const safe = Math.max(Math.min(v, Number.MAX_SAFE_INTEGER), Number.MIN_SAFE_INTEGER);
  return intImm(safe, isInt(t) ? t : "int32");
}

/**
 * The (over-approximated) set of values `e` takes when every variable in `doms` ranges over its
 * domain; other variables keep a fixed unknown value. Ends are simplified with `analyzer` (and
 * its facts). An end that cannot be bounded becomes the constant bound of `e` when one is known,
 * else the limit of `e`'s dtype.
 *
 * @example
 * ```ts
 * import { floordiv, primVar, range } from "../expr.ts";
 * import { evalSet } from "./int_set.ts";
 *
 * const i = primVar("i");
 * evalSet(floordiv(i, 4), new Map([[i, range(0, 32)]])); // [0, 7]
 * ```
 */
export function evalSet(
  e: PrimExpr,
  doms: ReadonlyMap<Var, Range | IntervalSet>,
  analyzer: Analyzer = new Analyzer(),
): IntervalSet {
  const ivDoms = new Map<Var, Interval>();
  for (const [v, d] of doms) {
    const s = "kind" in d && d.kind === "Range" ? intervalFromRange(d) : d as IntervalSet;
    ivDoms.set(v, { min: analyzer.simplify(s.min), max: analyzer.simplify(s.max) });
  }
  let iv = evalInterval(e, ivDoms, analyzer);
  if (iv.min && iv.max) return { min: iv.min, max: iv.max };
  // Retry on `e` simplified under the domains (`k // n` is 0 for `k` in `[0, n)`), then fall
  // back to constant bounds.
  const { simplified, bound } = analyzer.withScope(() => {
    for (const [v, d] of ivDoms) {
      if (!d.min || !d.max || !isInt(v.dtype)) continue;
      analyzer.bind(v, { kind: "Range", min: d.min, extent: add(sub(d.max, d.min), 1) });
    }
    return { simplified: analyzer.simplify(e), bound: analyzer.constIntBound(e) };
  });
  if (simplified !== e) {
    const again = evalInterval(simplified, ivDoms, analyzer);
    iv = { min: iv.min ?? again.min, max: iv.max ?? again.max };
  }
  const t = e.dtype;
  return {
    min: iv.min ?? (Number.isFinite(bound.min) ? intImm(bound.min, t) : limit(t, "min")),
    max: iv.max ?? (Number.isFinite(bound.max) ? intImm(bound.max, t) : limit(t, "max")),
  };
}
