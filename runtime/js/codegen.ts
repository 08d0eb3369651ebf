/**
 * JavaScript code generation from lowered TIR, for running kernels on the CPU over typed arrays.
 *
 * Vector code (from `VectorizeLoop`) runs lane by lane (`scalarizeVectors`). Thread-binding loops
 * become ordinary nested loops. A kernel that synchronizes threads
 * (`T.tvm_storage_sync`) cannot run thread by thread, so its workgroup is emulated: the code
 * between barriers runs for every thread before the code after them ("phases"), per-thread
 * variables and local arrays are kept in arrays indexed by the thread, and loops and branches
 * that contain barriers must be uniform across threads (as on a GPU).
 *
 * The generated source is the body of a factory: `new Function(source)()` returns the kernel
 * `(bufs: TypedArray[], vals: number[]) => void`. Compiling it evaluates generated code, so only
 * compile kernels you generated or trust.
 *
 * @module
 */

import type { ScalarDType } from "../../ir/dtype.ts";
import { add, type PrimExpr, type Var } from "../../ir/expr.ts";
import type { PrimFunc } from "../../ir/tir/prim_func.ts";
import type { For, Stmt } from "../../ir/tir/stmt.ts";
import { visitPrimExpr } from "../../ir/visit.ts";
import type { Target } from "../../transform/target.ts";
import { scalarizeVectors } from "../../transform/tir/scalarize_vectors.ts";
import type { CompiledKernel } from "../kernel_abi.ts";
import {
  analyzeKernel,
  containsBarrier,
  isBarrier,
  type KernelInfo,
  type StorageInfo,
  workgroupSize,
} from "../kernel_analysis.ts";
import { flatIndex, isNonNegative, NameTable } from "../codegen_util.ts";
import { emitJsExpr, JS_RESERVED, type JsExprContext, jsHelperText } from "./_js_expr.ts";

/** Options of {@link generateJs}. */
export interface JsOptions {
  /** The kernel's name (default: the `global_symbol` attribute, else `"kernel"`). */
  readonly name?: string;
}

const ARRAY_TYPES: { readonly [K in ScalarDType]: string } = {
  bool: "Uint8Array",
  int8: "Int8Array",
  int16: "Int16Array",
  int32: "Int32Array",
  int64: "Float64Array",
  uint8: "Uint8Array",
  uint16: "Uint16Array",
  uint32: "Uint32Array",
  float16: "Float16Array",
  float32: "Float32Array",
  float64: "Float64Array",
};

interface Mem {
  readonly name: string;
  readonly info: StorageInfo;
  readonly offset: string;
}

class JsGen implements JsExprContext {
  readonly kernel: string;
  readonly helpers = new Set<string>();
  readonly nonNeg: Set<Var>;
  readonly names = new NameTable(JS_RESERVED);
  readonly lines: string[] = [];
  readonly hoisted: string[] = [];
  readonly vars = new Map<Var, string>();
  readonly interfaceNames = new Map<Var, string>();
  readonly mem = new Map<Var, Mem>();
  /** Inside a phase of a workgroup emulation: thread loops bind the current thread. */
  inPhase = false;
  /** Threads per workgroup when emulating one. */
  nt = 1;
  wg: readonly [number, number, number] = [1, 1, 1];
  readonly threadVars = new Set<Var>();
  /** Thread-index bindings every phase in the current scope starts with. */
  readonly phaseBindings: string[] = [];
  #indent = 1;

  constructor(readonly info: KernelInfo) {
    this.kernel = info.name;
    this.nonNeg = new Set(info.nonNegVars);
  }

  fresh(hint: string): string {
    return this.names.fresh(hint);
  }

  varCode(v: Var): string | undefined {
    const local = this.vars.get(v);
    if (local !== undefined) return local;
    if (!this.info.varNames.has(v)) return undefined;
    let n = this.interfaceNames.get(v);
    if (n === undefined) {
      n = this.names.fresh(this.info.varNames.get(v)!);
      this.interfaceNames.set(v, n);
    }
    return n;
  }

  storage(data: Var): Mem {
    const s = this.mem.get(data);
    if (!s) {
      throw new Error(`Kernel "${this.kernel}" uses memory "${data.name}" outside its allocation`);
    }
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
    return emitJsExpr(this, e);
  }

  bind(v: Var, hint = v.name): string {
    const n = this.names.fresh(hint);
    this.vars.set(v, n);
    return n;
  }

  /** The JS expression for thread index `dim` of the current thread `_t`. */
  threadIndex(dim: number): string {
    const [x, y] = this.wg;
    if (dim === 0) return x === this.nt ? "_t" : `(_t % ${x})`;
    if (dim === 1) return `(((_t / ${x}) | 0) % ${y})`;
    return `((_t / ${x * y}) | 0)`;
  }

  alloc(data: Var, perThread: boolean): void {
    const info = this.info.storage.get(data)!;
    const size = info.size!;
    const name = this.names.fresh(info.name);
    const type = ARRAY_TYPES[info.dtype];
    if (perThread && info.kind === "local") {
      if (size.kind !== "IntImm") {
        throw new Error(
          `Kernel "${this.kernel}": local buffer "${info.name}" needs a constant size`,
        );
      }
      this.hoisted.push(`const ${name} = new ${type}(${size.value * this.nt});`);
      const offset = size.value === 1 ? "_t + " : `_t * ${size.value} + `;
      this.mem.set(data, { name, info, offset });
      return;
    }
    if (size.kind === "IntImm") this.hoisted.push(`const ${name} = new ${type}(${size.value});`);
    else this.line(`const ${name} = new ${type}(${this.expr(size)});`);
    this.mem.set(data, { name, info, offset: "" });
  }

  /** Emits `s` run by one thread (or by the whole kernel, when not emulating a workgroup). */
  stmt(s: Stmt): void {
    switch (s.kind) {
      case "For":
        return this.forLoop(s);
      case "SBlock":
      case "SBlockRealize":
        throw new Error(
          `Kernel "${this.kernel}" still contains a block: lower it before code generation`,
        );
      case "BufferStore": {
        const { name, info, offset } = this.storage(s.buffer.data);
        const idx = this.expr(flatIndex(s.buffer, s.indices));
        let v = this.expr(s.value);
        if (info.dtype === "int64" && info.kind === "param") v = `BigInt(${v})`;
        this.line(`${name}[${offset}${idx}] = ${v};`);
        return;
      }
      case "SeqStmt":
        for (const x of s.seq) this.stmt(x);
        return;
      case "IfThenElse":
        this.block(`if (${this.expr(s.cond)})`, () => this.stmt(s.then));
        if (s.else) {
          const els = s.else;
          this.lines.pop();
          this.block("} else", () => this.stmt(els));
        }
        return;
      case "LetStmt": {
        const value = this.expr(s.value);
        if (isNonNegative(s.value, this.nonNeg)) this.nonNeg.add(s.var);
        this.line(`const ${this.bind(s.var)} = ${value};`);
        return this.stmt(s.body);
      }
      case "Evaluate":
        if (isBarrier(s)) return;
        if (s.value.kind === "IntImm" || s.value.kind === "FloatImm") return;
        return this.line(`${this.expr(s.value)};`);
      case "AllocBuffer":
        this.alloc(s.buffer.data, false);
        return this.stmt(s.body);
      case "DeclBuffer":
        return this.stmt(s.body);
      case "AssertStmt":
        this.line(`if (!${this.expr(s.cond)}) throw new Error(${JSON.stringify(s.message)});`);
        return this.stmt(s.body);
      case "While":
        return this.block(`while (${this.expr(s.cond)})`, () => this.stmt(s.body));
      default:
        s satisfies never;
    }
  }

  forLoop(s: For): void {
    const v = s.loopVar;
    const tag = s.threadTag;
    if (this.inPhase && tag?.startsWith("threadIdx")) {
      const dim = "xyz".indexOf(tag.slice(-1));
      this.nonNeg.add(v);
      const min = s.min.kind === "IntImm" && s.min.value === 0 ? "" : ` + ${this.expr(s.min)}`;
      const n = this.bind(v);
      this.line(`const ${n} = ${this.threadIndex(dim)}${min};`);
      if (s.extent.kind === "IntImm" && s.extent.value === this.wg[dim]) return this.stmt(s.body);
      return this.block(`if (${n} < ${this.expr(add(s.min, s.extent))})`, () => this.stmt(s.body));
    }
    const min = this.expr(s.min);
    const end = this.expr(add(s.min, s.extent));
    if (isNonNegative(s.min, this.nonNeg)) this.nonNeg.add(v);
    const n = this.bind(v);
    const endName = /^[\w.]+$/.test(end) ? end : undefined;
    if (endName) {
      return this.block(`for (let ${n} = ${min}; ${n} < ${end}; ${n}++)`, () => this.stmt(s.body));
    }
    const e = this.names.fresh(`${n}_end`);
    this.block(
      `for (let ${n} = ${min}, ${e} = ${end}; ${n} < ${e}; ${n}++)`,
      () => this.stmt(s.body),
    );
  }

  /** Runs `s` for every thread of the workgroup, splitting it into phases at barriers. */
  multi(s: Stmt): void {
    if (!containsBarrier(s)) return this.phase(() => this.stmt(s));
    switch (s.kind) {
      case "SeqStmt": {
        let run: Stmt[] = [];
        const flush = () => {
          if (run.length === 0) return;
          const r = run;
          run = [];
          this.phase(() => r.forEach((x) => this.stmt(x)));
        };
        for (const x of s.seq) {
          if (!containsBarrier(x)) {
            run.push(x);
            continue;
          }
          flush();
          this.multi(x);
        }
        return flush();
      }
      case "Evaluate":
        return; // the barrier itself: phases already keep threads in step
      case "For": {
        const v = s.loopVar;
        if (s.threadTag?.startsWith("threadIdx")) {
          const dim = "xyz".indexOf(s.threadTag.slice(-1));
          this.nonNeg.add(v);
          this.threadVars.add(v);
          const min = s.min.kind === "IntImm" && s.min.value === 0 ? "" : ` + ${this.expr(s.min)}`;
          // Bound at the start of every phase inside the loop.
          const n = this.bind(v);
          this.phaseBindings.push(`const ${n} = ${this.threadIndex(dim)}${min};`);
          this.multi(s.body);
          this.phaseBindings.pop();
          return;
        }
        const min = this.uniform(s.min), end = this.uniform(add(s.min, s.extent));
        if (isNonNegative(s.min, this.nonNeg)) this.nonNeg.add(v);
        const n = this.bind(v);
        const e = this.names.fresh(`${n}_end`);
        return this.block(
          `for (let ${n} = ${min}, ${e} = ${end}; ${n} < ${e}; ${n}++)`,
          () => this.multi(s.body),
        );
      }
      case "IfThenElse":
        this.block(`if (${this.uniform(s.cond)})`, () => this.multi(s.then));
        if (s.else) {
          const els = s.else;
          this.lines.pop();
          this.block("} else", () => this.multi(els));
        }
        return;
      case "LetStmt": {
        const n = this.names.fresh(s.var.name);
        this.hoisted.push(`const ${n} = new Array(${this.nt});`);
        const value = s.value;
        this.phase(() => this.line(`${n}[_t] = ${this.expr(value)};`));
        if (isNonNegative(s.value, this.nonNeg)) this.nonNeg.add(s.var);
        this.vars.set(s.var, `${n}[_t]`);
        return this.multi(s.body);
      }
      case "AllocBuffer":
        this.alloc(s.buffer.data, true);
        return this.multi(s.body);
      case "DeclBuffer":
        return this.multi(s.body);
      case "AssertStmt": {
        const { cond, message } = s;
        this.phase(() =>
          this.line(`if (!${this.expr(cond)}) throw new Error(${JSON.stringify(message)});`)
        );
        return this.multi(s.body);
      }
      case "While":
        return this.block(`while (${this.uniform(s.cond)})`, () => this.multi(s.body));
      case "BufferStore":
      case "SBlock":
      case "SBlockRealize":
        return this.stmt(s);
      default:
        s satisfies never;
    }
  }

  /** An expression every thread agrees on, evaluated as thread 0 sees it. */
  uniform(e: PrimExpr): string {
    visitPrimExpr(e, (x) => {
      if (x.kind === "Var" && this.threadVars.has(x)) {
        throw new Error(
          `Kernel "${this.kernel}": a barrier sits under a loop or branch that depends on thread "${x.name}"`,
        );
      }
    });
    return this.expr(e);
  }

  phase(body: () => void): void {
    this.inPhase = true;
    this.block(`for (_t = 0; _t < ${this.nt}; _t++)`, () => {
      for (const b of this.phaseBindings) this.line(b);
      body();
    });
    this.line("_t = 0;");
    this.inPhase = false;
  }
}

/**
 * Generates JavaScript for a lowered PrimFunc: the body of a factory returning
 * `(bufs, vals) => void`, where `bufs` holds the parameter buffers' typed arrays in binding
 * order and `vals` the values of the kernel's variables.
 */
export function generateJs(
  func: PrimFunc,
  target: Target,
  options: JsOptions = {},
): CompiledKernel {
  const f = scalarizeVectors(func);
  const info = analyzeKernel(f, options);
  const g = new JsGen(info);
  let wg: [number, number, number] = [1, 1, 1];
  if (info.hasBarrier) {
    wg = workgroupSize(info, target);
    g.wg = wg;
    g.nt = wg[0] * wg[1] * wg[2];
  }
  const bindings: string[] = [];
  for (const { buffer } of info.buffers) {
    const s = info.storage.get(buffer.data)!;
    const name = g.names.fresh(s.name);
    g.mem.set(buffer.data, { name, info: s, offset: "" });
    const src = `bufs[${s.binding}]`;
    bindings.push(
      s.dtype === "float16"
        ? `const ${name} = new Float16Array(${src}.buffer, ${src}.byteOffset, ${src}.length);`
        : `const ${name} = ${src};`,
    );
  }
  if (info.hasBarrier) g.multi(f.body);
  else g.stmt(f.body);

  const prologue: string[] = [];
  info.vars.forEach((v, i) => {
    const n = g.interfaceNames.get(v);
    if (n !== undefined) {
      prologue.push(`const ${n} = ${v.dtype === "bool" ? `vals[${i}] !== 0` : `vals[${i}]`};`);
    }
  });
  const out: string[] = [`// Kernel "${info.name}", generated by tvmts.`, `"use strict";`];
  for (const h of jsHelperText(g.helpers)) out.push(h);
  out.push("return function (bufs, vals) {");
  for (const l of [...bindings, ...prologue, ...g.hoisted]) out.push(`  ${l}`);
  if (info.hasBarrier) out.push("  let _t = 0;");
  out.push(...g.lines, "};", "");
  return {
    name: info.name,
    target: "js",
    source: out.join("\n"),
    params: info.params,
    vars: info.vars.map((v) => ({ name: info.varNames.get(v)!, dtype: v.dtype as ScalarDType })),
    workspaces: [],
    stages: [],
    maxGridDim: target.maxGridDim,
  };
}
