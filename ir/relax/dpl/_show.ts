/**
 * Printing patterns in constructor syntax (`isOp("relax.nn.relu")(wildcard())`), for messages.
 *
 * @module
 */

import type { PrimExpr } from "../../expr.ts";
import { displayNode } from "../../display.ts";
import type { Attrs } from "../../tir/stmt.ts";
import { fmtDim } from "../op/registry.ts";
import type { Pattern } from "./pattern.ts";

/** Attributes as an object literal. */
export function showAttrs(a: Attrs): string {
  const parts = Object.entries(a).map(([k, v]) => `${k}: ${showValue(v)}`);
  return parts.length ? `{ ${parts.join(", ")} }` : "{}";
}

function showValue(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return `[${v.map(showValue).join(", ")}]`;
  if (typeof v === "object" && "dtype" in (v as object)) return fmtDim(v as PrimExpr);
  if (typeof v === "object") return showAttrs(v as Attrs);
  return String(v);
}

/** A pattern in constructor syntax. */
export function show(p: Pattern): string {
  switch (p.kind) {
    case "Wildcard":
      return "wildcard()";
    case "Op":
      return `isOp(${JSON.stringify(p.opName)})`;
    case "Expr":
      return `isExpr(${displayNode(p.expr)})`;
    case "Var":
      return `${p.dataflow ? "isDFVar" : "isVar"}(${p.nameHint ? JSON.stringify(p.nameHint) : ""})`;
    case "GlobalVar":
      return `isGV(${p.nameHint ? JSON.stringify(p.nameHint) : ""})`;
    case "ExternFunc":
      return `isExternFunc(${p.symbol ? JSON.stringify(p.symbol) : ""})`;
    case "Constant":
      return "isConst()";
    case "Call": {
      const args = p.args.map(show);
      if (p.varArgs) args.push("...");
      return `${show(p.callee)}(${args.join(", ")})`;
    }
    case "Tuple":
      return `isTuple([${p.fields.map(show).join(", ")}]${
        p.unordered ? ", { unordered: true }" : ""
      })`;
    case "TupleGetItem":
      return `isTupleGetItem(${show(p.tuple)}${p.index >= 0 ? `, ${p.index}` : ""})`;
    case "Or":
      return `${show(p.left)}.or(${show(p.right)})`;
    case "And":
      return `${show(p.left)}.and(${show(p.right)})`;
    case "Not":
      return `${show(p.reject)}.not()`;
    case "Attr":
      return `${show(p.pattern)}.with({ attrs: ${showAttrs(p.attrs)} })`;
    case "Shape":
      return `${show(p.pattern)}.with({ shape: ${showValue(p.shape)} })`;
    case "DType":
      return `${show(p.pattern)}.with({ dtype: ${JSON.stringify(p.dtype)} })`;
    case "StructInfo":
      return `${show(p.pattern)}.with({ structInfo: ${displayNode(p.structInfo)} })`;
    case "ShapeExpr":
      return `isShape(${showValue(p.values)})`;
    default:
      p satisfies never;
      return "?";
  }
}
