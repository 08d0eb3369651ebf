/**
 * A tiny TIR interpreter for tests: runs a PrimFunc on float64 arrays (float32 results rounded
 * like float32), treating thread-binding loops as loops. It checks block iteration values
 * against their domains and buffer indices against shapes, so a schedule that binds a block
 * outside its domain or reads out of bounds fails loudly.
 *
 * @module
 */

import { type DType, isFloat, isInt } from "../../../ir/dtype.ts";
import type { Buffer, PrimExpr, Var } from "../../../ir/expr.ts";
import type { PrimFunc } from "../../../ir/tir/prim_func.ts";
import type { SBlock, Stmt } from "../../../ir/tir/stmt.ts";

/** Options of {@link runPrimFunc}. */
export interface InterpOptions {
  /** Values of symbolic sizes and scalar parameters, by variable name. */
  readonly sizes?: { readonly [name: string]: number };
  /** Run thread-binding loops backwards (a result that depends on thread order then differs). */
  readonly reverseThreads?: boolean;
}

class Interp {
  readonly env = new Map<Var, number>();
  readonly mem = new Map<Var, Float64Array>();
  constructor(readonly opts: InterpOptions) {}

  shapeOf(b: Buffer): number[] {
    return b.shape.map((s) => this.eval(s));
  }

  offset(b: Buffer, idx: readonly PrimExpr[]): { data: Float64Array; at: number } {
    const data = this.mem.get(b.data);
    if (!data) throw new Error(`interp: buffer "${b.name}" has no storage`);
    const shape = this.shapeOf(b);
    const is = idx.map((i) => this.eval(i));
    let at = this.eval(b.elemOffset);
    if (b.strides.length) {
      is.forEach((x, d) => (at += x * this.eval(b.strides[d]!)));
    } else {
      let flat = 0;
      is.forEach((x, d) => {
        if (x < 0 || x >= shape[d]!) {
          throw new Error(
            `interp: index ${x} out of bounds [0, ${shape[d]}) in dim ${d} of "${b.name}"`,
          );
        }
        flat = flat * shape[d]! + x;
      });
      at += flat;
    }
    if (at < 0 || at >= data.length) {
      throw new Error(`interp: flat index ${at} out of bounds of "${b.name}"`);
    }
    return { data, at };
  }

  alloc(b: Buffer): void {
    const n = this.shapeOf(b).reduce((a, x) => a * x, 1);
    this.mem.set(b.data, new Float64Array(n).fill(NaN));
  }

  round(v: number, dtype: DType): number {
    if (dtype === "float32") return Math.fround(v);
    if (dtype === "float16") return Math.fround(v);
    if (isInt(dtype)) {
      if (!Number.isFinite(v)) throw new Error(`interp: non-finite integer ${v}`);
      return Math.trunc(v);
    }
    return v;
  }

  eval(e: PrimExpr): number {
    switch (e.kind) {
      case "Var": {
        const v = this.env.get(e) ?? this.opts.sizes?.[e.name];
        if (v === undefined) throw new Error(`interp: unbound variable "${e.name}"`);
        return v;
      }
      case "IntImm":
      case "FloatImm":
        return e.value;
      case "StringImm":
        throw new Error("interp: string value");
      case "Add":
        return this.round(this.eval(e.a) + this.eval(e.b), e.dtype);
      case "Sub":
        return this.round(this.eval(e.a) - this.eval(e.b), e.dtype);
      case "Mul":
        return this.round(this.eval(e.a) * this.eval(e.b), e.dtype);
      case "Div": {
        const a = this.eval(e.a), b = this.eval(e.b);
        return isFloat(e.dtype) ? this.round(a / b, e.dtype) : Math.trunc(a / b);
      }
      case "Mod": {
        const a = this.eval(e.a), b = this.eval(e.b);
        return a % b;
      }
      case "FloorDiv": {
        const a = this.eval(e.a), b = this.eval(e.b);
        if (b === 0) throw new Error("interp: division by zero");
        return isFloat(e.dtype) ? this.round(Math.floor(a / b), e.dtype) : Math.floor(a / b);
      }
      case "FloorMod": {
        const a = this.eval(e.a), b = this.eval(e.b);
        if (b === 0) throw new Error("interp: modulo by zero");
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
      case "Select": {
        const c = this.eval(e.cond), t = this.eval(e.t), f = this.eval(e.f);
        return c !== 0 ? t : f;
      }
      case "Cast": {
        const v = this.eval(e.value);
        if (e.dtype === "bool") return +(v !== 0);
        return this.round(v, e.dtype);
      }
      case "Let": {
        const old = this.env.get(e.var);
        this.env.set(e.var, this.eval(e.value));
        const r = this.eval(e.body);
        if (old === undefined) this.env.delete(e.var);
        else this.env.set(e.var, old);
        return r;
      }
      case "Call":
        return this.call(e.op, e.args, e.dtype);
      case "BufferLoad": {
        const { data, at } = this.offset(e.buffer, e.indices);
        return data[at]!;
      }
      case "Ramp":
      case "Broadcast":
        throw new Error(`interp: vector ${e.kind} is not supported`);
      default:
        e satisfies never;
        throw new Error("unreachable");
    }
  }

  call(op: string, args: readonly PrimExpr[], dtype: DType): number {
    if (op === "tir.if_then_else") {
      return this.eval(args[0]!) !== 0 ? this.eval(args[1]!) : this.eval(args[2]!);
    }
    const x = args.map((a) => this.eval(a));
    const f: { [k: string]: (...a: number[]) => number } = {
      "tir.exp": Math.exp,
      "tir.log": Math.log,
      "tir.sqrt": Math.sqrt,
      "tir.rsqrt": (a) => 1 / Math.sqrt(a),
      "tir.tanh": Math.tanh,
      "tir.sigmoid": (a) => 1 / (1 + Math.exp(-a)),
      "tir.fabs": Math.abs,
      "tir.pow": Math.pow,
      "tir.floor": Math.floor,
      "tir.ceil": Math.ceil,
      "tir.likely": (a) => a,
    };
    const fn = f[op];
    if (!fn) throw new Error(`interp: unsupported intrinsic ${op}`);
    return this.round(fn(...x), dtype);
  }

  withVar(v: Var, value: number, fn: () => void): void {
    const old = this.env.get(v);
    this.env.set(v, value);
    fn();
    if (old === undefined) this.env.delete(v);
    else this.env.set(v, old);
  }

  block(b: SBlock, values: readonly number[]): void {
    const saved = b.iterVars.map((iv) => this.env.get(iv.var));
    b.iterVars.forEach((iv, i) => {
      const min = this.eval(iv.dom.min), ext = this.eval(iv.dom.extent);
      const v = values[i]!;
      if (v < min || v >= min + ext) {
        throw new Error(
          `interp: block "${b.name}" iter var "${iv.var.name}" = ${v} outside [${min}, ${
            min + ext
          })`,
        );
      }
      this.env.set(iv.var, v);
    });
    for (const a of b.allocBuffers) this.alloc(a);
    if (b.matchBuffers.length) throw new Error("interp: match buffers are not supported");
    if (b.init) {
      const first = b.iterVars.every((iv, i) =>
        iv.iterKind !== "reduce" || values[i] === this.eval(iv.dom.min)
      );
      if (first) this.stmt(b.init);
    }
    this.stmt(b.body);
    b.iterVars.forEach((iv, i) => {
      const s = saved[i];
      if (s === undefined) this.env.delete(iv.var);
      else this.env.set(iv.var, s);
    });
  }

  stmt(s: Stmt): void {
    switch (s.kind) {
      case "For": {
        const min = this.eval(s.min), ext = this.eval(s.extent);
        const rev = s.forKind === "thread_binding" && this.opts.reverseThreads;
        for (let k = 0; k < ext; k++) {
          this.withVar(s.loopVar, min + (rev ? ext - 1 - k : k), () => this.stmt(s.body));
        }
        return;
      }
      case "SBlock":
        this.block(s, []);
        return;
      case "SBlockRealize": {
        if (this.eval(s.predicate) === 0) return;
        this.block(s.block, s.iterValues.map((v) => this.eval(v)));
        return;
      }
      case "BufferStore": {
        const v = this.round(this.eval(s.value), s.buffer.dtype);
        const { data, at } = this.offset(s.buffer, s.indices);
        data[at] = v;
        return;
      }
      case "SeqStmt":
        for (const x of s.seq) this.stmt(x);
        return;
      case "IfThenElse":
        if (this.eval(s.cond) !== 0) this.stmt(s.then);
        else if (s.else) this.stmt(s.else);
        return;
      case "LetStmt":
        this.withVar(s.var, this.eval(s.value), () => this.stmt(s.body));
        return;
      case "Evaluate":
        this.eval(s.value);
        return;
      case "AllocBuffer":
        this.alloc(s.buffer);
        this.stmt(s.body);
        return;
      case "DeclBuffer":
        this.stmt(s.body);
        return;
      case "AssertStmt":
        if (this.eval(s.cond) === 0) throw new Error(`interp: assertion failed: ${s.message}`);
        this.stmt(s.body);
        return;
      case "While":
        while (this.eval(s.cond) !== 0) this.stmt(s.body);
        return;
      default:
        s satisfies never;
    }
  }
}

/** The shapes of the function's buffer parameters, in parameter order. */
export function paramShapes(
  func: PrimFunc,
  sizes: { readonly [name: string]: number } = {},
): number[][] {
  const it = new Interp({ sizes });
  return func.params.flatMap((p) => {
    const b = func.bufferMap.get(p);
    return b ? [it.shapeOf(b)] : [];
  });
}

/** A deterministic pseudo-random array in [-1, 1). */
export function randomArray(n: number, seed: number): Float64Array {
  let s = seed >>> 0 || 1;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = Math.fround((s / 4294967296) * 2 - 1);
  }
  return out;
}

/**
 * Runs `func` on copies of `args` (one array per buffer parameter, in order) and returns the
 * arrays after the run.
 */
export function runPrimFunc(
  func: PrimFunc,
  args: readonly Float64Array[],
  options: InterpOptions = {},
): Float64Array[] {
  const it = new Interp(options);
  const out: Float64Array[] = [];
  let k = 0;
  for (const p of func.params) {
    const b = func.bufferMap.get(p);
    if (!b) {
      const v = options.sizes?.[p.name];
      if (v === undefined) throw new Error(`interp: no value for scalar parameter "${p.name}"`);
      it.env.set(p, v);
      continue;
    }
    const a = args[k++];
    if (!a) throw new Error(`interp: missing argument for buffer "${b.name}"`);
    const copy = new Float64Array(a);
    it.mem.set(b.data, copy);
    out.push(copy);
  }
  it.stmt(func.body);
  return out;
}

/**
 * Runs two functions with the same signature on the same random inputs (outputs start as NaN
 * for the parameters listed in `outputs`) and throws when any parameter array differs.
 */
export function assertSameResults(
  before: PrimFunc,
  after: PrimFunc,
  options: InterpOptions & { readonly outputs?: readonly number[]; readonly tol?: number } = {},
): void {
  const shapes = paramShapes(before, options.sizes);
  const args = shapes.map((s, i) => {
    const n = s.reduce((a, x) => a * x, 1);
    return options.outputs?.includes(i)
      ? new Float64Array(n).fill(NaN)
      : randomArray(n, 7 + i * 31);
  });
  const x = runPrimFunc(before, args, options);
  const y = runPrimFunc(after, args, options);
  const tol = options.tol ?? 1e-6;
  x.forEach((a, i) => {
    const b = y[i]!;
    for (let j = 0; j < a.length; j++) {
      const p = a[j]!, q = b[j]!;
      if (Number.isNaN(p) && Number.isNaN(q)) continue;
      if (!(Math.abs(p - q) <= tol * Math.max(1, Math.abs(p)))) {
        throw new Error(`results differ: argument ${i}, element ${j}: ${p} vs ${q}`);
      }
    }
    if (options.outputs?.includes(i) && a.some(Number.isNaN)) {
      throw new Error(`argument ${i}: the reference run left elements unwritten`);
    }
  });
}
