/**
 * The tfjs-webgpu 4.22.0 harness. tfjs is eager: every op records its dispatch when called, so
 * each call's output is computed; `sync` submits tfjs's pending commands and waits for its
 * queue. `WEBGPU_CPU_FORWARD` is turned off so small ops are not run on the CPU instead.
 *
 * @module
 */

// Peers are dev-only dependencies of bench/, pinned inline so the library's config has none.
// deno-lint-ignore no-import-prefix
import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
// deno-lint-ignore no-import-prefix
import "npm:@tensorflow/tfjs-backend-webgpu@4.22.0";
import { type BenchCase, LAYER_NORM_EPS } from "./_cases.ts";
import type { Framework, Runner } from "./_harness.ts";

/** The parts of tfjs's WebGPU backend the harness uses to wait for the GPU. */
interface WebGPUBackendLike {
  readonly device: GPUDevice;
  commandEncoder: GPUCommandEncoder | null;
  endComputePassEncoder(): void;
  submitQueue(): void;
}

function opOf(c: BenchCase): (xs: readonly tf.Tensor[]) => tf.Tensor {
  switch (c.op) {
    case "matmul":
    case "gemv":
      return ([a, b]) => tf.matMul(a!, b!);
    case "softmax":
      return ([x]) => tf.softmax(x!);
    case "layer_norm":
      // tfjs has no fused layer norm: moments + batchNorm, as tf.layers.layerNormalization.
      return ([x, g, b]) => {
        const { mean, variance } = tf.moments(x!, -1, true);
        return tf.batchNorm(x!, mean, variance, b!, g!, LAYER_NORM_EPS);
      };
    case "add":
      return ([a, b]) => tf.add(a!, b!);
    case "chain":
      return ([x, a]) => {
        let y = x!;
        for (let i = 0; i < c.chainLength!; i++) y = tf.add(y, a!);
        return y;
      };
    default:
      return c.op satisfies never;
  }
}

/** Opens tfjs's WebGPU backend and returns its framework. */
export async function tfjsWebgpu(): Promise<Framework> {
  tf.env().set("WEBGPU_CPU_FORWARD", false);
  if (!(await tf.setBackend("webgpu"))) throw new Error("tf.setBackend('webgpu') failed");
  await tf.ready();
  const backend = tf.backend() as unknown as WebGPUBackendLike;
  const device = backend.device;
  const sync = async () => {
    backend.endComputePassEncoder();
    if (backend.commandEncoder) backend.submitQueue();
    await device.queue.onSubmittedWorkDone();
  };
  return {
    name: "tfjs-webgpu 4.22.0",
    adapter: device.adapterInfo?.description,
    prepare(c, inputs): Promise<Runner> {
      if (c.dtype !== "float32") throw new Error("tfjs has no float16 tensors");
      // batchNorm wants gamma and beta of the rank of the moments: [1, n].
      const shapeOf = (i: number) =>
        c.op === "layer_norm" && i > 0 ? [1, ...c.inputs[i]!] : [...c.inputs[i]!];
      const ins = inputs.map((d, i) => tf.tensor(d, shapeOf(i), "float32"));
      // The inputs are uploaded by the first (checked, untimed) call.
      const f = opOf(c);
      let out: tf.Tensor | undefined;
      return Promise.resolve({
        run() {
          const prev = out;
          out = tf.tidy(() => f(ins));
          prev?.dispose();
        },
        sync,
        read: async () => await out!.data<"float32">(),
        dispose() {
          for (const t of [...ins, out]) t?.dispose();
        },
      });
    },
    close() {
      tf.disposeVariables();
    },
  };
}
