/**
 * WGSL code generation from lowered TIR. Each top-level thread-bound loop nest becomes a stage
 * (its own shader and dispatch; global allocations between nests become workspaces). A stage
 * has one storage binding per buffer it touches (read-only when it never writes it), the scalars
 * and symbolic shapes it reads in one uniform struct bound last, its workgroup size from the
 * constant `threadIdx` extents, `blockIdx` from the workgroup id (folded into a spare axis when
 * the grid may exceed the device's per-dimension limit), 32-bit indices, and `enable f16;` only
 * when float16 is used (which needs `shader-f16`).
 *
 * @module
 */

import { add, type PrimExpr, type Var } from "../../ir/expr.ts";
import { lanes, type ScalarDType } from "../../ir/dtype.ts";
import type { PrimFunc } from "../../ir/tir/prim_func.ts";
import type { Stmt } from "../../ir/tir/stmt.ts";
import type { Target } from "../../transform/target.ts";
import type {
  CompiledKernel,
  KernelStage,
  KernelUniform,
  KernelWorkspace,
  UniformType,
} from "../kernel_abi.ts";
import {
  analyzeKernel,
  elementCount,
  gridLayout,
  isBarrier,
  type KernelInfo,
  splitStages,
  stageInfo,
  type StorageInfo,
  toKernelExpr,
  workgroupSize,
} from "../kernel_analysis.ts";
import { flatIndex, isNonNegative, NameTable } from "../codegen_util.ts";
import { visitStmt } from "../../ir/visit.ts";
import {
  elementRef,
  emitExpr,
  helperText,
  laneIndexCodes,
  literal,
  storageElemType,
  WGSL_RESERVED,
  type WgslExprContext,
  type WgslStorage,
  wgslType,
  wgslValueType,
} from "./_wgsl_expr.ts";
import { storageWidths, wholeElementIndex } from "./_wgsl_vector.ts";

/** Options of {@link generateWgsl}. */
export interface WgslOptions {
  /** The kernel's name (default: the `global_symbol` attribute, else `"kernel"`). */
  readonly name?: string;
}

const AXES = ["x", "y", "z"] as const;

/** The longest loop marked `unrolled` or `vectorized` that is emitted unrolled. */
const MAX_UNROLL = 64;

class WgslGen implements WgslExprContext {
  readonly kernel: string;
  readonly supportsF16: boolean;
  readonly helpers = new Set<string>();
  readonly nonNeg: Set<Var>;
  usesF16 = false;
  readonly names = new NameTable(WGSL_RESERVED);
  readonly lines: string[] = [];
  readonly moduleVars: string[] = [];
  readonly vars = new Map<Var, string>();
  readonly uniformNames = new Map<Var, string>();
  readonly mem = new Map<Var, WgslStorage>();
  /** Storage declared as arrays of vectors, with their widths (see `_wgsl_vector.ts`). */
  widths = new Map<Var, number>();
  /** Storage the shader touches. */
  readonly used = new Set<Var>();
  sharedBytes = 0;
  usesWorkgroupId = false;
  usesLocalId = false;
  usesNumWorkgroups = false;
  #indent = 1;

  constructor(
    readonly info: KernelInfo,
    readonly target: Target,
    readonly wg: readonly [number, number, number],
    readonly layout: ReturnType<typeof gridLayout>,
  ) {
    this.kernel = info.name;
    this.supportsF16 = target.supportsF16;
    this.nonNeg = new Set(info.nonNegVars);
  }

  varCode(v: Var): string | undefined {
    const local = this.vars.get(v);
    if (local !== undefined) return local;
    if (!this.info.varNames.has(v)) return undefined;
    let n = this.uniformNames.get(v);
    if (n === undefined) {
      n = this.names.fresh(this.info.varNames.get(v)!);
      this.uniformNames.set(v, n);
    }
    return n;
  }

  storage(
    data: Var,
  ): WgslStorage {
    const s = this.mem.get(data);
    if (!s) {
      throw new Error(`Kernel "${this.kernel}" uses memory "${data.name}" outside its allocation`);
    }
    this.used.add(data);
    return s;
  }

  line(s: string): void {
    this.lines.push("  ".repeat(this.#indent) + s);
  }

  block(head: string, body: () => void): void {
    this.line(`${head} {`);
    this.#indent++;
    body();
    this.#indent--;
    this.line("}");
  }

  expr(e: PrimExpr): string {
    return emitExpr(this, e).c;
  }

  bind(v: Var): string {
    const n = this.names.fresh(v.name);
    this.vars.set(v, n);
    return n;
  }

  stmt(s: Stmt): void {
    switch (s.kind) {
      case "For":
        return this.forLoop(s);
      case "SBlock":
      case "SBlockRealize":
        throw new Error(
          `Kernel "${this.kernel}" still contains a block: lower it before code generation`,
        );
      case "BufferStore":
        return this.store(s);
      case "SeqStmt":
        for (const x of s.seq) this.stmt(x);
        return;
      case "IfThenElse": {
        this.block(`if (${this.expr(s.cond)})`, () => this.stmt(s.then));
        const els = s.else;
        if (els) {
          this.lines[this.lines.length - 1] += " else {";
          this.#indent++;
          this.stmt(els);
          this.#indent--;
          this.line("}");
        }
        return;
      }
      case "LetStmt": {
        const t = wgslValueType(this, s.var.dtype);
        const value = this.expr(s.value);
        if (isNonNegative(s.value, this.nonNeg)) this.nonNeg.add(s.var);
        this.line(`let ${this.bind(s.var)}: ${t} = ${value};`);
        return this.stmt(s.body);
      }
      case "Evaluate":
        if (isBarrier(s)) {
          const scope = s.value.kind === "Call" ? s.value.args[0] : undefined;
          if (scope?.kind === "StringImm" && scope.value === "global") {
            throw new Error(
              `Kernel "${this.kernel}": tvm_storage_sync("global") is not supported in WGSL`,
            );
          }
          return this.line("workgroupBarrier();");
        }
        if (s.value.kind === "IntImm" || s.value.kind === "FloatImm") return;
        return this.line(`_ = ${this.expr(s.value)};`);
      case "AllocBuffer":
        this.alloc(s.buffer.data);
        return this.stmt(s.body);
      case "DeclBuffer":
        return this.stmt(s.body);
      case "AssertStmt":
        this.line(`// assert ${this.expr(s.cond)}: ${s.message.replace(/\n/g, " ")}`);
        return this.stmt(s.body);
      case "While":
        return this.block(`while (${this.expr(s.cond)})`, () => this.stmt(s.body));
      default:
        s satisfies never;
    }
  }

  /** A store: one element, one aligned vector element, or a scatter of lanes. */
  store(s: Extract<Stmt, { kind: "BufferStore" }>): void {
    const { name, info, width } = this.storage(s.buffer.data);
    wgslValueType(this, s.value.dtype);
    const index = flatIndex(s.buffer, s.indices);
    const v = this.expr(s.value);
    const conv = (x: string) => info.dtype === "bool" ? `select(0u, 1u, ${x})` : x;
    const n = lanes(s.value.dtype);
    if (n === 1) {
      const ref = elementRef(this, name, width, emitExpr(this, index), index.dtype);
      return this.line(`${ref} = ${conv(v)};`);
    }
    const whole = wholeElementIndex(index, width);
    if (whole) return this.line(`${name}[${this.expr(whole)}] = ${v};`);
    this.block("", () => {
      const t = this.names.fresh("lanes");
      this.line(`let ${t} = ${v};`);
      laneIndexCodes(index, (x) => emitExpr(this, x)).forEach((idx, l) => {
        this.line(`${elementRef(this, name, width, idx, index.dtype)} = ${conv(`${t}[${l}]`)};`);
      });
    });
  }

  alloc(data: Var): void {
    const info = this.info.storage.get(data)!;
    const size = info.size!;
    if (size.kind !== "IntImm") {
      throw new Error(
        `Kernel "${this.kernel}": ${info.kind} buffer "${info.name}" needs a constant size`,
      );
    }
    const name = this.names.fresh(info.name);
    const width = this.widths.get(data) ?? 1;
    this.mem.set(data, { name, info, width });
    const elem = storageElemType(this, info.dtype);
    const decl = `${name}: array<${vectorOf(elem, width)}, ${size.value / width}>;`;
    if (info.kind === "local") return this.line(`var ${decl}`);
    this.sharedBytes += size.value * (elem === "f16" ? 2 : 4);
    if (this.sharedBytes > this.target.maxSharedMemoryBytes) {
      throw new Error(
        `Kernel "${this.kernel}" needs ${this.sharedBytes} bytes of workgroup memory but the device allows ${this.target.maxSharedMemoryBytes}`,
      );
    }
    this.moduleVars.push(`var<workgroup> ${decl}`);
  }

  /** Whether a loop is emitted unrolled: marked so, with a small constant range. */
  unrollable(s: Extract<Stmt, { kind: "For" }>): boolean {
    return (s.forKind === "unrolled" || s.forKind === "vectorized") && s.min.kind === "IntImm" &&
      s.extent.kind === "IntImm" && s.extent.value <= MAX_UNROLL;
  }

  /** Emits the body once per iteration, the loop variable replaced by its value. */
  unrolled(s: Extract<Stmt, { kind: "For" }>): void {
    const v = s.loopVar;
    const min = (s.min as { value: number }).value;
    const extent = (s.extent as { value: number }).value;
    if (min >= 0) this.nonNeg.add(v);
    for (let i = min; i < min + extent; i++) {
      const c = literal(this, i, v.dtype).c;
      this.vars.set(v, i < 0 ? `(${c})` : c);
      this.stmt(s.body);
    }
    this.vars.delete(v);
  }

  forLoop(s: Extract<Stmt, { kind: "For" }>): void {
    const v = s.loopVar;
    const t = wgslType(this, v.dtype);
    const tag = s.threadTag;
    if (s.forKind !== "thread_binding" || !tag || tag.startsWith("vthread")) {
      if (this.unrollable(s)) return this.unrolled(s);
      const min = this.expr(s.min);
      const end = this.expr(add(s.min, s.extent));
      if (isNonNegative(s.min, this.nonNeg)) this.nonNeg.add(v);
      const n = this.bind(v);
      return this.block(
        `for (var ${n}: ${t} = ${min}; ${n} < ${end}; ${n}++)`,
        () => this.stmt(s.body),
      );
    }
    const dim = AXES.indexOf(tag.slice(-1) as "x");
    this.nonNeg.add(v);
    let id: string;
    let guard: string | undefined;
    if (tag.startsWith("threadIdx")) {
      this.usesLocalId = true;
      id = `local_id.${AXES[dim]}`;
      if (s.extent.kind !== "IntImm" || s.extent.value !== this.wg[dim]) {
        guard = this.expr(add(s.min, s.extent));
      }
    } else {
      this.usesWorkgroupId = true;
      id = `workgroup_id.${AXES[dim]}`;
      const p = this.layout.fold[dim]!;
      if (p >= 0) {
        this.usesNumWorkgroups = true;
        id = `${id} + workgroup_id.${AXES[p]} * num_workgroups.${AXES[dim]}`;
      }
      if (this.layout.guarded.has(s)) guard = this.expr(s.extent);
    }
    const min = s.min.kind === "IntImm" && s.min.value === 0 ? "" : ` + ${this.expr(s.min)}`;
    const n = this.bind(v);
    this.line(`let ${n}: ${t} = ${t}(${id})${min};`);
    if (guard === undefined) return this.stmt(s.body);
    this.block(`if (${n} < ${guard})`, () => this.stmt(s.body));
  }
}

/** The WGSL type of `width` elements of type `elem` (`elem` itself for width 1). */
function vectorOf(elem: string, width: number): string {
  return width === 1 ? elem : `vec${width}<${elem}>`;
}

const UNIFORM_TYPES: { readonly [K in "bool" | "i32" | "u32" | "f32" | "f16"]: UniformType } = {
  bool: "u32",
  i32: "i32",
  u32: "u32",
  f32: "f32",
  f16: "f32",
};

function checkStorage(k: string, s: StorageInfo): void {
  if (s.dtype === "int64") {
    throw new Error(
      `Kernel "${k}": buffer "${s.name}" has dtype int64, but WebGPU has no 64-bit integers`,
    );
  }
  if (s.dtype === "float64") {
    throw new Error(
      `Kernel "${k}": buffer "${s.name}" has dtype float64, but WebGPU has no 64-bit floats`,
    );
  }
}

/** Data variables written under `s`. */
function writtenIn(s: Stmt): Set<Var> {
  const out = new Set<Var>();
  visitStmt(s, { stmt: (x) => void (x.kind === "BufferStore" && out.add(x.buffer.data)) });
  return out;
}

/** Generates the shader of one stage; `slots` are the kernel's buffers in slot order. */
function generateStage(
  info: KernelInfo,
  body: Stmt,
  slots: readonly Var[],
  target: Target,
  header: string,
): KernelStage {
  const k = info.name;
  const si = stageInfo(info, body);
  const wg = workgroupSize(si, target);
  const layout = gridLayout(si, target);
  const g = new WgslGen(si, target, wg, layout);
  const paramSize = new Map(info.buffers.map(({ buffer }) => [buffer.data, elementCount(buffer)]));
  g.widths = storageWidths(body, (data) => {
    const s = info.storage.get(data)!;
    return s.kind === "param" ? paramSize.get(data) : s.kind === "global" ? undefined : s.size;
  });
  for (const data of slots) {
    g.mem.set(data, {
      name: g.names.fresh(info.storage.get(data)!.name),
      info: info.storage.get(data)!,
      width: g.widths.get(data) ?? 1,
    });
  }
  g.stmt(body);

  const written = writtenIn(body);
  const bindings: number[] = [];
  const readOnly: boolean[] = [];
  const decls: string[] = [];
  slots.forEach((data, slot) => {
    if (!g.used.has(data)) return;
    const { name, info: s, width } = g.mem.get(data)!;
    const ro = !written.has(data);
    decls.push(
      `@group(0) @binding(${bindings.length}) var<storage, ${
        ro ? "read" : "read_write"
      }> ${name}: array<${vectorOf(storageElemType(g, s.dtype), width)}>;`,
    );
    bindings.push(slot);
    readOnly.push(ro);
  });
  if (bindings.length > target.maxStorageBuffers) {
    throw new Error(
      `Kernel "${k}" needs ${bindings.length} storage buffers but the device allows ${target.maxStorageBuffers}`,
    );
  }

  // Uniform struct: the interface variables the shader reads, in ABI order.
  const uniforms: KernelUniform[] = [];
  const members: string[] = [];
  const prologue: string[] = [];
  info.vars.forEach((v, i) => {
    const n = g.uniformNames.get(v);
    if (n === undefined) return;
    const t = wgslType(g, v.dtype);
    const ut = UNIFORM_TYPES[t];
    uniforms.push({ var: i, type: ut });
    members.push(`  ${n}: ${ut},`);
    const value = t === ut
      ? `params.${n}`
      : t === "bool"
      ? `params.${n} != 0u`
      : `${t}(params.${n})`;
    prologue.push(`  let ${n}: ${t} = ${value};`);
  });
  const out: string[] = [header];
  if (g.usesF16) out.push("enable f16;");
  out.push("");
  if (members.length > 0) out.push("struct Params {", ...members, "}", "");
  out.push(...decls);
  if (members.length > 0) {
    out.push(`@group(0) @binding(${bindings.length}) var<uniform> params: Params;`);
  }
  if (decls.length > 0 || members.length > 0) out.push("");
  if (g.moduleVars.length > 0) out.push(...g.moduleVars, "");
  for (const h of helperText(g.helpers)) out.push(h, "");
  const builtins: string[] = [];
  if (g.usesWorkgroupId) builtins.push("@builtin(workgroup_id) workgroup_id: vec3<u32>");
  if (g.usesLocalId) builtins.push("@builtin(local_invocation_id) local_id: vec3<u32>");
  if (g.usesNumWorkgroups) builtins.push("@builtin(num_workgroups) num_workgroups: vec3<u32>");
  out.push(`@compute @workgroup_size(${wg.join(", ")})`);
  out.push(`fn main(`, ...builtins.map((b) => `  ${b},`), `) {`);
  out.push(...prologue, ...g.lines, "}", "");
  return {
    source: out.join("\n"),
    bindings,
    readOnly,
    uniforms,
    workgroupSize: wg,
    grid: layout.grid,
    gridFold: layout.fold,
  };
}

/**
 * Generates WGSL compute shaders (entry point `main`) for a lowered PrimFunc: one stage per
 * top-level thread-bound loop nest, run as consecutive dispatches, with global allocations
 * between them as workspaces.
 *
 * @example
 * ```ts
 * const k = generateWgsl(lowered, device.target, { name: "add" });
 * console.log(k.source);
 * ```
 */
export function generateWgsl(
  f: PrimFunc,
  target: Target,
  options: WgslOptions = {},
): CompiledKernel {
  const info = analyzeKernel(f, options);
  const k = info.name;
  const { workspaces, stages } = splitStages(info);
  const slots = [...info.buffers.map((b) => b.buffer.data), ...workspaces];
  for (const data of slots) checkStorage(k, info.storage.get(data)!);
  const ws: KernelWorkspace[] = workspaces.map((data) => {
    const s = info.storage.get(data)!;
    return {
      name: s.name,
      dtype: s.dtype,
      size: toKernelExpr(s.size!, info.varNames, { what: `Kernel "${k}": size of "${s.name}"` }),
    };
  });
  const compiled = stages.map((body, i) => {
    const header = stages.length === 1
      ? `// Kernel "${k}", generated by tvmts.`
      : `// Kernel "${k}", stage ${i + 1} of ${stages.length}, generated by tvmts.`;
    return generateStage(info, body, slots, target, header);
  });
  return {
    name: k,
    target: "webgpu",
    source: compiled.map((c) => c.source).join("\n"),
    params: info.params,
    vars: info.vars.map((v) => ({ name: info.varNames.get(v)!, dtype: v.dtype as ScalarDType })),
    workspaces: ws,
    stages: compiled,
    maxGridDim: target.maxGridDim,
  };
}
