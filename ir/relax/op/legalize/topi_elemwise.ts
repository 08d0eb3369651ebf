/**
 * Scalar definitions of the element-wise operators (binary arithmetic, comparisons, logic, unary
 * math, activations) used by their legalizations.
 *
 * @module
 */

import { type DType, isFloat } from "../../../dtype.ts";
import type { PrimExpr } from "../../../expr.ts";
import * as ti from "../../../te/intrin.ts";
import { castTo, constOf } from "./topi_common.ts";

type Binary = (a: PrimExpr, b: PrimExpr) => PrimExpr;

function power(a: PrimExpr, b: PrimExpr): PrimExpr {
  if (isFloat(a.dtype)) return ti.pow(a, b);
  // integers: through float32, rounded back
  return castTo(ti.nearbyint(ti.pow(castTo(a, "float32"), castTo(b, "float32"))), a.dtype);
}

const BINARY: { readonly [op: string]: Binary } = {
  add: (a, b) => a.add(b),
  subtract: (a, b) => a.sub(b),
  multiply: (a, b) => a.mul(b),
  divide: (a, b) => a.div(b),
  floor_divide: (a, b) => (isFloat(a.dtype) ? ti.floor(a.div(b)) : a.floordiv(b)),
  power,
  maximum: (a, b) => a.max(b),
  minimum: (a, b) => a.min(b),
  equal: (a, b) => a.eq(b),
  not_equal: (a, b) => a.ne(b),
  less: (a, b) => a.lt(b),
  less_equal: (a, b) => a.le(b),
  greater: (a, b) => a.gt(b),
  greater_equal: (a, b) => a.ge(b),
  logical_and: (a, b) => a.and(b),
  logical_or: (a, b) => a.or(b),
};

/** The scalar function of binary operator `op` (`"add"`, `"less"`, ...). */
export function binaryScalar(op: string): Binary {
  const f = BINARY[op];
  if (!f) throw new Error(`Unknown binary operator "${op}"`);
  return f;
}

type Unary = (x: PrimExpr) => PrimExpr;

const floatOnly = (f: Unary): Unary => (x) => (isFloat(x.dtype) ? f(x) : x);

const UNARY: { readonly [op: string]: Unary } = {
  exp: ti.exp,
  log: ti.log,
  sqrt: ti.sqrt,
  rsqrt: ti.rsqrt,
  tanh: ti.tanh,
  sigmoid: ti.sigmoid,
  erf: ti.erf,
  sin: ti.sin,
  cos: ti.cos,
  negative: (x) => x.neg(),
  abs: ti.abs,
  floor: floatOnly(ti.floor),
  ceil: floatOnly(ti.ceil),
  round: floatOnly(ti.nearbyint),
  square: (x) => x.mul(x),
  logical_not: (x) => x.not(),
};

/** The scalar function of unary operator `op` (`"exp"`, `"abs"`, ...). */
export function unaryScalar(op: string): Unary {
  const f = UNARY[op];
  if (!f) throw new Error(`Unknown unary operator "${op}"`);
  return f;
}

/** `max(x, 0)` */
export function relu(x: PrimExpr): PrimExpr {
  return x.max(constOf(0, x.dtype));
}

/** GELU, exact form: `x * (0.5 + erf(x / sqrt(2)) * 0.5)`. */
export function gelu(x: PrimExpr): PrimExpr {
  const c = (v: number) => constOf(v, x.dtype);
  return x.mul(c(0.5).add(ti.erf(x.mul(c(Math.SQRT1_2))).mul(c(0.5))));
}

/** GELU, tanh form: `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`. */
export function geluTanh(x: PrimExpr): PrimExpr {
  const c = (v: number) => constOf(v, x.dtype);
  const inner = c(Math.sqrt(2 / Math.PI)).mul(x.add(c(0.044715).mul(x).mul(x).mul(x)));
  return c(0.5).mul(x).mul(c(1).add(ti.tanh(inner)));
}

/** SiLU: `x * sigmoid(x)`. */
export function silu(x: PrimExpr): PrimExpr {
  return x.mul(ti.sigmoid(x));
}

/** `min(max(x, lo), hi)` with the bounds converted to `x`'s dtype. */
export function clip(x: PrimExpr, lo: PrimExpr, hi: PrimExpr, dtype: DType = x.dtype): PrimExpr {
  return x.max(castTo(lo, dtype)).min(castTo(hi, dtype));
}
