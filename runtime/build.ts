/**
 * `build`: compiles an IRModule into an {@link Executable} through a flat, editable list of
 * passes, then generates a kernel per PrimFunc and bytecode per Relax function.
 *
 * ```ts
 * const exec = build(mod, { target: "webgpu" });
 * const vm = new VirtualMachine(exec, await webgpu());
 * const y = await vm.run("main", x);
 * ```
 *
 * The default pipeline ({@link defaultPipeline}) is:
 *
 * 1. `LegalizeOps`: high-level operators become `call_tir`s of te-made PrimFuncs;
 * 2. `ApplyDefaultSchedule(Matmul, GEMV, Reduction, GeneralReduction, Transpose, Fallback)`:
 *    every PrimFunc without thread bindings gets a GPU schedule from the first rule that applies
 *    (the `js` target runs the same schedules serially);
 * 3. `LowerTIR`: blocks and multi-dimensional buffers are lowered to flat TIR;
 * 4. `ToNonDataflow`, `CallTIRRewrite` (explicit output allocation), `StaticPlanBlockMemory`
 *    (storage reuse), `VMShapeLower` (symbolic shape checks and computation).
 *
 * Pass `pipeline` to replace it (e.g. `[...defaultPipeline(), myPass]`), and `instruments` to
 * time, print or validate each pass. A module may enter at any stage: a PrimFunc-only module
 * builds to an executable whose PrimFuncs `vm.run(name, ...tensors)` calls in
 * destination-passing style.
 *
 * @module
 */

import type { IRModule } from "../ir/module.ts";
import { Fallback } from "../transform/dlight/fallback.ts";
import { GEMV } from "../transform/dlight/gemv.ts";
import { GeneralReduction } from "../transform/dlight/general_reduction.ts";
import { Matmul } from "../transform/dlight/matmul.ts";
import { Reduction } from "../transform/dlight/reduction.ts";
import { Transpose } from "../transform/dlight/transpose.ts";
import { applyDefaultSchedule } from "../transform/dlight/apply_default_schedule.ts";
import { type Pass, PassContext, type PassInstrument, runPass } from "../transform/pass.ts";
import { callTIRRewrite } from "../transform/relax/call_tir_rewrite.ts";
import { legalizeOps } from "../transform/relax/legalize_ops.ts";
import { staticPlanBlockMemory } from "../transform/relax/static_plan_block_memory.ts";
import { toNonDataflow } from "../transform/relax/to_non_dataflow.ts";
import { vmShapeLower } from "../transform/relax/vm_shape_lower.ts";
import { makeTarget, type Target, type TargetKind } from "../transform/target.ts";
import { lowerTIRPipeline } from "../transform/tir/pipeline.ts";
import type { Device } from "./device.ts";
import { compileKernel } from "./kernel.ts";
import type { CompiledKernel } from "./kernel_abi.ts";
import { codegenVM } from "./vm/codegen.ts";
import { cpuConstantEvaluator } from "./constant_evaluator.ts";
import { CONSTANT_EVALUATOR_CONFIG } from "../transform/relax/fold_constant.ts";
import { Executable } from "./vm/executable.ts";

/** Options of {@link build}. */
export interface BuildOptions {
  /**
   * What to compile for: `"webgpu"` (WGSL), `"js"` (JavaScript for the CPU device), or a
   * {@link Target} with explicit limits. Defaults to the device's target when `device` is
   * given, else `"webgpu"` with WebGPU's default limits.
   */
  readonly target?: TargetKind | Target;
  /** A device whose real limits (threads, shared memory, f16) the target should use. */
  readonly device?: Device;
  /** The passes to run instead of {@link defaultPipeline}'s. */
  readonly pipeline?: readonly Pass[];
  /** Instruments observing every pass (timing, printing, `wellFormed` checks). */
  readonly instruments?: readonly PassInstrument[];
}

/**
 * The default build pipeline, as a flat list of passes (see the module documentation). The
 * target reaches the passes through the pass context's config (`"target"`), which `build` sets.
 */
export function defaultPipeline(): Pass[] {
  return [
    legalizeOps(),
    applyDefaultSchedule(
      new Matmul(),
      new GEMV(),
      new Reduction(),
      new GeneralReduction(),
      new Transpose(),
      new Fallback(),
    ),
    lowerTIRPipeline(),
    toNonDataflow,
    callTIRRewrite,
    staticPlanBlockMemory,
    vmShapeLower,
  ];
}

/** The target `options` describe. */
export function resolveTarget(options: BuildOptions = {}): Target {
  const t = options.target;
  if (options.device) {
    const dt = options.device.target;
    if (t !== undefined && (typeof t === "string" ? t : t.kind) !== dt.kind) {
      throw new Error(
        `build: target ${
          typeof t === "string" ? t : t.kind
        } does not match the device's (${dt.kind})`,
      );
    }
    return typeof t === "object" ? t : dt;
  }
  if (t === undefined) return makeTarget("webgpu");
  if (typeof t === "object") return t;
  if (t !== "webgpu" && t !== "js") {
    throw new Error(`build: unknown target "${t}" (expected "webgpu" or "js")`);
  }
  return makeTarget(t);
}

/**
 * Compiles `mod` for a target: runs the pipeline, generates a kernel for every PrimFunc and
 * bytecode for every Relax function. Throws naming the function when something cannot be
 * compiled (an operator left unlegalized, a kernel the target cannot run).
 */
export function build(mod: IRModule, options: BuildOptions = {}): Executable {
  const target = resolveTarget(options);
  const ctx = new PassContext({
    instruments: options.instruments ?? [],
    // FoldConstant (when a pipeline includes it) evaluates constant subgraphs on the CPU.
    config: { target, [CONSTANT_EVALUATOR_CONFIG]: cpuConstantEvaluator() },
  });
  let m = mod;
  for (const p of options.pipeline ?? defaultPipeline()) m = runPass(p, m, ctx);
  const kernels = new Map<string, CompiledKernel>();
  for (const [name, f] of m.functions) {
    if (f.kind !== "PrimFunc") continue;
    try {
      kernels.set(name, compileKernel(f, target, { name }));
    } catch (e) {
      throw new Error(`Cannot build PrimFunc "${name}": ${(e as Error).message}`);
    }
  }
  const code = codegenVM(m);
  return new Executable({ target: target.kind, ...code, kernels });
}
