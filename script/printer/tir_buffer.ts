/**
 * Printing of TIR buffers: declarations (`T.Buffer`, `T.match_buffer`, `T.alloc_buffer`,
 * `T.sblock_alloc_buffer`, `T.decl_buffer`) with only the non-default fields, references, and
 * buffer regions (`A[vi, 0:128]`).
 *
 * @module
 */

import { add, type Buffer, type PrimExpr, type Var } from "../../ir/expr.ts";
import type { BufferRegion, MatchBufferRegion } from "../../ir/tir/stmt.ts";
import {
  assign,
  attr,
  call,
  type ExprDoc,
  index,
  int,
  slice,
  type SliceDoc,
  type StmtDoc,
  str,
  tuple,
} from "./doc.ts";
import type { Docsifier, Frame } from "./docsifier.ts";
import { isConstInt, varCreation } from "./tir_expr.ts";

/**
 * Which variables a buffer declaration defines along with the buffer: `none` (all must exist,
 * as for `T.decl_buffer`), `data` (the data pointer, as for allocations and parameter
 * annotations) or `match` (the data pointer and any new shape/stride/offset variables).
 */
export type BufferVarDefs = "none" | "data" | "match";

/** Calls `fn` on every variable occurrence in `e`. */
export function forEachVar(e: PrimExpr, fn: (v: Var) => void): void {
  switch (e.kind) {
    case "Var":
      fn(e);
      return;
    case "IntImm":
    case "FloatImm":
    case "StringImm":
      return;
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
    case "Or":
      forEachVar(e.a, fn);
      forEachVar(e.b, fn);
      return;
    case "Not":
      forEachVar(e.a, fn);
      return;
    case "Select":
      forEachVar(e.cond, fn);
      forEachVar(e.t, fn);
      forEachVar(e.f, fn);
      return;
    case "Cast":
      forEachVar(e.value, fn);
      return;
    case "Let":
      forEachVar(e.var, fn);
      forEachVar(e.value, fn);
      forEachVar(e.body, fn);
      return;
    case "Call":
      for (const a of e.args) forEachVar(a, fn);
      return;
    case "BufferLoad":
      for (const a of e.indices) forEachVar(a, fn);
      return;
    case "Ramp":
      forEachVar(e.base, fn);
      forEachVar(e.stride, fn);
      return;
    case "Broadcast":
      forEachVar(e.value, fn);
      return;
    default:
      e satisfies never;
  }
}

/** Whether `e` contains a variable. */
export function hasVar(e: PrimExpr): boolean {
  let found = false;
  forEachVar(e, () => (found = true));
  return found;
}

/** The non-default fields of a buffer as docs, defining variables as `defs` says. */
function bufferAttrs(
  buf: Buffer,
  frame: Frame,
  d: Docsifier,
  defs: BufferVarDefs,
): Map<string, ExprDoc> {
  const kw = new Map<string, ExprDoc>();
  const lhs: ExprDoc[] = [];
  const rhs: ExprDoc[] = [];
  const uses = new Map<Var, number>();
  const count = (e: PrimExpr) => forEachVar(e, (v) => uses.set(v, (uses.get(v) ?? 0) + 1));
  count(buf.elemOffset);
  count(buf.data);
  buf.strides.forEach(count);
  buf.shape.forEach(count);
  const isNewVar = (e: PrimExpr): e is Var => e.kind === "Var" && !d.isDefined(e);
  const outOfLine = (v: Var) => {
    lhs.push(d.define(v, frame, v.name || "v"));
    rhs.push(varCreation(v, d));
  };
  const tryInline = (v: Var, doc: () => ExprDoc): boolean => {
    if (uses.get(v) === 1) {
      d.defineAs(v, frame, doc);
      return true;
    }
    outOfLine(v);
    return false;
  };
  // shape: new variables are declared before the buffer
  kw.set(
    "shape",
    tuple(buf.shape.map((e) => {
      if (isNewVar(e)) outOfLine(e);
      return d.expr(e);
    })),
  );
  if (buf.dtype !== "float32") kw.set("dtype", str(buf.dtype));
  // data pointer: `A.data` when the declaration defines it
  let inlineData = false;
  if (isNewVar(buf.data)) {
    if (defs !== "none") inlineData = tryInline(buf.data, () => attr(d.expr(buf), "data"));
    else outOfLine(buf.data);
  }
  if (!inlineData) kw.set("data", d.expr(buf.data));
  if (buf.strides.length > 0) {
    kw.set(
      "strides",
      tuple(buf.strides.map((e, i) => {
        if (isNewVar(e)) {
          if (tryInline(e, () => index(attr(d.expr(buf), "strides"), [int(i)]))) return str(e.name);
        }
        return d.expr(e);
      })),
    );
  }
  let needsFactor = false;
  const off = buf.elemOffset;
  if (off.kind === "IntImm") {
    if (off.value !== 0) kw.set("elem_offset", d.expr(off));
  } else if (isNewVar(off)) {
    if (!tryInline(off, () => attr(d.expr(buf), "elem_offset"))) kw.set("elem_offset", d.expr(off));
    needsFactor = true;
  } else {
    kw.set("elem_offset", d.expr(off));
  }
  if (buf.scope !== "global") kw.set("scope", str(buf.scope));
  if (buf.alignment !== 0 && buf.alignment !== 64) kw.set("align", int(buf.alignment));
  if (needsFactor) kw.set("offset_factor", int(1));
  if (lhs.length === 1) frame.stmts.push(assign(lhs[0]!, rhs[0]!));
  else if (lhs.length > 1) frame.stmts.push(assign(tuple(lhs), tuple(rhs)));
  return kw;
}

const KWARG_ORDER = ["data", "strides", "elem_offset", "scope", "align", "offset_factor"];

/** `T.<method>(args..., shape, dtype, data=..., ...)`: a buffer declaration. */
export function bufferDecl(
  buf: Buffer,
  method: string,
  args: readonly ExprDoc[],
  frame: Frame,
  d: Docsifier,
  defs: BufferVarDefs,
): ExprDoc {
  const prefix = d.T(method);
  const kw = bufferAttrs(buf, frame, d, defs);
  const all = [...args, kw.get("shape")!];
  const dtype = kw.get("dtype");
  if (dtype) all.push(dtype);
  const kwargs: [string, ExprDoc][] = [];
  for (const k of KWARG_ORDER) {
    const v = kw.get(k);
    if (v) kwargs.push([k, v]);
  }
  return call(prefix, all, kwargs);
}

/** `T.Buffer((128, 128), "float32")`: a parameter annotation. */
export function bufferAnnotation(buf: Buffer, frame: Frame, d: Docsifier): ExprDoc {
  const kw = bufferAttrs(buf, frame, d, "data");
  return call(d.T("Buffer"), [kw.get("shape")!, kw.get("dtype") ?? str(buf.dtype)]);
}

/** A buffer reference; a buffer with no definition site is declared as `A = T.Buffer(...)`. */
export function bufferRefDoc(buf: Buffer, d: Docsifier): ExprDoc {
  if (!d.isDefined(buf)) {
    const f = d.lowestVarDefFrame(buf);
    const lhs = d.define(buf, f, buf.name || "buffer");
    const rhs = bufferDecl(buf, "Buffer", [], f, d, "data");
    f.stmts.push(assign(lhs, rhs));
  }
  return d.varDoc(buf)!;
}

/** Defines a buffer in `frame` and returns its name. */
export function defineBuffer(buf: Buffer, frame: Frame, d: Docsifier): ExprDoc {
  return d.define(buf, frame, buf.name || "buffer");
}

/** `A[vi, 0:128]`: a buffer region; unit extents print as the index alone. */
export function bufferRegionDoc(r: BufferRegion, d: Docsifier): ExprDoc {
  const buf = d.expr(r.buffer);
  const idx: (ExprDoc | SliceDoc)[] = r.region.map((rg) => {
    const min = d.expr(rg.min);
    if (isConstInt(rg.extent, 1)) return min;
    return slice(min, d.expr(add(rg.min, rg.extent)));
  });
  return index(buf, idx);
}

/** `B = T.match_buffer(A[0:4, 0:4], (4, 4))` */
export function matchBufferDoc(m: MatchBufferRegion, d: Docsifier): StmtDoc {
  const frame = d.top();
  const lhs = defineBuffer(m.buffer, frame, d);
  const src = bufferRegionDoc(m.source, d);
  return assign(lhs, bufferDecl(m.buffer, "match_buffer", [src], frame, d, "match"));
}
