/**
 * Deep equality of PrimExprs (TVM's `ExprDeepEqual`): the same tree, with variables and buffers
 * compared by identity. Unlike structural equality, nothing is mapped: `x + 1` equals `x + 1` only
 * for the same `x`.
 *
 * @module
 */

import type { PrimExpr } from "./expr.ts";

/** Whether two lists are element-wise equal under `eq`. */
export function listEqual<T>(
  a: readonly T[],
  b: readonly T[],
  eq: (x: T, y: T) => boolean,
): boolean {
  return a.length === b.length && a.every((x, i) => eq(x, b[i]!));
}

/** Whether two expressions are the same tree (variables and buffers compared by identity). */
export function exprDeepEqual(a: PrimExpr, b: PrimExpr): boolean {
  if (a === b) return true;
  if (a.kind !== b.kind || a.dtype !== b.dtype) return false;
  switch (a.kind) {
    case "Var":
      return false;
    case "IntImm":
    case "FloatImm":
    case "StringImm":
      return a.value === (b as typeof a).value;
    case "Add":
    case "Sub":
    case "Mul":
    case "Div":
    case "Mod":
    case "FloorDiv":
    case "FloorMod":
    case "Min":
    case "Max":
    case "EQ":
    case "NE":
    case "LT":
    case "LE":
    case "GT":
    case "GE":
    case "And":
    case "Or": {
      const y = b as typeof a;
      return exprDeepEqual(a.a, y.a) && exprDeepEqual(a.b, y.b);
    }
    case "Not":
      return exprDeepEqual(a.a, (b as typeof a).a);
    case "Select": {
      const y = b as typeof a;
      return exprDeepEqual(a.cond, y.cond) && exprDeepEqual(a.t, y.t) && exprDeepEqual(a.f, y.f);
    }
    case "Cast":
      return exprDeepEqual(a.value, (b as typeof a).value);
    case "Let": {
      const y = b as typeof a;
      return a.var === y.var && exprDeepEqual(a.value, y.value) && exprDeepEqual(a.body, y.body);
    }
    case "Call": {
      const y = b as typeof a;
      return a.op === y.op && listEqual(a.args, y.args, exprDeepEqual);
    }
    case "BufferLoad": {
      const y = b as typeof a;
      return a.buffer === y.buffer && listEqual(a.indices, y.indices, exprDeepEqual);
    }
    case "Ramp": {
      const y = b as typeof a;
      return a.lanes === y.lanes && exprDeepEqual(a.base, y.base) &&
        exprDeepEqual(a.stride, y.stride);
    }
    case "Broadcast": {
      const y = b as typeof a;
      return a.lanes === y.lanes && exprDeepEqual(a.value, y.value);
    }
    default:
      return a satisfies never;
  }
}
