/**
 * Visitors and rewriters over TIR and Relax. Rewriters work post-order and return the very same
 * object when nothing below changed, so passes can cheaply tell "no change".
 *
 * @module
 */

import { type Buffer, copyExpr, type PrimExpr, type Range } from "./expr.ts";
import type { Binding, BindingBlock, Expr, Function } from "./relax/expr.ts";
import type { StructInfo } from "./relax/struct_info.ts";
import type { PrimFunc } from "./tir/prim_func.ts";
import type { BufferRegion, IterVar, MatchBufferRegion, SBlock, Stmt } from "./tir/stmt.ts";

// ---------------------------------------------------------------------------------------------
// TIR

/** Hooks of a TIR rewrite. Each returns a replacement, or `undefined` to keep the node. */
export interface TirRewriter {
  /** Called before the children of an expression; a result replaces the node and skips them. */
  readonly preExpr?: (e: PrimExpr) => PrimExpr | undefined;
  /** Called after the children of an expression were rewritten. */
  readonly expr?: (e: PrimExpr) => PrimExpr | undefined;
  /** Called before the children of a statement; a result replaces it and skips them. */
  readonly preStmt?: (s: Stmt) => Stmt | undefined;
  /** Called after the children of a statement were rewritten. */
  readonly stmt?: (s: Stmt) => Stmt | undefined;
  /** Maps every buffer reference (loads, stores, regions, allocations). */
  readonly buffer?: (b: Buffer) => Buffer;
}

function mapArr<T>(xs: readonly T[], f: (x: T) => T): readonly T[] {
  let out: T[] | undefined;
  for (let i = 0; i < xs.length; i++) {
    const y = f(xs[i]!);
    if (y !== xs[i] && !out) out = xs.slice(0, i);
    if (out) out.push(y);
  }
  return out ?? xs;
}

function changed<T extends object>(orig: T, fields: Partial<T>): boolean {
  for (const k in fields) if ((orig as Record<string, unknown>)[k] !== fields[k]) return true;
  return false;
}

function rebuildExpr<T extends PrimExpr>(e: T, fields: Partial<Omit<T, "kind">>): T {
  return changed(e, fields as Partial<T>) ? copyExpr(e, fields) : e;
}

function rebuild<T extends object>(s: T, fields: Partial<T>): T {
  return changed(s, fields) ? { ...s, ...fields } : s;
}

/** Rewrites a PrimExpr post-order with the given hooks. */
export function rewritePrimExpr(e: PrimExpr, r: TirRewriter): PrimExpr {
  const pre = r.preExpr?.(e);
  if (pre) return pre;
  const ex = (x: PrimExpr) => rewritePrimExpr(x, r);
  let out: PrimExpr;
  switch (e.kind) {
    case "Var":
    case "IntImm":
    case "FloatImm":
    case "StringImm":
      out = e;
      break;
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
      out = rebuildExpr(e, { a: ex(e.a), b: ex(e.b) });
      break;
    case "Not":
      out = rebuildExpr(e, { a: ex(e.a) });
      break;
    case "Select":
      out = rebuildExpr(e, { cond: ex(e.cond), t: ex(e.t), f: ex(e.f) });
      break;
    case "Cast":
      out = rebuildExpr(e, { value: ex(e.value) });
      break;
    case "Let":
      out = rebuildExpr(e, { value: ex(e.value), body: ex(e.body) });
      break;
    case "Call":
      out = rebuildExpr(e, { args: mapArr(e.args, ex) });
      break;
    case "BufferLoad":
      out = rebuildExpr(e, {
        buffer: r.buffer ? r.buffer(e.buffer) : e.buffer,
        indices: mapArr(e.indices, ex),
      });
      break;
    case "Ramp":
      out = rebuildExpr(e, { base: ex(e.base), stride: ex(e.stride) });
      break;
    case "Broadcast":
      out = rebuildExpr(e, { value: ex(e.value) });
      break;
    default:
      e satisfies never;
      throw new Error("unreachable");
  }
  return r.expr?.(out) ?? out;
}

function rewriteRange(x: Range, r: TirRewriter): Range {
  return rebuild(x, { min: rewritePrimExpr(x.min, r), extent: rewritePrimExpr(x.extent, r) });
}

function rewriteRegion(x: BufferRegion, r: TirRewriter): BufferRegion {
  return rebuild(x, {
    buffer: r.buffer ? r.buffer(x.buffer) : x.buffer,
    region: mapArr(x.region, (y) => rewriteRange(y, r)),
  });
}

function rewriteBlock(b: SBlock, r: TirRewriter): SBlock {
  const st = (x: Stmt) => rewriteStmt(x, r);
  return rebuild(b, {
    iterVars: mapArr(b.iterVars, (iv: IterVar) => rebuild(iv, { dom: rewriteRange(iv.dom, r) })),
    reads: mapArr(b.reads, (x) => rewriteRegion(x, r)),
    writes: mapArr(b.writes, (x) => rewriteRegion(x, r)),
    init: b.init && st(b.init),
    allocBuffers: r.buffer ? mapArr(b.allocBuffers, r.buffer) : b.allocBuffers,
    matchBuffers: mapArr(
      b.matchBuffers,
      (m: MatchBufferRegion) =>
        rebuild(m, {
          buffer: r.buffer ? r.buffer(m.buffer) : m.buffer,
          source: rewriteRegion(m.source, r),
        }),
    ),
    body: st(b.body),
  });
}

/** Rewrites a statement post-order with the given hooks. */
export function rewriteStmt(s: Stmt, r: TirRewriter): Stmt {
  const pre = r.preStmt?.(s);
  if (pre) return pre;
  const ex = (x: PrimExpr) => rewritePrimExpr(x, r);
  const st = (x: Stmt) => rewriteStmt(x, r);
  const buf = (b: Buffer) => r.buffer ? r.buffer(b) : b;
  let out: Stmt;
  switch (s.kind) {
    case "For":
      out = rebuild(s, { min: ex(s.min), extent: ex(s.extent), body: st(s.body) });
      break;
    case "SBlock":
      out = rewriteBlock(s, r);
      break;
    case "SBlockRealize":
      out = rebuild(s, {
        iterValues: mapArr(s.iterValues, ex),
        predicate: ex(s.predicate),
        block: rewriteBlock(s.block, r),
      });
      break;
    case "BufferStore":
      out = rebuild(s, {
        buffer: buf(s.buffer),
        value: ex(s.value),
        indices: mapArr(s.indices, ex),
      });
      break;
    case "SeqStmt":
      out = rebuild(s, { seq: mapArr(s.seq, st) });
      break;
    case "IfThenElse":
      out = rebuild(s, { cond: ex(s.cond), then: st(s.then), else: s.else && st(s.else) });
      break;
    case "LetStmt":
      out = rebuild(s, { value: ex(s.value), body: st(s.body) });
      break;
    case "Evaluate":
      out = rebuild(s, { value: ex(s.value) });
      break;
    case "AllocBuffer":
    case "DeclBuffer":
      out = rebuild(s, { buffer: buf(s.buffer), body: st(s.body) });
      break;
    case "AssertStmt":
      out = rebuild(s, { cond: ex(s.cond), body: st(s.body) });
      break;
    case "While":
      out = rebuild(s, { cond: ex(s.cond), body: st(s.body) });
      break;
    default:
      s satisfies never;
      throw new Error("unreachable");
  }
  return r.stmt?.(out) ?? out;
}

/** Rewrites the body (and buffer map, when `r.buffer` is set) of a PrimFunc. */
export function rewritePrimFunc(f: PrimFunc, r: TirRewriter): PrimFunc {
  const body = rewriteStmt(f.body, r);
  let map = f.bufferMap;
  if (r.buffer) {
    let mapChanged = false;
    const m = new Map<typeof f.params[number], Buffer>();
    for (const [k, v] of f.bufferMap) {
      const nv = r.buffer(v);
      if (nv !== v) mapChanged = true;
      m.set(k, nv);
    }
    if (mapChanged) map = m;
  }
  if (body === f.body && map === f.bufferMap) return f;
  return { ...f, body, bufferMap: map };
}

/** Calls `fn` on every expression under `e`, pre-order. Return `false` to skip children. */
export function visitPrimExpr(e: PrimExpr, fn: (e: PrimExpr) => boolean | void): void {
  rewritePrimExpr(e, {
    preExpr: (x) => (fn(x) === false ? x : undefined),
  });
}

/** Hooks of a TIR visit (pre-order). Return `false` from `stmt` to skip a statement's children. */
export interface TirVisitor {
  /** Called on each expression. */
  readonly expr?: (e: PrimExpr) => void;
  /** Called on each statement before its children. */
  readonly stmt?: (s: Stmt) => boolean | void;
}

/**
 * Visits every statement and expression under `s`. A realized block is visited as its
 * `SBlockRealize` (the `SBlock` inside is not passed to `stmt` on its own).
 */
export function visitStmt(s: Stmt, v: TirVisitor): void {
  rewriteStmt(s, {
    preStmt: (x) => (v.stmt?.(x) === false ? x : undefined),
    preExpr: v.expr
      ? (x) => {
        v.expr!(x);
        return undefined;
      }
      : undefined,
  } as TirRewriter);
}

// ---------------------------------------------------------------------------------------------
// Relax

/** Hooks of a Relax rewrite. */
export interface RelaxRewriter {
  /** Called before the children of an expression; a result replaces it and skips them. */
  readonly preExpr?: (e: Expr) => Expr | undefined;
  /** Called after the children of an expression were rewritten. */
  readonly expr?: (e: Expr) => Expr | undefined;
  /** Rewrites a binding (after its value was rewritten); may return several or none. */
  readonly binding?: (b: Binding) => Binding | readonly Binding[] | undefined;
  /** Rewrites PrimExprs inside Relax nodes (shapes, prim values, StructInfo). */
  readonly primExpr?: (e: PrimExpr) => PrimExpr;
}

/** Rewrites the PrimExprs inside a StructInfo. */
export function rewriteStructInfo(s: StructInfo, f: (e: PrimExpr) => PrimExpr): StructInfo {
  switch (s.kind) {
    case "ObjectStructInfo":
      return s;
    case "PrimStructInfo":
      return s.value ? rebuild(s, { value: f(s.value) }) : s;
    case "ShapeStructInfo":
      return s.values ? rebuild(s, { values: mapArr(s.values, f) }) : s;
    case "TensorStructInfo":
      return s.shape ? rebuild(s, { shape: mapArr(s.shape, f) }) : s;
    case "TupleStructInfo":
      return rebuild(s, { fields: mapArr(s.fields, (x) => rewriteStructInfo(x, f)) });
    case "FuncStructInfo":
      return rebuild(s, {
        params: s.params && mapArr(s.params, (x) => rewriteStructInfo(x, f)),
        ret: rewriteStructInfo(s.ret, f),
      });
    default:
      s satisfies never;
      throw new Error("unreachable");
  }
}

function rewriteBlockR(b: BindingBlock, r: RelaxRewriter): BindingBlock {
  let out: Binding[] | undefined;
  for (let i = 0; i < b.bindings.length; i++) {
    const x = b.bindings[i]!;
    const value = rewriteExpr(x.value, r);
    let nb: Binding = value === x.value ? x : { ...x, value };
    if (nb.kind === "MatchCast" && r.primExpr) {
      const sinfo = rewriteStructInfo(nb.structInfo, r.primExpr);
      if (sinfo !== nb.structInfo) nb = { ...nb, structInfo: sinfo };
    }
    const res = r.binding?.(nb) ?? nb;
    const list = Array.isArray(res) ? res as readonly Binding[] : [res as Binding];
    if (!out && (list.length !== 1 || list[0] !== x)) out = b.bindings.slice(0, i) as Binding[];
    if (out) out.push(...list);
  }
  return out ? { ...b, bindings: out } : b;
}

/** Rewrites a Relax expression post-order (into SeqExpr blocks and function bodies). */
export function rewriteExpr(e: Expr, r: RelaxRewriter): Expr {
  const pre = r.preExpr?.(e);
  if (pre) return pre;
  const ex = (x: Expr) => rewriteExpr(x, r);
  const pe = r.primExpr;
  let out: Expr;
  switch (e.kind) {
    case "relax.Var":
    case "relax.DataflowVar":
    case "relax.Constant":
    case "relax.StringImm":
    case "relax.DataTypeImm":
    case "relax.Op":
    case "GlobalVar":
    case "relax.ExternFunc":
      out = e;
      break;
    case "relax.Tuple":
      out = rebuild(e, { fields: mapArr(e.fields, ex) });
      break;
    case "relax.TupleGetItem":
      out = rebuild(e, { tuple: ex(e.tuple) });
      break;
    case "relax.ShapeExpr":
      out = pe ? rebuild(e, { values: mapArr(e.values, pe) }) : e;
      break;
    case "relax.PrimValue":
      out = pe ? rebuild(e, { value: pe(e.value) }) : e;
      break;
    case "relax.Call":
      out = rebuild(e, {
        op: ex(e.op),
        args: mapArr(e.args, ex),
        sinfoArgs: pe ? mapArr(e.sinfoArgs, (s) => rewriteStructInfo(s, pe)) : e.sinfoArgs,
      });
      break;
    case "relax.If":
      out = rebuild(e, {
        cond: ex(e.cond),
        thenBranch: ex(e.thenBranch),
        elseBranch: ex(e.elseBranch),
      });
      break;
    case "relax.SeqExpr":
      out = rebuild(e, { blocks: mapArr(e.blocks, (b) => rewriteBlockR(b, r)), body: ex(e.body) });
      break;
    case "relax.Function":
      out = rebuild(e, { body: ex(e.body) });
      break;
    default:
      e satisfies never;
      throw new Error("unreachable");
  }
  return r.expr?.(out) ?? out;
}

/** Rewrites a Relax function's body. */
export function rewriteFunction(f: Function, r: RelaxRewriter): Function {
  const body = rewriteExpr(f.body, r);
  return body === f.body ? f : { ...f, body };
}

/** Calls `fn` on every Relax expression under `e` (pre-order); return `false` to skip children. */
export function visitExpr(e: Expr, fn: (e: Expr) => boolean | void): void {
  rewriteExpr(e, { preExpr: (x) => (fn(x) === false ? x : undefined) });
}

/** Calls `fn` on every binding under `e`, in program order. */
export function visitBindings(e: Expr, fn: (b: Binding) => void): void {
  rewriteExpr(e, {
    binding: (b) => {
      fn(b);
      return undefined;
    },
  });
}
