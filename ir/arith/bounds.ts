/**
 * Constant integer bounds: the smallest and largest value an integer expression can take, given
 * bounds of its variables. Unknown ends are `-Infinity` / `Infinity`.
 *
 * @module
 */

import { type DType, dtypeBits, dtypeCode, isInt, isUInt } from "../dtype.ts";
import type { PrimExpr, Var } from "../expr.ts";

/** An inclusive interval of integers; `-Infinity` / `Infinity` mark unknown ends. */
export interface IntBound {
  /** The smallest value (or `-Infinity`). */
  readonly min: number;
  /** The largest value (or `Infinity`). */
  readonly max: number;
}

/** The bound that says nothing. */
export const EVERYTHING: IntBound = Object.freeze({ min: -Infinity, max: Infinity });

/** Where the bound analysis looks up the bound of a variable (`undefined`: unknown). */
export type BoundEnv = (v: Var) => IntBound | undefined;

/**
 * The values a dtype can hold, as a bound. 32- and 64-bit signed integers count as unbounded
 * (`±Infinity`) so that "unknown" stays recognizable; unsigned types start at 0.
 */
export function dtypeBound(t: DType): IntBound {
  const code = dtypeCode(t);
  if (code === "bool") return { min: 0, max: 1 };
  if (!isInt(t)) return EVERYTHING;
  const bits = dtypeBits(t);
  if (isUInt(t)) return { min: 0, max: bits >= 32 ? Infinity : 2 ** bits - 1 };
  if (bits >= 32) return EVERYTHING;
  return { min: -(2 ** (bits - 1)), max: 2 ** (bits - 1) - 1 };
}

/** The bound of a single value. */
export function pointBound(v: number): IntBound {
  return { min: v, max: v };
}

/** The intersection of two bounds (may be empty: `min > max`). */
export function intersectBound(a: IntBound, b: IntBound): IntBound {
  return { min: Math.max(a.min, b.min), max: Math.min(a.max, b.max) };
}

/** The smallest bound that holds both. */
export function unionBound(a: IntBound, b: IntBound): IntBound {
  return { min: Math.min(a.min, b.min), max: Math.max(a.max, b.max) };
}

/** `-a`. */
export function negBound(a: IntBound): IntBound {
  return { min: -a.max || 0, max: -a.min || 0 };
}

/** `a + b`. */
export function addBound(a: IntBound, b: IntBound): IntBound {
  return { min: a.min + b.min, max: a.max + b.max };
}

/** `a - b`. */
export function subBound(a: IntBound, b: IntBound): IntBound {
  return { min: a.min - b.max, max: a.max - b.min };
}

/** Product where `0 * Infinity` is 0 (a factor known to be 0 makes the product 0). */
function mul0(x: number, y: number): number {
  return x === 0 || y === 0 ? 0 : x * y;
}

/** `a * b`. */
export function mulBound(a: IntBound, b: IntBound): IntBound {
  const c = [mul0(a.min, b.min), mul0(a.min, b.max), mul0(a.max, b.min), mul0(a.max, b.max)];
  return { min: Math.min(...c), max: Math.max(...c) };
}

/** `floor(x / y)` for `y > 0`, with `y = Infinity` meaning "a divisor as large as you like". */
function fdiv(x: number, y: number): number {
  if (y === Infinity) return x >= 0 ? 0 : -1;
  return Math.floor(x / y) || 0;
}

/** `trunc(x / y)` for `y > 0`, with `y = Infinity` as in {@link fdiv}. */
function tdiv(x: number, y: number): number {
  if (y === Infinity) return 0;
  return Math.trunc(x / y) || 0;
}

/** `floordiv(a, b)`. */
export function floorDivBound(a: IntBound, b: IntBound): IntBound {
  if (b.min > 0) {
    return {
      min: a.min >= 0 ? fdiv(a.min, b.max) : fdiv(a.min, b.min),
      max: a.max >= 0 ? fdiv(a.max, b.min) : fdiv(a.max, b.max),
    };
  }
  if (b.max < 0) return floorDivBound(negBound(a), negBound(b)); // a // b == (-a) // (-b)
  return EVERYTHING;
}

/** Truncating `a / b`. */
export function truncDivBound(a: IntBound, b: IntBound): IntBound {
  if (b.min > 0) {
    return {
      min: a.min >= 0 ? tdiv(a.min, b.max) : tdiv(a.min, b.min),
      max: a.max >= 0 ? tdiv(a.max, b.min) : tdiv(a.max, b.max),
    };
  }
  if (b.max < 0) return negBound(truncDivBound(a, negBound(b))); // trunc(a / b) == -trunc(a / -b)
  return EVERYTHING;
}

/** `floormod(a, b)`. */
export function floorModBound(a: IntBound, b: IntBound): IntBound {
  if (b.min > 0) {
    if (b.min === b.max && Number.isFinite(a.min) && Number.isFinite(a.max)) {
      const k = Math.floor(a.min / b.min);
      if (Math.floor(a.max / b.min) === k) {
        return { min: a.min - k * b.min, max: a.max - k * b.min };
      }
    }
    if (a.min >= 0 && a.max < b.min) return a;
    return { min: 0, max: a.min >= 0 ? Math.min(a.max, b.max - 1) : b.max - 1 };
  }
  if (b.max < 0) return { min: b.min + 1, max: 0 };
  const m = Math.max(-b.min, b.max);
  return { min: -(m - 1), max: m - 1 };
}

/** Truncating `a % b` (the sign of the dividend). */
export function truncModBound(a: IntBound, b: IntBound): IntBound {
  if (a.min >= 0 && b.min > 0) return floorModBound(a, b);
  const m = Math.max(Math.abs(b.min), Math.abs(b.max)) - 1;
  if (a.min >= 0) return { min: 0, max: Math.min(a.max, m) };
  if (a.max <= 0) return { min: Math.max(a.min, -m), max: 0 };
  return { min: Math.max(a.min, -m), max: Math.min(a.max, m) };
}

/** `min(a, b)`. */
export function minBound(a: IntBound, b: IntBound): IntBound {
  return { min: Math.min(a.min, b.min), max: Math.min(a.max, b.max) };
}

/** `max(a, b)`. */
export function maxBound(a: IntBound, b: IntBound): IntBound {
  return { min: Math.max(a.min, b.min), max: Math.max(a.max, b.max) };
}

function castBound(value: IntBound, from: DType, to: DType): IntBound {
  const target = dtypeBound(to);
  if (dtypeCode(to) === "bool") {
    if (value.min === 0 && value.max === 0) return pointBound(0);
    if (value.min > 0 || value.max < 0) return pointBound(1);
    return target;
  }
  if (!isInt(to) || !(isInt(from) || dtypeCode(from) === "bool")) return target;
  if (value.min >= target.min && value.max <= target.max) return value;
  return target;
}

/**
 * The constant bound of an integer expression. `env` gives the bounds of variables; variables it
 * does not know get the bound of their dtype (and `[0, Infinity)` for size variables). Non-integer
 * expressions get {@link EVERYTHING}.
 */
export function constIntBoundOf(
  e: PrimExpr,
  env: BoundEnv,
  cache?: WeakMap<PrimExpr, IntBound>,
): IntBound {
  const hit = cache?.get(e);
  if (hit) return hit;
  const r = compute(e, env, cache);
  cache?.set(e, r);
  return r;
}

function compute(e: PrimExpr, env: BoundEnv, cache?: WeakMap<PrimExpr, IntBound>): IntBound {
  const b = (x: PrimExpr) => constIntBoundOf(x, env, cache);
  switch (e.kind) {
    case "IntImm":
      return pointBound(e.value);
    case "FloatImm":
    case "StringImm":
      return EVERYTHING;
    case "Var": {
      const known = env(e);
      const own = e.isSize
        ? intersectBound(dtypeBound(e.dtype), { min: 0, max: Infinity })
        : dtypeBound(e.dtype);
      return known ? intersectBound(known, own) : own;
    }
    case "Add":
      return isInt(e.dtype) ? addBound(b(e.a), b(e.b)) : EVERYTHING;
    case "Sub":
      return isInt(e.dtype) ? subBound(b(e.a), b(e.b)) : EVERYTHING;
    case "Mul":
      return isInt(e.dtype) ? mulBound(b(e.a), b(e.b)) : EVERYTHING;
    case "Div":
      return isInt(e.dtype) ? truncDivBound(b(e.a), b(e.b)) : EVERYTHING;
    case "Mod":
      return isInt(e.dtype) ? truncModBound(b(e.a), b(e.b)) : EVERYTHING;
    case "FloorDiv":
      return isInt(e.dtype) ? floorDivBound(b(e.a), b(e.b)) : EVERYTHING;
    case "FloorMod":
      return isInt(e.dtype) ? floorModBound(b(e.a), b(e.b)) : EVERYTHING;
    case "Min":
      return isInt(e.dtype) ? minBound(b(e.a), b(e.b)) : EVERYTHING;
    case "Max":
      return isInt(e.dtype) ? maxBound(b(e.a), b(e.b)) : EVERYTHING;
    case "EQ":
    case "NE":
    case "LT":
    case "LE":
    case "GT":
    case "GE":
    case "And":
    case "Or":
    case "Not":
      return { min: 0, max: 1 };
    case "Select":
      return unionBound(b(e.t), b(e.f));
    case "Cast":
      return castBound(b(e.value), e.value.dtype, e.dtype);
    case "Let": {
      const vb = b(e.value);
      const inner: BoundEnv = (v) => (v === e.var ? vb : env(v));
      return constIntBoundOf(e.body, inner);
    }
    case "Call":
      if (e.op === "tir.if_then_else") return unionBound(b(e.args[1]!), b(e.args[2]!));
      if (e.op === "tir.likely") return b(e.args[0]!);
      return dtypeBound(e.dtype);
    case "BufferLoad":
      return dtypeBound(e.dtype);
    case "Ramp":
      return addBound(b(e.base), mulBound(b(e.stride), { min: 0, max: e.lanes - 1 }));
    case "Broadcast":
      return b(e.value);
    default:
      e satisfies never;
      throw new Error("unreachable");
  }
}
