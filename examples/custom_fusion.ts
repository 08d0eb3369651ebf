/**
 * Custom fusion: a user pattern fuses two back-to-back convolutions into one composite function,
 * then the built-in pipeline (LegalizeOps, AnnotateTIROpPattern, FuseOps, FuseTIR) fuses the
 * elementwise operators after them and turns each fused function into one kernel. The fused
 * module is built and run next to the unfused one and the results compared.
 *
 * ```sh
 * deno run examples/custom_fusion.ts          # WebGPU when there is an adapter
 * deno run examples/custom_fusion.ts --cpu    # the JavaScript target
 * ```
 *
 * @module
 */

import type { IRModule } from "../ir/module.ts";
import { BlockBuilder } from "../ir/relax/block_builder.ts";
import { isOp, type Pattern, wildcard } from "../ir/relax/dpl/pattern.ts";
import * as op from "../ir/relax/op/mod.ts";
import * as R from "../ir/relax/r.ts";
import { build } from "../runtime/build.ts";
import type { Device } from "../runtime/device.ts";
import { cpu } from "../runtime/js/device.ts";
import { Tensor } from "../runtime/tensor.ts";
import { VirtualMachine } from "../runtime/vm/interpreter/virtual_machine.ts";
import { webgpu } from "../runtime/webgpu/device.ts";
import { printTVMScript } from "../script/printer.ts";
import { sequential } from "../transform/pass.ts";
import { annotateTIROpPattern } from "../transform/relax/annotate_tir_op_pattern.ts";
import { fuseOps } from "../transform/relax/fuse_ops.ts";
import { fuseOpsByPattern } from "../transform/relax/fuse_ops_by_pattern.ts";
import { fuseTIR } from "../transform/relax/fuse_tir.ts";
import { legalizeOps } from "../transform/relax/legalize_ops.ts";

/** The input shapes of {@link customFusionModule}'s `main(x, w1, w2, b)`. */
export const SHAPES = {
  x: [1, 3, 12, 12],
  w1: [8, 3, 3, 3],
  w2: [8, 8, 3, 3],
  b: [1, 8, 1, 1],
} as const;

/** `main(x, w1, w2, b) = relu(conv2d(conv2d(x, w1), w2)) + b`, both convolutions padded by 1. */
export function customFusionModule(): IRModule {
  const bb = new BlockBuilder();
  const x = R.tensor(SHAPES.x, "float32", "x");
  const w1 = R.tensor(SHAPES.w1, "float32", "w1");
  const w2 = R.tensor(SHAPES.w2, "float32", "w2");
  const b = R.tensor(SHAPES.b, "float32", "b");
  bb.function("main", { x, w1, w2, b }, () =>
    bb.dataflow(() => {
      const c1 = bb.emit(op.nn.conv2d(x, w1, { padding: [1, 1, 1, 1] }));
      const c2 = bb.emit(op.nn.conv2d(c1, w2, { padding: [1, 1, 1, 1] }));
      const r = bb.emit(op.nn.relu(c2));
      return bb.emitOutput(op.add(r, b));
    }));
  return bb.get();
}

/** The user's pattern: a conv2d whose data is another conv2d. */
export function twoConvs(): Pattern {
  const conv = isOp("relax.nn.conv2d");
  return conv(conv(wildcard(), wildcard()), wildcard());
}

/** The module at each stage of the custom fusion. */
export interface FusionStages {
  /** After `FuseOpsByPattern`: the two convolutions in one composite function. */
  readonly patternFused: IRModule;
  /** After LegalizeOps, AnnotateTIROpPattern and FuseOps: relu and add fused as well. */
  readonly fused: IRModule;
  /** After FuseTIR: one PrimFunc per fused function. */
  readonly kernels: IRModule;
}

/** Runs the custom fusion on `mod` (see the module documentation). */
export function customFusion(mod: IRModule): FusionStages {
  const patternFused = fuseOpsByPattern([{ name: "my.conv2d_conv2d", pattern: twoConvs() }])(mod);
  const fused = sequential([legalizeOps(), annotateTIROpPattern(), fuseOps()])(patternFused);
  return { patternFused, fused, kernels: fuseTIR()(fused) };
}

/** Seeded values in [-1, 1). */
function random(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 * 2 - 1;
  });
}

/** How the fused module's outputs compare with the unfused module's. */
export interface Comparison {
  /** The number of outputs compared. */
  readonly elements: number;
  /** The largest absolute difference. */
  readonly maxError: number;
}

/** Builds the original and the fused module for `device`, runs both, returns the largest difference. */
export async function compareOnDevice(
  device: Device,
  stages: FusionStages,
  original: IRModule,
): Promise<Comparison> {
  const inputs = Object.values(SHAPES).map((shape, i) => {
    const n = shape.reduce((a: number, b: number) => a * b, 1);
    return Tensor.from(random(n, 7 + i), shape, { device });
  });
  const run = async (mod: IRModule) => {
    const vm = new VirtualMachine(build(mod, { device }), device);
    const y = await vm.run("main", ...inputs) as Tensor;
    const data = await y.toArray() as Float32Array;
    y.dispose();
    return data;
  };
  const want = await run(original), got = await run(stages.kernels);
  inputs.forEach((t) => t.dispose());
  let maxError = 0;
  for (let i = 0; i < want.length; i++) maxError = Math.max(maxError, Math.abs(got[i]! - want[i]!));
  return { elements: want.length, maxError };
}

/** The example's program: prints each stage, then runs both versions on `device`. */
export async function main(
  device: Device,
  log: (line: string) => void = console.log,
): Promise<{ readonly stages: FusionStages; readonly maxError: number }> {
  const mod = customFusionModule();
  const stages = customFusion(mod);
  log("# Before\n" + printTVMScript(mod));
  log("# After FuseOpsByPattern(my.conv2d_conv2d)\n" + printTVMScript(stages.patternFused));
  const relaxOnly = [...stages.fused.functions].filter(([, f]) => f.kind === "relax.Function");
  log(
    "# After LegalizeOps + FuseOps (Relax functions)\n" +
      relaxOnly.map(([, f]) => printTVMScript(f)).join("\n\n"),
  );
  const kernels = [...stages.kernels.functions].filter(([, f]) => f.kind === "PrimFunc");
  log(`# After FuseTIR: kernels ${kernels.map(([n]) => n).join(", ")}`);
  const { elements, maxError } = await compareOnDevice(device, stages, mod);
  log(`# Fused vs unfused on ${device.kind}: ${elements} outputs, max |difference| ${maxError}`);
  return { stages, maxError };
}

if (import.meta.main) {
  const gpu = Deno.args.includes("--cpu") ? undefined : await webgpu().catch(() => undefined);
  await main(gpu ?? cpu());
}
