/**
 * The {@link ConstantEvaluator} `FoldConstant` uses: kernels compiled for the `js` target (the
 * default schedule, `LowerTIR`, JavaScript code generation, as `build` does) and run on a
 * private CPU device, synchronously, on host copies of the constants.
 *
 * `build` passes one to its passes through the pass context (`"relax.FoldConstant.evaluator"`);
 * make one yourself to run `foldConstant` outside `build`:
 *
 * ```ts
 * const folded = foldConstant({ evaluator: cpuConstantEvaluator() })(legalizeOps()(mod));
 * ```
 *
 * @module
 */

import type { ScalarDType } from "../ir/dtype.ts";
import { irModule } from "../ir/module.ts";
import type { PrimFunc } from "../ir/tir/prim_func.ts";
import { applyDefaultSchedule } from "../transform/dlight/apply_default_schedule.ts";
import { Fallback } from "../transform/dlight/fallback.ts";
import { PassContext, runPass } from "../transform/pass.ts";
import type { ConstantEvaluator, TensorSpec } from "../transform/relax/fold_constant.ts";
import { lowerTIRPipeline } from "../transform/tir/pipeline.ts";
import { CpuDevice, type CpuStorage } from "./js/device.ts";
import { compileKernel, launchKernel } from "./kernel.ts";
import type { CompiledKernel } from "./kernel_abi.ts";
import { Tensor } from "./tensor.ts";

/** Schedules, lowers and compiles a PrimFunc for `device`'s `js` target. */
function compileForCpu(func: PrimFunc, device: CpuDevice): CompiledKernel {
  const ctx = new PassContext({ config: { target: device.target } });
  let m = irModule({ kernel: func });
  m = runPass(applyDefaultSchedule(new Fallback()), m, ctx);
  m = runPass(lowerTIRPipeline(), m, ctx);
  return compileKernel(m.functions.get("kernel") as PrimFunc, device.target, {
    name: "folded",
  });
}

/**
 * A {@link ConstantEvaluator} running kernels as JavaScript on a private CPU device. Compiled
 * kernels are cached per PrimFunc object.
 */
export function cpuConstantEvaluator(): ConstantEvaluator {
  const device = new CpuDevice();
  const kernels = new WeakMap<PrimFunc, CompiledKernel>();
  return {
    callPrimFunc(func, inputs, outputs: readonly TensorSpec[], scalars) {
      let kernel = kernels.get(func);
      if (!kernel) kernels.set(func, kernel = compileForCpu(func, device));
      const ins = inputs.map((a) =>
        Tensor.from(a.data, a.shape, { device, dtype: a.dtype as ScalarDType })
      );
      const outs = outputs.map((o) =>
        Tensor.empty(o.shape, { device, dtype: o.dtype as ScalarDType })
      );
      launchKernel(kernel, [...ins, ...outs, ...scalars], { device });
      return outs.map((t, i) => ({
        dtype: outputs[i]!.dtype,
        shape: [...outputs[i]!.shape],
        data: (t.storage as CpuStorage).array,
      }));
    },
  };
}
