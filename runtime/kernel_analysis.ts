/**
 * What both code generators need to know about a lowered PrimFunc before emitting code: its
 * storage (parameter buffers, local and shared allocations, views), the variables of its
 * interface, its thread and block extents, and whether it synchronizes threads.
 *
 * @module
 */

import { type DType, elementDType, isInt, isScalarDType, type ScalarDType } from "../ir/dtype.ts";
import { type Buffer, intImm, mul, type PrimExpr, type Var } from "../ir/expr.ts";
import type { PrimFunc } from "../ir/tir/prim_func.ts";
import type { For, Stmt } from "../ir/tir/stmt.ts";
import { visitPrimExpr, visitStmt } from "../ir/visit.ts";
import type { Target } from "../transform/target.ts";
import type { KernelExpr, KernelExprOp, KernelParam } from "./kernel_abi.ts";

/** Where a buffer's memory lives. */
export interface StorageInfo {
  /**
   * A parameter (a storage binding), a per-thread array, a per-workgroup array, or a global
   * scratch buffer (a workspace between stages).
   */
  readonly kind: "param" | "local" | "shared" | "global";
  /** The IR name of the buffer that owns the memory. */
  readonly name: string;
  /** The element type. */
  readonly dtype: ScalarDType;
  /** Binding index of a parameter; -1 for allocations. */
  readonly binding: number;
  /** Element count of an allocation (undefined for parameters). */
  readonly size: PrimExpr | undefined;
  /** Whether any store writes it. */
  readonly written: boolean;
}

/** A loop bound to a GPU thread axis. */
export interface ThreadLoop {
  /** The loop. */
  readonly loop: For;
  /** 0, 1, 2 for x, y, z. */
  readonly dim: number;
  /** Whether a barrier sits inside the loop body. */
  readonly hasBarrier: boolean;
}

/** The facts about a lowered kernel that code generation relies on. */
export interface KernelInfo {
  /** The kernel's name. */
  readonly name: string;
  /** The analyzed function. */
  readonly func: PrimFunc;
  /** Memory by data variable (parameters, allocations; views resolve through `data`). */
  readonly storage: ReadonlyMap<Var, StorageInfo>;
  /** Parameter buffers in binding order. */
  readonly buffers: readonly { readonly param: Var; readonly buffer: Buffer }[];
  /** Interface variables (scalar parameters, symbolic shape variables), in ABI order. */
  readonly vars: readonly Var[];
  /** The ABI name of each interface variable. */
  readonly varNames: ReadonlyMap<Var, string>;
  /** The ABI parameters, in call order. */
  readonly params: readonly KernelParam[];
  /** Loops bound to `threadIdx`. */
  readonly threadLoops: readonly ThreadLoop[];
  /** Loops bound to `blockIdx`. */
  readonly blockLoops: readonly ThreadLoop[];
  /** Whether the body contains a `tir.tvm_storage_sync` barrier. */
  readonly hasBarrier: boolean;
  /** Variables known to be non-negative (sizes and shapes). */
  readonly nonNegVars: ReadonlySet<Var>;
}

/** The number of elements of a compact buffer: the product of its shape. */
export function elementCount(b: Buffer): PrimExpr {
  return b.shape.slice(1).reduce<PrimExpr>((acc, d) => mul(acc, d), b.shape[0] ?? intImm(1));
}

/** Whether a statement is a thread barrier (`T.tvm_storage_sync("shared")`). */
export function isBarrier(s: Stmt): boolean {
  return s.kind === "Evaluate" && s.value.kind === "Call" && s.value.op === "tir.tvm_storage_sync";
}

/** Whether a barrier occurs anywhere under `s`. */
export function containsBarrier(s: Stmt): boolean {
  let found = false;
  visitStmt(s, {
    stmt: (x) => {
      if (isBarrier(x)) found = true;
      return !found;
    },
  });
  return found;
}

/** The scalar dtype of a buffer or value, rejecting vectors and handles. */
function scalarOf(kernel: string, t: DType, what: string): ScalarDType {
  if (!isScalarDType(t)) {
    const e = elementDType(t);
    const why = e === t
      ? `dtype ${t}`
      : `vector dtype ${t} (buffers hold scalars; vectorize a loop instead)`;
    throw new Error(`Kernel "${kernel}": ${what} has ${why}`);
  }
  return t;
}

const kernelOps: { readonly [k: string]: KernelExprOp } = {
  Add: "add",
  Sub: "sub",
  Mul: "mul",
  Mod: "mod",
  FloorDiv: "floordiv",
  FloorMod: "floormod",
  Min: "min",
  Max: "max",
  EQ: "eq",
  NE: "ne",
  LT: "lt",
  LE: "le",
  GT: "gt",
  GE: "ge",
  And: "and",
  Or: "or",
};

/** Options of {@link toKernelExpr}. */
export interface ToKernelExprOptions {
  /** Names the expression in errors (default `"Expression"`). */
  readonly what?: string;
}

/**
 * Converts a PrimExpr over interface variables to a {@link KernelExpr}; anything else (loads,
 * calls, variables without a name in `names`) is an error naming `options.what`.
 */
export function toKernelExpr(
  e: PrimExpr,
  names: ReadonlyMap<Var, string>,
  options: ToKernelExprOptions = {},
): KernelExpr {
  const what = options.what ?? "Expression";
  const go = (x: PrimExpr): KernelExpr => toKernelExpr(x, names, options);
  switch (e.kind) {
    case "IntImm":
    case "FloatImm":
      return e.value;
    case "Var": {
      const n = names.get(e);
      if (n === undefined) {
        throw new Error(`${what} uses "${e.name}", which is not a parameter or shape`);
      }
      return n;
    }
    case "Div":
      return [isInt(e.dtype) ? "div" : "fdiv", go(e.a), go(e.b)];
    case "Not":
      return ["not", go(e.a)];
    case "Select":
      return ["select", go(e.cond), go(e.t), go(e.f)];
    case "Cast":
      return [isInt(e.dtype) ? "int" : e.dtype === "bool" ? "bool" : "float", go(e.value)];
    case "Let": {
      const m = new Map(names);
      const v = go(e.value);
      // Substitutes the value by naming it: a fresh name bound to the value's expression.
      const inner = toKernelExpr(e.body, new Map([...m, [e.var, `__let_${e.var.name}`]]), options);
      return substitute(inner, `__let_${e.var.name}`, v);
    }
    default: {
      const op = kernelOps[e.kind];
      if (op && "a" in e && "b" in e) return [op, go(e.a), go(e.b)];
      throw new Error(`${what} must depend only on parameters and shapes, got ${e.kind}`);
    }
  }
}

function substitute(e: KernelExpr, name: string, v: KernelExpr): KernelExpr {
  if (typeof e === "number") return e;
  if (typeof e === "string") return e === name ? v : e;
  const [op, ...xs] = e;
  return [op, ...xs.map((x) => substitute(x, name, v))];
}

const AXES = ["x", "y", "z"] as const;

/** The axis index (0, 1, 2) of a thread tag's letter. */
function axisOf(tag: string): number {
  return AXES.indexOf(tag.slice(tag.length - 1) as "x");
}

/**
 * Analyzes a lowered PrimFunc: rejects blocks and unsupported constructs, names its interface
 * variables and collects its storage and thread structure.
 */
export function analyzeKernel(f: PrimFunc, options: { readonly name?: string } = {}): KernelInfo {
  const attrName = f.attrs["global_symbol"];
  const name = options.name ?? (typeof attrName === "string" ? attrName : "kernel");
  const storage = new Map<Var, StorageInfo>();
  const buffers: { param: Var; buffer: Buffer }[] = [];
  const vars: Var[] = [];
  const varNames = new Map<Var, string>();
  const used = new Set<string>();
  const nameVar = (v: Var) => {
    if (varNames.has(v)) return;
    let n = v.name || "v";
    for (let i = 1; used.has(n); i++) n = `${v.name}_${i}`;
    used.add(n);
    varNames.set(v, n);
    vars.push(v);
  };
  const nonNeg = new Set<Var>();
  // Storage of parameters and the variables of their shapes.
  for (const p of f.params) {
    const b = f.bufferMap.get(p);
    if (!b) {
      if (p.dtype === "handle") {
        throw new Error(`Kernel "${name}": handle parameter "${p.name}" has no buffer`);
      }
      scalarOf(name, p.dtype, `parameter "${p.name}"`);
      continue;
    }
    const dtype = scalarOf(name, b.dtype, `buffer "${b.name}"`);
    const compact = b.strides.length === 0 && b.elemOffset.kind === "IntImm" &&
      b.elemOffset.value === 0;
    if (!compact) {
      throw new Error(
        `Kernel "${name}": parameter buffer "${b.name}" must be compact (no strides or offset)`,
      );
    }
    storage.set(b.data, {
      kind: "param",
      name: b.name,
      dtype,
      binding: buffers.length,
      size: undefined,
      written: false,
    });
    buffers.push({ param: p, buffer: b });
    for (const d of b.shape) {
      if (d.kind === "Var") {
        nameVar(d);
        nonNeg.add(d);
      }
    }
  }
  for (const p of f.params) if (!f.bufferMap.has(p)) nameVar(p);
  for (const v of vars) if (v.isSize) nonNeg.add(v);

  // Every shape variable must be derivable from a bare dimension or a scalar parameter.
  for (const { buffer } of buffers) {
    for (const d of buffer.shape) {
      visitPrimExpr(d, (x) => {
        if (x.kind === "Var" && !varNames.has(x)) {
          throw new Error(
            `Kernel "${name}": cannot infer "${x.name}" from the arguments: it appears only inside the shape of "${buffer.name}"`,
          );
        }
      });
    }
  }

  const written = new Set<Var>();
  const defined = new Set<Var>([...vars]);
  const exprCheck = (e: PrimExpr) => {
    if (e.kind === "Var" && e.dtype !== "handle" && !defined.has(e)) {
      throw new Error(
        `Kernel "${name}" uses variable "${e.name}", which is neither a parameter nor defined in the kernel`,
      );
    }
    if (e.kind === "Let") defined.add(e.var);
    if (e.kind === "BufferLoad" && !storage.has(e.buffer.data)) {
      throw new Error(
        `Kernel "${name}" reads buffer "${e.buffer.name}", which is not a parameter or allocation`,
      );
    }
  };
  const checkView = (b: Buffer) => {
    const s = storage.get(b.data);
    if (!s) {
      throw new Error(
        `Kernel "${name}" uses buffer "${b.name}", which is not a parameter or allocation`,
      );
    }
    const t = scalarOf(name, b.dtype, `buffer "${b.name}"`);
    if (t !== s.dtype) {
      throw new Error(
        `Kernel "${name}": buffer "${b.name}" views "${s.name}" as ${t}, but it holds ${s.dtype}`,
      );
    }
  };
  visitStmt(f.body, {
    stmt: (s) => {
      switch (s.kind) {
        case "SBlock":
        case "SBlockRealize": {
          const b = s.kind === "SBlock" ? s : s.block;
          throw new Error(
            `Kernel "${name}" still contains block "${b.name}": lower it before code generation`,
          );
        }
        case "For":
          defined.add(s.loopVar);
          break;
        case "LetStmt":
          defined.add(s.var);
          break;
        case "AllocBuffer": {
          const b = s.buffer;
          if (b.scope === "uniform") {
            throw new Error(
              `Kernel "${name}": cannot allocate buffer "${b.name}" in scope "${b.scope}"`,
            );
          }
          const dtype = scalarOf(name, b.dtype, `buffer "${b.name}"`);
          const size = elementCount(b);
          const kind = b.scope === "local" || b.scope === "global" ? b.scope : "shared";
          storage.set(b.data, { kind, name: b.name, dtype, binding: -1, size, written: false });
          break;
        }
        case "DeclBuffer":
          checkView(s.buffer);
          break;
        case "BufferStore":
          checkView(s.buffer);
          written.add(s.buffer.data);
          break;
        default:
          break;
      }
    },
    expr: exprCheck,
  });
  for (const [data, s] of storage) {
    if (written.has(data)) storage.set(data, { ...s, written: true });
  }

  const params: KernelParam[] = [];
  for (const p of f.params) {
    const b = f.bufferMap.get(p);
    if (b) {
      const s = storage.get(b.data)!;
      params.push({
        kind: "buffer",
        name: b.name,
        dtype: s.dtype,
        shape: b.shape.map((d) =>
          toKernelExpr(d, varNames, { what: `Kernel "${name}": shape of "${b.name}"` })
        ),
        binding: s.binding,
        readOnly: !s.written,
      });
    } else {
      params.push({
        kind: "scalar",
        name: p.name,
        dtype: p.dtype as ScalarDType,
        var: vars.indexOf(p),
      });
    }
  }
  return {
    name,
    func: f,
    storage,
    buffers,
    vars,
    varNames,
    params,
    ...collectLoops(f.body),
    nonNegVars: nonNeg,
  };
}

/**
 * The workgroup size: per axis, the largest extent of the loops bound to `threadIdx`. Extents
 * must be constants within the target's limits; a barrier under a loop narrower than the
 * workgroup (which not every thread would reach) is rejected.
 */
export function workgroupSize(info: KernelInfo, target: Target): [number, number, number] {
  const size: [number, number, number] = [1, 1, 1];
  for (const t of info.threadLoops) {
    const { loop } = t;
    if (loop.extent.kind !== "IntImm" || loop.min.kind !== "IntImm") {
      throw new Error(
        `Kernel "${info.name}": loop "${loop.loopVar.name}" bound to ${loop.threadTag} has a non-constant extent; thread extents must be constants`,
      );
    }
    size[t.dim] = Math.max(size[t.dim]!, loop.extent.value);
  }
  for (let d = 0; d < 3; d++) {
    const lim = target.maxThreadsPerDim[d]!;
    if (size[d]! > lim) {
      throw new Error(
        `Kernel "${info.name}" uses ${size[d]} threads in ${AXES[d]} but the device allows ${lim}`,
      );
    }
  }
  const total = size[0] * size[1] * size[2];
  if (total > target.maxThreadsPerBlock) {
    throw new Error(
      `Kernel "${info.name}" uses ${total} threads per workgroup but the device allows ${target.maxThreadsPerBlock}`,
    );
  }
  for (const t of info.threadLoops) {
    if (t.hasBarrier && constValue(t.loop.extent) !== size[t.dim]) {
      throw new Error(
        `Kernel "${info.name}": loop "${t.loop.loopVar.name}" (${t.loop.threadTag}, extent ${
          constValue(t.loop.extent)
        }) is narrower than the workgroup (${size[t.dim]}) and contains a barrier`,
      );
    }
  }
  return size;
}

function constValue(e: PrimExpr): number | undefined {
  return e.kind === "IntImm" ? e.value : undefined;
}

/**
 * The grid per axis as kernel expressions (the largest extent of the loops bound to
 * `blockIdx`), whether each block loop needs a bounds guard, and which spare axis takes each
 * axis' overflow past `maxGridDim`.
 */
export function gridLayout(info: KernelInfo, target: Target): {
  grid: [KernelExpr, KernelExpr, KernelExpr];
  fold: [number, number, number];
  guarded: Set<For>;
} {
  const grid: [KernelExpr, KernelExpr, KernelExpr] = [1, 1, 1];
  const perDim: KernelExpr[][] = [[], [], []];
  for (const b of info.blockLoops) {
    const ext = toKernelExpr(
      b.loop.extent,
      info.varNames,
      { what: `Kernel "${info.name}": extent of ${b.loop.threadTag}` },
    );
    const min = toKernelExpr(
      b.loop.min,
      info.varNames,
      { what: `Kernel "${info.name}": start of ${b.loop.threadTag}` },
    );
    if (min !== 0) {
      throw new Error(
        `Kernel "${info.name}": loop "${b.loop.loopVar.name}" bound to ${b.loop.threadTag} must start at 0`,
      );
    }
    const key = JSON.stringify(ext);
    if (!perDim[b.dim]!.some((e) => JSON.stringify(e) === key)) perDim[b.dim]!.push(ext);
  }
  const used = perDim.map((xs) => xs.length > 0);
  const fold: [number, number, number] = [-1, -1, -1];
  const mayOverflow = (xs: KernelExpr[]) =>
    xs.some((e) => typeof e !== "number" || e > target.maxGridDim);
  const spare = [0, 1, 2].filter((d) => !used[d]);
  for (let d = 0; d < 3; d++) {
    const xs = perDim[d]!;
    if (xs.length === 0) continue;
    grid[d] = xs.slice(1).reduce<KernelExpr>((acc, e) => ["max", acc, e], xs[0]!);
    if (mayOverflow(xs) && spare.length > 0) fold[d] = spare.shift()!;
  }
  const guarded = new Set<For>();
  for (const b of info.blockLoops) {
    if (perDim[b.dim]!.length > 1 || fold[b.dim]! >= 0) guarded.add(b.loop);
  }
  return { grid, fold, guarded };
}

/** Loops bound to thread and block axes under `s`, and whether `s` has a barrier. */
function collectLoops(s: Stmt): Pick<KernelInfo, "threadLoops" | "blockLoops" | "hasBarrier"> {
  const threadLoops: ThreadLoop[] = [];
  const blockLoops: ThreadLoop[] = [];
  let hasBarrier = false;
  visitStmt(s, {
    stmt: (x) => {
      if (isBarrier(x)) hasBarrier = true;
      if (x.kind !== "For" || x.forKind !== "thread_binding" || !x.threadTag) return;
      if (x.threadTag.startsWith("vthread")) return;
      const t = { loop: x, dim: axisOf(x.threadTag), hasBarrier: containsBarrier(x.body) };
      (x.threadTag.startsWith("threadIdx") ? threadLoops : blockLoops).push(t);
    },
  });
  return { threadLoops, blockLoops, hasBarrier };
}

/** The facts of `info` restricted to the statement `s` (one stage of the kernel). */
export function stageInfo(info: KernelInfo, s: Stmt): KernelInfo {
  return { ...info, ...collectLoops(s) };
}

/**
 * Splits a kernel into stages, one per top-level thread-bound loop nest, as WebGPU runs them:
 * separate dispatches, so that a nest sees everything the previous one wrote. Global
 * allocations at the top become workspaces; views, lets, asserts and local or shared
 * allocations around the nests are repeated in every stage.
 */
export function splitStages(info: KernelInfo): { workspaces: Var[]; stages: Stmt[] } {
  const workspaces: Var[] = [];
  const stages: Stmt[] = [];
  const k = `Kernel "${info.name}"`;
  const walk = (s: Stmt, wrap: (x: Stmt) => Stmt): void => {
    switch (s.kind) {
      case "SeqStmt":
        for (const x of s.seq) walk(x, wrap);
        return;
      case "AllocBuffer":
        if (s.buffer.scope === "global") {
          workspaces.push(s.buffer.data);
          return walk(s.body, wrap);
        }
        return walk(s.body, (x) => wrap({ ...s, body: x }));
      case "DeclBuffer":
      case "LetStmt":
      case "AssertStmt":
        return walk(s.body, (x) => wrap({ ...s, body: x }));
      case "Evaluate":
        if (s.value.kind === "IntImm" || s.value.kind === "FloatImm") return;
        break;
      default:
        break;
    }
    const loops = collectLoops(s);
    if (loops.threadLoops.length === 0 && loops.blockLoops.length === 0) {
      throw new Error(
        `${k} has code outside thread-bound loops: schedule it (e.g. with the Fallback rule) before generating WGSL`,
      );
    }
    visitStmt(s, {
      stmt: (x) => {
        if (x.kind === "AllocBuffer" && x.buffer.scope === "global") {
          throw new Error(
            `${k}: global buffer "${x.buffer.name}" must be allocated outside thread-bound loops`,
          );
        }
      },
    });
    stages.push(wrap(s));
  };
  walk(info.func.body, (x) => x);
  return { workspaces, stages };
}
