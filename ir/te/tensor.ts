/**
 * Tensors of the `te` compute DSL: placeholders (inputs), computes (outputs defined elementwise
 * by a callback over their indices) and symbolic size variables.
 *
 * Each tensor owns one TIR `Buffer`; `A.at(i, j)` is an ordinary `BufferLoad` on it, so compute
 * bodies are plain `PrimExpr`s.
 *
 * @example
 * ```ts
 * const n = te.var("n");
 * const A = te.placeholder([n, 64], "float32", "A");
 * const k = te.reduceAxis([0, 64], "k");
 * const rowSum = te.compute([n], ([i]) => te.sum(A.at(i, k), [k]), { name: "row_sum" });
 * ```
 *
 * @module
 */

import { type DType, isInt, parseDType } from "../dtype.ts";
import {
  type Buffer,
  type BufferLoad,
  bufferLoad,
  declBuffer,
  isPrimExpr,
  type PrimExpr,
  type PrimExprLike,
  primVar,
  range,
  sizeVar as makeSizeVar,
  toExpr,
  type Var,
} from "../expr.ts";
import { visitPrimExpr } from "../visit.ts";
import type { Attrs, IterVar } from "../tir/stmt.ts";
import { normalizeIndex } from "./_index.ts";
import { isReduce, isReduceAxis, type Reduce, reduceAxisDom } from "./reduce.ts";

/** A placeholder: a tensor given from outside (a function argument). */
export interface PlaceholderOp {
  /** The node kind. */
  readonly kind: "te.PlaceholderOp";
  /** The placeholder name. */
  readonly name: string;
  /** The tensor shape. */
  readonly shape: readonly PrimExpr[];
  /** The element dtype. */
  readonly dtype: DType;
}

/** A compute: output tensors defined by one expression (or reduction) per output. */
export interface ComputeOp {
  /** The node kind. */
  readonly kind: "te.ComputeOp";
  /** The op name (block and buffer names derive from it). */
  readonly name: string;
  /** A tag naming the kind of computation. */
  readonly tag: string;
  /** Attributes, copied to the annotations of the generated blocks. */
  readonly attrs: Attrs;
  /** The spatial axes (one per output dimension), domain `[0, shape[d])`. */
  readonly axes: readonly IterVar[];
  /** The reduce axes, for a reduction. */
  readonly reduceAxes: readonly IterVar[];
  /** One expression per output, or one `Reduce` per output of a (multi-value) reduction. */
  readonly body: readonly PrimExpr[] | readonly Reduce[];
  /** The tensors this op reads, in order of first use. */
  readonly inputs: readonly Tensor[];
  /** The output tensors (filled once, when the op is made). */
  readonly outputs: readonly Tensor[];
}

/** The operation that produces a tensor. */
export type Operation = PlaceholderOp | ComputeOp;

/** A tensor of the te DSL. */
export interface Tensor {
  /** The node kind. */
  readonly kind: "te.Tensor";
  /** The tensor name. */
  readonly name: string;
  /** The tensor shape. */
  readonly shape: readonly PrimExpr[];
  /** The element dtype. */
  readonly dtype: DType;
  /** The number of dimensions. */
  readonly ndim: number;
  /** The op that produces it. */
  readonly op: Operation;
  /** Which output of `op` it is. */
  readonly valueIndex: number;
  /** The buffer that holds it; `at` loads from it. */
  readonly buffer: Buffer;
  /** Loads one element: an ordinary `BufferLoad` on {@link Tensor.buffer}. */
  at(...indices: PrimExprLike[]): BufferLoad;
}

const bufferOwners = new WeakMap<Buffer, Tensor>();
const computeAxes = new WeakMap<Var, string>();

/** The tensor owning `buffer`, when it belongs to one. */
export function tensorOfBuffer(buffer: Buffer): Tensor | undefined {
  return bufferOwners.get(buffer);
}

/** Whether `x` is a te {@link Tensor}. */
export function isTensor(x: unknown): x is Tensor {
  return typeof x === "object" && x !== null && (x as { kind?: unknown }).kind === "te.Tensor";
}

function makeTensor(
  op: Operation,
  valueIndex: number,
  name: string,
  dtype: DType,
  shape: readonly PrimExpr[],
): Tensor {
  const buffer = declBuffer(shape, dtype, name);
  const t: Tensor = {
    kind: "te.Tensor",
    name,
    shape: buffer.shape,
    dtype,
    ndim: buffer.shape.length,
    op,
    valueIndex,
    buffer,
    at(...indices: PrimExprLike[]): BufferLoad {
      if (indices.length !== buffer.shape.length) {
        throw new Error(
          `Cannot index tensor "${name}": expected ${buffer.shape.length} indices, got ${indices.length}`,
        );
      }
      for (const i of indices) {
        if (isReduce(i)) throw new Error(`Cannot index tensor "${name}" with a reduction`);
      }
      return bufferLoad(buffer, indices);
    },
  };
  bufferOwners.set(buffer, t);
  return t;
}

/** The index dtype of a shape: int64 when a dimension is an int64 expression, else int32. */
export function shapeIndexDtype(shape: readonly PrimExprLike[]): DType {
  return shape.some((d) => typeof d === "object" && d.dtype === "int64") ? "int64" : "int32";
}

function normalizeShape(what: string, shape: readonly PrimExprLike[], t: DType): PrimExpr[] {
  return shape.map((d, i) => {
    const e = toExpr(d);
    if (!isInt(e.dtype)) {
      throw new Error(`${what}: dimension ${i} must be an integer, got ${e.dtype}`);
    }
    if (e.kind === "IntImm" && e.value < 0) {
      throw new Error(`${what}: dimension ${i} is negative (${e.value})`);
    }
    return normalizeIndex(e, t);
  });
}

/**
 * A new symbolic variable, for sizes (`te.var("n")`) or scalar parameters. Two calls with the
 * same name give two different variables.
 */
export function teVar(name: string, dtype: DType = "int32"): Var {
  return primVar(name, dtype);
}

/** A new symbolic size, known to be non-negative (TVM's `te.size_var`). */
export function sizeVar(name: string, dtype: DType = "int32"): Var {
  return makeSizeVar(name, dtype);
}

/**
 * An input tensor. Numbers in the shape become int32 constants, or int64 when another dimension
 * is an int64 expression.
 */
export function placeholder(
  shape: readonly PrimExprLike[],
  dtype: DType = "float32",
  name = "placeholder",
): Tensor {
  const t = parseDType(dtype);
  const op: PlaceholderOp = {
    kind: "te.PlaceholderOp",
    name,
    shape: normalizeShape(`Placeholder "${name}"`, shape, shapeIndexDtype(shape)),
    dtype: t,
  };
  return makeTensor(op, 0, name, t, op.shape);
}

/** Options of {@link compute}. */
export interface ComputeOptions {
  /** The op name (block and buffer name); `"compute"` by default. */
  readonly name?: string;
  /** A tag naming the kind of computation (`"elemwise"`, `"broadcast"`, ...). */
  readonly tag?: string;
  /** Attributes, copied to the annotations of the generated blocks. */
  readonly attrs?: Attrs;
  /** Names of the spatial axes (loop variables); `i0, i1, ...` by default. */
  readonly axisNames?: readonly string[];
  /** The dtype of the spatial axes; see {@link shapeIndexDtype} for the default. */
  readonly indexDtype?: DType;
}

/** The axis variables a compute callback receives: a tuple when the shape is a tuple. */
export type ComputeAxes<S extends readonly unknown[]> = { readonly [K in keyof S]: Var };

/** What a compute callback may return for one output. */
export type ComputeResult = PrimExprLike | Reduce;

/**
 * A tensor computed elementwise: `f` maps the axis variables to the value at that index, or to
 * a reduction (`te.sum(...)`). Returning an array makes one output per element (a multi-value
 * reducer such as `argmax` returns such an array), and `compute` returns the tensors.
 *
 * @example
 * ```ts
 * const C = compute([m, n], ([i, j]) => sum(A.at(i, k).mul(B.at(k, j)), [k]), { name: "C" });
 * ```
 */
export function compute<const S extends readonly PrimExprLike[]>(
  shape: S,
  f: (axes: ComputeAxes<S>) => ComputeResult,
  options?: ComputeOptions,
): Tensor;
/** A multi-output compute: one output tensor per element of the callback's result. */
export function compute<const S extends readonly PrimExprLike[]>(
  shape: S,
  f: (axes: ComputeAxes<S>) => readonly ComputeResult[],
  options?: ComputeOptions,
): Tensor[];
export function compute<const S extends readonly PrimExprLike[]>(
  shape: S,
  f: (axes: ComputeAxes<S>) => ComputeResult | readonly ComputeResult[],
  options: ComputeOptions = {},
): Tensor | Tensor[] {
  const name = options.name ?? "compute";
  const what = `Compute "${name}"`;
  const t = options.indexDtype ? parseDType(options.indexDtype) : shapeIndexDtype(shape);
  if (!isInt(t)) throw new Error(`${what}: index dtype must be an integer type, got ${t}`);
  const dims = normalizeShape(what, shape, t);
  const names = options.axisNames ?? dims.map((_, i) => `i${i}`);
  if (names.length !== dims.length) {
    throw new Error(`${what}: got ${names.length} axis names for ${dims.length} dimensions`);
  }
  const axisVars = names.map((n) => primVar(n, t));
  for (const v of axisVars) computeAxes.set(v, name);
  const raw = f(axisVars as unknown as ComputeAxes<S>);
  const multi = Array.isArray(raw);
  const results: readonly ComputeResult[] = multi
    ? raw as readonly ComputeResult[]
    : [raw as ComputeResult];
  if (results.length === 0) throw new Error(`${what}: the callback returned no outputs`);
  const body = checkBody(what, results);
  const own = new Set<Var>(axisVars);
  const reduces = body.filter(isReduce);
  const reduceAxes = reduces[0]?.axes ?? [];
  for (const a of reduceAxes) own.add(a);
  const inputs: Tensor[] = [];
  for (const e of bodyExprs(body)) checkExpr(what, e, own, inputs);
  const outputs: Tensor[] = [];
  const op: ComputeOp = {
    kind: "te.ComputeOp",
    name,
    tag: options.tag ?? "",
    attrs: options.attrs ?? {},
    axes: axisVars.map((v, i) => ({
      kind: "IterVar",
      var: v,
      dom: range(normalizeIndex(0, t), dims[i]!),
      iterKind: "spatial",
    })),
    reduceAxes: reduceAxes.map((v) => ({
      kind: "IterVar",
      var: v,
      dom: reduceAxisDom(v)!,
      iterKind: "reduce",
    })),
    body,
    inputs,
    outputs,
  };
  body.forEach((e, i) => {
    outputs.push(makeTensor(op, i, body.length > 1 ? `${name}_v${i}` : name, e.dtype, dims));
  });
  return multi ? outputs.slice() : outputs[0]!;
}

function checkBody(what: string, results: readonly ComputeResult[]): PrimExpr[] | Reduce[] {
  const reduces = results.filter(isReduce);
  if (reduces.length === 0) {
    return results.map((r) => {
      const e = toExpr(r as PrimExprLike);
      if (!isPrimExpr(e)) throw new Error(`${what}: the callback must return expressions`);
      return e;
    });
  }
  if (reduces.length !== results.length) {
    throw new Error(
      `${what}: a reduction must be the whole result of the callback, not mixed with other outputs`,
    );
  }
  const first = reduces[0]!;
  if (first.source.length !== reduces.length) {
    throw new Error(
      `${what}: the reduction has ${first.source.length} values, but the callback returned ${reduces.length}`,
    );
  }
  reduces.forEach((r, i) => {
    if (r.combiner !== first.combiner || r.source !== first.source || r.valueIndex !== i) {
      throw new Error(
        `${what}: all outputs must be the values of one reduction, in order (output ${i} is not)`,
      );
    }
  });
  return reduces;
}

function bodyExprs(body: readonly PrimExpr[] | readonly Reduce[]): PrimExpr[] {
  const out: PrimExpr[] = [];
  for (const e of body) {
    if (isReduce(e)) {
      if (e.valueIndex > 0) continue;
      out.push(...e.source, e.condition, ...(e.init ?? []), ...e.combiner.result);
      out.push(...e.combiner.identity);
      for (const a of e.axes) {
        const d = reduceAxisDom(a)!;
        out.push(d.min, d.extent);
      }
    } else {
      out.push(e);
    }
  }
  return out;
}

function checkExpr(what: string, e: PrimExpr, own: ReadonlySet<Var>, inputs: Tensor[]): void {
  visitPrimExpr(e, (x) => {
    if (isReduce(x)) {
      throw new Error(
        `${what}: a reduction can only be the whole result of the callback, found one inside an expression`,
      );
    }
    if (x.kind === "Var" && !own.has(x)) {
      if (isReduceAxis(x)) {
        throw new Error(`${what} uses reduce axis "${x.name}" outside a reduction`);
      }
      const owner = computeAxes.get(x);
      if (owner !== undefined) {
        throw new Error(`${what} uses axis "${x.name}" of compute "${owner}"`);
      }
    }
    if (x.kind === "BufferLoad") {
      const t = bufferOwners.get(x.buffer);
      if (!t) {
        throw new Error(`${what} reads buffer "${x.buffer.name}", which belongs to no te tensor`);
      }
      if (!inputs.includes(t)) inputs.push(t);
    }
  });
}
