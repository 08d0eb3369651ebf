/**
 * The test suite's TIR interpreter: runs a PrimFunc on host arrays, in block form (SBlockRealize
 * and SBlock with iter vars, `T.init()`, alloc and match buffers, as te and schedules produce) and
 * in lowered form (flat buffers, AllocBuffer/DeclBuffer, LetStmt, IfThenElse; thread-bound loops
 * run one thread after another, so barriers are no-ops). Vectors (`Ramp`, `Broadcast`, and every
 * operation on them, loads that gather and stores that scatter) are evaluated lane by lane; a
 * vector value is an array of its lanes.
 *
 * It is strict, so that a wrong schedule or pass fails loudly: every access is checked against its
 * buffer's shape, every block binding against its iter var's domain, integer division by zero
 * throws, and fresh allocations hold NaN so that reads of unwritten memory show. Arithmetic runs
 * in float64, rounded after every operation to what its dtype holds (`fit`). An error raised inside
 * a block names the block: `Block "S": index 4 out of bounds of dimension 0 of "A" [4]`.
 *
 * @module
 */

import { type DType, dtypeCode, elementDType, isBool, isFloat, lanes } from "../ir/dtype.ts";
import type { Buffer, PrimExpr, Var } from "../ir/expr.ts";
import type { PrimFunc } from "../ir/tir/prim_func.ts";
import type { BufferStore, MatchBufferRegion, SBlock, Stmt } from "../ir/tir/stmt.ts";

/** Host memory of one buffer: a plain array or a typed array, written in place. */
export interface HostData {
  /** An element. */
  [index: number]: number;
  /** The number of elements. */
  readonly length: number;
}

/** A buffer argument: row-major data of the given shape (written in place for outputs). */
export interface ArrayArg<D extends HostData = number[]> {
  /** The extent of each dimension. */
  readonly shape: readonly number[];
  /** The elements, row-major. */
  readonly data: D;
}

/** An argument of {@link runPrimFunc}: an array for a buffer parameter, a number for a scalar. */
export type Arg = ArrayArg<HostData> | number;

/** Options of {@link runPrimFunc}. */
export interface RunOptions {
  /** Values of variables by name, for those that neither the arguments nor the body bind. */
  readonly sizes?: { readonly [name: string]: number };
  /** Run thread-binding loops backwards (a result that depends on thread order then differs). */
  readonly reverseThreads?: boolean;
}

/** Options of {@link assertSameResults}. */
export interface SameResultsOptions extends RunOptions {
  /** Indices, among the buffer parameters, of the outputs (they start as NaN). */
  readonly outputs?: readonly number[];
  /** Relative tolerance (default 1e-6). */
  readonly tol?: number;
}

/** A value: a number, or the lanes of a vector. */
type Value = number | readonly number[];

/** Where a buffer's elements live: `data[base + sum(index[d] * strides[d])]`. */
interface Layout {
  readonly data: HostData;
  readonly base: number;
  readonly strides: readonly number[];
  readonly shape: readonly number[];
}

/** Rounds a value to what an element of `dtype` holds (float16 and 64-bit ints stay float64). */
export function fit(dtype: DType, v: number): number {
  switch (dtypeCode(dtype)) {
    case "float":
      return dtype.startsWith("float32") ? Math.fround(v) : v;
    case "bool":
      return v ? 1 : 0;
    case "int":
      if (!Number.isFinite(v)) throw new Error(`Non-finite ${dtype} value ${v}`);
      return dtype.startsWith("int32") ? v | 0 : Math.trunc(v);
    case "uint":
      if (!Number.isFinite(v)) throw new Error(`Non-finite ${dtype} value ${v}`);
      return dtype.startsWith("uint32") ? v >>> 0 : Math.trunc(v);
    default:
      return v;
  }
}

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

/** The math intrinsics, by name (`tir.if_then_else` and barriers are handled apart). */
const intrinsics: { readonly [op: string]: (...x: number[]) => number } = {
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
  "tir.pow": Math.pow,
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

function product(xs: readonly number[]): number {
  return xs.reduce((a, b) => a * b, 1);
}

function rowMajor(shape: readonly number[]): number[] {
  const strides: number[] = [];
  for (let d = shape.length - 1, n = 1; d >= 0; d--) {
    strides[d] = n;
    n *= shape[d]!;
  }
  return strides;
}

/** `e` with the block's name in front, so that a failure says which block it came from. */
function inBlock(name: string, e: unknown): Error {
  const msg = e instanceof Error ? e.message : String(e);
  return new Error(`Block "${name}": ${msg.charAt(0).toLowerCase()}${msg.slice(1)}`, { cause: e });
}

class Interp {
  readonly env = new Map<Var, Value>();
  readonly mem = new Map<Var, HostData>();
  /** Layouts of match buffers, while their block runs. */
  readonly views = new Map<Buffer, Layout>();
  constructor(readonly opts: RunOptions) {}

  /** Binds `v` to `x` and returns how to undo it. */
  bind(v: Var, x: Value): () => void {
    const had = this.env.has(v), old = this.env.get(v);
    this.env.set(v, x);
    return () => had ? this.env.set(v, old!) : this.env.delete(v);
  }

  /** Gives `b` fresh storage filled with NaN and returns how to undo it. */
  alloc(b: Buffer): () => void {
    const old = this.mem.get(b.data);
    this.mem.set(b.data, new Float64Array(product(this.shape(b))).fill(NaN));
    return () => old ? this.mem.set(b.data, old) : this.mem.delete(b.data);
  }

  shape(b: Buffer): number[] {
    return b.shape.map((s) => this.scalar(s));
  }

  layout(b: Buffer): Layout {
    const view = this.views.get(b);
    if (view) return view;
    const data = this.mem.get(b.data);
    if (!data) throw new Error(`Buffer "${b.name}" has no storage here`);
    const shape = this.shape(b);
    const strides = b.strides.length ? b.strides.map((s) => this.scalar(s)) : rowMajor(shape);
    return { data, base: this.scalar(b.elemOffset), strides, shape };
  }

  /** The storage and offset of lane `l` of the access `b[indices]`. */
  access(b: Buffer, indices: readonly PrimExpr[], l: number): [HostData, number] {
    const { data, base, strides, shape } = this.layout(b);
    if (indices.length !== shape.length) {
      throw new Error(`Buffer "${b.name}" has rank ${shape.length}, got ${indices.length} indices`);
    }
    let off = base;
    indices.forEach((e, d) => {
      const i = this.lane(e, l);
      if (!(i >= 0 && i < shape[d]!)) {
        throw new Error(`Index ${i} out of bounds of dimension ${d} of "${b.name}" [${shape}]`);
      }
      off += i * strides[d]!;
    });
    if (!(off >= 0 && off < data.length)) {
      throw new Error(`Offset ${off} out of the storage of "${b.name}"`);
    }
    return [data, off];
  }

  lookup(v: Var): Value {
    const x = this.env.get(v) ?? this.opts.sizes?.[v.name];
    if (x === undefined) throw new Error(`Unbound variable "${v.name}"`);
    return x;
  }

  /** The value of a scalar expression. */
  scalar(e: PrimExpr): number {
    if (lanes(e.dtype) !== 1) throw new Error(`Expected a scalar, got a ${e.dtype} vector`);
    return this.lane(e, 0);
  }

  /** The value of an expression: a number, or its lanes for a vector. */
  value(e: PrimExpr): Value {
    const n = lanes(e.dtype);
    return n === 1 ? this.lane(e, 0) : Array.from({ length: n }, (_, l) => this.lane(e, l));
  }

  /** Lane `l` of `e` (scalar subexpressions have the same value in every lane). */
  lane(e: PrimExpr, l: number): number {
    const t = e.dtype;
    switch (e.kind) {
      case "Var": {
        const x = this.lookup(e);
        if (typeof x === "number") return x;
        if (l >= x.length) throw new Error(`No lane ${l} in the ${x.length} lanes of "${e.name}"`);
        return x[l]!;
      }
      case "IntImm":
      case "FloatImm":
        return e.value;
      case "StringImm":
        throw new Error("Cannot evaluate a string");
      case "Add":
        return fit(t, this.lane(e.a, l) + this.lane(e.b, l));
      case "Sub":
        return fit(t, this.lane(e.a, l) - this.lane(e.b, l));
      case "Mul":
        return fit(t, this.lane(e.a, l) * this.lane(e.b, l));
      case "Div":
      case "Mod":
      case "FloorDiv":
      case "FloorMod":
        return fit(t, this.divide(e.kind, t, this.lane(e.a, l), this.lane(e.b, l)));
      case "Min":
        return Math.min(this.lane(e.a, l), this.lane(e.b, l));
      case "Max":
        return Math.max(this.lane(e.a, l), this.lane(e.b, l));
      case "EQ":
        return +(this.lane(e.a, l) === this.lane(e.b, l));
      case "NE":
        return +(this.lane(e.a, l) !== this.lane(e.b, l));
      case "LT":
        return +(this.lane(e.a, l) < this.lane(e.b, l));
      case "LE":
        return +(this.lane(e.a, l) <= this.lane(e.b, l));
      case "GT":
        return +(this.lane(e.a, l) > this.lane(e.b, l));
      case "GE":
        return +(this.lane(e.a, l) >= this.lane(e.b, l));
      case "And":
        return +(this.lane(e.a, l) !== 0 && this.lane(e.b, l) !== 0);
      case "Or":
        return +(this.lane(e.a, l) !== 0 || this.lane(e.b, l) !== 0);
      case "Not":
        return +(this.lane(e.a, l) === 0);
      case "Select": {
        // both branches are evaluated, as TIR's Select promises
        const c = this.lane(e.cond, l), x = this.lane(e.t, l), y = this.lane(e.f, l);
        return c ? x : y;
      }
      case "Cast": {
        const v = this.lane(e.value, l);
        if (isBool(t)) return +(v !== 0);
        return fit(t, isFloat(t) ? v : Math.trunc(v));
      }
      case "Let": {
        const undo = this.bind(e.var, this.lane(e.value, l));
        const r = this.lane(e.body, l);
        undo();
        return r;
      }
      case "Call":
        return this.call(e.op, e.args, t, l);
      case "BufferLoad": {
        const [data, off] = this.access(e.buffer, e.indices, l);
        return data[off]!;
      }
      case "Ramp":
        if (l >= e.lanes) throw new Error(`No lane ${l} in a Ramp of ${e.lanes} lanes`);
        return fit(t, this.lane(e.base, 0) + l * this.lane(e.stride, 0));
      case "Broadcast":
        if (l >= e.lanes) throw new Error(`No lane ${l} in a Broadcast of ${e.lanes} lanes`);
        return this.lane(e.value, 0);
      default:
        e satisfies never;
        throw new Error("unreachable");
    }
  }

  divide(kind: "Div" | "Mod" | "FloorDiv" | "FloorMod", t: DType, a: number, b: number): number {
    if (!isFloat(t) && b === 0) throw new Error(`Integer division by zero (${kind})`);
    switch (kind) {
      case "Div":
        return isFloat(t) ? a / b : Math.trunc(a / b);
      case "Mod":
        return isFloat(t) ? a - Math.trunc(a / b) * b : a % b;
      case "FloorDiv":
        return Math.floor(a / b);
      case "FloorMod":
        return a - Math.floor(a / b) * b;
    }
  }

  call(op: string, args: readonly PrimExpr[], t: DType, l: number): number {
    if (op === "tir.if_then_else") {
      // only the chosen branch is evaluated, lane by lane
      return this.lane(args[0]!, l) ? this.lane(args[1]!, l) : this.lane(args[2]!, l);
    }
    // threads run one after another here: a barrier has nothing to wait for
    if (op === "tir.tvm_storage_sync") return 0;
    const f = intrinsics[op];
    if (!f) throw new Error(`Cannot interpret intrinsic "${op}"`);
    return fit(t, f(...args.map((a) => this.lane(a, l))));
  }

  store(s: BufferStore): void {
    const n = Math.max(lanes(s.value.dtype), ...s.indices.map((i) => lanes(i.dtype)));
    const t = elementDType(s.buffer.dtype) as DType;
    if (n === 1) {
      const v = this.lane(s.value, 0);
      const [data, off] = this.access(s.buffer, s.indices, 0);
      data[off] = fit(t, v);
      return;
    }
    if (lanes(s.value.dtype) !== n) {
      throw new Error(`Cannot store a ${s.value.dtype} value to ${n} lanes of "${s.buffer.name}"`);
    }
    // a scatter: every lane's value and place first, then the writes
    const values = Array.from({ length: n }, (_, l) => this.lane(s.value, l));
    const places = values.map((_, l) => this.access(s.buffer, s.indices, l));
    places.forEach(([data, off], l) => (data[off] = fit(t, values[l]!)));
  }

  /** Makes match buffer `m` a view of its source region and returns how to undo it. */
  match(m: MatchBufferRegion): () => void {
    const b = m.buffer, src = this.layout(m.source.buffer), region = m.source.region;
    const lead = region.length - b.shape.length;
    if (lead < 0) throw new Error(`Match buffer "${b.name}" has more dimensions than its source`);
    let base = src.base;
    const extents = region.map((r, d) => {
      const lo = this.scalar(r.min), n = this.scalar(r.extent);
      if (lo < 0 || lo + n > src.shape[d]!) {
        throw new Error(`Match buffer "${b.name}": region [${lo}, ${lo + n}) out of bounds`);
      }
      base += lo * src.strides[d]!;
      return n;
    });
    const undo: (() => void)[] = [];
    const strides = src.strides.slice(lead);
    const layout = { data: src.data, base, strides, shape: extents.slice(lead) };
    const fields: [PrimExpr, number][] = [
      ...b.shape.map((s, d): [PrimExpr, number] => [s, layout.shape[d]!]),
      ...b.strides.map((s, d): [PrimExpr, number] => [s, strides[d]!]),
    ];
    for (const [e, x] of fields) {
      if (e.kind === "Var" && !this.env.has(e)) undo.push(this.bind(e, x));
      else if (this.scalar(e) !== x) {
        throw new Error(`Match buffer "${b.name}" does not fit its source region`);
      }
    }
    // the view gives the offset; a symbolic elem_offset that the body may read is bound to it
    const off = b.elemOffset;
    if (off.kind === "Var" && !this.env.has(off)) undo.push(this.bind(off, base));
    if (extents.slice(0, lead).some((n) => n !== 1)) {
      throw new Error(`Match buffer "${b.name}" drops a dimension of extent other than 1`);
    }
    this.views.set(b, layout);
    undo.push(() => this.views.delete(b));
    return () => undo.reverse().forEach((f) => f());
  }

  block(b: SBlock, values: readonly number[]): void {
    try {
      this.blockBody(b, values);
    } catch (e) {
      throw inBlock(b.name, e);
    }
  }

  blockBody(b: SBlock, values: readonly number[]): void {
    if (values.length !== b.iterVars.length) {
      throw new Error(`Iter values: expected ${b.iterVars.length}, got ${values.length}`);
    }
    const undo: (() => void)[] = [];
    b.iterVars.forEach((iv, i) => {
      const x = values[i]!, lo = this.scalar(iv.dom.min), n = this.scalar(iv.dom.extent);
      if (!(x >= lo && x < lo + n)) {
        throw new Error(`Iter var "${iv.var.name}" = ${x} outside [${lo}, ${lo + n})`);
      }
      undo.push(this.bind(iv.var, x));
    });
    for (const a of b.allocBuffers) undo.push(this.alloc(a));
    for (const m of b.matchBuffers) undo.push(this.match(m));
    const first = b.iterVars.every((iv, i) =>
      iv.iterKind !== "reduce" || values[i] === this.scalar(iv.dom.min)
    );
    if (b.init && first) this.stmt(b.init);
    this.stmt(b.body);
    undo.reverse().forEach((f) => f());
  }

  loop(s: Extract<Stmt, { kind: "For" }>): void {
    const lo = this.scalar(s.min), n = this.scalar(s.extent);
    const rev = s.forKind === "thread_binding" && this.opts.reverseThreads;
    const undo = this.bind(s.loopVar, lo);
    for (let k = 0; k < n; k++) {
      this.env.set(s.loopVar, lo + (rev ? n - 1 - k : k));
      this.stmt(s.body);
    }
    undo();
  }

  stmt(s: Stmt): void {
    switch (s.kind) {
      case "For":
        return this.loop(s);
      case "SBlockRealize":
        if (!this.scalar(s.predicate)) return;
        return this.block(s.block, s.iterValues.map((v) => this.scalar(v)));
      case "SBlock":
        return this.block(s, []);
      case "BufferStore":
        return this.store(s);
      case "SeqStmt":
        for (const x of s.seq) this.stmt(x);
        return;
      case "IfThenElse":
        if (this.scalar(s.cond)) this.stmt(s.then);
        else if (s.else) this.stmt(s.else);
        return;
      case "LetStmt": {
        const undo = this.bind(s.var, this.value(s.value));
        this.stmt(s.body);
        return undo();
      }
      case "Evaluate":
        this.value(s.value);
        return;
      case "AllocBuffer": {
        const undo = this.alloc(s.buffer);
        this.stmt(s.body);
        return undo();
      }
      case "DeclBuffer":
        if (!this.mem.has(s.buffer.data)) {
          throw new Error(`Buffer "${s.buffer.name}" is declared over no storage`);
        }
        return this.stmt(s.body);
      case "AssertStmt":
        if (!this.scalar(s.cond)) throw new Error(`Assertion failed: ${s.message}`);
        return this.stmt(s.body);
      case "While":
        while (this.scalar(s.cond)) this.stmt(s.body);
        return;
      default:
        s satisfies never;
    }
  }
}

/**
 * Runs `f` on `args`, one per parameter: an array with its shape for a buffer (written in place),
 * a number for a scalar. Symbolic dimensions of parameter buffers take the arguments' sizes.
 *
 * @example
 * ```ts
 * const out = new Float32Array(4);
 * runPrimFunc(f, [{ shape: [4], data: [1, 2, 3, 4] }, { shape: [4], data: out }]);
 * ```
 */
export function runPrimFunc(f: PrimFunc, args: readonly Arg[], options: RunOptions = {}): void {
  if (args.length !== f.params.length) {
    throw new Error(`Arguments: expected ${f.params.length}, got ${args.length}`);
  }
  const it = new Interp(options);
  const buffers: [Buffer, ArrayArg<HostData>][] = [];
  f.params.forEach((p, i) => {
    const a = args[i]!, b = f.bufferMap.get(p);
    if (!b) {
      if (typeof a !== "number") throw new Error(`Parameter "${p.name}" is a scalar`);
      it.env.set(p, a);
      return;
    }
    if (typeof a === "number") throw new Error(`Parameter "${b.name}" is a buffer`);
    if (a.shape.length !== b.shape.length) {
      throw new Error(
        `Buffer "${b.name}" has rank ${b.shape.length}, got an array of rank ${a.shape.length}`,
      );
    }
    b.shape.forEach((d, k) => {
      if (d.kind === "Var" && !it.env.has(d)) it.env.set(d, a.shape[k]!);
    });
    buffers.push([b, a]);
  });
  for (const [b, a] of buffers) {
    const shape = it.shape(b);
    if (shape.some((d, k) => d !== a.shape[k])) {
      throw new Error(`Buffer "${b.name}" has shape [${shape}], got [${a.shape}]`);
    }
    if (a.data.length !== product(shape)) {
      throw new Error(`Buffer "${b.name}" needs ${product(shape)} elements, got ${a.data.length}`);
    }
    it.mem.set(b.data, a.data);
  }
  it.stmt(f.body);
}

/** The shapes of `f`'s buffer parameters, in order, with symbolic sizes given by name. */
export function paramShapes(
  f: PrimFunc,
  sizes: { readonly [name: string]: number } = {},
): number[][] {
  const it = new Interp({ sizes });
  return f.params.flatMap((p) => {
    const b = f.bufferMap.get(p);
    return b ? [it.shape(b)] : [];
  });
}

/**
 * The arguments of `f` for {@link runPrimFunc}: `buffers` (one per buffer parameter, in order,
 * shaped as {@link paramShapes} says) and the scalar parameters' values from `sizes`, by name.
 */
export function paramArgs(
  f: PrimFunc,
  buffers: readonly HostData[],
  sizes: { readonly [name: string]: number } = {},
): Arg[] {
  const shapes = paramShapes(f, sizes);
  let k = 0;
  return f.params.map((p) => {
    if (!f.bufferMap.has(p)) {
      const v = sizes[p.name];
      if (v === undefined) throw new Error(`No value for scalar parameter "${p.name}"`);
      return v;
    }
    const data = buffers[k], shape = shapes[k++]!;
    if (!data) throw new Error(`No array for buffer parameter ${k - 1}`);
    return { shape, data };
  });
}

/**
 * Runs two functions with the same signature on the same random inputs (the buffer parameters
 * listed in `outputs` start as NaN) and throws when any buffer differs, or when the first
 * function leaves an output element unwritten.
 */
export function assertSameResults(
  before: PrimFunc,
  after: PrimFunc,
  options: SameResultsOptions = {},
): void {
  const outputs = options.outputs ?? [], sizes = options.sizes ?? {};
  const inputs = paramShapes(before, sizes).map((s, i) =>
    outputs.includes(i)
      ? new Array<number>(product(s)).fill(NaN)
      : randomArray(product(s), 7 + i * 31)
  );
  const run = (f: PrimFunc) => {
    const copies = inputs.map((a) => a.slice());
    runPrimFunc(f, paramArgs(f, copies, sizes), options);
    return copies;
  };
  const x = run(before), y = run(after);
  const tol = options.tol ?? 1e-6;
  x.forEach((a, i) => {
    a.forEach((p, j) => {
      const q = y[i]![j]!;
      if (Number.isNaN(p) && Number.isNaN(q)) return;
      if (!(Math.abs(p - q) <= tol * Math.max(1, Math.abs(p)))) {
        throw new Error(`Buffer argument ${i}: results differ at element ${j}: ${p} vs ${q}`);
      }
    });
    if (outputs.includes(i) && a.some(Number.isNaN)) {
      throw new Error(`Buffer argument ${i}: the first function left elements unwritten`);
    }
  });
}

/** Deterministic pseudo-random float32 values in [-1, 1). */
export function randomArray(n: number, seed = 1): number[] {
  let s = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push(Math.fround(s / 2 ** 31 - 1));
  }
  return out;
}
