/**
 * Vector memory access in WGSL. A buffer that vector code reads or writes as aligned runs of 2 or
 * 4 consecutive elements (`A[T.Ramp(base, 1, n)]` with `base` a multiple of `n`) is declared as
 * an array of `vecN` (its "width"), so such an access is one vector load or store; every other
 * access to it addresses one component (`A[i / n][i % n]`), and a vector access that is not an
 * aligned run gathers or scatters lane by lane. Private to the WGSL code generator.
 *
 * @module
 */

import { isMultipleOf, LinearSum } from "../../ir/arith/linear.ts";
import { floordiv, type PrimExpr, type Var } from "../../ir/expr.ts";
import type { Stmt } from "../../ir/tir/stmt.ts";
import { visitStmt } from "../../ir/visit.ts";
import { patternLane } from "../../transform/tir/scalarize_vectors.ts";
import { flatIndex } from "../codegen_util.ts";

/** The vector widths a buffer may be declared with. */
const WIDTHS = new Set([2, 4]);

/** The width of an aligned run `Ramp(base, 1, n)` (`n` in 2, 4), else 1. */
export function runWidth(index: PrimExpr): number {
  if (index.kind !== "Ramp" || !WIDTHS.has(index.lanes)) return 1;
  const { stride, base } = index;
  if (stride.kind !== "IntImm" || stride.value !== 1) return 1;
  return isMultipleOf(base, index.lanes) ? index.lanes : 1;
}

/**
 * The width each storage under `body` is declared with: the largest aligned run width of its
 * accesses, kept only when `size(data)` (its element count) is a multiple of it; storage not in
 * the result has width 1.
 */
export function storageWidths(
  body: Stmt,
  size: (data: Var) => PrimExpr | undefined,
): Map<Var, number> {
  const found = new Map<Var, number>();
  const note = (data: Var, index: PrimExpr) => {
    const w = runWidth(index);
    if (w > (found.get(data) ?? 1)) found.set(data, w);
  };
  visitStmt(body, {
    stmt: (s) => {
      if (s.kind === "BufferStore") note(s.buffer.data, flatIndex(s.buffer, s.indices));
    },
    expr: (e) => {
      if (e.kind === "BufferLoad") note(e.buffer.data, flatIndex(e.buffer, e.indices));
    },
  });
  for (const [data, w] of found) {
    const n = size(data);
    if (!n || !isMultipleOf(n, w)) found.delete(data);
  }
  return found;
}

/** The flat index of lane `l` of a vector index, as an expression, or undefined if not a ramp. */
export function laneIndex(index: PrimExpr, l: number): PrimExpr | undefined {
  if (index.kind !== "Ramp" && index.kind !== "Broadcast") return undefined;
  return patternLane(index, l);
}

/**
 * When the vector index `index` is an aligned run that fills one element of storage with
 * `width`-lane elements, that element's index (`base / width`, divided term by term where it can
 * be); otherwise `undefined` (the lanes are addressed one by one).
 */
export function wholeElementIndex(index: PrimExpr, width: number): PrimExpr | undefined {
  if (index.kind !== "Ramp" || index.lanes !== width || runWidth(index) !== width) return undefined;
  const sum = LinearSum.of(index.base);
  if (sum.coefGcd(true) % width === 0) return sum.divideExact(width).toExpr();
  return floordiv(index.base, width);
}
