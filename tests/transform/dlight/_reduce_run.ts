/**
 * Runs a PrimFunc scheduled by one dlight rule on the JS and WebGPU targets and compares every
 * output with the block-form interpreter's run of the unscheduled function (float64 arithmetic,
 * float32 stores). Outputs start as NaN, so an element nobody writes fails the comparison.
 *
 * @module
 */

import assert from "node:assert/strict";
import { irModule } from "../../../ir/module.ts";
import type { PrimFunc } from "../../../ir/tir/prim_func.ts";
import type { Device } from "../../../runtime/device.ts";
import { cpu } from "../../../runtime/js/device.ts";
import { compileKernel, launchKernel } from "../../../runtime/kernel.ts";
import { Tensor } from "../../../runtime/tensor.ts";
import { gpuDevice } from "../../runtime/_helpers.ts";
import { IS_SCHEDULED } from "../../../transform/dlight/apply_default_schedule.ts";
import type { ScheduleRule } from "../../../transform/dlight/rule.ts";
import { lowerTIRPipeline, verifyLowered } from "../../../transform/tir/mod.ts";
import { paramArgs, paramShapes, randomArray, runPrimFunc } from "../../_tir_interp.ts";
import { assertAllBound } from "./_bound.ts";

const gpu = await gpuDevice();
if (!gpu) console.log("dlight numeric tests: no WebGPU adapter; the webgpu cases are skipped");

/** The targets numeric tests run on: the JS CPU device always, WebGPU when there is an adapter. */
export const devices: readonly (readonly [string, Device | undefined])[] = [
  ["js", cpu()],
  ["webgpu", gpu],
];

/** Options of {@link checkOnDevice}. */
export interface CheckOptions {
  /** Parameter indices that are outputs (filled with NaN before the run). */
  readonly outputs: readonly number[];
  /** Relative tolerance against the interpreter (default 1e-5). */
  readonly rtol?: number;
  /** Values of symbolic sizes, by variable name. */
  readonly sizes?: { readonly [name: string]: number };
  /** Makes input `i` from the random values (default: as is, in [-1, 1)). */
  readonly fill?: (i: number, x: number) => number;
}

/** Schedules `func` with `rule` for `device`'s target, lowers and verifies it. */
export function scheduleAndLower(func: PrimFunc, rule: ScheduleRule, device: Device): PrimFunc {
  const sch = rule.apply(func, device.target);
  assert.ok(sch, `the ${rule.name} rule applies`);
  assertAllBound(sch.func);
  const scheduled = { ...sch.func, attrs: { ...sch.func.attrs, [IS_SCHEDULED]: true } };
  const lowered = lowerTIRPipeline()(irModule({ main: scheduled })).functions.get("main");
  assert.ok(lowered?.kind === "PrimFunc");
  verifyLowered(lowered, { name: "main" });
  return lowered;
}

/**
 * Schedules `func` with `rule`, runs it on `device` and compares its outputs with the
 * interpreter's run of `func` on the same inputs.
 */
export async function checkOnDevice(
  func: PrimFunc,
  rule: ScheduleRule,
  device: Device,
  options: CheckOptions,
): Promise<void> {
  const lowered = scheduleAndLower(func, rule, device);
  const kernel = compileKernel(lowered, device.target, { name: "main" });
  const sizes = options.sizes ?? {};
  const shapes = paramShapes(func, sizes);
  const fill = options.fill ?? ((_i: number, x: number) => x);
  const host = shapes.map((s, i) => {
    const n = s.reduce((a, b) => a * b, 1);
    return options.outputs.includes(i)
      ? new Float64Array(n).fill(NaN)
      : randomArray(n, 11 + 7 * i).map((x) => Math.fround(fill(i, x)));
  });
  const want = host.map((h) => Array.from(h));
  runPrimFunc(func, paramArgs(func, want, sizes), { sizes });
  const tensors = host.map((h, i) => Tensor.from(new Float32Array(h), shapes[i]!, { device }));
  launchKernel(kernel, tensors);
  for (const o of options.outputs) {
    const got = await tensors[o]!.toArray() as Float32Array;
    const ref = want[o]!;
    let err = 0, scale = 0;
    for (let j = 0; j < ref.length; j++) {
      const g = got[j]!;
      assert.ok(!Number.isNaN(g), `output ${o}, element ${j} is NaN (not written?)`);
      err = Math.max(err, Math.abs(g - ref[j]!));
      scale = Math.max(scale, Math.abs(ref[j]!));
    }
    const rel = err / Math.max(scale, 1e-30);
    assert.ok(rel <= (options.rtol ?? 1e-5), `output ${o}: relative error ${rel}`);
  }
  for (const t of tensors) t.dispose();
}
