/**
 * The small equality checks the printer needs to choose sugar: deep equality of expressions
 * (TVM's `ExprDeepEqual`: variables and buffers by identity) and of StructInfo.
 *
 * @module
 */

import type { PrimExpr } from "../../ir/expr.ts";
import { exprDeepEqual, listEqual } from "../../ir/expr_equal.ts";

export { exprDeepEqual };
import type { StructInfo } from "../../ir/relax/struct_info.ts";

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
