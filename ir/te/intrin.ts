/**
 * Scalar helpers of the `te` DSL: constants, casts, selects and the math intrinsics of the IR
 * core (`te.exp(x)` is a `tir.exp` call). All return ordinary `PrimExpr`s.
 *
 * @module
 */

import { type DType, isFloat, isUInt, parseDType } from "../dtype.ts";
import {
  and as andExpr,
  type Call,
  callIntrin,
  cast as castTo,
  constant,
  floatImm,
  floordiv as floorDivide,
  floormod as floorModulo,
  max as maxExpr,
  min as minExpr,
  or as orExpr,
  type PrimExpr,
  type PrimExprLike,
  select as selectExpr,
  toExpr,
  truncdiv as truncDivide,
  truncmod as truncModulo,
} from "../expr.ts";

/**
 * A constant of `dtype`; by default int32 for integers and float32 otherwise (as TVM's
 * `tvm.tir.const`).
 */
export function constOf(value: number | boolean, dtype?: DType): PrimExpr {
  if (dtype === undefined) {
    if (typeof value === "boolean") return toExpr(value);
    return constant(value, Number.isInteger(value) ? "int32" : "float32");
  }
  return constant(value, parseDType(dtype));
}

/** Converts `x` to `dtype` (no node when it already has it). */
export function cast(x: PrimExprLike, dtype: DType): PrimExpr {
  return castTo(x, parseDType(dtype));
}

/** `cond ? a : b` as the `tir.if_then_else` intrinsic: only the taken branch is evaluated. */
export function ifThenElse(cond: PrimExprLike, a: PrimExprLike, b: PrimExprLike): Call {
  return callIntrin("tir.if_then_else", [cond, a, b]);
}

/** `cond ? a : b` as a `Select` node: both branches are evaluated. */
export function select(cond: PrimExprLike, a: PrimExprLike, b: PrimExprLike): PrimExpr {
  return selectExpr(cond, a, b);
}

/** Elementwise `max(a, b)` (`te.max` is the reduction). */
export function maximum(a: PrimExprLike, b: PrimExprLike): PrimExpr {
  return maxExpr(a, b);
}

/** Elementwise `min(a, b)` (`te.min` is the reduction). */
export function minimum(a: PrimExprLike, b: PrimExprLike): PrimExpr {
  return minExpr(a, b);
}

/** Floor division (rounds toward negative infinity). */
export function floordiv(a: PrimExprLike, b: PrimExprLike): PrimExpr {
  return floorDivide(a, b);
}

/** Floor modulo (sign of the divisor). */
export function floormod(a: PrimExprLike, b: PrimExprLike): PrimExpr {
  return floorModulo(a, b);
}

/** Truncating division (rounds toward zero). */
export function truncdiv(a: PrimExprLike, b: PrimExprLike): PrimExpr {
  return truncDivide(a, b);
}

/** Truncating remainder (sign of the dividend). */
export function truncmod(a: PrimExprLike, b: PrimExprLike): PrimExpr {
  return truncModulo(a, b);
}

/** Logical and of all conditions (`true` for none). */
export function all(...conds: readonly PrimExprLike[]): PrimExpr {
  return conds.reduce<PrimExpr>((acc, c) => andExpr(acc, c), toExpr(true));
}

/** Logical or of all conditions (`false` for none). */
export function any(...conds: readonly PrimExprLike[]): PrimExpr {
  return conds.reduce<PrimExpr>((acc, c) => orExpr(acc, c), toExpr(false));
}

/** Numbers given to float intrinsics are float32 constants. */
function floatArg(x: PrimExprLike): PrimExprLike {
  return typeof x === "number" ? floatImm(x, "float32") : x;
}

function unary(op: string): (x: PrimExprLike) => Call {
  return (x) => callIntrin(op, [floatArg(x)]);
}

/** `e^x` */
export const exp: (x: PrimExprLike) => Call = unary("tir.exp");
/** `2^x` */
export const exp2: (x: PrimExprLike) => Call = unary("tir.exp2");
/** Natural logarithm. */
export const log: (x: PrimExprLike) => Call = unary("tir.log");
/** Base-2 logarithm. */
export const log2: (x: PrimExprLike) => Call = unary("tir.log2");
/** Base-10 logarithm. */
export const log10: (x: PrimExprLike) => Call = unary("tir.log10");
/** Square root. */
export const sqrt: (x: PrimExprLike) => Call = unary("tir.sqrt");
/** `1 / sqrt(x)` */
export const rsqrt: (x: PrimExprLike) => Call = unary("tir.rsqrt");
/** Hyperbolic tangent. */
export const tanh: (x: PrimExprLike) => Call = unary("tir.tanh");
/** `1 / (1 + e^-x)` */
export const sigmoid: (x: PrimExprLike) => Call = unary("tir.sigmoid");
/** The error function. */
export const erf: (x: PrimExprLike) => Call = unary("tir.erf");
/** Sine. */
export const sin: (x: PrimExprLike) => Call = unary("tir.sin");
/** Cosine. */
export const cos: (x: PrimExprLike) => Call = unary("tir.cos");
/** Tangent. */
export const tan: (x: PrimExprLike) => Call = unary("tir.tan");
/** Arc tangent. */
export const atan: (x: PrimExprLike) => Call = unary("tir.atan");
/** Rounds toward negative infinity. */
export const floor: (x: PrimExprLike) => Call = unary("tir.floor");
/** Rounds toward positive infinity. */
export const ceil: (x: PrimExprLike) => Call = unary("tir.ceil");
/** Rounds half away from zero. */
export const round: (x: PrimExprLike) => Call = unary("tir.round");
/** Rounds half to even. */
export const nearbyint: (x: PrimExprLike) => Call = unary("tir.nearbyint");
/** Rounds toward zero. */
export const trunc: (x: PrimExprLike) => Call = unary("tir.trunc");
/** Absolute value of a float (`tir.fabs`). */
export const fabs: (x: PrimExprLike) => Call = unary("tir.fabs");

/** Whether a float is NaN (bool). */
export function isnan(x: PrimExprLike): Call {
  return callIntrin("tir.isnan", [floatArg(x)]);
}

/** Whether a float is infinite (bool). */
export function isinf(x: PrimExprLike): Call {
  return callIntrin("tir.isinf", [floatArg(x)]);
}

/** `x^y` (floats). */
export function pow(x: PrimExprLike, y: PrimExprLike): Call {
  const ref = typeof x === "object" ? x : typeof y === "object" ? y : undefined;
  const t = ref && isFloat(ref.dtype) ? ref.dtype : "float32";
  const arg = (v: PrimExprLike) => (typeof v === "number" ? floatImm(v, t) : v);
  return callIntrin("tir.pow", [arg(x), arg(y)]);
}

/** Absolute value: `tir.fabs` for floats, a select for signed integers, `x` for unsigned. */
export function abs(x: PrimExprLike): PrimExpr {
  const e = toExpr(x);
  if (isFloat(e.dtype)) return callIntrin("tir.fabs", [e]);
  if (isUInt(e.dtype) || e.dtype === "bool") return e;
  if (e.kind === "IntImm") return constant(Math.abs(e.value), e.dtype);
  return selectExpr(e.ge(0), e, e.neg());
}

/** Reinterprets the bits of `x` as `dtype` (same width). */
export function reinterpret(x: PrimExprLike, dtype: DType): Call {
  return callIntrin("tir.reinterpret", [x], parseDType(dtype));
}

/** A hint that `cond` is usually true (bool). */
export function likely(cond: PrimExprLike): Call {
  return callIntrin("tir.likely", [cond]);
}
