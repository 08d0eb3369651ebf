/**
 * Our side of the benchmark: every kernel comes out of the compiler. Each op is written in the
 * `te` DSL, scheduled by `applyDefaultSchedule` with every dlight rule the library exports,
 * lowered by `lowerTIRPipeline()`, compiled to WGSL by `compileKernel` and launched with
 * `launchKernel`; the 1000-kernel chain is one Relax function built by `build` and run by the
 * VM in one call.
 *
 * @module
 */

import type { PrimExpr } from "../ir/expr.ts";
import { irModule } from "../ir/module.ts";
import type { AnyVar } from "../ir/relax/expr.ts";
import { BlockBuilder } from "../ir/relax/block_builder.ts";
import * as op from "../ir/relax/op/mod.ts";
import * as R from "../ir/relax/r.ts";
import * as te from "../ir/te/mod.ts";
import type { PrimFunc } from "../ir/tir/prim_func.ts";
import { build } from "../runtime/build.ts";
import { type CompiledKernel, compileKernel, launchKernel } from "../runtime/kernel.ts";
import { Tensor } from "../runtime/tensor.ts";
import { VirtualMachine } from "../runtime/vm/interpreter/virtual_machine.ts";
import type { WebGPUDevice } from "../runtime/webgpu/device.ts";
import * as dlight from "../transform/dlight/mod.ts";
import type { ScheduleRule } from "../transform/dlight/rule.ts";
import { PassContext, runPass, sequential } from "../transform/pass.ts";
import { lowerTIRPipeline, verifyLowered } from "../transform/tir/mod.ts";
import { type BenchCase, LAYER_NORM_EPS } from "./_cases.ts";
import type { Framework, Runner } from "./_harness.ts";

/** Apache TVM's order of the default GPU rules; rules not listed go before `Fallback`. */
const RULE_ORDER = [
  "Matmul",
  "GEMV",
  "LowBatchGEMV",
  "Reduction",
  "GeneralReduction",
  "Transpose",
  "RMSNorm",
];

function isClass(v: unknown): v is new () => unknown {
  return typeof v === "function" && /^class\b/.test(Function.prototype.toString.call(v));
}

/**
 * Every schedule rule `transform/dlight/mod.ts` exports (each rule class constructed with its
 * default options), most specific first and `Fallback` last, so the benchmark picks up new
 * rules as they land.
 */
export function defaultScheduleRules(): ScheduleRule[] {
  const found: { name: string; rule: ScheduleRule }[] = [];
  for (const [name, value] of Object.entries(dlight)) {
    if (!isClass(value)) continue;
    let rule: unknown;
    try {
      rule = new value();
    } catch {
      continue;
    }
    const r = rule as Partial<ScheduleRule>;
    if (typeof r.apply === "function" && typeof r.name === "string") {
      found.push({ name, rule: rule as ScheduleRule });
    }
  }
  const rank = (n: string) => {
    if (n === "Fallback") return RULE_ORDER.length + 1;
    const i = RULE_ORDER.indexOf(n);
    return i < 0 ? RULE_ORDER.length : i;
  };
  return found.sort((a, b) => rank(a.name) - rank(b.name)).map((f) => f.rule);
}

/**
 * Schedules, lowers and compiles one PrimFunc for `device`, building its pipelines, the way the
 * benchmark compiles every kernel of ours.
 */
export async function compileForDevice(
  func: PrimFunc,
  device: WebGPUDevice,
  options: { readonly name?: string; readonly rules?: readonly ScheduleRule[] } = {},
): Promise<CompiledKernel> {
  const name = options.name ?? "main";
  const rules = options.rules ?? defaultScheduleRules();
  const ctx = new PassContext({ config: { target: device.target } });
  const lowered = runPass(
    sequential([dlight.applyDefaultSchedule(...rules), lowerTIRPipeline()]),
    irModule({ [name]: func }),
    ctx,
  );
  const f = lowered.functions.get(name) as PrimFunc;
  verifyLowered(f, { name });
  const kernel = compileKernel(f, device.target, { name });
  await device.prepare(kernel);
  return kernel;
}

/** The te definition of a case's kernel (inputs then the output). */
export function caseFunc(c: BenchCase): PrimFunc {
  const dt = c.dtype;
  switch (c.op) {
    case "matmul":
    case "gemv": {
      const [[m, kk], [, n]] = c.inputs as [[number, number], [number, number]];
      const A = te.placeholder([m, kk], dt, "A");
      const B = te.placeholder([kk, n], dt, "B");
      const k = te.reduceAxis([0, kk], "k");
      const C = te.compute([m, n], ([i, j]) => te.sum(A.at(i, k).mul(B.at(k, j)), [k]), {
        name: "C",
      });
      return te.createPrimFunc([A, B, C], { name: c.op });
    }
    case "softmax": {
      const [m, n] = c.inputs[0] as [number, number];
      const A = te.placeholder([m, n], dt, "A");
      const k = te.reduceAxis([0, n], "k");
      const mx = te.compute([m], ([i]) => te.max(A.at(i, k), [k]), { name: "row_max" });
      const e = te.compute([m, n], ([i, j]) => te.exp(A.at(i, j).sub(mx.at(i))), { name: "e" });
      const k2 = te.reduceAxis([0, n], "k2");
      const s = te.compute([m], ([i]) => te.sum(e.at(i, k2), [k2]), { name: "row_sum" });
      const out = te.compute([m, n], ([i, j]) => e.at(i, j).div(s.at(i)), { name: "softmax" });
      return te.createPrimFunc([A, out], { name: "softmax" });
    }
    case "layer_norm": {
      const [m, n] = c.inputs[0] as [number, number];
      const A = te.placeholder([m, n], dt, "A");
      const g = te.placeholder([n], dt, "gamma");
      const b = te.placeholder([n], dt, "beta");
      const k = te.reduceAxis([0, n], "k");
      const sum = te.compute([m], ([i]) => te.sum(A.at(i, k), [k]), { name: "row_sum" });
      const mean = (i: PrimExpr) => sum.at(i).div(n);
      const k2 = te.reduceAxis([0, n], "k2");
      const sq = te.compute([m], ([i]) => {
        const d = A.at(i, k2).sub(mean(i));
        return te.sum(d.mul(d), [k2]);
      }, { name: "sq_sum" });
      const out = te.compute([m, n], ([i, j]) => {
        const rstd = te.rsqrt(sq.at(i).div(n).add(LAYER_NORM_EPS));
        return A.at(i, j).sub(mean(i)).mul(rstd).mul(g.at(j)).add(b.at(j));
      }, { name: "layer_norm" });
      return te.createPrimFunc([A, g, b, out], { name: "layer_norm" });
    }
    case "add":
    case "chain": {
      const [n] = c.inputs[0] as [number];
      const A = te.placeholder([n], dt, "A");
      const B = te.placeholder([n], dt, "B");
      const C = te.compute([n], ([i]) => A.at(i).add(B.at(i)), { name: "C" });
      return te.createPrimFunc([A, B, C], { name: "add" });
    }
    default:
      return c.op satisfies never;
  }
}

/** Host values of a tensor as numbers (float16 bit patterns decoded). */
async function readNumbers(t: Tensor): Promise<ArrayLike<number>> {
  const data = await t.toArray();
  if (t.dtype === "float16") {
    const bits = data as Uint16Array;
    return new Float16Array(bits.buffer, bits.byteOffset, bits.length);
  }
  return data as Float32Array;
}

/** A Relax function adding `c` to `x` `length` times, built for the VM. */
function chainModule(length: number, n: number) {
  const bb = new BlockBuilder();
  const x = R.tensor([n], "float32", "x");
  const c = R.tensor([n], "float32", "c");
  bb.function("main", { x, c }, () =>
    bb.dataflow(() => {
      let y: AnyVar = x;
      for (let i = 0; i < length - 1; i++) y = bb.emit(op.add(y, c));
      return bb.emitOutput(op.add(y, c));
    }));
  return bb.get();
}

function chainRunner(
  c: BenchCase,
  device: WebGPUDevice,
  inputs: readonly Float32Array[],
): Runner {
  const exec = build(chainModule(c.chainLength!, c.inputs[0]![0]!), { device });
  const vm = new VirtualMachine(exec, device);
  const [x, a] = inputs.map((d, i) => Tensor.from(d, c.inputs[i]!, { device }));
  let y: Tensor | undefined;
  return {
    async run() {
      const prev = y;
      y = await vm.run("main", x!, a!) as Tensor;
      prev?.dispose();
    },
    sync: () => device.sync(),
    read: () => readNumbers(y!),
    dispose() {
      for (const t of [x, a, y]) t?.dispose();
    },
  };
}

/**
 * Our framework on a WebGPU device, scheduling kernels with `options.rules` (default: all of
 * {@link defaultScheduleRules}). The chain is built by `build`, whose pipeline picks its own rules.
 */
export function ours(
  device: WebGPUDevice,
  options: { readonly rules?: readonly ScheduleRule[] } = {},
): Framework {
  const rules = options.rules ?? defaultScheduleRules();
  return {
    name: "ours",
    adapter: device.name,
    async prepare(c, inputs) {
      if (c.dtype === "float16" && !device.target.supportsF16) {
        throw new Error("the adapter has no shader-f16");
      }
      if (c.op === "chain") return chainRunner(c, device, inputs);
      const kernel = await compileForDevice(caseFunc(c), device, { name: c.id, rules });
      const ins = inputs.map((d, i) => Tensor.from(d, c.inputs[i]!, { device, dtype: c.dtype }));
      const size = c.output.reduce((a, b) => a * b, 1);
      const out = Tensor.from(new Float32Array(size).fill(NaN), c.output, {
        device,
        dtype: c.dtype,
      });
      const args = [...ins, out];
      return {
        run: () => launchKernel(kernel, args),
        sync: () => device.sync(),
        read: () => readNumbers(out),
        dispose() {
          for (const t of args) t.dispose();
        },
      };
    },
  };
}

/**
 * The rules named in `names` (by their `name`), in {@link defaultScheduleRules}' order, with
 * `Fallback` always last so every kernel gets thread bindings. Throws on an unknown name.
 */
export function selectRules(names: readonly string[]): ScheduleRule[] {
  const all = defaultScheduleRules();
  for (const n of names) {
    if (!all.some((r) => r.name === n)) {
      throw new Error(
        `Unknown schedule rule "${n}" (available: ${all.map((r) => r.name).join(", ")})`,
      );
    }
  }
  return all.filter((r) => names.includes(r.name) || r instanceof dlight.Fallback);
}
