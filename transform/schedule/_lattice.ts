/**
 * Exact index sets for the primitives that move blocks (`computeAt`, `reverseComputeAt`): the
 * indices an access takes in one dimension while some loops range over their domains, written
 * as `base + sum(stride_g * k_g)` with `0 <= k_g < extent_g` (a lattice). A loop split as
 * `[outer, serial, thread]` with the thread innermost gives each thread the strided set
 * `o*T*K + tx + T*k`, which an interval `[o*T*K + tx, o*T*K + tx + T*(K-1)]` would overstate.
 *
 * The analysis is that of an affine iteration map: the index, simplified knowing the loop
 * ranges, must be a sum of constant multiples of the relaxed loops (of constant extent) plus a
 * part without them; axes are sorted by stride and merged while they stay exact. Divisions by
 * constants first lose the loop part that cannot carry into the quotient, and a fused loop
 * divided by constants (`floordiv(f, c)`, `floormod(f, c)`) is split into digits.
 *
 * @module
 */

import type { Analyzer } from "../../ir/arith/analyzer.ts";
import { evalSet, type IntervalSet } from "../../ir/arith/int_set.ts";
import { gcd, LinearSum } from "../../ir/arith/linear.ts";
import {
  add,
  floordiv,
  floormod,
  intImm,
  max,
  min,
  mul,
  type PrimExpr,
  primVar,
  range,
  sub,
  type Var,
} from "../../ir/expr.ts";
import { rewritePrimExpr } from "../../ir/visit.ts";
import { usesVar } from "./_arith.ts";
import type { Bounds } from "./_relax.ts";

/** One axis of a {@link Lattice}: `stride * k` for `k` in `[0, extent)`. */
export interface LatticeAxis {
  /** The distance between consecutive indices (positive). */
  readonly stride: number;
  /** The number of indices (at least 2). */
  readonly extent: number;
}

/**
 * The index set `base + sum(stride_g * k_g)`, axes sorted by increasing stride and each stride
 * larger than the span of the axes before it, so every index is reached exactly once.
 */
export interface Lattice {
  /** The tag of a lattice. */
  readonly kind: "lattice";
  /** The smallest index. */
  readonly base: PrimExpr;
  /** The axes, by increasing stride. */
  readonly axes: readonly LatticeAxis[];
}

/** Exactly the indices `[lo, hi]` (an interval of possibly symbolic length). */
export interface Interval extends Bounds {
  /** The tag of an interval. */
  readonly kind: "interval";
}

/** An index set known exactly. */
export type ExactSet = Lattice | Interval;

/** Whether a set is an interval (a point, one axis of stride 1, or an {@link Interval}). */
export function isDense(s: ExactSet): boolean {
  if (s.kind === "interval") return true;
  return s.axes.length === 0 || (s.axes.length === 1 && s.axes[0]!.stride === 1);
}

/** The largest index of a lattice minus the smallest one. */
export function latticeSpan(l: Lattice): number {
  return l.axes.reduce((s, a) => s + a.stride * (a.extent - 1), 0);
}

/** The smallest and the largest index of a set. */
export function hullOf(s: ExactSet, an: Analyzer): Bounds {
  if (s.kind === "interval") return { lo: s.lo, hi: s.hi };
  return { lo: s.base, hi: an.simplify(add(s.base, latticeSpan(s))) };
}

/** The set shifted by `-offset`. */
export function shiftExact(s: ExactSet, offset: PrimExpr, an: Analyzer): ExactSet {
  const at = (e: PrimExpr) => an.simplify(sub(e, offset));
  return s.kind === "interval"
    ? { kind: "interval", lo: at(s.lo), hi: at(s.hi) }
    : { ...s, base: at(s.base) };
}

/** Whether two sets are provably the same. */
export function sameExact(a: ExactSet, b: ExactSet, an: Analyzer): boolean {
  const [x, y] = [hullOf(a, an), hullOf(b, an)];
  const hulls = an.canProveEqual(x.lo, y.lo) && an.canProveEqual(x.hi, y.hi);
  if (isDense(a) && isDense(b)) return hulls;
  if (a.kind !== "lattice" || b.kind !== "lattice") return false;
  return hulls && a.axes.length === b.axes.length &&
    a.axes.every((x, i) => x.stride === b.axes[i]!.stride && x.extent === b.axes[i]!.extent);
}

/**
 * The union of two sets where it is provably exact: the same set, or two intervals that
 * overlap or touch; else undefined.
 */
export function unionExact(a: ExactSet, b: ExactSet, an: Analyzer): ExactSet | undefined {
  if (sameExact(a, b, an)) return a;
  if (!isDense(a) || !isDense(b)) return undefined;
  const [x, y] = [hullOf(a, an), hullOf(b, an)];
  const touch = an.canProve(x.lo.le(add(y.hi, 1))) && an.canProve(y.lo.le(add(x.hi, 1)));
  if (!touch) return undefined;
  return { kind: "interval", lo: an.simplify(min(x.lo, y.lo)), hi: an.simplify(max(x.hi, y.hi)) };
}

/**
 * The value `base + sum(stride * var)` of a lattice's element, with one variable per axis
 * (`vars[g]` for `axes[g]`).
 */
export function latticeValue(l: Lattice, vars: readonly Var[], an: Analyzer): PrimExpr {
  let e = l.base;
  l.axes.forEach((a, g) => {
    const v = vars[g]!;
    e = add(e, a.stride === 1 ? v : mul(v, a.stride));
  });
  return an.simplify(e);
}

/** Adds one axis to axes sorted by stride, merging it when exact; undefined when not exact. */
function addAxis(axes: readonly LatticeAxis[], x: LatticeAxis): LatticeAxis[] | undefined {
  const last = axes.at(-1);
  if (!last || x.stride >= last.stride * last.extent) {
    // a new radix digit; stride = last.stride * last.extent continues the last axis
    if (last && x.stride === last.stride * last.extent) {
      return [...axes.slice(0, -1), { stride: last.stride, extent: last.extent * x.extent }];
    }
    return [...axes, x];
  }
  // `last.stride * [0, n) + c * [0, m)` with `last.stride | c < last.stride * n` is dense
  if (x.stride % last.stride !== 0) return undefined;
  const extent = last.extent + (x.stride / last.stride) * (x.extent - 1);
  return [...axes.slice(0, -1), { stride: last.stride, extent }];
}

/** The size of a domain, simplified. */
function domSize(d: IntervalSet, an: Analyzer): PrimExpr {
  return an.simplify(add(sub(d.max, d.min), 1));
}

/** `e` simplified knowing that the variables of `doms` range over them. */
function simplifyIn(e: PrimExpr, doms: ReadonlyMap<Var, IntervalSet>, an: Analyzer): PrimExpr {
  return an.withScope(() => {
    for (const [v, d] of doms) an.bind(v, range(d.min, domSize(d, an)));
    return an.simplify(e);
  });
}

/**
 * The set of values of `e + [0, extent)` (`e` simplified) while each variable of `doms` ranges
 * over its domain (others fixed), with the variables it depends on: a lattice, or an interval
 * of symbolic length (no loop, or one loop of step 1 with a symbolic extent). Undefined when
 * the index is not affine in the variables with constant strides and extents, or when its axes
 * overlap.
 */
function latticeOf(
  e: PrimExpr,
  extent: PrimExpr,
  doms: ReadonlyMap<Var, IntervalSet>,
  an: Analyzer,
): { set: ExactSet; vars: Var[] } | undefined {
  const relaxed = new Set(doms.keys());
  if (usesVar(extent, relaxed)) return undefined;
  const sum = LinearSum.of(e);
  const rest = new LinearSum(e.dtype);
  rest.constant = sum.constant;
  const terms: { v: Var; coef: number; n: PrimExpr }[] = [];
  for (const t of sum.terms) {
    if (t.term.kind === "Var" && relaxed.has(t.term)) {
      terms.push({ v: t.term, coef: t.coef, n: domSize(doms.get(t.term)!, an) });
    } else if (usesVar(t.term, relaxed)) return undefined;
    else rest.addTerm(t.term, t.coef);
  }
  const vars = terms.map((t) => t.v);
  const unit = extent.kind === "IntImm" && extent.value === 1;
  if (extent.kind !== "IntImm" || terms.some((t) => t.n.kind !== "IntImm")) {
    const oneStep = terms.length === 1 && Math.abs(terms[0]!.coef) === 1 && unit;
    if (terms.length > 0 && !oneStep) return undefined;
    const lo = evalSet(e, doms, an).min, hi = evalSet(add(e, sub(extent, 1)), doms, an).max;
    return { set: { kind: "interval", lo: an.simplify(lo), hi: an.simplify(hi) }, vars };
  }
  let base = rest.toExpr();
  const raw: LatticeAxis[] = [];
  if (extent.value > 1) raw.push({ stride: 1, extent: extent.value });
  for (const { v, coef, n } of terms) {
    const d = doms.get(v)!;
    // coef * (lo + k) for k in [0, n): the smallest value goes to the base
    base = add(base, mul(coef < 0 ? d.max : d.min, coef));
    if (n.kind === "IntImm" && n.value > 1) raw.push({ stride: Math.abs(coef), extent: n.value });
  }
  raw.sort((a, b) => a.stride - b.stride);
  let axes: LatticeAxis[] | undefined = [];
  for (const x of raw) {
    axes = addAxis(axes, x);
    if (!axes) return undefined;
  }
  return { set: { kind: "lattice", base: an.simplify(base), axes }, vars };
}

/**
 * Takes the part of a division's dividend that moves with the loops of `doms` out of it where
 * it cannot carry: with `b` a multiple of `g`, `gcd(g, c) = h` and `0 <= r < h`,
 * `floordiv(b + r, c)` is `floordiv(b, c)` and `floormod(b + r, c)` is `floormod(b, c) + r`
 * (a thread's slice of a fused loop never crosses a row).
 */
function alignDivisions(
  e: PrimExpr,
  doms: ReadonlyMap<Var, IntervalSet>,
  an: Analyzer,
): PrimExpr {
  const relaxed = new Set(doms.keys());
  const expr = (x: PrimExpr) => {
    if ((x.kind !== "FloorDiv" && x.kind !== "FloorMod") || x.b.kind !== "IntImm") return;
    const sum = LinearSum.of(x.a);
    const moving = new LinearSum(sum.dtype), fixed = new LinearSum(sum.dtype);
    fixed.constant = sum.constant;
    for (const t of sum.terms) (usesVar(t.term, relaxed) ? moving : fixed).addTerm(t.term, t.coef);
    if (moving.isConstant || fixed.isConstant) return;
    const h = gcd(fixed.coefGcd(true), x.b.value);
    const r = moving.toExpr();
    const bound = an.withScope(() => {
      for (const [v, d] of doms) an.bind(v, range(d.min, domSize(d, an)));
      return an.constIntBound(r);
    });
    if (bound.min < 0 || bound.max >= h) return;
    const b = fixed.toExpr();
    return x.kind === "FloorDiv" ? floordiv(b, x.b) : add(floormod(b, x.b), r);
  };
  return rewritePrimExpr(e, { expr });
}

/** The constant divisors `c` of the `floordiv(v, c)` and `floormod(v, c)` in `es`, per `v`. */
function divisorsOf(es: readonly PrimExpr[], vars: ReadonlySet<Var>): Map<Var, Set<number>> {
  const out = new Map<Var, Set<number>>();
  const visit = (x: PrimExpr) => {
    if (x.kind !== "FloorDiv" && x.kind !== "FloorMod") return undefined;
    if (x.a.kind !== "Var" || !vars.has(x.a) || x.b.kind !== "IntImm" || x.b.value < 2) {
      return undefined;
    }
    const set = out.get(x.a) ?? new Set();
    out.set(x.a, set.add(x.b.value));
    return undefined;
  };
  for (const e of es) rewritePrimExpr(e, { preExpr: visit });
  return out;
}

/**
 * Splits each loop variable of `doms` that the indices `es` divide (`floordiv(v, c)`,
 * `floormod(v, c)`, as a fused loop does) into digits `v = d0 + c1 * d1 + c2 * d2 + ...`, when
 * its start is 0 and the divisors `c1 < c2 < ...` each divide the next and the extent, and
 * rewrites the indices in the digits: `floordiv(v, c1)` is `d1 + (c2 / c1) * d2 + ...` and
 * `floormod(v, c1)` is `d0`.
 */
function splitDigits(
  es: readonly PrimExpr[],
  doms: ReadonlyMap<Var, IntervalSet>,
  an: Analyzer,
): { es: PrimExpr[]; doms: Map<Var, IntervalSet> } {
  const outDoms = new Map(doms);
  const rules = new Map<Var, (x: PrimExpr) => PrimExpr | undefined>();
  for (const [v, set] of divisorsOf(es, new Set(doms.keys()))) {
    const d = doms.get(v)!;
    const n = domSize(d, an);
    const cs = [1, ...[...set].sort((a, b) => a - b)];
    const ok = n.kind === "IntImm" && d.min.kind === "IntImm" && d.min.value === 0 &&
      cs.every((c, i) => (cs[i + 1] ?? n.value) % c === 0);
    if (!ok) continue;
    const digits = cs.map((c, i) => {
      const dv = primVar(`${v.name}_d${i}`, v.dtype);
      const size = (cs[i + 1] ?? n.value) / c;
      outDoms.set(dv, { min: intImm(0, v.dtype), max: intImm(size - 1, v.dtype) });
      return dv;
    });
    outDoms.delete(v);
    // sum of cs[j] / scale * digits[j] for j in [from, to)
    const part = (from: number, to: number, scale: number): PrimExpr => {
      let e: PrimExpr = intImm(0, v.dtype);
      for (let j = from; j < to; j++) e = add(e, mul(digits[j]!, cs[j]! / scale));
      return e;
    };
    rules.set(v, (x) => {
      if (x === v) return part(0, cs.length, 1);
      if ((x.kind !== "FloorDiv" && x.kind !== "FloorMod") || x.b.kind !== "IntImm") return;
      const i = cs.indexOf(x.b.value);
      if (x.kind === "FloorDiv") return part(i, cs.length, x.b.value);
      return part(0, i, 1);
    });
  }
  if (rules.size === 0) return { es: [...es], doms: outDoms };
  const preExpr = (x: PrimExpr) => {
    const v = x.kind === "Var" ? x : x.kind === "FloorDiv" || x.kind === "FloorMod" ? x.a : x;
    return v.kind === "Var" ? rules.get(v)?.(x) : undefined;
  };
  return { es: es.map((e) => rewritePrimExpr(e, { preExpr })), doms: outDoms };
}

/**
 * The exact index set of each dimension `min + [0, extent)` of an access while each variable
 * of `doms` ranges over its domain, or undefined where it is not known: the index must be
 * affine in the loops (fused loops are split into digits first), and a loop that moves two
 * dimensions makes the box of their sets too large, so neither is exact then.
 */
export function regionExactSets(
  mins: readonly PrimExpr[],
  extents: readonly PrimExpr[],
  doms: ReadonlyMap<Var, IntervalSet>,
  an: Analyzer,
): (ExactSet | undefined)[] {
  const aligned = mins.map((m) => alignDivisions(simplifyIn(m, doms, an), doms, an));
  const split = splitDigits(aligned, doms, an);
  const found = split.es.map((e, d) =>
    latticeOf(simplifyIn(e, split.doms, an), extents[d]!, split.doms, an)
  );
  const seen = new Map<Var, number>();
  found.forEach((f) => f?.vars.forEach((v) => seen.set(v, (seen.get(v) ?? 0) + 1)));
  return found.map((f) => (f && f.vars.every((v) => seen.get(v) === 1) ? f.set : undefined));
}
