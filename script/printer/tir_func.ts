/**
 * Printing of `PrimFunc`s: `@T.prim_func`, parameters (`A: T.Buffer(...)` when the buffer is
 * simple, else a `T.handle` with `T.match_buffer`), `T.func_attr`, and the implicit root block
 * (`# with T.sblock("root"):` followed by its `T.sblock_alloc_buffer`s).
 *
 * @module
 */

import type { Buffer, Var } from "../../ir/expr.ts";
import type { PrimFunc } from "../../ir/tir/prim_func.ts";
import type { AttrValue, SBlock, Stmt } from "../../ir/tir/stmt.ts";
import {
  assign,
  type AssignDoc,
  bool,
  call,
  comment,
  type ExprDoc,
  exprStmt,
  type StmtDoc,
} from "./doc.ts";
import type { Docsifier } from "./docsifier.ts";
import { bufferAnnotation, bufferDecl, defineBuffer, hasVar } from "./tir_buffer.ts";
import { attrsDoc, isConstInt } from "./tir_expr.ts";
import { asDocBody, containsRealize } from "./tir_stmt.ts";

/** The variables that occur anywhere under `root` (a generic walk of the IR objects). */
function varsIn(root: unknown): Set<object> {
  const seen = new Set<object>();
  const vars = new Set<object>();
  const walk = (x: unknown): void => {
    if (x === null || typeof x !== "object" || ArrayBuffer.isView(x) || seen.has(x)) return;
    seen.add(x);
    if ((x as { kind?: unknown }).kind === "Var") vars.add(x);
    if (Array.isArray(x)) x.forEach(walk);
    else if (x instanceof Map) {
      for (const [k, y] of x) {
        walk(k);
        walk(y);
      }
    } else Object.values(x).forEach(walk);
  };
  walk(root);
  return vars;
}

/** A buffer that prints as a `T.Buffer(shape, dtype)` parameter annotation. */
function isSimpleBuffer(b: Buffer): boolean {
  return b.strides.length === 0 && !b.shape.some(hasVar) && !hasVar(b.elemOffset) &&
    isConstInt(b.elemOffset, 0) && b.scope === "global" &&
    (b.alignment === 0 || b.alignment === 64);
}

/** The root block that prints implicitly (as a comment), if the body has one. */
function implicitRootBlock(body: Stmt): SBlock | undefined {
  if (
    body.kind !== "SBlockRealize" || body.iterValues.length > 0 || !isConstInt(body.predicate, 1)
  ) {
    return undefined;
  }
  const b = body.block;
  if (
    Object.keys(b.annotations).length > 0 || b.matchBuffers.length > 0 || b.reads.length > 0 ||
    b.writes.length > 0 || b.init !== undefined
  ) return undefined;
  const inner = b.body;
  if (
    b.allocBuffers.length > 0 ||
    (inner.kind === "SBlockRealize" && inner.block.iterVars.length > 0) ||
    (inner.kind !== "SBlockRealize" && containsRealize(inner))
  ) return b;
  return undefined;
}

/** The name under which a function prints: its module name, its `global_symbol`, or `main`. */
export function functionName(attrs: { readonly [key: string]: AttrValue }, d: Docsifier): string {
  const bound = d.bindingNames[d.bindingNames.length - 1];
  if (bound !== undefined) return bound;
  const sym = attrs["global_symbol"];
  return typeof sym === "string" ? sym : "main";
}

/** Prints a PrimFunc (with the header lines of the prefixes used so far). */
export function primFuncDoc(fn: PrimFunc, d: Docsifier): StmtDoc {
  const f = d.newFrame("tir", fn);
  return d.withFrame(f, () => {
    const name = functionName(fn.attrs, d);
    d.setCommonPrefix(fn);
    const dataUses = new Map<Var, number>();
    for (const b of fn.bufferMap.values()) dataUses.set(b.data, (dataUses.get(b.data) ?? 0) + 1);
    // Step 1: parameters; a simple buffer used only through its handle becomes an annotation
    const args: AssignDoc[] = [];
    const inlined = new Set<Buffer>();
    // A handle used anywhere but in its parameter slot keeps its name.
    const fields = [...fn.bufferMap.values()].map((
      b,
    ) => [b.data, b.shape, b.strides, b.elemOffset]);
    const used = varsIn([fn.body, fields]);
    for (const p of fn.params) {
      const buf = fn.bufferMap.get(p);
      if (buf && isSimpleBuffer(buf) && dataUses.get(buf.data) === 1 && !used.has(p)) {
        const lhs = defineBuffer(buf, f, d);
        args.push(assign(lhs, undefined, bufferAnnotation(buf, f, d)));
        inlined.add(buf);
        continue;
      }
      args.push(assign(d.define(p, f, p.name || "v"), undefined, d.T(p.dtype)));
    }
    // Step 2: attributes (a global symbol equal to the name is implied)
    const attrs: { [key: string]: AttrValue } = { ...fn.attrs };
    if (attrs["global_symbol"] === name) delete attrs["global_symbol"];
    if (Object.keys(attrs).length > 0) {
      f.stmts.push(exprStmt(call(d.T("func_attr"), [attrsDoc(attrs, d)])));
    }
    // Step 3: the other buffers of the buffer map
    fn.params.forEach((p, i) => {
      const buf = fn.bufferMap.get(p);
      if (!buf || inlined.has(buf)) return;
      const lhs = defineBuffer(buf, f, d);
      const rhs = bufferDecl(buf, "match_buffer", [args[i]!.lhs], f, d, "match");
      f.stmts.push(assign(lhs, rhs));
    });
    // Step 4: the body
    const root = implicitRootBlock(fn.body);
    if (root) {
      f.stmts.push(comment('with T.sblock("root"):'));
      for (const buf of root.allocBuffers) {
        const lhs = defineBuffer(buf, f, d);
        f.stmts.push(assign(lhs, bufferDecl(buf, "sblock_alloc_buffer", [], f, d, "data")));
      }
      asDocBody(root.body, f, d);
    } else {
      asDocBody(fn.body, f, d);
    }
    const ret: ExprDoc | undefined = fn.retType === "void" ? undefined : d.T(fn.retType);
    let decorator = d.T("prim_func");
    if (fn.isPrivate) decorator = call(decorator, [], [["private", bool(true)]]);
    return d.withHeader({ k: "function", name, args, decorators: [decorator], ret, body: f.stmts });
  }, "tir");
}
