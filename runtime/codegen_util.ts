/**
 * Helpers shared by the code generators: flat indexing, identifier tables, and a simple
 * non-negativity test for integer expressions.
 *
 * @module
 */

import { isInt } from "../ir/dtype.ts";
import { add, type Buffer, mul, type PrimExpr, type Var } from "../ir/expr.ts";

/**
 * The flat element index of `buffer[indices]`: the element offset plus the indices times the
 * strides (row-major strides from the shape when the buffer has none).
 */
export function flatIndex(buffer: Buffer, indices: readonly PrimExpr[]): PrimExpr {
  const n = indices.length;
  if (n === 0) return buffer.elemOffset;
  let idx: PrimExpr;
  if (buffer.strides.length === n) {
    idx = mul(indices[0]!, buffer.strides[0]!);
    for (let i = 1; i < n; i++) idx = add(idx, mul(indices[i]!, buffer.strides[i]!));
  } else {
    idx = indices[0]!;
    for (let i = 1; i < n; i++) idx = add(mul(idx, buffer.shape[i]!), indices[i]!);
  }
  const off = buffer.elemOffset;
  if (off.kind === "IntImm" && off.value === 0) return idx;
  return add(off, idx);
}

/** Hands out identifiers for generated code: sanitized, unique, never a reserved word. */
export class NameTable {
  #used: Set<string>;

  /** A table that never hands out any of `reserved`. */
  constructor(reserved: Iterable<string>) {
    this.#used = new Set(reserved);
  }

  /** A fresh identifier based on `hint` (`"A.shared"` -> `A_shared`, then `A_shared_1`, ...). */
  fresh(hint: string): string {
    let base = hint.replace(/[^A-Za-z0-9_]/g, "_").replace(/^_+/, "");
    if (base === "" || /^[0-9]/.test(base)) base = `v${base === "" ? "" : "_" + base}`;
    let n = base;
    for (let i = 1; this.#used.has(n); i++) n = `${base}_${i}`;
    this.#used.add(n);
    return n;
  }
}

/**
 * Whether an integer expression is known non-negative, given variables known to be (sizes,
 * loop variables from 0), so that `floordiv`/`floormod` by a positive constant can use plain
 * truncating division.
 */
export function isNonNegative(e: PrimExpr, nonNeg: ReadonlySet<Var>): boolean {
  switch (e.kind) {
    case "IntImm":
      return e.value >= 0;
    case "Var":
      return nonNeg.has(e);
    case "Add":
    case "Mul":
    case "Min":
    case "Max":
      return isNonNegative(e.a, nonNeg) && isNonNegative(e.b, nonNeg);
    case "Div":
    case "Mod":
    case "FloorDiv":
    case "FloorMod":
      return isNonNegative(e.a, nonNeg) && e.b.kind === "IntImm" && e.b.value > 0;
    case "Cast":
      return isInt(e.dtype) && isInt(e.value.dtype) && isNonNegative(e.value, nonNeg);
    case "Select":
      return isNonNegative(e.t, nonNeg) && isNonNegative(e.f, nonNeg);
    default:
      return false;
  }
}
