/**
 * The onnxruntime-web 1.30.0 harness (`onnxruntime-web/webgpu`, the WebGPU execution provider).
 * Each case is a tiny ONNX model written by `_onnx.ts`; inputs and the output live in GPU
 * buffers on ORT's own device (the output pre-allocated and bound as a fetch), so a run does
 * no transfers. `sync` waits for ORT's queue after the awaited runs.
 *
 * @module
 */

// Peers are dev-only dependencies of bench/, pinned inline so the library's config has none.
// deno-lint-ignore no-import-prefix
import * as ort from "npm:onnxruntime-web@1.30.0/webgpu";
import { type BenchCase, LAYER_NORM_EPS } from "./_cases.ts";
import type { Framework, Runner } from "./_harness.ts";
import { encodeOnnxModel, type OnnxGraph, type OnnxNode, OnnxType } from "./_onnx.ts";

const INPUT_NAMES = ["A", "B", "C"];

/** The ONNX graph of a case: inputs `A`, `B`, `C` (as many as the case has), output `Y`. */
export function caseGraph(c: BenchCase): OnnxGraph {
  const type = c.dtype === "float32" ? OnnxType.float : OnnxType.float16;
  const inputs = c.inputs.map((shape, i) => ({ name: INPUT_NAMES[i]!, type, shape }));
  let nodes: OnnxNode[];
  switch (c.op) {
    case "matmul":
    case "gemv":
      nodes = [{ op: "MatMul", inputs: ["A", "B"], outputs: ["Y"] }];
      break;
    case "softmax":
      nodes = [{ op: "Softmax", inputs: ["A"], outputs: ["Y"], attrs: { axis: { i: -1 } } }];
      break;
    case "layer_norm":
      nodes = [{
        op: "LayerNormalization",
        inputs: ["A", "B", "C"],
        outputs: ["Y"],
        attrs: { axis: { i: -1 }, epsilon: { f: LAYER_NORM_EPS } },
      }];
      break;
    case "add":
      nodes = [{ op: "Add", inputs: ["A", "B"], outputs: ["Y"] }];
      break;
    case "chain": {
      const len = c.chainLength!;
      nodes = Array.from({ length: len }, (_, i) => ({
        op: "Add",
        inputs: [i === 0 ? "A" : `t${i - 1}`, "B"],
        outputs: [i === len - 1 ? "Y" : `t${i}`],
      }));
      break;
    }
    default:
      return c.op satisfies never;
  }
  return { name: c.id, nodes, inputs, outputs: [{ name: "Y", type, shape: c.output }] };
}

function hostData(c: BenchCase, d: Float32Array): Float32Array | Float16Array {
  return c.dtype === "float32" ? d : new Float16Array(d);
}

async function readBuffer(
  device: GPUDevice,
  buffer: GPUBuffer,
  bytes: number,
): Promise<ArrayBuffer> {
  const staging = device.createBuffer({
    size: bytes,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(buffer, 0, staging, 0, bytes);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const copy = staging.getMappedRange().slice(0);
  staging.destroy();
  return copy;
}

/** Opens ORT's WebGPU device and returns its framework. */
export async function onnxruntimeWebgpu(): Promise<Framework> {
  ort.env.logLevel = "error";
  // ORT makes its device with the first WebGPU session and destroys it with the last one: keep
  // a one-node session open until close().
  const keepAlive = await ort.InferenceSession.create(
    encodeOnnxModel({
      name: "init",
      nodes: [{ op: "Add", inputs: ["A", "A"], outputs: ["Y"] }],
      inputs: [{ name: "A", type: OnnxType.float, shape: [4] }],
      outputs: [{ name: "Y", type: OnnxType.float, shape: [4] }],
    }),
    { executionProviders: ["webgpu"] },
  );
  const device = await ort.env.webgpu.device as GPUDevice | undefined;
  if (!device) throw new Error("ORT opened no WebGPU device");
  const gpuBuffer = (data: Float32Array | Float16Array | undefined, bytes: number) => {
    const b = device.createBuffer({
      size: Math.ceil(bytes / 4) * 4,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    if (data) {
      device.queue.writeBuffer(b, 0, data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
    }
    return b;
  };
  return {
    name: "ORT-web 1.30.0",
    adapter: device.adapterInfo?.description,
    async prepare(c, inputs): Promise<Runner> {
      if (c.dtype === "float16" && !device.features.has("shader-f16")) {
        throw new Error("ORT's device has no shader-f16");
      }
      const dataType = c.dtype === "float32" ? "float32" : "float16";
      const session = await ort.InferenceSession.create(encodeOnnxModel(caseGraph(c)), {
        executionProviders: ["webgpu"],
        preferredOutputLocation: "gpu-buffer",
      });
      const buffers: GPUBuffer[] = [];
      const feeds: Record<string, ort.Tensor> = {};
      inputs.forEach((d, i) => {
        const h = hostData(c, d);
        const b = gpuBuffer(h, h.byteLength);
        buffers.push(b);
        feeds[INPUT_NAMES[i]!] = ort.Tensor.fromGpuBuffer(b, {
          dataType,
          dims: c.inputs[i]!,
        });
      });
      const size = c.output.reduce((a, b) => a * b, 1);
      const eb = c.dtype === "float32" ? 4 : 2;
      const out = gpuBuffer(undefined, size * eb);
      buffers.push(out);
      const fetches = { Y: ort.Tensor.fromGpuBuffer(out, { dataType, dims: c.output }) };
      return {
        async run() {
          await session.run(feeds, fetches);
        },
        sync: () => device.queue.onSubmittedWorkDone(),
        async read() {
          const bytes = await readBuffer(device, out, Math.ceil((size * eb) / 4) * 4);
          return c.dtype === "float32"
            ? new Float32Array(bytes, 0, size)
            : new Float16Array(bytes, 0, size);
        },
        async dispose() {
          await session.release();
          for (const b of buffers) b.destroy();
        },
      };
    },
    async close() {
      await keepAlive.release();
    },
  };
}
