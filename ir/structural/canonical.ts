/**
 * The canonical token stream behind structural equality and hashing.
 *
 * A {@link Canonicalizer} walks an IR node and emits a flat, prefix-free stream of tokens in
 * which names are dropped and every variable (TIR `Var`, Relax `Var`/`DataflowVar`, `Buffer`)
 * becomes its definition index: the first time a variable is defined it gets the next index
 * ("def", then its type), later occurrences emit "ref" and that index. Two nodes are
 * structurally equal exactly when their streams are equal, and the hash folds the stream, so
 * equal nodes always hash alike.
 *
 * Definition points: PrimFunc params, buffers (a buffer is defined where it first occurs, with
 * its data pointer and any new shape variables), loop vars, block iter vars, `Let`/`LetStmt`
 * vars; Relax function params (and new symbolic variables in their StructInfo), binding
 * left-hand sides, and new symbolic variables of a `match_cast` StructInfo. A variable met
 * elsewhere without a definition is free: it stands for itself (an identity number), or, with
 * `mapFreeVars`, is defined where first met.
 *
 * @module
 */

import type { IRModule } from "../module.ts";
import type { AnyVar, Binding, BindingBlock, Expr, Function } from "../relax/expr.ts";
import type { StructInfo } from "../relax/struct_info.ts";
import type { Buffer, PrimExpr, Range } from "../expr.ts";
import type { PrimFunc } from "../tir/prim_func.ts";
import type { BufferRegion, IterVar, MatchBufferRegion, Stmt } from "../tir/stmt.ts";
import { identity, type Token } from "./emitter.ts";
import { primExprKinds, relaxExprKinds, stmtKinds } from "./kinds.ts";
import { isStructInfo } from "./show.ts";
import { TirEmitter } from "./tir_tokens.ts";

export type { CanonicalOptions, Token, TokenSite, VarState } from "./emitter.ts";

/** Walks IR nodes and emits their canonical token stream to a sink. */
export class Canonicalizer extends TirEmitter {
  protected override any(x: unknown): void {
    if (x === null || typeof x !== "object") {
      const t = typeof x;
      this.emit(t === "function" || t === "symbol" ? `<${t}>` : x as Token);
      return;
    }
    if (ArrayBuffer.isView(x)) {
      this.emit(x);
      return;
    }
    if (Array.isArray(x)) {
      this.emit("array");
      this.list("", x as readonly unknown[], (y) => this.any(y));
      return;
    }
    if (x instanceof Map) {
      this.emit("map");
      const entries = [...(x as Map<unknown, unknown>)];
      if (entries.every(([k]) => typeof k === "string")) {
        entries.sort(([a], [b]) => (a as string) < (b as string) ? -1 : 1);
      }
      this.list("", entries, ([k, v]) => {
        this.field(".key", k);
        this.field(".value", v);
      });
      return;
    }
    const kind = (x as { kind?: unknown }).kind;
    if (typeof kind === "string") {
      if (Object.hasOwn(primExprKinds, kind)) return this.primExpr(x as PrimExpr);
      if (Object.hasOwn(stmtKinds, kind)) return this.stmt(x as Stmt);
      if (Object.hasOwn(relaxExprKinds, kind)) return this.rexpr(x as Expr);
      if (isStructInfo(x)) return this.sinfo(x);
      switch (kind) {
        case "IRModule":
          return this.module(x as IRModule);
        case "PrimFunc":
          return this.primFunc(x as PrimFunc);
        case "Buffer":
          return this.bufferBody(x as Buffer);
        case "Range":
          return this.range(x as Range);
        case "IterVar":
          return this.iterVar(x as IterVar);
        case "BufferRegion":
          return this.region(x as BufferRegion);
        case "MatchBufferRegion":
          return this.matchBuffer(x as MatchBufferRegion);
        case "VarBinding":
        case "MatchCast":
          return this.binding(x as Binding);
        case "BindingBlock":
        case "DataflowBlock":
          return this.block(x as BindingBlock);
      }
    }
    this.dict(x as Readonly<Record<string, unknown>>);
  }

  // -- Relax ------------------------------------------------------------------------------------

  protected relaxVar(v: AnyVar, define: boolean): void {
    const id = this.ids.get(v);
    if (id !== undefined) return this.varTok("ref", id);
    if (!define && !this.defining && !this.mapFree) return this.varTok("free", identity(v));
    this.ids.set(v, this.next++);
    this.varTok("def");
    this.withDefining(() => this.subSinfo(".structInfo", v.structInfo));
  }

  protected defRelaxVar(seg: string, v: AnyVar): void {
    this.push(seg, v);
    this.emit(v.kind);
    this.relaxVar(v, true);
    this.pop();
  }

  protected sub(seg: string, e: Expr): void {
    this.push(seg, e);
    this.rexpr(e);
    this.pop();
  }

  protected subSinfo(seg: string, s: StructInfo): void {
    this.push(seg, s);
    this.sinfo(s);
    this.pop();
  }

  protected function(f: Function): void {
    this.list(".params", f.params, (p) => {
      this.emit(p.kind);
      this.relaxVar(p, true);
    });
    this.sub(".body", f.body);
    this.withDefining(() => this.subSinfo(".retStructInfo", f.retStructInfo));
    this.leaf(".isPure", f.isPure);
    this.leaf(".isPrivate", f.isPrivate);
    this.field(".attrs", f.attrs);
  }

  protected rexpr(e: Expr): void {
    this.emit(e.kind);
    switch (e.kind) {
      case "relax.Var":
      case "relax.DataflowVar":
        return this.relaxVar(e, false);
      case "relax.Constant":
        this.leaf(".data.dtype", e.data.dtype);
        this.leaf(".data.shape", e.data.shape.join("x"), e.data.shape);
        this.leaf(".data.data", e.data.data);
        return;
      case "relax.Tuple":
        this.list(".fields", e.fields, (x) => this.rexpr(x));
        return;
      case "relax.TupleGetItem":
        this.sub(".tuple", e.tuple);
        this.leaf(".index", e.index);
        return;
      case "relax.ShapeExpr":
        this.exprs(".values", e.values);
        return;
      case "relax.PrimValue":
        this.expr(".value", e.value);
        return;
      case "relax.StringImm":
      case "relax.DataTypeImm":
        this.leaf(".value", e.value);
        return;
      case "relax.Op":
      case "GlobalVar":
        this.leaf(".name", e.name);
        return;
      case "relax.ExternFunc":
        this.leaf(".globalSymbol", e.globalSymbol);
        return;
      case "relax.Call":
        // The call's own StructInfo is derived, and not compared (as in TVM).
        this.sub(".op", e.op);
        this.list(".args", e.args, (x) => this.rexpr(x));
        this.field(".attrs", e.attrs);
        this.list(".sinfoArgs", e.sinfoArgs, (s) => this.sinfo(s));
        return;
      case "relax.If":
        this.sub(".cond", e.cond);
        this.sub(".thenBranch", e.thenBranch);
        this.sub(".elseBranch", e.elseBranch);
        return;
      case "relax.SeqExpr":
        this.list(".blocks", e.blocks, (b) => this.block(b));
        this.sub(".body", e.body);
        return;
      case "relax.Function":
        return this.function(e);
      default:
        e satisfies never;
    }
  }

  protected binding(b: Binding): void {
    this.emit(b.kind);
    if (b.kind === "VarBinding") {
      // The value goes first (better mismatch reports), except for a function, which may
      // refer to the variable it is bound to (recursion).
      if (b.value.kind === "relax.Function") {
        this.defRelaxVar(".var", b.var);
        this.sub(".value", b.value);
      } else {
        this.sub(".value", b.value);
        this.defRelaxVar(".var", b.var);
      }
      return;
    }
    this.sub(".value", b.value);
    this.withDefining(() => this.subSinfo(".structInfo", b.structInfo));
    this.defRelaxVar(".var", b.var);
  }

  protected block(b: BindingBlock): void {
    this.emit(b.kind);
    this.list(".bindings", b.bindings, (x) => this.binding(x));
  }

  protected sinfo(s: StructInfo): void {
    this.emit(s.kind);
    switch (s.kind) {
      case "ObjectStructInfo":
        return;
      case "PrimStructInfo":
        this.leaf(".dtype", s.dtype);
        this.optional(".value", s.value, (v) => this.primExpr(v));
        return;
      case "ShapeStructInfo":
        this.leaf(".ndim", s.ndim);
        this.optional(".values", s.values, (vs) => this.exprs("", vs));
        return;
      case "TensorStructInfo":
        this.leaf(".ndim", s.ndim);
        this.leaf(".dtype", s.dtype);
        this.optional(".shape", s.shape, (vs) => this.exprs("", vs));
        return;
      case "TupleStructInfo":
        this.list(".fields", s.fields, (f) => this.sinfo(f));
        return;
      case "FuncStructInfo":
        this.optional(".params", s.params, (ps) => this.list("", ps, (p) => this.sinfo(p)));
        this.subSinfo(".ret", s.ret);
        this.leaf(".purity", s.purity);
        return;
      default:
        s satisfies never;
    }
  }

  // -- module -----------------------------------------------------------------------------------

  protected module(m: IRModule): void {
    this.emit("IRModule");
    const names = [...m.functions.keys()].sort();
    this.leaf(".functions", names.join("\n"), names);
    for (const name of names) {
      const f = m.functions.get(name)!;
      // Each function is its own scope: a variable object shared by two functions (a symbolic
      // size used by a Relax function and the PrimFunc it calls) is defined in each.
      this.ids.clear();
      this.next = 0;
      this.push(`.${name}`, f);
      if (f.kind === "PrimFunc") this.primFunc(f);
      else {
        this.emit(f.kind);
        this.function(f);
      }
      this.pop();
    }
    this.field(".attrs", m.attrs);
    this.field(".globalInfos", m.globalInfos);
  }
}
