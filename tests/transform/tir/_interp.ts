/**
 * A small TIR interpreter for tests: runs both block-form and lowered PrimFuncs on host arrays,
 * checking every access against the buffer's shape, every block binding against its domain, and
 * filling fresh allocations with NaN so that reads of unwritten memory show.
 *
 * @module
 */

import { isBool, isFloat } from "../../../ir/dtype.ts";
import type { Buffer, PrimExpr, Var } from "../../../ir/expr.ts";
import type { PrimFunc } from "../../../ir/tir/prim_func.ts";
import type { SBlock, Stmt } from "../../../ir/tir/stmt.ts";

/** Host storage of one buffer. */
export type HostArray = Float32Array | Float64Array | Int32Array;

/** An argument: an array with its shape (for a buffer parameter), or a number (a scalar). */
export type Arg = { readonly data: HostArray; readonly shape: readonly number[] } | number;

const mathFns: { readonly [op: string]: (...x: number[]) => number } = {
  "tir.exp": Math.exp,
  "tir.log": Math.log,
  "tir.sqrt": Math.sqrt,
  "tir.tanh": Math.tanh,
  "tir.fabs": Math.abs,
  "tir.floor": Math.floor,
  "tir.ceil": Math.ceil,
  "tir.pow": Math.pow,
  "tir.sigmoid": (x) => 1 / (1 + Math.exp(-x)),
};

class Interp {
  readonly env = new Map<Var, number>();
  readonly mem = new Map<Var, HostArray>();

  get(v: Var): number {
    const x = this.env.get(v);
    if (x === undefined) throw new Error(`Unbound variable "${v.name}"`);
    return x;
  }

  round(x: number, e: PrimExpr): number {
    if (e.dtype === "float32") return Math.fround(x);
    if (e.dtype === "int32") return x | 0;
    return x;
  }

  eval(e: PrimExpr): number {
    switch (e.kind) {
      case "Var":
        return this.get(e);
      case "IntImm":
      case "FloatImm":
        return e.value;
      case "StringImm":
        throw new Error("Cannot evaluate a string");
      case "Add":
        return this.round(this.eval(e.a) + this.eval(e.b), e);
      case "Sub":
        return this.round(this.eval(e.a) - this.eval(e.b), e);
      case "Mul":
        return this.round(this.eval(e.a) * this.eval(e.b), e);
      case "Div": {
        const q = this.eval(e.a) / this.eval(e.b);
        return this.round(isFloat(e.dtype) ? q : Math.trunc(q), e);
      }
      case "Mod": {
        const a = this.eval(e.a), b = this.eval(e.b);
        return a % b;
      }
      case "FloorDiv":
        return Math.floor(this.eval(e.a) / this.eval(e.b));
      case "FloorMod": {
        const a = this.eval(e.a), b = this.eval(e.b);
        return a - Math.floor(a / b) * b;
      }
      case "Min":
        return Math.min(this.eval(e.a), this.eval(e.b));
      case "Max":
        return Math.max(this.eval(e.a), this.eval(e.b));
      case "EQ":
        return +(this.eval(e.a) === this.eval(e.b));
      case "NE":
        return +(this.eval(e.a) !== this.eval(e.b));
      case "LT":
        return +(this.eval(e.a) < this.eval(e.b));
      case "LE":
        return +(this.eval(e.a) <= this.eval(e.b));
      case "GT":
        return +(this.eval(e.a) > this.eval(e.b));
      case "GE":
        return +(this.eval(e.a) >= this.eval(e.b));
      case "And":
        return +(this.eval(e.a) !== 0 && this.eval(e.b) !== 0);
      case "Or":
        return +(this.eval(e.a) !== 0 || this.eval(e.b) !== 0);
      case "Not":
        return +(this.eval(e.a) === 0);
      case "Select":
        return this.eval(e.cond) ? this.eval(e.t) : this.eval(e.f);
      case "Cast": {
        const x = this.eval(e.value);
        if (isBool(e.dtype)) return +(x !== 0);
        if (isFloat(e.dtype)) return this.round(x, e);
        return this.round(Math.trunc(x), e);
      }
      case "Let": {
        this.env.set(e.var, this.eval(e.value));
        return this.eval(e.body);
      }
      case "Call": {
        if (e.op === "tir.if_then_else") {
          return this.eval(e.args[0]!) ? this.eval(e.args[1]!) : this.eval(e.args[2]!);
        }
        // threads run one after another here: a barrier has nothing to wait for
        if (e.op === "tir.tvm_storage_sync") return 0;
        const fn = mathFns[e.op];
        if (!fn) throw new Error(`Cannot interpret intrinsic "${e.op}"`);
        return this.round(fn(...e.args.map((a) => this.eval(a))), e);
      }
      case "BufferLoad":
        return this.storage(e.buffer)[this.offset(e.buffer, e.indices)]!;
      case "Ramp":
      case "Broadcast":
        throw new Error("Cannot interpret vectors");
      default:
        e satisfies never;
        throw new Error("unreachable");
    }
  }

  storage(b: Buffer): HostArray {
    const m = this.mem.get(b.data);
    if (!m) throw new Error(`Buffer "${b.name}" has no storage here`);
    return m;
  }

  offset(b: Buffer, indices: readonly PrimExpr[]): number {
    const idx = indices.map((i) => this.eval(i));
    const shape = b.shape.map((s) => this.eval(s));
    idx.forEach((x, k) => {
      if (!(x >= 0 && x < shape[k]!)) {
        throw new Error(`Index ${x} out of bounds of dimension ${k} of "${b.name}" [${shape}]`);
      }
    });
    let off = 0;
    if (b.strides.length > 0) idx.forEach((x, k) => (off += x * this.eval(b.strides[k]!)));
    else idx.forEach((x, k) => (off = off * shape[k]! + x));
    off += this.eval(b.elemOffset);
    if (off < 0 || off >= this.storage(b).length) {
      throw new Error(`Offset ${off} out of the storage of "${b.name}"`);
    }
    return off;
  }

  alloc(b: Buffer): void {
    const n = b.shape.reduce((acc, s) => acc * this.eval(s), 1);
    const arr = b.dtype === "int32" ? new Int32Array(n) : new Float64Array(n).fill(NaN);
    this.mem.set(b.data, b.dtype === "float32" ? new Float32Array(arr) : arr);
  }

  block(b: SBlock, values: readonly PrimExpr[], predicate: PrimExpr | undefined): void {
    if (predicate && !this.eval(predicate)) return;
    b.iterVars.forEach((iv, i) => {
      const x = this.eval(values[i]!);
      const lo = this.eval(iv.dom.min), n = this.eval(iv.dom.extent);
      if (x < lo || x >= lo + n) {
        throw new Error(`Block "${b.name}": ${iv.var.name} = ${x} outside [${lo}, ${lo + n})`);
      }
      this.env.set(iv.var, x);
    });
    for (const a of b.allocBuffers) this.alloc(a);
    if (b.init) {
      const first = b.iterVars.every((iv) =>
        iv.iterKind !== "reduce" || this.get(iv.var) === this.eval(iv.dom.min)
      );
      if (first) this.exec(b.init);
    }
    this.exec(b.body);
    for (const a of b.allocBuffers) this.mem.delete(a.data);
  }

  exec(s: Stmt): void {
    switch (s.kind) {
      case "For": {
        const lo = this.eval(s.min), n = this.eval(s.extent);
        for (let i = lo; i < lo + n; i++) {
          this.env.set(s.loopVar, i);
          this.exec(s.body);
        }
        return;
      }
      case "SBlock":
        return this.block(s, [], undefined);
      case "SBlockRealize":
        return this.block(s.block, s.iterValues, s.predicate);
      case "BufferStore": {
        const v = this.eval(s.value);
        this.storage(s.buffer)[this.offset(s.buffer, s.indices)] = v;
        return;
      }
      case "SeqStmt":
        for (const x of s.seq) this.exec(x);
        return;
      case "IfThenElse":
        if (this.eval(s.cond)) this.exec(s.then);
        else if (s.else) this.exec(s.else);
        return;
      case "LetStmt":
        this.env.set(s.var, this.eval(s.value));
        return this.exec(s.body);
      case "Evaluate":
        this.eval(s.value);
        return;
      case "AllocBuffer":
        this.alloc(s.buffer);
        this.exec(s.body);
        this.mem.delete(s.buffer.data);
        return;
      case "DeclBuffer":
        this.storage(s.buffer);
        return this.exec(s.body);
      case "AssertStmt":
        if (!this.eval(s.cond)) throw new Error(s.message);
        return this.exec(s.body);
      case "While":
        while (this.eval(s.cond)) this.exec(s.body);
        return;
      default:
        s satisfies never;
    }
  }
}

/**
 * Runs `f` on `args` (one per parameter). Buffer arguments are written in place; symbolic
 * dimensions of parameter buffers are bound from the argument shapes.
 */
export function runPrimFunc(f: PrimFunc, args: readonly Arg[]): void {
  if (args.length !== f.params.length) {
    throw new Error(`Function takes ${f.params.length} arguments, got ${args.length}`);
  }
  const it = new Interp();
  f.params.forEach((p, i) => {
    const a = args[i]!;
    const b = f.bufferMap.get(p);
    if (b === undefined) {
      if (typeof a !== "number") throw new Error(`Parameter "${p.name}" is a scalar`);
      it.env.set(p, a);
      return;
    }
    if (typeof a === "number") throw new Error(`Parameter "${p.name}" is a buffer`);
    b.shape.forEach((s, k) => {
      if (s.kind === "Var" && !it.env.has(s)) it.env.set(s, a.shape[k]!);
      if (it.eval(s) !== a.shape[k]) throw new Error(`Shape mismatch for "${b.name}"`);
    });
    it.mem.set(b.data, a.data);
  });
  it.exec(f.body);
}

/** A deterministic pseudo-random array in [-1, 1). */
export function randomArray(n: number, seed = 1): Float32Array {
  let x = seed * 2654435761 % 2 ** 32;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x = (x * 1664525 + 1013904223) % 2 ** 32;
    out[i] = x / 2 ** 31 - 1;
  }
  return out;
}
