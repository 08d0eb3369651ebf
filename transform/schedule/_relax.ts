/**
 * Region relaxation for the primitives that move or add blocks: the part of a buffer a block
 * touches while some loops range over their domains, as inclusive bounds per dimension.
 *
 * @module
 */

import { Analyzer } from "../../ir/arith/analyzer.ts";
import { evalSet, type IntervalSet } from "../../ir/arith/int_set.ts";
import {
  add,
  max,
  min,
  type PrimExpr,
  type Range,
  range,
  type StorageScope,
  sub,
  type Var,
} from "../../ir/expr.ts";
import type { BufferRegion, For, SBlockRealize } from "../../ir/tir/stmt.ts";
import { substExpr } from "./_arith.ts";

/** Inclusive bounds `[lo, hi]` of one dimension. */
export interface Bounds {
  /** The smallest index. */
  readonly lo: PrimExpr;
  /** The largest index. */
  readonly hi: PrimExpr;
}

/** An analyzer that knows the ranges of `loops` (a unit loop is bound to its start). */
export function loopAnalyzer(loops: readonly For[]): Analyzer {
  const an = new Analyzer();
  for (const l of loops) {
    an.bind(
      l.loopVar,
      l.extent.kind === "IntImm" && l.extent.value === 1 ? l.min : range(l.min, l.extent),
    );
  }
  return an;
}

/** The domain of a loop as a range. */
export function loopRange(l: For): Range {
  return { kind: "Range", min: l.min, extent: l.extent };
}

/**
 * The domains over which `loops` (outermost first) range together: a loop whose range depends
 * on an outer loop of the list gets the union of its ranges. Adds to `into` and returns it.
 */
export function loopDomains(
  loops: readonly For[],
  an: Analyzer,
  into: Map<Var, IntervalSet> = new Map(),
): Map<Var, IntervalSet> {
  for (const l of loops) {
    const lo = evalSet(l.min, into, an).min;
    const hi = evalSet(sub(add(l.min, l.extent), 1), into, an).max;
    into.set(l.loopVar, { min: an.simplify(lo), max: an.simplify(hi) });
  }
  return into;
}

const STORAGE_RANK: { readonly [K in StorageScope]: number } = {
  global: 0,
  uniform: 0,
  shared: 1,
  "shared.dyn": 1,
  local: 3,
};

/**
 * Whether a block writing a buffer of `scope` under the thread loop `loop` must cover the needs
 * of every thread of it: threads of one workgroup share `shared` memory (`threadIdx` relaxes),
 * nothing is relaxed for `local` and (outside the path) for `global`.
 */
export function relaxesThread(loop: For, scope: StorageScope): boolean {
  if (loop.forKind !== "thread_binding" || !loop.threadTag) return false;
  const rank = STORAGE_RANK[scope];
  if (rank === 0) return false;
  const threadRank = loop.threadTag.startsWith("blockIdx") ? 0 : 1;
  return rank <= threadRank;
}

/** The iteration variables of a realize mapped to their bound values. */
export function bindingOf(r: SBlockRealize): Map<Var, PrimExpr> {
  return new Map(r.block.iterVars.map((iv, i) => [iv.var, r.iterValues[i]!]));
}

/**
 * The bounds of a region, after substituting `binding`, while the variables of `doms` range
 * over their domains.
 */
export function regionBounds(
  region: BufferRegion,
  binding: ReadonlyMap<Var, PrimExpr>,
  doms: ReadonlyMap<Var, Range | IntervalSet>,
  an: Analyzer,
): Bounds[] {
  return region.region.map((r) => {
    const lo = substExpr(r.min, binding);
    const hi = substExpr(sub(add(r.min, r.extent), 1), binding);
    return {
      lo: an.simplify(evalSet(lo, doms, an).min),
      hi: an.simplify(evalSet(hi, doms, an).max),
    };
  });
}

/** The smallest bounds covering both (simplified; `min`/`max` remain when undecided). */
export function unionBounds(a: Bounds, b: Bounds, an: Analyzer): Bounds {
  return { lo: an.simplify(min(a.lo, b.lo)), hi: an.simplify(max(a.hi, b.hi)) };
}

/** The bounds clipped to `[dom.min, dom.min + dom.extent)`. */
export function clipBounds(a: Bounds, dom: Range, an: Analyzer): Bounds {
  return {
    lo: an.simplify(max(a.lo, dom.min)),
    hi: an.simplify(min(a.hi, sub(add(dom.min, dom.extent), 1))),
  };
}

/** The range `[lo, hi + 1)` (an extent `min(a, b) + 1 - lo` is distributed over the `min`). */
export function boundsRange(b: Bounds, an: Analyzer): Range {
  const ext = (hi: PrimExpr) => an.simplify(sub(add(hi, 1), b.lo));
  const extent = b.hi.kind === "Min" ? an.simplify(min(ext(b.hi.a), ext(b.hi.b))) : ext(b.hi);
  return { kind: "Range", min: b.lo, extent };
}
