/**
 * The calling convention of a compiled kernel, as plain JSON-able data: its parameters, the
 * variables the runtime derives from argument shapes, the uniform struct, the workgroup size and
 * the grid. Expressions the runtime evaluates (shapes, grid sizes) are {@link KernelExpr}s, so a
 * kernel can be stored in an executable and loaded elsewhere without the IR.
 *
 * @module
 */

import type { ScalarDType } from "../ir/dtype.ts";
import type { TargetKind } from "../transform/target.ts";

/** Operators of a {@link KernelExpr}. */
export type KernelExprOp =
  | "add"
  | "sub"
  | "mul"
  | "div"
  | "fdiv"
  | "mod"
  | "floordiv"
  | "floormod"
  | "min"
  | "max"
  | "eq"
  | "ne"
  | "lt"
  | "le"
  | "gt"
  | "ge"
  | "and"
  | "or"
  | "not"
  | "select"
  | "int"
  | "float"
  | "bool";

/**
 * A scalar expression over kernel variables: a number, a variable name, or an operator applied
 * to operands (`["add", "n", 63]`). `div` truncates (integer division), `fdiv` divides floats.
 */
export type KernelExpr = number | string | readonly [KernelExprOp, ...KernelExpr[]];

/** A variable of the kernel's interface: a scalar parameter or a symbolic shape. */
export interface KernelVar {
  /** A name unique within the kernel. */
  readonly name: string;
  /** Its dtype (integers travel as numbers; WGSL sees 64-bit ones as i32). */
  readonly dtype: ScalarDType;
}

/** A tensor parameter, bound to one storage buffer. */
export interface KernelBufferParam {
  /** Marks a tensor parameter. */
  readonly kind: "buffer";
  /** The buffer's name, for messages. */
  readonly name: string;
  /** The element type the tensor must have. */
  readonly dtype: ScalarDType;
  /** The expected shape; variables named here are derived from the argument. */
  readonly shape: readonly KernelExpr[];
  /** The buffer's slot: its index among the buffer parameters. */
  readonly binding: number;
  /** Whether the kernel never writes the buffer. */
  readonly readOnly: boolean;
}

/** A scalar parameter, passed as a number. */
export interface KernelScalarParam {
  /** Marks a scalar parameter. */
  readonly kind: "scalar";
  /** The parameter's name, for messages. */
  readonly name: string;
  /** The value's type. */
  readonly dtype: ScalarDType;
  /** Index into {@link CompiledKernel.vars}. */
  readonly var: number;
}

/** A kernel parameter. */
export type KernelParam = KernelBufferParam | KernelScalarParam;

/** The WGSL type a uniform struct member has. */
export type UniformType = "i32" | "u32" | "f32";

/** One member of the WGSL uniform struct. */
export interface KernelUniform {
  /** Index into {@link CompiledKernel.vars}. */
  readonly var: number;
  /** How the value is stored in the struct. */
  readonly type: UniformType;
}

/**
 * A global scratch buffer the kernel allocates (an intermediate between two of its stages); the
 * runtime allocates it for each launch.
 */
export interface KernelWorkspace {
  /** The buffer's name, for messages. */
  readonly name: string;
  /** The element type. */
  readonly dtype: ScalarDType;
  /** The element count, over {@link CompiledKernel.vars}. */
  readonly size: KernelExpr;
}

/** One WGSL dispatch of a kernel: a thread-bound loop nest of the PrimFunc. */
export interface KernelStage {
  /** WGSL, entry point `main`. */
  readonly source: string;
  /**
   * The storage behind each binding: an index into the kernel's slots, which are the buffer
   * parameters in order, then the workspaces.
   */
  readonly bindings: readonly number[];
  /** Whether each binding is read-only in this stage. */
  readonly readOnly: readonly boolean[];
  /** The members of the uniform struct (bound after the storage buffers). */
  readonly uniforms: readonly KernelUniform[];
  /** Threads per workgroup in x, y, z. */
  readonly workgroupSize: readonly [number, number, number];
  /** Workgroups in x, y, z (the blockIdx extents), as expressions over the kernel's vars. */
  readonly grid: readonly [KernelExpr, KernelExpr, KernelExpr];
  /**
   * For each grid dimension, the dimension that takes its overflow when it exceeds the
   * kernel's `maxGridDim` (0 = x, 1 = y, 2 = z), or -1 when it cannot be split.
   */
  readonly gridFold: readonly [number, number, number];
}

/**
 * A kernel compiled for a target: source text plus everything needed to call it. It is plain
 * data (JSON-serializable), so executables can store it.
 */
export interface CompiledKernel {
  /** The kernel's name. */
  readonly name: string;
  /** The target the source is for. */
  readonly target: TargetKind;
  /**
   * JS: the body of a factory returning `(bufs, vals) => void`. WebGPU: the WGSL of the stages
   * (for reading; each stage carries its own).
   */
  readonly source: string;
  /** Parameters in call order. */
  readonly params: readonly KernelParam[];
  /** Scalar parameters and symbolic shape variables; their values travel in this order. */
  readonly vars: readonly KernelVar[];
  /** WebGPU: scratch buffers between stages (slots after the buffer parameters). */
  readonly workspaces: readonly KernelWorkspace[];
  /** WebGPU: the dispatches, in order (one per top-level thread-bound loop nest). */
  readonly stages: readonly KernelStage[];
  /** Workgroups per dispatch dimension the kernel was compiled for. */
  readonly maxGridDim: number;
}

function num(x: boolean | number): number {
  return typeof x === "boolean" ? +x : x;
}

function floorMod(a: number, b: number): number {
  const r = a % b;
  return r !== 0 && (r < 0) !== (b < 0) ? r + b : r;
}

/**
 * Evaluates a kernel expression with the given variable values.
 *
 * @example
 * ```ts
 * evalKernelExpr(["floordiv", ["add", "n", 63], 64], { n: 100 }); // 2
 * ```
 */
export function evalKernelExpr(e: KernelExpr, values: { readonly [name: string]: number }): number {
  if (typeof e === "number") return e;
  if (typeof e === "string") {
    const v = values[e];
    if (v === undefined) throw new Error(`Unknown kernel variable "${e}"`);
    return v;
  }
  const [op, ...xs] = e;
  const a = (i: number) => evalKernelExpr(xs[i]!, values);
  switch (op) {
    case "add":
      return a(0) + a(1);
    case "sub":
      return a(0) - a(1);
    case "mul":
      return a(0) * a(1);
    case "div": {
      const d = a(1);
      return d === 0 ? 0 : Math.trunc(a(0) / d);
    }
    case "fdiv":
      return a(0) / a(1);
    case "mod": {
      const d = a(1);
      return d === 0 ? 0 : a(0) % d;
    }
    case "floordiv": {
      const d = a(1);
      return d === 0 ? 0 : Math.floor(a(0) / d);
    }
    case "floormod": {
      const d = a(1);
      return d === 0 ? 0 : floorMod(a(0), d);
    }
    case "min":
      return Math.min(a(0), a(1));
    case "max":
      return Math.max(a(0), a(1));
    case "eq":
      return num(a(0) === a(1));
    case "ne":
      return num(a(0) !== a(1));
    case "lt":
      return num(a(0) < a(1));
    case "le":
      return num(a(0) <= a(1));
    case "gt":
      return num(a(0) > a(1));
    case "ge":
      return num(a(0) >= a(1));
    case "and":
      return num(a(0) !== 0 && a(1) !== 0);
    case "or":
      return num(a(0) !== 0 || a(1) !== 0);
    case "not":
      return num(a(0) === 0);
    case "select":
      return a(0) !== 0 ? a(1) : a(2);
    case "int":
      return Math.trunc(a(0));
    case "float":
      return a(0);
    case "bool":
      return num(a(0) !== 0);
    default:
      op satisfies never;
      throw new Error(`Unknown kernel expression operator "${op}"`);
  }
}

const infix: { readonly [K in KernelExprOp]?: string } = {
  add: "+",
  sub: "-",
  mul: "*",
  div: "/",
  fdiv: "/",
  mod: "%",
  floordiv: "//",
  floormod: "%",
  eq: "==",
  ne: "!=",
  lt: "<",
  le: "<=",
  gt: ">",
  ge: ">=",
  and: "and",
  or: "or",
};

/**
 * Formats a kernel expression as TVMScript-like text, for error messages (`n * 2 + 1`).
 */
export function formatKernelExpr(e: KernelExpr): string {
  if (typeof e === "number") return String(e);
  if (typeof e === "string") return e;
  const [op, ...xs] = e;
  const sym = infix[op];
  const inner = (x: KernelExpr) =>
    typeof x === "object" && infix[x[0]] ? `(${formatKernelExpr(x)})` : formatKernelExpr(x);
  if (sym && xs.length === 2) return `${inner(xs[0]!)} ${sym} ${inner(xs[1]!)}`;
  if (op === "not") return `not ${inner(xs[0]!)}`;
  return `${op}(${xs.map(formatKernelExpr).join(", ")})`;
}

/** Formats a shape such as `(n, 64)`. */
export function formatShape(dims: readonly (KernelExpr)[]): string {
  return `(${dims.map(formatKernelExpr).join(", ")}${dims.length === 1 ? "," : ""})`;
}

/**
 * The workgroup counts to dispatch for a stage of a kernel, given the variable values (keyed by
 * name): evaluates the grid and folds a dimension over the device limit into its partner
 * dimension (the shader rebuilds the block index and skips the surplus workgroups). Returns
 * `[0, 0, 0]` when the grid is empty.
 */
export function dispatchSize(
  kernel: CompiledKernel,
  values: { readonly [name: string]: number },
  options: { readonly stage?: number } = {},
): [number, number, number] {
  const stage = kernel.stages[options.stage ?? 0];
  if (!stage) throw new Error(`Kernel "${kernel.name}" has no stage ${options.stage ?? 0}`);
  const logical = stage.grid.map((g) => evalKernelExpr(g, values));
  if (logical.some((g) => g <= 0)) return [0, 0, 0];
  const out: [number, number, number] = [1, 1, 1];
  const taken = [false, false, false];
  const max = kernel.maxGridDim;
  for (let d = 0; d < 3; d++) {
    const g = logical[d]!;
    if (g <= max) {
      out[d] = Math.max(out[d]!, g);
      continue;
    }
    const p = stage.gridFold[d]!;
    const outer = Math.ceil(g / max);
    if (p < 0 || taken[p] || outer > max) {
      const axis = "xyz"[d];
      throw new Error(
        `Kernel "${kernel.name}": grid of ${g} workgroups in ${axis} exceeds the device limit ${max}`,
      );
    }
    taken[p] = true;
    out[d] = Math.ceil(g / outer);
    out[p] = outer;
  }
  return out;
}
