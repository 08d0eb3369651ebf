/**
 * Printing of TIR statements: loops (`T.grid` for nests of plain loops), blocks with their
 * iteration variables (`T.axis.remap` when they follow the enclosing loops), stores, and the
 * scoped statements.
 *
 * A scoped statement (`LetStmt`, `AssertStmt`, `AllocBuffer`, `DeclBuffer`) that ends its
 * sequence prints concisely, with its body spliced after it (`x: T.int32 = v`, `assert c, "m"`,
 * `A = T.alloc_buffer(...)`); elsewhere it prints as a `with` scope (`with T.LetStmt(v) as x:`).
 *
 * @module
 */

import { add, type Var } from "../../ir/expr.ts";
import type { For, SBlock, SBlockRealize, Stmt } from "../../ir/tir/stmt.ts";
import {
  assign,
  block,
  bool,
  call,
  type Doc,
  type ExprDoc,
  exprStmt,
  id,
  index,
  list,
  scope,
  type StmtDoc,
  str,
  tuple,
} from "./doc.ts";
import type { Docsifier, Frame } from "./docsifier.ts";
import { exprDeepEqual } from "./equal.ts";
import { bufferDecl, defineBuffer, forEachVar, matchBufferDoc } from "./tir_buffer.ts";
import { attrsDoc, bufferIndices, isConstInt } from "./tir_expr.ts";

/** Appends a statement doc (splicing blocks) to a frame. */
function pushStmt(f: Frame, doc: Doc): void {
  if (doc.k === "block") f.stmts.push(...doc.stmts);
  else f.stmts.push(doc as StmtDoc);
}

/** Prints a body into frame `f`; only the last statement of a sequence may scope concisely. */
export function asDocBody(s: Stmt, f: Frame, d: Docsifier): void {
  if (s.kind === "SeqStmt") {
    s.seq.forEach((x, i) => {
      f.allowConcise = i === s.seq.length - 1;
      pushStmt(f, d.asDoc(x));
    });
  } else {
    f.allowConcise = true;
    pushStmt(f, d.asDoc(s));
  }
}

/** Prints `body` in a new frame for `node`; returns the frame's statements. */
function bodyIn(node: Stmt, body: Stmt, d: Docsifier): StmtDoc[] {
  const f = d.newFrame("tir", node);
  return d.withFrame(f, () => {
    asDocBody(body, f, d);
    return f.stmts;
  });
}

const LOOP_PREFIX = {
  parallel: "parallel",
  vectorized: "vectorized",
  unrolled: "unroll",
  thread_binding: "thread_binding",
} as const;

function forDoc(loop: For, d: Docsifier): StmtDoc {
  // Nested plain serial loops starting at 0 print as one `T.grid`.
  const grid: For[] = [];
  const gridVars = new Set<Var>();
  for (let l: Stmt = loop; l.kind === "For"; l = l.body) {
    let dependent = false;
    forEachVar(l.extent, (v) => (dependent ||= gridVars.has(v)));
    if (
      l.forKind !== "serial" || !isConstInt(l.min, 0) || Object.keys(l.annotations).length > 0 ||
      dependent
    ) break;
    grid.push(l);
    gridVars.add(l.loopVar);
  }
  // The loop headers print before the loop's frame opens, so that a free variable in an extent
  // is declared before the loop (TVM would declare it inside the loop, after its use).
  if (grid.length > 1) {
    const extents = grid.map((l) => d.expr(l.extent));
    const f = d.newFrame("tir", loop);
    return d.withFrame(f, () => {
      const lhs = grid.map((l) => d.define(l.loopVar, f, l.loopVar.name || "v"));
      asDocBody(grid[grid.length - 1]!.body, f, d);
      return { k: "for", lhs: tuple(lhs), rhs: call(d.T("grid"), extents), body: f.stmts };
    });
  }
  const args = isConstInt(loop.min, 0)
    ? [d.expr(loop.extent)]
    : [d.expr(loop.min), d.expr(add(loop.min, loop.extent))];
  const annotated = Object.keys(loop.annotations).length > 0;
  const prefix = loop.forKind === "serial"
    ? (annotated ? d.T("serial") : id("range"))
    : d.T(LOOP_PREFIX[loop.forKind]);
  const kwargs: [string, ExprDoc][] = [];
  if (loop.forKind === "thread_binding") kwargs.push(["thread", str(loop.threadTag ?? "")]);
  if (annotated) kwargs.push(["annotations", attrsDoc(loop.annotations, d)]);
  const f = d.newFrame("tir", loop);
  return d.withFrame(f, () => {
    const lhs = d.define(loop.loopVar, f, loop.loopVar.name || "v");
    asDocBody(loop.body, f, d);
    return { k: "for", lhs, rhs: call(prefix, args, kwargs), body: f.stmts };
  });
}

const AXIS = { spatial: "spatial", reduce: "reduce", scan: "scan", opaque: "opaque" } as const;

function blockDoc(blk: SBlock, realize: SBlockRealize | undefined, d: Docsifier): StmtDoc {
  const frame = d.newFrame("tir", blk);
  return d.withFrame(frame, () => {
    // Loop variables of the enclosing loop nests, for `T.axis.remap`.
    const loops = new Map<Var, For>();
    for (const f of d.frames) {
      const node = f.node as Stmt | undefined;
      if (f.kind !== "tir" || node?.kind !== "For") continue;
      for (let l: Stmt = node; l.kind === "For"; l = l.body) loops.set(l.loopVar, l);
    }
    const remapped: number[] = [];
    const canRemap = (i: number): boolean => {
      if (!realize) return false;
      const iv = blk.iterVars[i]!;
      const value = realize.iterValues[i]!;
      if ((iv.iterKind !== "spatial" && iv.iterKind !== "reduce") || value.kind !== "Var") {
        return false;
      }
      const loop = loops.get(value);
      return loop !== undefined && exprDeepEqual(loop.min, iv.dom.min) &&
        exprDeepEqual(loop.extent, iv.dom.extent);
    };
    const single = (i: number) => {
      const iv = blk.iterVars[i]!;
      const dom = isConstInt(iv.dom.min, 0)
        ? d.expr(iv.dom.extent)
        : tuple([d.expr(iv.dom.min), d.expr(add(iv.dom.min, iv.dom.extent))]);
      const args = realize ? [dom, d.expr(realize.iterValues[i]!)] : [dom];
      const rhs = call(d.T(`axis.${AXIS[iv.iterKind]}`), args);
      frame.stmts.push(assign(d.define(iv.var, frame, iv.var.name || "v"), rhs));
    };
    const flush = () => {
      if (remapped.length === 1) single(remapped[0]!);
      if (remapped.length > 1) {
        const lhs = [];
        const values = [];
        let kinds = "";
        for (const i of remapped) {
          const iv = blk.iterVars[i]!;
          lhs.push(d.define(iv.var, frame, iv.var.name || "v"));
          values.push(d.expr(realize!.iterValues[i]!));
          kinds += iv.iterKind === "spatial" ? "S" : "R";
        }
        frame.stmts.push(assign(tuple(lhs), call(d.T("axis.remap"), [str(kinds), list(values)])));
      }
      remapped.length = 0;
    };
    blk.iterVars.forEach((_, i) => {
      if (canRemap(i)) {
        remapped.push(i);
      } else {
        flush();
        single(i);
      }
    });
    flush();
    if (realize && !isConstInt(realize.predicate, 1)) {
      frame.stmts.push(exprStmt(call(d.T("where"), [d.expr(realize.predicate)])));
    }
    frame.stmts.push(exprStmt(call(d.T("reads"), blk.reads.map((r) => d.expr(r)))));
    frame.stmts.push(exprStmt(call(d.T("writes"), blk.writes.map((r) => d.expr(r)))));
    if (Object.keys(blk.annotations).length > 0) {
      frame.stmts.push(exprStmt(call(d.T("sblock_attr"), [attrsDoc(blk.annotations, d)])));
    }
    for (const buf of blk.allocBuffers) {
      const lhs = defineBuffer(buf, frame, d);
      frame.stmts.push(assign(lhs, bufferDecl(buf, "sblock_alloc_buffer", [], frame, d, "data")));
    }
    for (const m of blk.matchBuffers) frame.stmts.push(matchBufferDoc(m, d));
    if (blk.init) {
      frame.stmts.push(scope(undefined, call(d.T("init")), bodyIn(blk.init, blk.init, d)));
    }
    asDocBody(blk.body, frame, d);
    const kwargs: [string, ExprDoc][] = realize ? [] : [["no_realize", bool(true)]];
    return scope(undefined, call(d.T("sblock"), [str(blk.name)], kwargs), frame.stmts);
  });
}

/** Prints a TIR statement. */
export function stmtDoc(s: Stmt, d: Docsifier): StmtDoc {
  switch (s.kind) {
    case "For":
      return forDoc(s, d);
    case "SBlock":
      return blockDoc(s, undefined, d);
    case "SBlockRealize":
      return blockDoc(s.block, s, d);
    case "BufferStore": {
      const buf = d.expr(s.buffer);
      const value = d.expr(s.value);
      return assign(index(buf, bufferIndices(s.indices, d)), value);
    }
    case "SeqStmt": {
      const f = d.newFrame("tir", s);
      return d.withFrame(f, () => {
        asDocBody(s, f, d);
        return block(f.stmts);
      });
    }
    case "IfThenElse": {
      const cond = d.expr(s.cond);
      const then = bodyIn(s.then, s.then, d);
      const otherwise = s.else ? bodyIn(s.else, s.else, d) : [];
      return { k: "if", cond, then, else: otherwise };
    }
    case "LetStmt": {
      const concise = d.top().allowConcise;
      const rhs = d.expr(s.value);
      const f = d.newFrame("tir", s);
      return d.withFrame(f, () => {
        const defined = d.isDefined(s.var);
        const lhs = defined ? d.expr(s.var) : d.define(s.var, f, s.var.name || "v");
        asDocBody(s.body, f, d);
        if (defined) return scope(undefined, call(d.T("LetStmt"), [rhs], [["var", lhs]]), f.stmts);
        return concise
          ? block([assign(lhs, rhs, d.T(s.var.dtype)), ...f.stmts])
          : scope(lhs, call(d.T("LetStmt"), [rhs]), f.stmts);
      });
    }
    case "Evaluate": {
      const value = d.expr(s.value);
      return exprStmt(s.value.kind === "Call" ? value : call(d.T("evaluate"), [value]));
    }
    case "AllocBuffer":
    case "DeclBuffer": {
      const concise = d.top().allowConcise;
      const alloc = s.kind === "AllocBuffer";
      const rhs = bufferDecl(
        s.buffer,
        alloc ? "alloc_buffer" : "decl_buffer",
        [],
        d.top(),
        d,
        alloc ? "data" : "none",
      );
      const f = d.newFrame("tir", s);
      return d.withFrame(f, () => {
        const lhs = defineBuffer(s.buffer, f, d);
        asDocBody(s.body, f, d);
        return concise ? block([assign(lhs, rhs), ...f.stmts]) : scope(lhs, rhs, f.stmts);
      });
    }
    case "AssertStmt": {
      const concise = d.top().allowConcise;
      const cond = d.expr(s.cond);
      const msg = str(s.message);
      const body = bodyIn(s, s.body, d);
      return concise
        ? block([{ k: "assert", test: cond, msg }, ...body])
        : scope(undefined, call(d.T("Assert"), [cond, msg]), body);
    }
    case "While": {
      const cond = d.expr(s.cond);
      return { k: "while", cond, body: bodyIn(s, s.body, d) };
    }
    default:
      return s satisfies never;
  }
}

/** Whether a statement contains a block realization. */
export function containsRealize(s: Stmt): boolean {
  switch (s.kind) {
    case "SBlockRealize":
      return true;
    case "SBlock":
      return containsRealize(s.body) || (s.init !== undefined && containsRealize(s.init));
    case "SeqStmt":
      return s.seq.some(containsRealize);
    case "IfThenElse":
      return containsRealize(s.then) || (s.else !== undefined && containsRealize(s.else));
    case "For":
    case "LetStmt":
    case "AllocBuffer":
    case "DeclBuffer":
    case "AssertStmt":
    case "While":
      return containsRealize(s.body);
    case "BufferStore":
    case "Evaluate":
      return false;
    default:
      return s satisfies never;
  }
}
