/**
 * A tiny reference interpreter for TIR PrimFuncs in block form, for tests: runs loops and blocks
 * (with `T.init()` on the first reduction iteration) over plain number arrays.
 *
 * @module
 */

import { type DType, dtypeCode, isFloat } from "../../../ir/dtype.ts";
import type { Buffer, PrimExpr, Var } from "../../../ir/expr.ts";
import type { PrimFunc } from "../../../ir/tir/prim_func.ts";
import type { SBlock, Stmt } from "../../../ir/tir/stmt.ts";

/** A tensor argument: row-major data of the given shape (written in place for outputs). */
export interface ArrayArg {
  readonly shape: readonly number[];
  readonly data: number[];
}

interface Storage {
  readonly data: number[];
  readonly strides: readonly number[];
  readonly shape: readonly number[];
  readonly name: string;
}

/** Rounds a value to what `dtype` holds. */
export function fit(dtype: DType, v: number): number {
  switch (dtypeCode(dtype)) {
    case "float":
      return dtype.startsWith("float32") ? Math.fround(v) : v;
    case "bool":
      return v ? 1 : 0;
    case "int":
      return dtype.startsWith("int32") ? v | 0 : Math.trunc(v);
    case "uint":
      return dtype.startsWith("uint32") ? v >>> 0 : Math.trunc(v);
    default:
      return v;
  }
}

const unaryMath: { readonly [op: string]: (x: number) => number } = {
  "tir.exp": Math.exp,
  "tir.exp2": (x) => 2 ** x,
  "tir.log": Math.log,
  "tir.log2": Math.log2,
  "tir.log10": Math.log10,
  "tir.sqrt": Math.sqrt,
  "tir.rsqrt": (x) => 1 / Math.sqrt(x),
  "tir.tanh": Math.tanh,
  "tir.sigmoid": (x) => 1 / (1 + Math.exp(-x)),
  "tir.sin": Math.sin,
  "tir.cos": Math.cos,
  "tir.tan": Math.tan,
  "tir.atan": Math.atan,
  "tir.fabs": Math.abs,
  "tir.floor": Math.floor,
  "tir.ceil": Math.ceil,
  "tir.round": (x) => Math.sign(x) * Math.round(Math.abs(x)),
  "tir.trunc": Math.trunc,
  "tir.isnan": (x) => +Number.isNaN(x),
  "tir.isinf": (x) => +(Math.abs(x) === Infinity),
  "tir.likely": (x) => x,
  "tir.erf": erf,
  "tir.nearbyint": (x) => {
    const r = Math.round(x);
    return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
  },
};

/** erf by its everywhere-convergent series 2/sqrt(pi) e^(-x^2) sum (2x^2)^n x / (2n+1)!!. */
function erf(x: number): number {
  if (Number.isNaN(x)) return x;
  if (Math.abs(x) >= 6) return Math.sign(x);
  let term = x, sum = x;
  for (let n = 1; Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
    term *= (2 * x * x) / (2 * n + 1);
    sum += term;
  }
  return (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum;
}

class Interp {
  readonly env = new Map<Var, number>();
  readonly store = new Map<Buffer, Storage>();

  alloc(b: Buffer, data?: number[]): void {
    const shape = b.shape.map((d) => this.expr(d));
    const strides: number[] = [];
    let n = 1;
    for (let i = shape.length - 1; i >= 0; i--) {
      strides[i] = n;
      n *= shape[i]!;
    }
    if (data && data.length !== n) {
      throw new Error(`Buffer "${b.name}" needs ${n} elements, got ${data.length}`);
    }
    this.store.set(b, { data: data ?? new Array(n).fill(NaN), strides, shape, name: b.name });
  }

  offset(b: Buffer, indices: readonly PrimExpr[]): [Storage, number] {
    const s = this.store.get(b);
    if (!s) throw new Error(`Buffer "${b.name}" is not allocated`);
    let off = 0;
    indices.forEach((e, d) => {
      const i = this.expr(e);
      if (!(i >= 0 && i < s.shape[d]!)) {
        throw new Error(`Index ${i} out of bounds of "${b.name}" dimension ${d} (${s.shape[d]})`);
      }
      off += i * s.strides[d]!;
    });
    return [s, off];
  }

  expr(e: PrimExpr): number {
    const t = e.dtype;
    const intDiv = !isFloat(t);
    switch (e.kind) {
      case "Var": {
        const v = this.env.get(e);
        if (v === undefined) throw new Error(`Unbound variable "${e.name}"`);
        return v;
      }
      case "IntImm":
      case "FloatImm":
        return e.value;
      case "StringImm":
        throw new Error("Cannot evaluate a string");
      case "Add":
        return fit(t, this.expr(e.a) + this.expr(e.b));
      case "Sub":
        return fit(t, this.expr(e.a) - this.expr(e.b));
      case "Mul":
        return fit(t, this.expr(e.a) * this.expr(e.b));
      case "Div": {
        const q = this.expr(e.a) / this.expr(e.b);
        return fit(t, intDiv ? Math.trunc(q) : q);
      }
      case "Mod": {
        const a = this.expr(e.a), b = this.expr(e.b);
        return fit(t, intDiv ? a % b : a - Math.trunc(a / b) * b);
      }
      case "FloorDiv": {
        const q = this.expr(e.a) / this.expr(e.b);
        return fit(t, intDiv ? Math.floor(q) : Math.floor(q));
      }
      case "FloorMod": {
        const a = this.expr(e.a), b = this.expr(e.b);
        return fit(t, a - Math.floor(a / b) * b);
      }
      case "Min":
        return Math.min(this.expr(e.a), this.expr(e.b));
      case "Max":
        return Math.max(this.expr(e.a), this.expr(e.b));
      case "EQ":
        return +(this.expr(e.a) === this.expr(e.b));
      case "NE":
        return +(this.expr(e.a) !== this.expr(e.b));
      case "LT":
        return +(this.expr(e.a) < this.expr(e.b));
      case "LE":
        return +(this.expr(e.a) <= this.expr(e.b));
      case "GT":
        return +(this.expr(e.a) > this.expr(e.b));
      case "GE":
        return +(this.expr(e.a) >= this.expr(e.b));
      case "And":
        return +(this.expr(e.a) !== 0 && this.expr(e.b) !== 0);
      case "Or":
        return +(this.expr(e.a) !== 0 || this.expr(e.b) !== 0);
      case "Not":
        return +(this.expr(e.a) === 0);
      case "Select": {
        const c = this.expr(e.cond), x = this.expr(e.t), y = this.expr(e.f);
        return c ? x : y;
      }
      case "Cast": {
        const v = this.expr(e.value);
        return fit(t, isFloat(t) ? v : Math.trunc(v));
      }
      case "Let": {
        this.env.set(e.var, this.expr(e.value));
        return this.expr(e.body);
      }
      case "Call": {
        if (e.op === "tir.if_then_else") {
          return this.expr(e.args[0]!) ? this.expr(e.args[1]!) : this.expr(e.args[2]!);
        }
        if (e.op === "tir.pow") return fit(t, this.expr(e.args[0]!) ** this.expr(e.args[1]!));
        const f = unaryMath[e.op];
        if (!f) throw new Error(`The interpreter does not know "${e.op}"`);
        return fit(t, f(this.expr(e.args[0]!)));
      }
      case "BufferLoad": {
        const [s, off] = this.offset(e.buffer, e.indices);
        return s.data[off]!;
      }
      case "Ramp":
      case "Broadcast":
        throw new Error("The interpreter does not run vectors");
      default:
        e satisfies never;
        throw new Error("unreachable");
    }
  }

  block(b: SBlock): void {
    for (const a of b.allocBuffers) this.alloc(a);
    if (b.init) {
      const first = b.iterVars.every((iv) =>
        iv.iterKind !== "reduce" || this.env.get(iv.var) === this.expr(iv.dom.min)
      );
      if (first) this.stmt(b.init);
    }
    this.stmt(b.body);
  }

  stmt(s: Stmt): void {
    switch (s.kind) {
      case "For": {
        const lo = this.expr(s.min), n = this.expr(s.extent);
        for (let i = lo; i < lo + n; i++) {
          this.env.set(s.loopVar, i);
          this.stmt(s.body);
        }
        break;
      }
      case "SBlockRealize":
        if (!this.expr(s.predicate)) break;
        s.block.iterVars.forEach((iv, i) => {
          const v = this.expr(s.iterValues[i]!);
          const lo = this.expr(iv.dom.min), n = this.expr(iv.dom.extent);
          if (v < lo || v >= lo + n) {
            throw new Error(`Block "${s.block.name}": ${iv.var.name} = ${v} is outside its domain`);
          }
          this.env.set(iv.var, v);
        });
        this.block(s.block);
        break;
      case "SBlock":
        this.block(s);
        break;
      case "BufferStore": {
        const v = this.expr(s.value);
        const [st, off] = this.offset(s.buffer, s.indices);
        st.data[off] = fit(s.buffer.dtype, v);
        break;
      }
      case "SeqStmt":
        for (const x of s.seq) this.stmt(x);
        break;
      case "IfThenElse":
        if (this.expr(s.cond)) this.stmt(s.then);
        else if (s.else) this.stmt(s.else);
        break;
      case "LetStmt":
        this.env.set(s.var, this.expr(s.value));
        this.stmt(s.body);
        break;
      case "Evaluate":
        this.expr(s.value);
        break;
      case "AllocBuffer":
        this.alloc(s.buffer);
        this.stmt(s.body);
        break;
      case "DeclBuffer":
        this.stmt(s.body);
        break;
      case "AssertStmt":
        if (!this.expr(s.cond)) throw new Error(s.message);
        this.stmt(s.body);
        break;
      case "While":
        while (this.expr(s.cond)) this.stmt(s.body);
        break;
      default:
        s satisfies never;
    }
  }
}

/**
 * Runs `f` on `args` (one per parameter: arrays for buffers, numbers for scalars). Symbolic
 * buffer dimensions take the sizes of the given arrays; outputs are written into their arrays.
 */
export function runPrimFunc(f: PrimFunc, args: readonly (ArrayArg | number)[]): void {
  if (args.length !== f.params.length) {
    throw new Error(`Function takes ${f.params.length} arguments, got ${args.length}`);
  }
  const it = new Interp();
  const pending: [Buffer, ArrayArg][] = [];
  f.params.forEach((p, i) => {
    const a = args[i]!;
    const b = f.bufferMap.get(p);
    if (!b) {
      if (typeof a !== "number") throw new Error(`Parameter "${p.name}" is a scalar`);
      it.env.set(p, a);
      return;
    }
    if (typeof a === "number") throw new Error(`Parameter "${b.name}" is a buffer`);
    if (a.shape.length !== b.shape.length) throw new Error(`Buffer "${b.name}" rank differs`);
    b.shape.forEach((d, k) => {
      if (d.kind === "Var" && !it.env.has(d)) it.env.set(d, a.shape[k]!);
    });
    pending.push([b, a]);
  });
  for (const [b, a] of pending) {
    b.shape.forEach((d, k) => {
      if (it.expr(d) !== a.shape[k]) throw new Error(`Buffer "${b.name}" dimension ${k} differs`);
    });
    it.alloc(b, a.data);
  }
  it.stmt(f.body);
}

/** Deterministic pseudo-random numbers in [-1, 1). */
export function randomArray(n: number, seed = 1): number[] {
  let s = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push(Math.fround(s / 2 ** 31 - 1));
  }
  return out;
}
