/**
 * Compact, printer-independent text for IR values, used in the messages of structural equality
 * and the well-formedness checker. When the TVMScript printer is registered in
 * `ir/display.ts`, {@link showValue} prefers it.
 *
 * @module
 */

import { displayNode } from "../display.ts";
import { isPrimExpr, type PrimExpr } from "../expr.ts";
import type { StructInfo } from "../relax/struct_info.ts";

const binarySymbols: { readonly [k: string]: string } = {
  Add: "+",
  Sub: "-",
  Mul: "*",
  Div: "/",
  Mod: "%",
  FloorDiv: "//",
  FloorMod: "%",
  EQ: "==",
  NE: "!=",
  LT: "<",
  LE: "<=",
  GT: ">",
  GE: ">=",
  And: "and",
  Or: "or",
};

/** A compact one-line rendering of a PrimExpr (`n * 2 + 1`, `A[i, j]`). */
export function compactPrimExpr(e: PrimExpr): string {
  switch (e.kind) {
    case "Var":
      return e.name;
    case "IntImm":
      return e.dtype === "bool" ? (e.value ? "True" : "False") : String(e.value);
    case "FloatImm":
      return Number.isInteger(e.value) ? `${e.value}.0` : String(e.value);
    case "StringImm":
      return JSON.stringify(e.value);
    case "Add":
    case "Sub":
    case "Mul":
    case "Div":
    case "Mod":
    case "FloorDiv":
    case "FloorMod":
    case "EQ":
    case "NE":
    case "LT":
    case "LE":
    case "GT":
    case "GE":
    case "And":
    case "Or":
      return `(${compactPrimExpr(e.a)} ${binarySymbols[e.kind]} ${compactPrimExpr(e.b)})`;
    case "Min":
    case "Max":
      return `${e.kind.toLowerCase()}(${compactPrimExpr(e.a)}, ${compactPrimExpr(e.b)})`;
    case "Not":
      return `not ${compactPrimExpr(e.a)}`;
    case "Select":
      return `select(${compactPrimExpr(e.cond)}, ${compactPrimExpr(e.t)}, ${compactPrimExpr(e.f)})`;
    case "Cast":
      return `${e.dtype}(${compactPrimExpr(e.value)})`;
    case "Let":
      return `let(${e.var.name} = ${compactPrimExpr(e.value)}, ${compactPrimExpr(e.body)})`;
    case "Call":
      return `${e.op}(${e.args.map(compactPrimExpr).join(", ")})`;
    case "BufferLoad":
      return `${e.buffer.name}[${e.indices.map(compactPrimExpr).join(", ")}]`;
    case "Ramp":
      return `ramp(${compactPrimExpr(e.base)}, ${compactPrimExpr(e.stride)}, ${e.lanes})`;
    case "Broadcast":
      return `broadcast(${compactPrimExpr(e.value)}, ${e.lanes})`;
    default:
      e satisfies never;
      return "?";
  }
}

function tupleText(xs: readonly PrimExpr[]): string {
  return xs.length === 1
    ? `(${compactPrimExpr(xs[0]!)},)`
    : `(${xs.map(compactPrimExpr).join(", ")})`;
}

/** A compact TVMScript-like rendering of a StructInfo (`R.Tensor((n, 4), "float32")`). */
export function compactStructInfo(s: StructInfo): string {
  switch (s.kind) {
    case "ObjectStructInfo":
      return "R.Object";
    case "PrimStructInfo":
      return s.value ? `R.Prim(value=${compactPrimExpr(s.value)})` : `R.Prim("${s.dtype}")`;
    case "ShapeStructInfo":
      if (s.values) return `R.Shape([${s.values.map(compactPrimExpr).join(", ")}])`;
      return s.ndim === -1 ? "R.Shape" : `R.Shape(ndim=${s.ndim})`;
    case "TensorStructInfo": {
      const parts: string[] = [];
      if (s.shape) parts.push(tupleText(s.shape));
      if (s.dtype !== "void") parts.push(`"${s.dtype}"`);
      if (!s.shape && s.ndim !== -1) parts.push(`ndim=${s.ndim}`);
      return `R.Tensor(${parts.join(", ")})`;
    }
    case "TupleStructInfo":
      return `R.Tuple(${s.fields.map(compactStructInfo).join(", ")})`;
    case "FuncStructInfo": {
      const ps = s.params ? `[${s.params.map(compactStructInfo).join(", ")}]` : "None";
      return `R.Callable(${ps}, ${compactStructInfo(s.ret)}${s.purity ? "" : ", purity=False"})`;
    }
    default:
      s satisfies never;
      return "?";
  }
}

const structInfoKinds: { readonly [K in StructInfo["kind"]]: true } = {
  ObjectStructInfo: true,
  PrimStructInfo: true,
  ShapeStructInfo: true,
  TensorStructInfo: true,
  TupleStructInfo: true,
  FuncStructInfo: true,
};

/** Whether `x` is a StructInfo node. */
export function isStructInfo(x: unknown): x is StructInfo {
  const k = (x as { kind?: unknown } | null)?.kind;
  return typeof k === "string" && Object.hasOwn(structInfoKinds, k);
}

/** The summary `displayNode` gives when no printer is registered (see `ir/display.ts`). */
function fallbackSummary(node: object): string {
  const n = node as { kind?: unknown; name?: unknown; value?: unknown };
  const parts = [String(n.kind ?? "object")];
  if (typeof n.name === "string") parts.push(`"${n.name}"`);
  if (typeof n.value === "number" || typeof n.value === "string") parts.push(String(n.value));
  return parts.join(" ");
}

const MAX_ITEMS = 8;

/**
 * Text for any value in an error message: IR nodes through `displayNode` (the TVMScript printer
 * once registered; a compact rendering of PrimExprs and StructInfo before that), strings quoted,
 * arrays and typed arrays listed (at most 8 items).
 */
export function showValue(x: unknown): string {
  if (typeof x === "string") return JSON.stringify(x);
  if (typeof x === "bigint") return `${x}n`;
  if (x === null || typeof x !== "object") return String(x);
  if (ArrayBuffer.isView(x)) {
    const xs = x as unknown as ArrayLike<number | bigint>;
    const items = Array.from({ length: Math.min(xs.length, MAX_ITEMS) }, (_, i) => String(xs[i]));
    if (xs.length > MAX_ITEMS) items.push("...");
    return `${x.constructor.name}(${xs.length}) [${items.join(", ")}]`;
  }
  if (Array.isArray(x)) {
    const items = x.slice(0, MAX_ITEMS).map(showValue);
    if (x.length > MAX_ITEMS) items.push("...");
    return `[${items.join(", ")}]`;
  }
  const kind = (x as { kind?: unknown }).kind;
  if (typeof kind === "string") {
    const d = displayNode(x);
    if (d !== fallbackSummary(x)) return d;
    if (isStructInfo(x)) return compactStructInfo(x);
    if (isPrimExpr(x)) return compactPrimExpr(x);
    if (kind === "Buffer") return `Buffer "${(x as { name: string }).name}"`;
    return d;
  }
  if (x instanceof Map) return `Map(${x.size})`;
  const entries = Object.entries(x).slice(0, MAX_ITEMS).map(([k, v]) => `${k}: ${showValue(v)}`);
  return `{${entries.join(", ")}}`;
}
