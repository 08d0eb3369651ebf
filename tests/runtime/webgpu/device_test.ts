import assert from "node:assert/strict";
import { compileKernel, launchKernel, prepareKernel } from "../../../runtime/kernel.ts";
import { Tensor } from "../../../runtime/tensor.ts";
import { sizeClass } from "../../../runtime/webgpu/buffer_pool.ts";
import { gpuElementBytes } from "../../../runtime/webgpu/device.ts";
import { cpu } from "../../../runtime/js/device.ts";
import { makeTarget } from "../../../transform/target.ts";
import {
  assertClose,
  assertRejectsMsg,
  assertThrowsMsg,
  GPU_TEST,
  gpuDevice,
  randomF32,
} from "../_helpers.ts";
import { addKernel } from "../_kernels.ts";

const uniq = (
  a: ArrayLike<number> | ArrayLike<bigint>,
) => [...new Set(Array.from(a as ArrayLike<number>))];

Deno.test("size classes: multiples of 16, then quarter steps per power of two", () => {
  assert.deepEqual([0, 1, 16, 17, 256, 257, 1000, 1024, 1025, 3000].map(sizeClass), [
    16,
    16,
    16,
    32,
    256,
    320,
    1024,
    1024,
    1280,
    3072,
  ]);
  assert.deepEqual(
    ["bool", "int8", "float16", "float32", "int64"].map((t) => gpuElementBytes(t as "bool")),
    [4, 4, 2, 4, 8],
  );
});

Deno.test("the device's target reflects the adapter's limits", GPU_TEST, async () => {
  const gpu = await gpuDevice();
  if (!gpu) return;
  const l = gpu.gpu.limits;
  assert.equal(gpu.target.kind, "webgpu");
  assert.equal(gpu.target.maxStorageBuffers, l.maxStorageBuffersPerShaderStage);
  assert.equal(gpu.target.maxThreadsPerBlock, l.maxComputeInvocationsPerWorkgroup);
  assert.equal(gpu.target.maxSharedMemoryBytes, l.maxComputeWorkgroupStorageSize);
  assert.equal(gpu.target.supportsF16, gpu.gpu.features.has("shader-f16"));
});

Deno.test(
  "dispatches batch into one submit, reusing pipelines, bind groups and uniforms",
  GPU_TEST,
  async () => {
    const gpu = await gpuDevice();
    if (!gpu) return;
    const k = compileKernel(addKernel(), gpu.target);
    await prepareKernel(k, gpu);
    await gpu.sync();
    const before = { ...gpu.stats };
    const a = randomF32(2 * 64, 1), b = randomF32(2 * 64, 2);
    const A = Tensor.from(a, [2, 64], { device: gpu });
    const B = Tensor.from(b, [2, 64], { device: gpu });
    const C = Tensor.empty([2, 64], { device: gpu });
    const D = Tensor.empty([2, 64], { device: gpu });
    for (let i = 0; i < 5; i++) launchKernel(k, [A, B, C]);
    launchKernel(k, [C, B, D]);
    assertThrowsMsg(
      () => launchKernel(k, [C, B, C]),
      `Kernel "add": the tensor passed as "C" (written) is also passed as "A"; WebGPU cannot bind a written buffer twice`,
    );
    assert.equal(gpu.stats.submits, before.submits);
    assert.equal(gpu.stats.dispatches - before.dispatches, 6);
    assert.equal(gpu.stats.pipelines, before.pipelines);
    assert.equal(gpu.stats.bindGroups - before.bindGroups, 2);
    assert.equal(gpu.stats.uniformBuffers - before.uniformBuffers, 1);
    assertClose(
      await D.toArray() as Float32Array,
      Array.from(a, (x, i) => Math.fround(x + b[i]!) + b[i]!),
    );
    assert.equal(gpu.stats.submits, before.submits + 1);
  },
);

Deno.test("writes and frees wait for the pending work that uses the buffer", GPU_TEST, async () => {
  const gpu = await gpuDevice();
  if (!gpu) return;
  const k = compileKernel(addKernel(), gpu.target);
  const ones = new Float32Array(64).fill(1);
  const A = Tensor.from(ones, [1, 64], { device: gpu });
  const C = Tensor.empty([1, 64], { device: gpu });
  launchKernel(k, [A, A, C]);
  gpu.write(A.storage, new Float32Array(64).fill(5)); // must not change what the first launch saw
  const D = Tensor.empty([1, 64], { device: gpu });
  launchKernel(k, [A, A, D]);
  const T = Tensor.from(new Float32Array(64).fill(3), [1, 64], { device: gpu });
  const E = Tensor.empty([1, 64], { device: gpu });
  launchKernel(k, [T, T, E]);
  T.dispose(); // in flight: returned to the pool only after submission
  const U = Tensor.from(new Float32Array(64).fill(7), [1, 64], { device: gpu });
  assert.deepEqual(uniq(await C.toArray()), [2]);
  assert.deepEqual(uniq(await D.toArray()), [10]);
  assert.deepEqual(uniq(await E.toArray()), [6]);
  assert.deepEqual(uniq(await U.toArray()), [7]);
  const reused = gpu.memory.reused;
  Tensor.empty([1, 64], { device: gpu });
  assert.equal(gpu.memory.reused, reused + 1);
});

Deno.test("a grid over the per-dimension limit is split and guarded", GPU_TEST, async () => {
  const gpu = await gpuDevice();
  if (!gpu) return;
  const k = compileKernel(addKernel(), makeTarget("webgpu", { ...gpu.target, maxGridDim: 4 }));
  for (const n of [11, 16]) {
    const a = randomF32(n * 64, n);
    const A = Tensor.from(a, [n, 64], { device: gpu });
    const C = Tensor.from(new Float32Array(n * 64).fill(NaN), [n, 64], { device: gpu });
    launchKernel(k, [A, A, C]);
    assertClose(await C.toArray() as Float32Array, Array.from(a, (x) => 2 * x), { what: `n=${n}` });
  }
  const C = Tensor.empty([17, 64], { device: gpu });
  assertThrowsMsg(
    () => launchKernel(k, [C, C, C]),
    `Kernel "add": grid of 17 workgroups in x exceeds the device limit 4`,
  );
});

Deno.test(
  "pipeline errors carry the WGSL compiler's message; the device stays usable",
  GPU_TEST,
  async () => {
    const gpu = await gpuDevice();
    if (!gpu) return;
    const good = compileKernel(addKernel(), gpu.target);
    await assertRejectsMsg(
      prepareKernel({
        ...good,
        name: "bad",
        stages: [{ ...good.stages[0]!, source: "fn main( {" }],
      }, gpu),
      `Kernel "bad": cannot create its pipeline:`,
    );
    await assertRejectsMsg(
      prepareKernel(compileKernel(addKernel(), makeTarget("js")), gpu),
      `Kernel "add" was compiled for js, not for a webgpu device`,
    );
    assertThrowsMsg(
      () => gpu.free(Tensor.from([1], [1]).storage),
      `Storage on cpu cannot be used on ${gpu.name}`,
    );
    assertThrowsMsg(
      () => cpu().free(Tensor.empty([1], { device: gpu }).storage),
      `Storage on ${gpu.name} cannot be used on the cpu device`,
    );
    const A = Tensor.from(new Float32Array(64).fill(2), [1, 64], { device: gpu });
    const C = Tensor.empty([1, 64], { device: gpu });
    launchKernel(good, [A, A, C]);
    assert.deepEqual(uniq(await C.toArray()), [4]);
    await gpu.sync();
  },
);
