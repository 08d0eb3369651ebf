/**
 * Local rewrite rules of the integer simplifier, as data. Each rule runs on a node whose children
 * are already simplified; its result is simplified again. Sums, products with constants,
 * division by constants and comparisons are handled by the canonical form (`linear.ts`) before
 * these rules run, so the rules cover what that form does not.
 *
 * @module
 */

import { isFloat } from "../dtype.ts";
import {
  add,
  and,
  boolImm,
  div,
  eq,
  floordiv,
  floormod,
  ge,
  gt,
  le,
  lt,
  max,
  min,
  mul,
  ne,
  or,
  select,
  truncmod,
} from "../expr.ts";
import { C1, C2, type Captures, P, type Rule, X, Y, Z } from "./pattern.ts";

/** Rules for `min` on integers. */
export const minRules: readonly Rule[] = [
  [P.min(X, X), (m) => m.x], // min(x, x) -> x
  [P.min(C1, X), (m) => min(m.x, m.c1)], // min(c1, x) -> min(x, c1)
  [P.min(P.min(X, C1), C2), (m) => min(m.x, Math.min(m.c1, m.c2))], // min(min(x, c1), c2) -> min(x, min(c1, c2))
  [P.min(P.max(X, C1), C2), (m, cx) => (m.c1 >= m.c2 ? cx.c(m.c2) : undefined)], // min(max(x, c1), c2) -> c2 when c1 >= c2
  [P.min(P.min(X, Y), X), (m) => min(m.x, m.y)], // min(min(x, y), x) -> min(x, y)
  [P.min(P.min(Y, X), X), (m) => min(m.y, m.x)], // min(min(y, x), x) -> min(y, x)
  [P.min(X, P.min(X, Y)), (m) => min(m.x, m.y)], // min(x, min(x, y)) -> min(x, y)
  [P.min(X, P.min(Y, X)), (m) => min(m.y, m.x)], // min(x, min(y, x)) -> min(y, x)
  [P.min(P.max(X, Y), X), (m) => m.x], // min(max(x, y), x) -> x
  [P.min(P.max(Y, X), X), (m) => m.x], // min(max(y, x), x) -> x
  [P.min(X, P.max(X, Y)), (m) => m.x], // min(x, max(x, y)) -> x
  [P.min(X, P.max(Y, X)), (m) => m.x], // min(x, max(y, x)) -> x
  [
    P.min(P.mul(P.floordiv(X, C1), C1), X),
    (m) => (m.c1 > 0 ? mul(floordiv(m.x, m.c1), m.c1) : undefined),
  ], // min(x // c * c, x) -> x // c * c
  [
    P.min(X, P.mul(P.floordiv(X, C1), C1)),
    (m) => (m.c1 > 0 ? mul(floordiv(m.x, m.c1), m.c1) : undefined),
  ], // min(x, x // c * c) -> x // c * c
  [P.min(P.add(X, Y), P.add(X, Z)), (m) => add(m.x, min(m.y, m.z))], // min(x + y, x + z) -> x + min(y, z)
  [P.min(P.add(Y, X), P.add(Z, X)), (m) => add(min(m.y, m.z), m.x)], // min(y + x, z + x) -> min(y, z) + x
  [
    P.min(P.mul(X, C1), P.mul(Y, C1)),
    (m) => (m.c1 > 0 ? mul(min(m.x, m.y), m.c1) : mul(max(m.x, m.y), m.c1)),
  ], // min(x*c, y*c) -> min(x, y)*c (max for c < 0)
];

/** Rules for `max` on integers. */
export const maxRules: readonly Rule[] = [
  [P.max(X, X), (m) => m.x], // max(x, x) -> x
  [P.max(C1, X), (m) => max(m.x, m.c1)], // max(c1, x) -> max(x, c1)
  [P.max(P.max(X, C1), C2), (m) => max(m.x, Math.max(m.c1, m.c2))], // max(max(x, c1), c2) -> max(x, max(c1, c2))
  [P.max(P.min(X, C1), C2), (m, cx) => (m.c2 >= m.c1 ? cx.c(m.c2) : undefined)], // max(min(x, c1), c2) -> c2 when c2 >= c1
  [P.max(P.max(X, Y), X), (m) => max(m.x, m.y)], // max(max(x, y), x) -> max(x, y)
  [P.max(P.max(Y, X), X), (m) => max(m.y, m.x)], // max(max(y, x), x) -> max(y, x)
  [P.max(X, P.max(X, Y)), (m) => max(m.x, m.y)], // max(x, max(x, y)) -> max(x, y)
  [P.max(X, P.max(Y, X)), (m) => max(m.y, m.x)], // max(x, max(y, x)) -> max(y, x)
  [P.max(P.min(X, Y), X), (m) => m.x], // max(min(x, y), x) -> x
  [P.max(P.min(Y, X), X), (m) => m.x], // max(min(y, x), x) -> x
  [P.max(X, P.min(X, Y)), (m) => m.x], // max(x, min(x, y)) -> x
  [P.max(X, P.min(Y, X)), (m) => m.x], // max(x, min(y, x)) -> x
  [P.max(P.mul(P.floordiv(X, C1), C1), X), (m) => (m.c1 > 0 ? m.x : undefined)], // max(x // c * c, x) -> x
  [P.max(X, P.mul(P.floordiv(X, C1), C1)), (m) => (m.c1 > 0 ? m.x : undefined)], // max(x, x // c * c) -> x
  [P.max(P.add(X, Y), P.add(X, Z)), (m) => add(m.x, max(m.y, m.z))], // max(x + y, x + z) -> x + max(y, z)
  [P.max(P.add(Y, X), P.add(Z, X)), (m) => add(max(m.y, m.z), m.x)], // max(y + x, z + x) -> max(y, z) + x
  [
    P.max(P.mul(X, C1), P.mul(Y, C1)),
    (m) => (m.c1 > 0 ? mul(max(m.x, m.y), m.c1) : mul(min(m.x, m.y), m.c1)),
  ], // max(x*c, y*c) -> max(x, y)*c (min for c < 0)
];

/** Rules for `floordiv` by a constant, after the canonical split. */
export const floorDivRules: readonly Rule[] = [
  [
    P.floordiv(P.floordiv(X, C1), C2),
    (m) => (m.c1 > 0 && m.c2 > 0 ? floordiv(m.x, m.c1 * m.c2) : undefined),
  ], // x // c1 // c2 -> x // (c1*c2)
];

/** Rules for `floormod` by a constant, after the canonical split. */
export const floorModRules: readonly Rule[] = [
  [
    P.floormod(P.floormod(X, C1), C2),
    (m) => (m.c2 > 0 && m.c1 > 0 && m.c1 % m.c2 === 0 ? floormod(m.x, m.c2) : undefined),
  ], // (x % c1) % c2 -> x % c2 when c2 divides c1
];

/** Rules for truncating division. */
export const truncDivRules: readonly Rule[] = [
  [P.div(P.div(X, C1), C2), (m) => (m.c1 > 0 && m.c2 > 0 ? div(m.x, m.c1 * m.c2) : undefined)], // truncdiv(truncdiv(x, c1), c2) -> truncdiv(x, c1*c2)
];

/** Rules for truncating remainder. */
export const truncModRules: readonly Rule[] = [
  [
    P.mod(P.mod(X, C1), C2),
    (m) => (m.c2 > 0 && m.c1 > 0 && m.c1 % m.c2 === 0 ? truncmod(m.x, m.c2) : undefined),
  ], // truncmod(truncmod(x, c1), c2) -> truncmod(x, c2) when c2 divides c1
];

/** Rules for logical and. */
export const andRules: readonly Rule[] = [
  [P.and(X, X), (m) => m.x], // x && x -> x
  [P.and(X, P.not(X)), () => boolImm(false)], // x && !x -> false
  [P.and(P.not(X), X), () => boolImm(false)], // !x && x -> false
  [P.and(X, P.or(X, Y)), (m) => m.x], // x && (x || y) -> x
  [P.and(X, P.or(Y, X)), (m) => m.x], // x && (y || x) -> x
  [P.and(P.and(X, Y), X), (m) => and(m.x, m.y)], // (x && y) && x -> x && y
  [P.and(P.and(Y, X), X), (m) => and(m.y, m.x)], // (y && x) && x -> y && x
];

/** Rules for logical or. */
export const orRules: readonly Rule[] = [
  [P.or(X, X), (m) => m.x], // x || x -> x
  [P.or(X, P.not(X)), () => boolImm(true)], // x || !x -> true
  [P.or(P.not(X), X), () => boolImm(true)], // !x || x -> true
  [P.or(X, P.and(X, Y)), (m) => m.x], // x || (x && y) -> x
  [P.or(X, P.and(Y, X)), (m) => m.x], // x || (y && x) -> x
  [P.or(P.or(X, Y), X), (m) => or(m.x, m.y)], // (x || y) || x -> x || y
  [P.or(P.or(Y, X), X), (m) => or(m.y, m.x)], // (y || x) || x -> y || x
];

/** Order comparisons negate only on non-floats (NaN compares false both ways). */
const notFloat = (m: Captures) => !isFloat(m.x.dtype);

/** Rules for logical not. */
export const notRules: readonly Rule[] = [
  [P.not(P.not(X)), (m) => m.x], // !!x -> x
  [P.not(P.eq(X, Y)), (m) => ne(m.x, m.y)], // !(x == y) -> x != y
  [P.not(P.ne(X, Y)), (m) => eq(m.x, m.y)], // !(x != y) -> x == y
  [P.not(P.lt(X, Y)), (m) => (notFloat(m) ? ge(m.x, m.y) : undefined)], // !(x < y) -> x >= y
  [P.not(P.le(X, Y)), (m) => (notFloat(m) ? gt(m.x, m.y) : undefined)], // !(x <= y) -> x > y
  [P.not(P.gt(X, Y)), (m) => (notFloat(m) ? le(m.x, m.y) : undefined)], // !(x > y) -> x <= y
  [P.not(P.ge(X, Y)), (m) => (notFloat(m) ? lt(m.x, m.y) : undefined)], // !(x >= y) -> x < y
];

/** Rules for `select` (both branches are side-effect free, so either may be dropped). */
export const selectRules: readonly Rule[] = [
  [P.select(X, Y, Y), (m) => m.y], // select(c, y, y) -> y
  [P.select(P.not(X), Y, Z), (m) => select(m.x, m.z, m.y)], // select(!c, y, z) -> select(c, z, y)
];
