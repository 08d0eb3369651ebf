/**
 * The small equality checks the printer needs to choose sugar: deep equality of expressions
 * (TVM's `ExprDeepEqual`: variables and buffers by identity) and of StructInfo.
 *
 * @module
 */

import type { PrimExpr } from "../../ir/expr.ts";
import type { StructInfo } from "../../ir/relax/struct_info.ts";

function listEqual<T>(a: readonly T[], b: readonly T[], eq: (x: T, y: T) => boolean): boolean {
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

function optList(
  a: readonly PrimExpr[] | undefined,
  b: readonly PrimExpr[] | undefined,
): boolean {
  if (a === undefined || b === undefined) return a === b;
  return listEqual(a, b, exprDeepEqual);
}

/** Whether two StructInfos are equal (symbolic dimensions compared as expressions). */
export function structInfoEqual(a: StructInfo, b: StructInfo): boolean {
  if (a === b) return true;
  switch (a.kind) {
    case "ObjectStructInfo":
      return b.kind === a.kind;
    case "PrimStructInfo":
      return b.kind === a.kind && a.dtype === b.dtype &&
        (a.value === undefined || b.value === undefined
          ? a.value === b.value
          : exprDeepEqual(a.value, b.value));
    case "ShapeStructInfo":
      return b.kind === a.kind && a.ndim === b.ndim && optList(a.values, b.values);
    case "TensorStructInfo":
      return b.kind === a.kind && a.ndim === b.ndim && a.dtype === b.dtype &&
        optList(a.shape, b.shape);
    case "TupleStructInfo":
      return b.kind === a.kind && listEqual(a.fields, b.fields, structInfoEqual);
    case "FuncStructInfo":
      if (b.kind !== a.kind || a.purity !== b.purity || !structInfoEqual(a.ret, b.ret)) {
        return false;
      }
      if (a.params === undefined || b.params === undefined) return a.params === b.params;
      return listEqual(a.params, b.params, structInfoEqual);
    default:
      return a satisfies never;
  }
}
