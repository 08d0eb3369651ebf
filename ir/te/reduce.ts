/**
 * Reductions of the `te` DSL: reduce axes, commutative reducers (`sum`, `max`, `min`, `prod`,
 * custom ones from {@link commReducer} / {@link multiCommReducer}) and `argmax`/`argmin`.
 *
 * A reduction is a {@link Reduce} object, not a `PrimExpr`: it may only be the whole result of a
 * `te.compute` callback.
 *
 * @module
 */

import { type DType, intRange, isFloat, isInt, parseDType } from "../dtype.ts";
import {
  and,
  boolImm,
  constant,
  eq,
  floatImm,
  gt,
  intImm,
  isPrimExpr,
  lt,
  or,
  type PrimExpr,
  type PrimExprLike,
  primVar,
  type Range,
  select,
  sub,
  toExpr,
  type Var,
} from "../expr.ts";
import { normalizeIndex } from "./_index.ts";

// ---------------------------------------------------------------------------------------------
// reduce axes

const reduceAxes = new WeakMap<Var, Range>();

/** Options of {@link reduceAxis}. */
export interface ReduceAxisOptions {
  /** The axis dtype; by default int64 when a bound is an int64 expression, else int32. */
  readonly dtype?: DType;
}

/**
 * A new reduction axis over `[lo, hi)` (or `[0, extent)` when given one bound). It is a plain
 * `Var`, usable in indices, whose domain te remembers.
 *
 * @example
 * ```ts
 * const k = reduceAxis([0, 64], "k");
 * ```
 */
export function reduceAxis(
  dom: readonly [PrimExprLike, PrimExprLike] | PrimExprLike,
  name: string,
  options: ReduceAxisOptions = {},
): Var {
  const [lo, hi] = Array.isArray(dom)
    ? dom as readonly [PrimExprLike, PrimExprLike]
    : [0, dom as PrimExprLike];
  const bounds = [lo, hi].map((b) => (typeof b === "object" ? b : undefined));
  for (const b of bounds) {
    if (b && !isInt(b.dtype)) {
      throw new Error(`Reduce axis "${name}" bounds must be integers, got ${b.dtype}`);
    }
  }
  const t = options.dtype
    ? parseDType(options.dtype)
    : bounds.some((b) => b?.dtype === "int64")
    ? "int64"
    : "int32";
  const v = primVar(name, t);
  const min = normalizeIndex(lo, t);
  const extent = normalizeIndex(sub(normalizeIndex(hi, t), min), t);
  reduceAxes.set(v, { kind: "Range", min, extent });
  return v;
}

/** The domain of a reduce axis made by {@link reduceAxis}, or `undefined` for any other `Var`. */
export function reduceAxisDom(v: Var): Range | undefined {
  return reduceAxes.get(v);
}

/** Whether `v` was made by {@link reduceAxis}. */
export function isReduceAxis(v: PrimExpr): boolean {
  return v.kind === "Var" && reduceAxes.has(v);
}

// ---------------------------------------------------------------------------------------------
// reducers

/**
 * A commutative reducer made concrete for some dtypes: `result[i]` combines the accumulators
 * `lhs` with the new values `rhs`; `identity[i]` is the value reductions start from.
 */
export interface CommReducer {
  /** The node kind. */
  readonly kind: "te.CommReducer";
  /** The reducer name, used in error messages. */
  readonly name: string;
  /** The accumulator variables. */
  readonly lhs: readonly Var[];
  /** The variables standing for the new values. */
  readonly rhs: readonly Var[];
  /** The combined values, over `lhs` and `rhs`. */
  readonly result: readonly PrimExpr[];
  /** The values reductions start from. */
  readonly identity: readonly PrimExpr[];
}

/**
 * A reduction: the result of `te.sum(...)` and the other reducers. Only valid as the whole result
 * of a `te.compute` callback. A multi-value reduction (argmax) is one `Reduce` per value, sharing
 * everything but `valueIndex`.
 */
export interface Reduce {
  /** The node kind. */
  readonly kind: "te.Reduce";
  /** The reducer, made concrete for the source dtypes. */
  readonly combiner: CommReducer;
  /** The values reduced, one per reducer value. */
  readonly source: readonly PrimExpr[];
  /** The reduce axes (made by {@link reduceAxis}). */
  readonly axes: readonly Var[];
  /** Only iterations where this holds take part (`true` by default). */
  readonly condition: PrimExpr;
  /** Initial values replacing the identity, when given. */
  readonly init: readonly PrimExpr[] | undefined;
  /** Which value of the reducer this is. */
  readonly valueIndex: number;
  /** The dtype of this value. */
  readonly dtype: DType;
}

/** Whether `x` is a {@link Reduce}. */
export function isReduce(x: unknown): x is Reduce {
  return typeof x === "object" && x !== null && (x as { kind?: unknown }).kind === "te.Reduce";
}

/** Options of a reduction. */
export interface ReduceOptions {
  /** Only iterations where this bool holds are combined. */
  readonly where?: PrimExprLike;
  /** A starting value used instead of the reducer's identity. */
  readonly init?: PrimExprLike;
}

/** Options of a multi-value reduction. */
export interface MultiReduceOptions {
  /** Only iterations where this bool holds are combined. */
  readonly where?: PrimExprLike;
  /** Starting values used instead of the reducer's identities. */
  readonly init?: readonly PrimExprLike[];
}

/** A single-value reducer: `te.sum(expr, axes, { where, init })`. */
export type Reducer = (
  source: PrimExprLike,
  axes: Var | readonly Var[],
  options?: ReduceOptions,
) => Reduce;

/** A multi-value reducer: returns one {@link Reduce} per value. */
export type MultiReducer = (
  sources: readonly PrimExprLike[],
  axes: Var | readonly Var[],
  options?: MultiReduceOptions,
) => readonly Reduce[];

/** Options of {@link commReducer}. */
export interface CommReducerOptions {
  /** A name, used in error messages. */
  readonly name?: string;
}

function checkAxes(name: string, axes: Var | readonly Var[]): readonly Var[] {
  const list: readonly Var[] = Array.isArray(axes) ? axes as readonly Var[] : [axes as Var];
  if (list.length === 0) throw new Error(`Reduction "${name}" needs at least one reduce axis`);
  const seen = new Set<Var>();
  for (const a of list) {
    const x: unknown = a;
    if (!isPrimExpr(x) || !isReduceAxis(x)) {
      const what = isPrimExpr(x) && x.kind === "Var" ? `"${x.name}"` : "a value";
      throw new Error(
        `Reduction "${name}": ${what} is not a reduce axis (make one with te.reduceAxis)`,
      );
    }
    if (seen.has(a)) {
      throw new Error(`Reduction "${name}": reduce axis "${a.name}" is listed twice`);
    }
    seen.add(a);
  }
  return list;
}

function toSource(name: string, x: PrimExprLike): PrimExpr {
  if (isReduce(x)) throw new Error(`Reduction "${name}": cannot reduce a reduction`);
  return toExpr(x);
}

function makeReduce(
  name: string,
  combine: (x: readonly Var[], y: readonly Var[]) => readonly PrimExprLike[],
  identity: (dtypes: readonly DType[]) => readonly PrimExprLike[],
  sources: readonly PrimExprLike[],
  axes: Var | readonly Var[],
  options: { readonly where?: PrimExprLike; readonly init?: readonly PrimExprLike[] },
): readonly Reduce[] {
  const source = sources.map((s) => toSource(name, s));
  const axisList = checkAxes(name, axes);
  const dtypes = source.map((s) => s.dtype);
  const lhs = dtypes.map((t, i) => primVar(source.length > 1 ? `x${i}` : "x", t));
  const rhs = dtypes.map((t, i) => primVar(source.length > 1 ? `y${i}` : "y", t));
  const fit = (what: string, xs: readonly PrimExprLike[]): PrimExpr[] => {
    if (xs.length !== source.length) {
      throw new Error(
        `Reduction "${name}": ${what} gave ${xs.length} values for ${source.length} sources`,
      );
    }
    return xs.map((x, i) => {
      const e = toExpr(x, source[i]);
      if (e.dtype !== dtypes[i]) {
        throw new Error(
          `Reduction "${name}": ${what} value ${i} is ${e.dtype}, expected ${dtypes[i]}`,
        );
      }
      return e;
    });
  };
  const combiner: CommReducer = {
    kind: "te.CommReducer",
    name,
    lhs,
    rhs,
    result: fit("the combiner", combine(lhs, rhs)),
    identity: fit("the identity", identity(dtypes)),
  };
  const condition = toExpr(options.where ?? true);
  if (condition.dtype !== "bool") {
    throw new Error(
      `Reduction "${name}": the where condition must be bool, got ${condition.dtype}`,
    );
  }
  const init = options.init && fit("init", options.init);
  return source.map((s, valueIndex) => ({
    kind: "te.Reduce",
    combiner,
    source,
    axes: axisList,
    condition,
    init,
    valueIndex,
    dtype: s.dtype,
  }));
}

/**
 * A custom single-value reducer from a combiner (`x` the accumulator, `y` the new value) and an
 * identity (the start value for a dtype).
 *
 * @example
 * ```ts
 * const mySum = commReducer((x, y) => x.add(y), (t) => constant(0, t), { name: "my_sum" });
 * const s = compute([n], ([i]) => mySum(A.at(i, k), k));
 * ```
 */
export function commReducer(
  combine: (x: Var, y: Var) => PrimExprLike,
  identity: (dtype: DType) => PrimExprLike,
  options: CommReducerOptions = {},
): Reducer {
  const name = options.name ?? "reduce";
  return (source, axes, opts = {}) =>
    makeReduce(
      name,
      (x, y) => [combine(x[0]!, y[0]!)],
      (ts) => [identity(ts[0]!)],
      [source],
      axes,
      { ...opts, init: opts.init === undefined ? undefined : [opts.init] } as MultiReduceOptions,
    )[0]!;
}

/**
 * A custom reducer over several values at once (an argmax keeps an index and a value). The
 * combiner gets the accumulators `x` and the new values `y`, in source order.
 */
export function multiCommReducer(
  combine: (x: readonly Var[], y: readonly Var[]) => readonly PrimExprLike[],
  identity: (dtypes: readonly DType[]) => readonly PrimExprLike[],
  options: CommReducerOptions = {},
): MultiReducer {
  const name = options.name ?? "reduce";
  return (sources, axes, opts = {}) => makeReduce(name, combine, identity, sources, axes, opts);
}

/** The largest finite value of a dtype (as TVM's `max_value`). */
export function maxValue(dtype: DType): PrimExpr {
  const t = parseDType(dtype);
  if (t === "bool") return boolImm(true);
  // int64's largest value is not a double: use the largest double below it
  if (t === "int64") return intImm(2 ** 63 - 1024, t);
  if (isInt(t)) return intImm(Number(intRange(t).max), t);
  if (t === "float16") return floatImm(65504, t);
  if (t === "float32") return floatImm(3.4028234663852886e38, t);
  if (t === "float64") return floatImm(Number.MAX_VALUE, t);
  throw new Error(`Cannot take the largest value of dtype "${t}"`);
}

/** The smallest finite value of a dtype (as TVM's `min_value`). */
export function minValue(dtype: DType): PrimExpr {
  const t = parseDType(dtype);
  if (t === "bool") return boolImm(false);
  if (isInt(t)) return intImm(Number(intRange(t).min), t);
  if (isFloat(t)) return maxValue(t).neg();
  throw new Error(`Cannot take the smallest value of dtype "${t}"`);
}

/** Sum reduction: `te.sum(A.at(i, k), [k])`. */
export const sum: Reducer = commReducer((x, y) => x.add(y), (t) => constant(0, t), {
  name: "sum",
});

/** Product reduction. */
export const prod: Reducer = commReducer((x, y) => x.mul(y), (t) => constant(1, t), {
  name: "prod",
});

/** Max reduction (starts from the dtype's smallest value). For `max(a, b)` use `maximum`. */
export const max: Reducer = commReducer((x, y) => x.max(y), (t) => minValue(t), { name: "max" });

/** Min reduction (starts from the dtype's largest value). For `min(a, b)` use `minimum`. */
export const min: Reducer = commReducer((x, y) => x.min(y), (t) => maxValue(t), { name: "min" });

/** Options of {@link argmax} and {@link argmin}. */
export interface ArgReduceOptions {
  /** Only iterations where this bool holds take part. */
  readonly where?: PrimExprLike;
  /** The dtype of the index output; the axis dtype by default. */
  readonly indexDtype?: DType;
}

function argReduce(name: string, better: (a: PrimExpr, b: PrimExpr) => PrimExpr) {
  const reducer = multiCommReducer(
    ([xi, xv], [yi, yv]) => {
      // keep x when strictly better, or equal with a smaller index (first occurrence wins)
      const keep = or(better(xv!, yv!), and(eq(xv!, yv!), lt(xi!, yi!)));
      return [select(keep, xi!, yi!), select(keep, xv!, yv!)];
    },
    ([ti, tv]) => [constant(-1, ti!), name === "argmax" ? minValue(tv!) : maxValue(tv!)],
    { name },
  );
  return (source: PrimExprLike, axis: Var, options: ArgReduceOptions = {}): readonly Reduce[] => {
    const [ax] = checkAxes(name, axis);
    const idx = options.indexDtype ? normalizeIndex(ax!, options.indexDtype) : ax!;
    return reducer([idx, source], ax!, options.where === undefined ? {} : { where: options.where });
  };
}

/**
 * The index and value of the largest element along one reduce axis (first occurrence on ties):
 * `const [idx, val] = compute([n], ([i]) => argmax(A.at(i, k), k))`.
 */
export const argmax: (
  source: PrimExprLike,
  axis: Var,
  options?: ArgReduceOptions,
) => readonly Reduce[] = argReduce("argmax", gt);

/** The index and value of the smallest element along one reduce axis (first occurrence). */
export const argmin: (
  source: PrimExprLike,
  axis: Var,
  options?: ArgReduceOptions,
) => readonly Reduce[] = argReduce("argmin", lt);
