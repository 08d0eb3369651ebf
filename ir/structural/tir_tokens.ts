/**
 * Canonical tokens of TIR: PrimExprs, buffers, statements and PrimFuncs (see `canonical.ts`).
 *
 * @module
 */

import { type Buffer, isBinary, type PrimExpr, type Range, type Var } from "../expr.ts";
import type { PrimFunc } from "../tir/prim_func.ts";
import type { BufferRegion, IterVar, MatchBufferRegion, SBlock, Stmt } from "../tir/stmt.ts";
import { Emitter, identity } from "./emitter.ts";

/** Emits the canonical tokens of TIR nodes. */
export abstract class TirEmitter extends Emitter {
  // -- TIR --------------------------------------------------------------------------------------

  protected expr(seg: string, e: PrimExpr): void {
    this.push(seg, e);
    this.primExpr(e);
    this.pop();
  }

  protected exprs(seg: string, xs: readonly PrimExpr[]): void {
    this.list(seg, xs, (e) => this.primExpr(e));
  }

  protected tirVar(v: Var, define: boolean): void {
    const id = this.ids.get(v);
    if (id !== undefined) return this.varTok("ref", id);
    if (!define && !this.defining && !this.mapFree) return this.varTok("free", identity(v));
    this.ids.set(v, this.next++);
    this.varTok("def");
    this.leaf(".dtype", v.dtype);
    this.leaf(".isSize", v.isSize);
  }

  protected defVar(seg: string, v: Var): void {
    this.push(seg, v);
    this.emit("Var");
    this.tirVar(v, true);
    this.pop();
  }

  protected primExpr(e: PrimExpr): void {
    this.emit(e.kind);
    if (isBinary(e)) {
      this.leaf(".dtype", e.dtype);
      this.expr(".a", e.a);
      this.expr(".b", e.b);
      return;
    }
    switch (e.kind) {
      case "Var":
        return this.tirVar(e, false);
      case "IntImm":
      case "FloatImm":
        this.leaf(".dtype", e.dtype);
        this.leaf(".value", e.value);
        return;
      case "StringImm":
        this.leaf(".value", e.value);
        return;
      case "Not":
        this.leaf(".dtype", e.dtype);
        this.expr(".a", e.a);
        return;
      case "Select":
        this.leaf(".dtype", e.dtype);
        this.expr(".cond", e.cond);
        this.expr(".t", e.t);
        this.expr(".f", e.f);
        return;
      case "Cast":
        this.leaf(".dtype", e.dtype);
        this.expr(".value", e.value);
        return;
      case "Let":
        this.leaf(".dtype", e.dtype);
        this.defVar(".var", e.var);
        this.expr(".value", e.value);
        this.expr(".body", e.body);
        return;
      case "Call":
        this.leaf(".op", e.op);
        this.leaf(".dtype", e.dtype);
        this.exprs(".args", e.args);
        return;
      case "BufferLoad":
        this.leaf(".dtype", e.dtype);
        this.buffer(".buffer", e.buffer);
        this.exprs(".indices", e.indices);
        return;
      case "Ramp":
        this.leaf(".dtype", e.dtype);
        this.expr(".base", e.base);
        this.expr(".stride", e.stride);
        this.leaf(".lanes", e.lanes);
        return;
      case "Broadcast":
        this.leaf(".dtype", e.dtype);
        this.expr(".value", e.value);
        this.leaf(".lanes", e.lanes);
        return;
      default:
        e satisfies never;
    }
  }

  protected buffer(seg: string, b: Buffer): void {
    this.push(seg, b);
    this.bufferBody(b);
    this.pop();
  }

  /** A buffer is defined where it first occurs (as TVM does), together with its fields. */
  protected bufferBody(b: Buffer): void {
    this.emit("Buffer");
    const id = this.ids.get(b);
    if (id !== undefined) return this.varTok("ref", id);
    this.ids.set(b, this.next++);
    this.varTok("def");
    this.withDefining(() => {
      this.expr(".data", b.data);
      this.leaf(".dtype", b.dtype);
      this.exprs(".shape", b.shape);
      this.exprs(".strides", b.strides);
      this.expr(".elemOffset", b.elemOffset);
      this.leaf(".scope", b.scope);
      this.leaf(".alignment", b.alignment);
    });
  }

  protected buffers(seg: string, bs: readonly Buffer[]): void {
    this.list(seg, bs, (b) => this.bufferBody(b));
  }

  protected range(r: Range): void {
    this.emit("Range");
    this.expr(".min", r.min);
    this.expr(".extent", r.extent);
  }

  protected iterVar(iv: IterVar): void {
    this.emit("IterVar");
    this.defVar(".var", iv.var);
    this.push(".dom", iv.dom);
    this.range(iv.dom);
    this.pop();
    this.leaf(".iterKind", iv.iterKind);
  }

  protected region(r: BufferRegion): void {
    this.emit("BufferRegion");
    this.buffer(".buffer", r.buffer);
    this.list(".region", r.region, (x) => this.range(x));
  }

  protected matchBuffer(m: MatchBufferRegion): void {
    this.emit("MatchBufferRegion");
    this.buffer(".buffer", m.buffer);
    this.push(".source", m.source);
    this.region(m.source);
    this.pop();
  }

  protected sblock(b: SBlock): void {
    // The block name is not compared (TVM ignores it too).
    this.list(".iterVars", b.iterVars, (iv) => this.iterVar(iv));
    this.buffers(".allocBuffers", b.allocBuffers);
    this.list(".matchBuffers", b.matchBuffers, (m) => this.matchBuffer(m));
    this.list(".reads", b.reads, (r) => this.region(r));
    this.list(".writes", b.writes, (r) => this.region(r));
    this.optional(".init", b.init, (s) => this.stmt(s));
    this.field(".annotations", b.annotations);
    this.subStmt(".body", b.body);
  }

  protected subStmt(seg: string, s: Stmt): void {
    this.push(seg, s);
    this.stmt(s);
    this.pop();
  }

  protected stmt(s: Stmt): void {
    this.emit(s.kind);
    switch (s.kind) {
      case "For":
        this.defVar(".loopVar", s.loopVar);
        this.expr(".min", s.min);
        this.expr(".extent", s.extent);
        this.leaf(".forKind", s.forKind);
        this.leaf(".threadTag", s.threadTag);
        this.field(".annotations", s.annotations);
        this.subStmt(".body", s.body);
        return;
      case "SBlock":
        return this.sblock(s);
      case "SBlockRealize":
        this.exprs(".iterValues", s.iterValues);
        this.expr(".predicate", s.predicate);
        this.push(".block", s.block);
        this.emit("SBlock");
        this.sblock(s.block);
        this.pop();
        return;
      case "BufferStore":
        this.buffer(".buffer", s.buffer);
        this.expr(".value", s.value);
        this.exprs(".indices", s.indices);
        return;
      case "SeqStmt":
        this.list(".seq", s.seq, (x) => this.stmt(x));
        return;
      case "IfThenElse":
        this.expr(".cond", s.cond);
        this.subStmt(".then", s.then);
        this.optional(".else", s.else, (x) => this.stmt(x));
        return;
      case "LetStmt":
        this.defVar(".var", s.var);
        this.expr(".value", s.value);
        this.subStmt(".body", s.body);
        return;
      case "Evaluate":
        this.expr(".value", s.value);
        return;
      case "AllocBuffer":
      case "DeclBuffer":
        this.buffer(".buffer", s.buffer);
        this.subStmt(".body", s.body);
        return;
      case "AssertStmt":
        this.expr(".cond", s.cond);
        this.leaf(".message", s.message);
        this.subStmt(".body", s.body);
        return;
      case "While":
        this.expr(".cond", s.cond);
        this.subStmt(".body", s.body);
        return;
      default:
        s satisfies never;
    }
  }

  protected primFunc(f: PrimFunc): void {
    this.emit("PrimFunc");
    this.list(".params", f.params, (p) => {
      this.emit("Var");
      this.tirVar(p, true);
    });
    this.push(".bufferMap", f.bufferMap);
    const mapped = f.params.filter((p) => f.bufferMap.has(p));
    this.emit(mapped.length);
    f.params.forEach((p, i) => {
      const b = f.bufferMap.get(p);
      if (!b) return;
      this.push(`[${p.name}]`, b);
      this.emit(i);
      this.bufferBody(b);
      this.pop();
    });
    this.pop();
    this.leaf(".retType", f.retType);
    this.leaf(".isPrivate", f.isPrivate);
    this.subStmt(".body", f.body);
    this.field(".attrs", f.attrs);
  }
}
