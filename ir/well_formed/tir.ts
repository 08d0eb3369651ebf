/**
 * Well-formedness of TIR PrimFuncs: variable scoping (params, loops, block iteration variables,
 * lets, buffer shape variables), SSA (no variable defined twice), buffer definitions and index
 * counts, and block realizations.
 *
 * @module
 */

import { type Buffer, isBinary, type PrimExpr, type Range, type Var } from "../expr.ts";
import type { PrimFunc } from "../tir/prim_func.ts";
import type { BufferRegion, SBlock, Stmt } from "../tir/stmt.ts";
import { visitStmt } from "../visit.ts";
import { count, forEachFreeVar, type Report } from "./report.ts";

/** How a variable was defined. */
type DefKind = "param" | "loop" | "iter" | "let" | "buffer";

interface Def {
  readonly kind: DefKind;
  /** Number of blocks enclosing the definition. */
  readonly depth: number;
  /** The block of an iteration variable. */
  readonly block?: string;
}

/** Checks a PrimFunc, adding problems to `report`. */
export function checkPrimFunc(f: PrimFunc, report: Report): void {
  new TirChecker(report, f).run();
}

class TirChecker {
  readonly #r: Report;
  readonly #f: PrimFunc;
  /** Variables in scope. */
  readonly #scope = new Map<Var, Def>();
  /** Variables defined at some definition point so far (for "defined twice"). */
  readonly #defined = new Set<Var>();
  /** Every definition in the function (for messages about uses out of scope). */
  readonly #everywhere = new Map<Var, Def>();
  /** Buffers in scope, with a count of nested definitions. */
  readonly #buffers = new Map<Buffer, number>();
  /** Data pointers of buffers in scope: a buffer sharing one is a view of visible memory. */
  readonly #data = new Map<Var, number>();
  readonly #everyBuffer = new Set<Buffer>();
  readonly #blocks: SBlock[] = [];

  constructor(report: Report, f: PrimFunc) {
    this.#r = report;
    this.#f = f;
  }

  run(): void {
    const f = this.#f;
    this.#collect(f.body);
    for (const p of f.params) this.#define(p, { kind: "param", depth: 0 }, p);
    for (const p of f.params) {
      const b = f.bufferMap.get(p);
      if (b) this.#enterBuffer(b, true);
    }
    this.#stmt(f.body);
  }

  // -- definitions ------------------------------------------------------------------------------

  #collect(body: Stmt): void {
    const note = (v: Var, d: Def) => {
      if (!this.#everywhere.has(v)) this.#everywhere.set(v, d);
    };
    const noteExpr = (e: PrimExpr) => {
      if (e.kind === "Let") note(e.var, { kind: "let", depth: 0 });
    };
    visitStmt(body, {
      expr: noteExpr,
      stmt: (s) => {
        switch (s.kind) {
          case "For":
            note(s.loopVar, { kind: "loop", depth: 0 });
            break;
          case "LetStmt":
            note(s.var, { kind: "let", depth: 0 });
            break;
          case "SBlock":
          case "SBlockRealize": {
            const b = s.kind === "SBlock" ? s : s.block;
            for (const iv of b.iterVars) note(iv.var, { kind: "iter", depth: 0, block: b.name });
            for (const x of b.allocBuffers) this.#everyBuffer.add(x);
            for (const m of b.matchBuffers) this.#everyBuffer.add(m.buffer);
            break;
          }
          case "AllocBuffer":
          case "DeclBuffer":
            this.#everyBuffer.add(s.buffer);
            break;
        }
      },
    });
  }

  #define(v: Var, d: Def, node: unknown): void {
    if (this.#defined.has(v)) this.#r.add(`variable "${v.name}" is defined twice`, node);
    this.#defined.add(v);
    this.#scope.set(v, d);
  }

  #undefine(v: Var): void {
    this.#scope.delete(v);
  }

  /**
   * Brings a buffer into scope. A buffer of the buffer map or a match buffer defines the new
   * variables of its shape, strides and offset (`n` in `(n, 4)`); other buffers use them.
   */
  #enterBuffer(b: Buffer, definesShape: boolean): void {
    const fields = [...b.shape, ...b.strides, b.elemOffset];
    for (const e of fields) {
      forEachFreeVar(e, (v) => {
        if (!definesShape) this.#use(v, b);
        else if (!this.#scope.has(v)) {
          this.#scope.set(v, { kind: "buffer", depth: this.#blocks.length });
        }
      });
    }
    this.#buffers.set(b, (this.#buffers.get(b) ?? 0) + 1);
    this.#data.set(b.data, (this.#data.get(b.data) ?? 0) + 1);
  }

  #leaveBuffer(b: Buffer): void {
    const n = this.#buffers.get(b) ?? 0;
    if (n <= 1) this.#buffers.delete(b);
    else this.#buffers.set(b, n - 1);
    const m = this.#data.get(b.data) ?? 0;
    if (m <= 1) this.#data.delete(b.data);
    else this.#data.set(b.data, m - 1);
  }

  // -- uses -------------------------------------------------------------------------------------

  #use(v: Var, node: unknown): void {
    const d = this.#scope.get(v);
    if (d) {
      if (d.kind === "loop") this.#checkLoopVarInBlock(v, d);
      return;
    }
    const e = this.#everywhere.get(v);
    if (!e) return this.#r.add(`variable "${v.name}" is used but never defined`, node);
    switch (e.kind) {
      case "loop":
        return this.#r.add(`loop variable "${v.name}" is used outside its loop`, node);
      case "iter":
        return this.#r.add(
          `iteration variable "${v.name}" of block "${e.block}" is used outside the block`,
          node,
        );
      default:
        return this.#r.add(`variable "${v.name}" is used outside its scope`, node);
    }
  }

  /** A block with iteration variables sees outer loops only through its bindings. */
  #checkLoopVarInBlock(v: Var, d: Def): void {
    for (let i = d.depth; i < this.#blocks.length; i++) {
      const b = this.#blocks[i]!;
      if (b.iterVars.length > 0) {
        this.#r.add(
          `loop variable "${v.name}" is used inside block "${b.name}" instead of through an iteration variable`,
          v,
        );
        return;
      }
    }
  }

  #useBuffer(b: Buffer, node: unknown): void {
    if (this.#buffers.has(b) || this.#data.has(b.data)) return;
    if (this.#everyBuffer.has(b)) {
      this.#r.add(`buffer "${b.name}" is used outside the scope that defines it`, node);
    } else {
      this.#r.add(`buffer "${b.name}" is used but never defined`, node);
    }
  }

  #checkIndices(b: Buffer, n: number, node: unknown): void {
    if (n !== b.shape.length) {
      this.#r.add(
        `buffer "${b.name}" has ${
          count(b.shape.length, "dimension", "dimensions")
        } but is accessed with ${count(n, "index", "indices")}`,
        node,
      );
    }
  }

  #expr(e: PrimExpr): void {
    if (isBinary(e)) {
      this.#expr(e.a);
      this.#expr(e.b);
      return;
    }
    switch (e.kind) {
      case "Var":
        return this.#use(e, e);
      case "IntImm":
      case "FloatImm":
      case "StringImm":
        return;
      case "Not":
        return this.#expr(e.a);
      case "Select":
        this.#expr(e.cond);
        this.#expr(e.t);
        this.#expr(e.f);
        return;
      case "Cast":
      case "Broadcast":
        return this.#expr(e.value);
      case "Let":
        this.#expr(e.value);
        this.#define(e.var, { kind: "let", depth: this.#blocks.length }, e);
        this.#expr(e.body);
        this.#undefine(e.var);
        return;
      case "Call":
        for (const a of e.args) this.#expr(a);
        return;
      case "BufferLoad":
        this.#useBuffer(e.buffer, e);
        this.#checkIndices(e.buffer, e.indices.length, e);
        for (const i of e.indices) this.#expr(i);
        return;
      case "Ramp":
        this.#expr(e.base);
        this.#expr(e.stride);
        return;
      default:
        e satisfies never;
    }
  }

  #range(r: Range): void {
    this.#expr(r.min);
    this.#expr(r.extent);
  }

  #region(r: BufferRegion): void {
    this.#useBuffer(r.buffer, r);
    if (r.region.length !== r.buffer.shape.length) {
      this.#r.add(
        `buffer "${r.buffer.name}" has ${
          count(r.buffer.shape.length, "dimension", "dimensions")
        } but its region has ${count(r.region.length, "range", "ranges")}`,
        r,
      );
    }
    for (const x of r.region) this.#range(x);
  }

  // -- statements -------------------------------------------------------------------------------

  #block(b: SBlock): void {
    for (const iv of b.iterVars) this.#range(iv.dom);
    this.#blocks.push(b);
    const depth = this.#blocks.length;
    for (const iv of b.iterVars) this.#define(iv.var, { kind: "iter", depth, block: b.name }, iv);
    for (const x of b.allocBuffers) this.#enterBuffer(x, false);
    for (const m of b.matchBuffers) {
      this.#region(m.source);
      this.#enterBuffer(m.buffer, true);
    }
    for (const r of b.reads) this.#region(r);
    for (const r of b.writes) this.#region(r);
    if (b.init) this.#stmt(b.init);
    this.#stmt(b.body);
    for (const m of b.matchBuffers) this.#leaveBuffer(m.buffer);
    for (const x of b.allocBuffers) this.#leaveBuffer(x);
    for (const iv of b.iterVars) this.#undefine(iv.var);
    for (const [v, d] of [...this.#scope]) {
      if (d.kind === "buffer" && d.depth === depth) this.#undefine(v);
    }
    this.#blocks.pop();
  }

  #stmt(s: Stmt): void {
    switch (s.kind) {
      case "For":
        this.#expr(s.min);
        this.#expr(s.extent);
        this.#define(s.loopVar, { kind: "loop", depth: this.#blocks.length }, s);
        this.#stmt(s.body);
        this.#undefine(s.loopVar);
        return;
      case "SBlock":
        return this.#block(s);
      case "SBlockRealize":
        if (s.iterValues.length !== s.block.iterVars.length) {
          this.#r.add(
            `block "${s.block.name}" has ${
              count(s.block.iterVars.length, "iteration variable", "iteration variables")
            } but is realized with ${count(s.iterValues.length, "value", "values")}`,
            s,
          );
        }
        for (const v of s.iterValues) this.#expr(v);
        this.#expr(s.predicate);
        return this.#block(s.block);
      case "BufferStore":
        this.#useBuffer(s.buffer, s);
        this.#checkIndices(s.buffer, s.indices.length, s);
        this.#expr(s.value);
        for (const i of s.indices) this.#expr(i);
        return;
      case "SeqStmt":
        for (const x of s.seq) this.#stmt(x);
        return;
      case "IfThenElse":
        this.#expr(s.cond);
        this.#stmt(s.then);
        if (s.else) this.#stmt(s.else);
        return;
      case "LetStmt":
        this.#expr(s.value);
        this.#define(s.var, { kind: "let", depth: this.#blocks.length }, s);
        this.#stmt(s.body);
        this.#undefine(s.var);
        return;
      case "Evaluate":
        return this.#expr(s.value);
      case "AllocBuffer":
      case "DeclBuffer":
        this.#enterBuffer(s.buffer, false);
        this.#stmt(s.body);
        this.#leaveBuffer(s.buffer);
        return;
      case "AssertStmt":
        this.#expr(s.cond);
        return this.#stmt(s.body);
      case "While":
        this.#expr(s.cond);
        return this.#stmt(s.body);
      default:
        s satisfies never;
    }
  }
}
