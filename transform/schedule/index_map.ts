/**
 * Index maps: a function from the indices of a buffer to new indices, as data (TVM's
 * `IndexMap`), used by `Schedule.transformLayout` and recorded in traces.
 *
 * @example
 * ```ts
 * import { indexMap, indexMapText } from "./index_map.ts";
 *
 * const transpose = indexMap(([i, j]) => [j!, i!], 2);
 * const pack = indexMap(([i, j]) => [i!.floordiv(4), j!, i!.floormod(4)], 2);
 * indexMapText(transpose); // "lambda i0, i1: (i1, i0)"
 * ```
 *
 * @module
 */

import { type PrimExpr, type PrimExprLike, primVar, toExpr, type Var } from "../../ir/expr.ts";
import { displayNode } from "../../ir/display.ts";
import { substExpr } from "./_arith.ts";

/** A map from `initialIndices` (variables) to `finalIndices` (expressions of them). */
export interface IndexMap {
  /** The node tag. */
  readonly kind: "IndexMap";
  /** One variable per input dimension. */
  readonly initialIndices: readonly Var[];
  /** One expression per output dimension. */
  readonly finalIndices: readonly PrimExpr[];
}

/** Builds an index map over `ndim` indices (named `i0`, `i1`, ...) from a function of them. */
export function indexMap(
  fn: (indices: readonly Var[]) => readonly PrimExprLike[],
  ndim: number,
  dtype: "int32" | "int64" = "int32",
): IndexMap {
  const vars = Array.from({ length: ndim }, (_, d) => primVar(`i${d}`, dtype));
  const finals = fn(vars).map((x) => toExpr(x, vars[0]));
  return { kind: "IndexMap", initialIndices: vars, finalIndices: finals };
}

/** The map as a Python lambda, `lambda i0, i1: (i1 // 4, i0, i1 % 4)`. */
export function indexMapText(map: IndexMap): string {
  const out = map.finalIndices.map((e) => pyText(e));
  const args = map.initialIndices.map((v) => v.name).join(", ");
  return `lambda ${args}: (${out.join(", ")}${out.length === 1 ? "," : ""})`;
}

const INFIX: { readonly [kind: string]: string } = {
  Add: "+",
  Sub: "-",
  Mul: "*",
  FloorDiv: "//",
  FloorMod: "%",
};

/** Python text of an index expression (fully parenthesized inside, TVMScript for the rest). */
function pyText(e: PrimExpr, inner = false): string {
  if (e.kind === "Var") return e.name;
  if (e.kind === "IntImm") return String(e.value);
  const op = INFIX[e.kind];
  if (op !== undefined && "b" in e) {
    const s = `${pyText(e.a, true)} ${op} ${pyText(e.b, true)}`;
    return inner ? `(${s})` : s;
  }
  if (e.kind === "Min" || e.kind === "Max") {
    return `T.${e.kind.toLowerCase()}(${pyText(e.a)}, ${pyText(e.b)})`;
  }
  return displayNode(e);
}

/** The final indices of `map` for the given indices. */
export function mapIndices(map: IndexMap, indices: readonly PrimExpr[]): PrimExpr[] {
  if (indices.length !== map.initialIndices.length) {
    throw new Error(
      `Cannot apply an index map of ${map.initialIndices.length} indices to ${indices.length}`,
    );
  }
  const sub = new Map<Var, PrimExpr>(map.initialIndices.map((v, d) => [v, indices[d]!]));
  return map.finalIndices.map((e) => substExpr(e, sub));
}
