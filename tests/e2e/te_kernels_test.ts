/**
 * The te kernel suite, end to end: te -> PrimFunc -> Fallback schedule -> TIR lowering ->
 * WGSL / JS -> run on WebGPU and on the CPU, against float64 references on random data.
 */

import assert from "node:assert/strict";
import { irModule } from "../../ir/module.ts";
import type { PrimFunc } from "../../ir/tir/prim_func.ts";
import { compileKernel, launchKernel } from "../../runtime/kernel.ts";
import type { Device } from "../../runtime/device.ts";
import { cpu } from "../../runtime/js/device.ts";
import { Tensor } from "../../runtime/tensor.ts";
import { gpuDevice } from "../runtime/_helpers.ts";
import { applyDefaultSchedule, Fallback } from "../../transform/dlight/mod.ts";
import { PassContext, runPass, sequential } from "../../transform/pass.ts";
import { lowerTIRPipeline, verifyLowered } from "../../transform/tir/mod.ts";
import { type ArgSpec, kernelCases, symbolicCase } from "./_te_kernels.ts";
import { assertStructuralEqual } from "../../ir/structural.ts";
import { parseTVMScript } from "../../script/parser/mod.ts";
import { printTVMScript } from "../../script/printer.ts";
import { makeTarget } from "../../transform/target.ts";

const gpu = await gpuDevice();
if (!gpu) {
  console.log(
    "te kernel suite: no WebGPU adapter (requestAdapter() gave none); GPU cases are skipped",
  );
}
const devices: [string, Device | undefined][] = [["js", cpu()], ["webgpu", gpu]];

/** Schedules, lowers and compiles one PrimFunc for `device`. */
function compile(f: PrimFunc, name: string, device: Device) {
  const mod = irModule({ [name]: f });
  const ctx = new PassContext({ config: { target: device.target } });
  const lowered = runPass(
    sequential([applyDefaultSchedule(new Fallback()), lowerTIRPipeline()]),
    mod,
    ctx,
  );
  const g = lowered.functions.get(name) as PrimFunc;
  verifyLowered(g, { name });
  return compileKernel(g, device.target, { name });
}

/** Random input data: uniform magnitude in [0.05, 1.05) with random sign (never zero). */
function randomInput(s: ArgSpec): Float32Array | Int32Array {
  const n = s.shape.reduce((a, b) => a * b, 1);
  if (s.dtype === "int32") {
    return Int32Array.from({ length: n }, () => Math.floor(Math.random() * (s.max ?? 4)));
  }
  return Float32Array.from({ length: n }, () => {
    const m = 0.05 + Math.random();
    return s.fill === "positive" ? m : Math.random() < 0.5 ? -m : m;
  });
}

/** Output storage pre-filled with NaN (or a sentinel for ints) to catch unwritten elements. */
function emptyOutput(s: ArgSpec): Float32Array | Int32Array {
  const n = s.shape.reduce((a, b) => a * b, 1);
  return s.dtype === "int32" ? new Int32Array(n).fill(-12345) : new Float32Array(n).fill(NaN);
}

/** Normwise relative error max|got - ref| / max|ref|; NaN anywhere gives Infinity. */
function relError(got: ArrayLike<number | bigint>, ref: Float64Array): number {
  let num = 0, den = 0;
  for (let i = 0; i < ref.length; i++) {
    const g = Number(got[i]);
    if (Number.isNaN(g)) return Infinity;
    num = Math.max(num, Math.abs(g - ref[i]!));
    den = Math.max(den, Math.abs(ref[i]!));
  }
  return den === 0 ? num : num / den;
}

const cases = kernelCases();

Deno.test("the suite has at least 25 kernels", () => {
  assert.ok(cases.length >= 25, `${cases.length} kernels`);
});

Deno.test("every kernel round-trips through TVMScript in block form, scheduled and lowered", () => {
  const ctx = new PassContext({ config: { target: makeTarget("webgpu") } });
  const schedule = applyDefaultSchedule(new Fallback());
  const lower = lowerTIRPipeline();
  for (const c of [...cases, { name: "scale_shift", func: symbolicCase().func }]) {
    const mod = irModule({ [c.name]: c.func });
    const scheduled = runPass(schedule, mod, ctx);
    const lowered = runPass(lower, scheduled, ctx);
    for (
      const [stage, m] of [["block form", mod], ["scheduled", scheduled], [
        "lowered",
        lowered,
      ]] as const
    ) {
      const text = printTVMScript(m);
      try {
        assertStructuralEqual(parseTVMScript(text), m);
        assert.equal(printTVMScript(parseTVMScript(text)), text);
      } catch (e) {
        throw new Error(
          `${c.name} (${stage}) does not round-trip: ${(e as Error).message}\n${text}`,
        );
      }
    }
  }
});

for (const [targetName, device] of devices) {
  for (const c of cases) {
    Deno.test({
      name: `te kernel ${c.name} on ${targetName} matches the float64 reference`,
      ignore: !device,
      fn: async () => {
        const k = compile(c.func, c.name, device!);
        const ins = c.inputs.map((s) => Tensor.from(randomInput(s), s.shape, { device: device! }));
        const outs = c.outputs.map((s) =>
          Tensor.from(emptyOutput(s), s.shape, { device: device! })
        );
        launchKernel(k, [...ins, ...outs]);
        const hostIns = await Promise.all(
          ins.map(async (t) => Float64Array.from(await t.toArray() as Float32Array)),
        );
        const refs = c.ref(hostIns);
        for (let o = 0; o < outs.length; o++) {
          const got = await outs[o]!.toArray();
          const err = relError(got as Float32Array, refs[o]!);
          assert.ok(err < (c.rtol ?? 1e-5), `${c.name} output ${o}: relative error ${err}`);
        }
        for (const t of [...ins, ...outs]) t.dispose();
      },
    });
  }

  Deno.test({
    name: `a kernel compiled once with a symbolic size runs with three sizes on ${targetName}`,
    ignore: !device,
    fn: async () => {
      const { func, ref } = symbolicCase();
      const k = compile(func, "scale_shift", device!);
      for (const n of [1, 37, 300]) {
        const a = Tensor.from(randomInput({ shape: [n], dtype: "float32" }), [n], {
          device: device!,
        });
        const b = Tensor.from(emptyOutput({ shape: [n], dtype: "float32" }), [n], {
          device: device!,
        });
        launchKernel(k, [a, b]);
        const want = ref(Float64Array.from(await a.toArray() as Float32Array));
        assert.ok(relError(await b.toArray() as Float32Array, want) < 1e-6, `n = ${n}`);
      }
    },
  });
}
