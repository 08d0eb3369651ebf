/**
 * Runs legalized Relax functions for the operator tests: a tiny Relax evaluator (bindings,
 * tuples, shapes, `call_tir`) over the block-form TIR interpreter, plus float64 comparison
 * helpers. {@link runKernel} is the one place that executes a PrimFunc, so the tests can later run
 * on the real targets instead.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { DType } from "../../../../ir/dtype.ts";
import type { PrimExpr, Var } from "../../../../ir/expr.ts";
import type { IRModule } from "../../../../ir/module.ts";
import { BlockBuilder } from "../../../../ir/relax/block_builder.ts";
import type { AnyVar, Expr, RVar } from "../../../../ir/relax/expr.ts";
import type { StructInfo } from "../../../../ir/relax/struct_info.ts";
import type { PrimFunc } from "../../../../ir/tir/prim_func.ts";
import { visitExpr } from "../../../../ir/visit.ts";
import { legalizeOps } from "../../../../transform/relax/legalize_ops.ts";
import { build } from "../../../../runtime/build.ts";
import type { Device } from "../../../../runtime/device.ts";
import { cpu } from "../../../../runtime/js/device.ts";
import { Tensor } from "../../../../runtime/tensor.ts";
import { VirtualMachine } from "../../../../runtime/vm/interpreter/virtual_machine.ts";
import { Shape, type VMValue } from "../../../../runtime/vm/value.ts";
import { gpuDevice } from "../../../runtime/_helpers.ts";
import { printTVMScript } from "../../../../script/printer.ts";
import { type ArrayArg, fit, runPrimFunc } from "../../../_tir_interp.ts";

/** A runtime value: a tensor, a tuple, a scalar or a shape. */
export type Value = ArrayArg | Value[] | number;

/** Runs one PrimFunc on buffers (written in place) and scalars. */
export function runKernel(f: PrimFunc, args: readonly (ArrayArg | number)[]): void {
  runPrimFunc(f, args);
}

/** Evaluates an integer shape expression under the symbolic bindings `env`. */
export function evalDim(e: PrimExpr, env: ReadonlyMap<Var, number>): number {
  const ev = (x: PrimExpr) => evalDim(x, env);
  switch (e.kind) {
    case "IntImm":
    case "FloatImm":
      return e.value;
    case "Var": {
      const v = env.get(e);
      if (v === undefined) throw new Error(`Unbound symbolic variable "${e.name}"`);
      return v;
    }
    case "Add":
      return ev(e.a) + ev(e.b);
    case "Sub":
      return ev(e.a) - ev(e.b);
    case "Mul":
      return ev(e.a) * ev(e.b);
    case "FloorDiv":
      return Math.floor(ev(e.a) / ev(e.b));
    case "FloorMod":
      return ev(e.a) - Math.floor(ev(e.a) / ev(e.b)) * ev(e.b);
    case "Div":
      return Math.trunc(ev(e.a) / ev(e.b));
    case "Min":
      return Math.min(ev(e.a), ev(e.b));
    case "Max":
      return Math.max(ev(e.a), ev(e.b));
    case "Cast":
      return fit(e.dtype, ev(e.value));
    default:
      throw new Error(`Cannot evaluate a ${e.kind} in a shape`);
  }
}

function bindSInfo(s: StructInfo, v: Value, env: Map<Var, number>): void {
  if (s.kind === "TensorStructInfo" && s.shape && typeof v === "object" && !Array.isArray(v)) {
    s.shape.forEach((d, i) => {
      if (d.kind === "Var" && !env.has(d)) env.set(d, v.shape[i]!);
    });
  } else if (s.kind === "TupleStructInfo" && Array.isArray(v)) {
    s.fields.forEach((f, i) => bindSInfo(f, v[i]!, env));
  } else if (s.kind === "ShapeStructInfo" && s.values && Array.isArray(v)) {
    s.values.forEach((d, i) => {
      if (d.kind === "Var" && !env.has(d)) env.set(d, v[i] as number);
    });
  }
}

function alloc(s: StructInfo, env: ReadonlyMap<Var, number>): ArrayArg {
  if (s.kind !== "TensorStructInfo" || !s.shape) {
    throw new Error("call_tir output must be a tensor");
  }
  const shape = s.shape.map((d) => evalDim(d, env));
  return { shape, data: new Array(shape.reduce((a, b) => a * b, 1)).fill(NaN) };
}

/** Runs Relax function `name` of `mod` on `inputs`. */
export function runFunction(mod: IRModule, name: string, inputs: readonly Value[]): Value {
  const f = mod.functions.get(name);
  if (!f || f.kind !== "relax.Function") throw new Error(`No Relax function "${name}"`);
  const vars = new Map<AnyVar, Value>();
  const env = new Map<Var, number>();
  f.params.forEach((p, i) => {
    vars.set(p, inputs[i]!);
    bindSInfo(p.structInfo, inputs[i]!, env);
  });
  const ev = (e: Expr): Value => {
    switch (e.kind) {
      case "relax.Var":
      case "relax.DataflowVar": {
        const v = vars.get(e);
        if (v === undefined) throw new Error(`Unbound variable "${e.name}"`);
        return v;
      }
      case "relax.Constant":
        return { shape: [...e.data.shape], data: Array.from(e.data.data, Number) };
      case "relax.Tuple":
        return e.fields.map(ev);
      case "relax.TupleGetItem":
        return (ev(e.tuple) as Value[])[e.index]!;
      case "relax.PrimValue":
        return evalDim(e.value, env);
      case "relax.SeqExpr": {
        for (const b of e.blocks) {
          for (const x of b.bindings) {
            const v = ev(x.value);
            vars.set(x.var, v);
            bindSInfo(x.kind === "MatchCast" ? x.structInfo : x.var.structInfo, v, env);
          }
        }
        return ev(e.body);
      }
      case "relax.Call": {
        if (e.op.kind !== "relax.Op" || e.op.name !== "relax.call_tir") {
          throw new Error(
            `Cannot run a call of ${e.op.kind === "relax.Op" ? e.op.name : e.op.kind}`,
          );
        }
        const gv = e.args[0]!;
        const prim = gv.kind === "GlobalVar" ? mod.functions.get(gv.name) : undefined;
        if (!prim || prim.kind !== "PrimFunc") throw new Error("call_tir of a missing PrimFunc");
        const ins = (ev(e.args[1]!) as Value[]).map((x) => {
          if (typeof x === "number" || Array.isArray(x)) throw new Error("call_tir takes tensors");
          return x;
        });
        const out = e.sinfoArgs[0]!;
        const outs = out.kind === "TupleStructInfo"
          ? out.fields.map((s) => alloc(s, env))
          : [alloc(out, env)];
        const tirVars = e.args[2]?.kind === "relax.ShapeExpr"
          ? e.args[2].values.map((d) => evalDim(d, env))
          : [];
        runKernel(prim, [...ins, ...outs, ...tirVars]);
        return out.kind === "TupleStructInfo" ? outs : outs[0]!;
      }
      default:
        throw new Error(`Cannot run a ${e.kind}`);
    }
  };
  return ev(f.body);
}

/** The op calls other than call_tir left in the function `name`. */
export function remainingOps(mod: IRModule, name = "main"): string[] {
  const f = mod.functions.get(name);
  const out: string[] = [];
  if (f?.kind === "relax.Function") {
    visitExpr(f.body, (e) => {
      if (e.kind === "relax.Call" && e.op.kind === "relax.Op" && e.op.name !== "relax.call_tir") {
        out.push(e.op.name);
      }
    });
  }
  return out;
}

/** A legalized module run by the interpreter, kept to be run again on the real targets. */
interface RecordedRun {
  readonly mod: IRModule;
  readonly params: readonly RVar[];
  readonly inputs: readonly Value[];
  readonly output: Value;
}

const recorded: RecordedRun[] = [];

/**
 * Builds `main(params)` returning `body(...)`, legalizes it (checking nothing but call_tir is
 * left) and runs it on `inputs` with the reference interpreter. The run is recorded:
 * {@link testOnTargets} runs every recorded module again through `build` and the VM on the JS
 * and WebGPU targets.
 */
export function legalizeAndRun(
  params: readonly RVar[],
  body: () => Expr,
  inputs: readonly Value[],
): Value {
  const bb = new BlockBuilder();
  bb.function("main", params, () => bb.dataflow(() => bb.emitOutput(body())));
  const mod = legalizeOps()(bb.get());
  assert.deepEqual(remainingOps(mod), [], "legalization left operator calls");
  const output = runFunction(mod, "main", inputs);
  recorded.push({ mod, params, inputs, output });
  return output;
}

const gpu = await gpuDevice();

function toTensor(v: Value, s: StructInfo, device: Device): VMValue {
  if (typeof v === "number") return v;
  if (s.kind === "ShapeStructInfo" && Array.isArray(v)) return new Shape(v as number[]);
  if (Array.isArray(v)) {
    const fields = s.kind === "TupleStructInfo" ? s.fields : [];
    return v.map((x, i) => toTensor(x, fields[i]!, device));
  }
  const dtype = s.kind === "TensorStructInfo" && s.dtype !== "void" ? s.dtype : "float32";
  return Tensor.from(v.data.map((x) => (dtype === "bool" ? x !== 0 : x)) as number[] & boolean[], [
    ...v.shape,
  ], {
    dtype: dtype as Tensor["dtype"],
    device,
  });
}

async function fromTensor(v: VMValue | undefined): Promise<Value> {
  if (v instanceof Tensor) {
    const data = Array.from(await v.toArray(), Number);
    return { shape: [...v.shape], data };
  }
  if (Array.isArray(v)) return Promise.all((v as VMValue[]).map(fromTensor));
  if (typeof v === "number") return v;
  throw new Error(`Unexpected VM result ${String(v)}`);
}

function assertSameValue(got: Value, want: Value, where: string): void {
  if (Array.isArray(want)) {
    assert.ok(Array.isArray(got), `${where}: expected a tuple`);
    want.forEach((w, i) => assertSameValue((got as Value[])[i]!, w, `${where}[${i}]`));
    return;
  }
  if (typeof want === "number") {
    assert.equal(got, want, where);
    return;
  }
  assert.ok(typeof got === "object" && !Array.isArray(got), `${where}: expected a tensor`);
  assert.deepEqual(got.shape, [...want.shape], `${where}: shape`);
  let num = 0, den = 0;
  want.data.forEach((w, i) => {
    const g = got.data[i]!;
    if (Number.isNaN(w)) {
      assert.ok(Number.isNaN(g), `${where}: element ${i}: expected NaN, got ${g}`);
      return;
    }
    num = Math.max(num, Math.abs(g - w));
    den = Math.max(den, Math.abs(w));
  });
  assert.ok(num <= 1e-5 * Math.max(den, 1e-6) + 1e-7, `${where}: relative error ${num / den}`);
}

/** Why a module cannot run on WebGPU (64-bit tensors), or `undefined`. */
function webgpuBlocker(r: RecordedRun): string | undefined {
  let reason: string | undefined;
  const check = (s: StructInfo) => {
    if (s.kind === "TensorStructInfo" && (s.dtype === "int64" || s.dtype === "float64")) {
      reason = `${s.dtype} tensors (WGSL has no 64-bit types)`;
    } else if (s.kind === "TupleStructInfo") s.fields.forEach(check);
  };
  r.params.forEach((p) => check(p.structInfo));
  const main = r.mod.functions.get("main");
  if (main?.kind === "relax.Function") {
    check(main.retStructInfo);
    visitExpr(main.body, (e) => void (e.kind === "relax.Call" && e.sinfoArgs.forEach(check)));
  }
  return reason;
}

/**
 * Registers one test per target that runs every module this file legalized so far through
 * `build` and the VM, and compares with the reference interpreter's output (which the op tests
 * compared with float64 references). Call it at the end of an op test file.
 */
export function testOnTargets(label: string): void {
  let cases: RecordedRun[] | undefined;
  const take = () => (cases ??= recorded.splice(0));
  for (const [target, device] of [["js", cpu()], ["webgpu", gpu]] as const) {
    Deno.test({
      name: `${label}: every legalized op runs on the ${target} target like the reference`,
      ignore: !device,
      fn: async () => {
        let skipped = 0;
        for (const r of take()) {
          if (target === "webgpu" && webgpuBlocker(r)) {
            skipped++;
            continue;
          }
          const exec = build(r.mod, { device: device! });
          const vm = new VirtualMachine(exec, device!);
          const args = r.inputs.map((v, i) => toTensor(v, r.params[i]!.structInfo, device!));
          const where = `${target}: ${
            printTVMScript(r.mod.functions.get("main")!).split("\n").find((l) =>
              l.includes("call_tir")
            ) ?? "main"
          }`;
          assertSameValue(await fromTensor(await vm.run("main", ...args)), r.output, where);
        }
        if (skipped) {
          console.log(`${label}: ${skipped} modules with 64-bit tensors skipped on WebGPU`);
        }
      },
    });
  }
  if (!gpu) {
    console.log(`${label}: no WebGPU adapter (requestAdapter() gave none); WebGPU runs skipped`);
  }
}

/** Deterministic pseudo-random values in `[lo, hi)`, rounded to `dtype`. */
export function rand(
  shape: readonly number[],
  seed: number,
  options: { readonly lo?: number; readonly hi?: number; readonly dtype?: DType } = {},
): ArrayArg {
  const lo = options.lo ?? -1, hi = options.hi ?? 1, t = options.dtype ?? "float32";
  let s = (seed * 2654435761) >>> 0;
  const n = shape.reduce((a, b) => a * b, 1);
  const data: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = s / 2 ** 32;
    let v = fit(t, lo + (hi - lo) * u);
    if (v === 0 && t.startsWith("float")) v = fit(t, (hi - lo) / 7 + lo);
    data.push(t.startsWith("int") ? Math.floor(lo + (hi - lo) * u) : v);
  }
  return { shape: [...shape], data };
}

/** Integer tensor with values in `[lo, hi)`. */
export function randInt(shape: readonly number[], seed: number, lo: number, hi: number): ArrayArg {
  return rand(shape, seed, { lo, hi, dtype: "int64" });
}

/** Asserts that `got` is a tensor matching `want` (shape, and values within tolerance). */
export function assertClose(
  got: Value,
  want: { readonly shape: readonly number[]; readonly data: readonly number[] },
  options: { readonly rtol?: number; readonly atol?: number } = {},
): void {
  assert.ok(typeof got === "object" && !Array.isArray(got), "expected a tensor");
  assert.deepEqual(got.shape, [...want.shape], "shape");
  const rtol = options.rtol ?? 1e-5, atol = options.atol ?? 1e-6;
  want.data.forEach((w, i) => {
    const g = got.data[i]!;
    if (Number.isNaN(w)) {
      assert.ok(Number.isNaN(g), `element ${i}: expected NaN, got ${g}`);
      return;
    }
    assert.ok(
      Math.abs(g - w) <= atol + rtol * Math.abs(w),
      `element ${i}: got ${g}, expected ${w} (|diff| ${Math.abs(g - w)})`,
    );
  });
}

/** Row-major strides of `shape`. */
export function strides(shape: readonly number[]): number[] {
  const s: number[] = [];
  let n = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = n;
    n *= shape[i]!;
  }
  return s;
}

/** A float64 reference tensor of `shape` with element `f(index)`. */
export function tabulate(
  shape: readonly number[],
  f: (idx: number[]) => number,
): { shape: number[]; data: number[] } {
  const n = shape.reduce((a, b) => a * b, 1);
  const st = strides(shape);
  const data: number[] = [];
  for (let k = 0; k < n; k++) data.push(f(shape.map((d, i) => Math.floor(k / st[i]!) % d)));
  return { shape: [...shape], data };
}

/** Element of `t` at `idx`. */
export function at(t: ArrayArg, idx: readonly number[]): number {
  const st = strides(t.shape);
  let off = 0;
  idx.forEach((v, i) => (off += v * st[i]!));
  const v = t.data[off];
  if (v === undefined) throw new Error(`Index [${idx.join(", ")}] out of range`);
  return v;
}
