/**
 * A 3-layer MLP (784 -> 128 -> 64 -> 10, softmax) built with the BlockBuilder, with a symbolic
 * batch size and random weights, compiled once and run with batches of 1, 7 and 64: each result
 * is checked against a float64 reference and timed.
 *
 * ```sh
 * deno run examples/mlp.ts          # WebGPU when there is an adapter
 * deno run examples/mlp.ts --cpu    # the JavaScript target
 * ```
 *
 * @module
 */

import { sizeVar } from "../ir/expr.ts";
import type { IRModule } from "../ir/module.ts";
import { BlockBuilder } from "../ir/relax/block_builder.ts";
import { constantTensor } from "../ir/relax/expr.ts";
import * as op from "../ir/relax/op/mod.ts";
import * as R from "../ir/relax/r.ts";
import { build } from "../runtime/build.ts";
import type { Device } from "../runtime/device.ts";
import { cpu } from "../runtime/js/device.ts";
import { Tensor } from "../runtime/tensor.ts";
import { VirtualMachine } from "../runtime/vm/interpreter/virtual_machine.ts";
import { webgpu } from "../runtime/webgpu/device.ts";

/** Layer widths: input, hidden..., output. */
export const LAYERS = [784, 128, 64, 10] as const;

/** Seeded uniform floats in [-scale, scale). */
function random(n: number, seed: number, scale: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32 * 2 - 1) * scale;
  });
}

/** The MLP's weights: `w[i]` is (out, in) row-major, `b[i]` has `out` entries. */
export interface MlpWeights {
  /** Weight matrices, one per layer. */
  readonly w: readonly Float32Array[];
  /** Biases, one per layer. */
  readonly b: readonly Float32Array[];
}

/** Random weights (seeded), scaled like a default initialization. */
export function randomWeights(layers: readonly number[] = LAYERS, seed = 1): MlpWeights {
  const w: Float32Array[] = [], b: Float32Array[] = [];
  for (let i = 0; i + 1 < layers.length; i++) {
    const fanIn = layers[i]!, fanOut = layers[i + 1]!;
    w.push(random(fanIn * fanOut, seed + 2 * i, 1 / Math.sqrt(fanIn)));
    b.push(random(fanOut, seed + 2 * i + 1, 0.1));
  }
  return { w, b };
}

/**
 * The model: `main(x: R.Tensor((n, 784), "float32"))`, a `linear` (+ `relu` between layers) per
 * layer with the weights as constants, then `softmax` over the classes.
 */
export function mlpModule(weights: MlpWeights, layers: readonly number[] = LAYERS): IRModule {
  const n = sizeVar("n", "int64");
  const bb = new BlockBuilder();
  const x = R.tensor([n, layers[0]!], "float32", "x");
  bb.function("main", { x }, () =>
    bb.dataflow(() => {
      let h = x as ReturnType<typeof bb.emit>;
      for (let i = 0; i + 1 < layers.length; i++) {
        const [fanIn, fanOut] = [layers[i]!, layers[i + 1]!];
        const w = constantTensor({ dtype: "float32", shape: [fanOut, fanIn], data: weights.w[i]! });
        const b = constantTensor({ dtype: "float32", shape: [fanOut], data: weights.b[i]! });
        h = bb.emit(op.linear(h, w, b));
        if (i + 2 < layers.length) h = bb.emit(op.nn.relu(h));
      }
      return bb.emitOutput(op.nn.softmax(h, { axis: -1 }));
    }));
  return bb.get();
}

/** The float64 reference of {@link mlpModule} for `rows` inputs. */
export function mlpReference(
  x: Float32Array,
  rows: number,
  weights: MlpWeights,
  layers: readonly number[] = LAYERS,
): Float64Array {
  let h: Float64Array = Float64Array.from(x);
  for (let i = 0; i + 1 < layers.length; i++) {
    const [fanIn, fanOut] = [layers[i]!, layers[i + 1]!];
    const w = weights.w[i]!, b = weights.b[i]!;
    const out = new Float64Array(rows * fanOut);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < fanOut; j++) {
        let s = b[j]!;
        for (let k = 0; k < fanIn; k++) s += h[r * fanIn + k]! * w[j * fanIn + k]!;
        out[r * fanOut + j] = i + 2 < layers.length ? Math.max(0, s) : s;
      }
    }
    h = out;
  }
  const classes = layers[layers.length - 1]!;
  for (let r = 0; r < rows; r++) {
    const row = h.subarray(r * classes, (r + 1) * classes);
    const mx = Math.max(...row);
    let sum = 0;
    for (let j = 0; j < classes; j++) sum += row[j] = Math.exp(row[j]! - mx);
    for (let j = 0; j < classes; j++) row[j]! /= sum;
  }
  return h;
}

/** One batch's outcome. */
export interface BatchResult {
  /** The batch size. */
  readonly batch: number;
  /** The largest absolute difference from the float64 reference. */
  readonly maxError: number;
  /** Milliseconds per run, over back-to-back runs followed by one device sync. */
  readonly ms: number;
}

/** Options of {@link runMlp}. */
export interface RunMlpOptions {
  /** Batch sizes to run (default 1, 7, 64). */
  readonly batches?: readonly number[];
  /** Timed runs per batch (default 10). */
  readonly iterations?: number;
  /** Layer widths (default {@link LAYERS}). */
  readonly layers?: readonly number[];
}

/**
 * Builds the MLP once for `device` and runs it for each batch size, checking against the
 * reference and timing it; throws when a result differs from the reference by more than 1e-4.
 */
export async function runMlp(device: Device, options: RunMlpOptions = {}): Promise<BatchResult[]> {
  const layers = options.layers ?? LAYERS;
  const weights = randomWeights(layers);
  const exec = build(mlpModule(weights, layers), { device });
  const vm = new VirtualMachine(exec, device);
  const results: BatchResult[] = [];
  for (const batch of options.batches ?? [1, 7, 64]) {
    const data = random(batch * layers[0]!, 100 + batch, 1);
    const x = Tensor.from(data, [batch, layers[0]!], { device });
    const want = mlpReference(data, batch, weights, layers);
    const y = await vm.run("main", x) as Tensor;
    const got = await y.toArray() as Float32Array;
    y.dispose();
    let maxError = 0;
    for (let i = 0; i < want.length; i++) {
      maxError = Math.max(maxError, Math.abs(got[i]! - want[i]!));
    }
    if (!(maxError <= 1e-4) || got.length !== want.length) {
      throw new Error(
        `MLP batch ${batch}: results differ from the float64 reference by ${maxError}`,
      );
    }
    // Throughput: back-to-back runs (each one submit), then one wait for the device.
    const iterations = options.iterations ?? 10;
    const t0 = performance.now();
    for (let it = 0; it < iterations; it++) (await vm.run("main", x) as Tensor).dispose();
    await device.sync();
    const ms = (performance.now() - t0) / iterations;
    x.dispose();
    results.push({ batch, maxError, ms });
  }
  return results;
}

/** Runs the example: builds once, runs batches 1, 7 and 64, prints errors and times. */
export async function main(args: readonly string[] = []): Promise<void> {
  const gpu = args.includes("--cpu") ? undefined : await webgpu().catch(() => undefined);
  const device: Device = gpu ?? cpu();
  if (!gpu && !args.includes("--cpu")) {
    console.log("No WebGPU adapter: running on the CPU (js target)");
  }
  console.log(`MLP ${LAYERS.join(" -> ")} on ${device.name} (${device.kind})`);
  for (const r of await runMlp(device)) {
    console.log(
      `  batch ${String(r.batch).padStart(2)}: max |error| ${r.maxError.toExponential(2)}, ${
        r.ms.toFixed(2)
      } ms per run`,
    );
  }
}

if (import.meta.main) await main(Deno.args);
