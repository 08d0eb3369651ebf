import assert from "node:assert/strict";
import type { ScalarDType, TypedArray } from "../../ir/dtype.ts";
import { f16Bits } from "../../ir/dtype.ts";
import { cpu } from "../../runtime/js/device.ts";
import { Tensor } from "../../runtime/tensor.ts";
import { assertRejectsMsg, assertThrowsMsg, devices, GPU_TEST, gpuDevice } from "./_helpers.ts";

const CASES: [ScalarDType, number[] | boolean[], (a: TypedArray) => unknown[]][] = [
  ["float32", [1.5, -2.25, 3e-8, 1e30, -0.5], (a) => Array.from(a as Float32Array)],
  ["float64", [1 / 3, -1e300, 5e-324], (a) => Array.from(a as Float64Array)],
  ["int32", [1, -2, 2147483647, -2147483648], (a) => Array.from(a as Int32Array)],
  ["uint32", [1, 4294967295, 7], (a) => Array.from(a as Uint32Array)],
  ["int16", [-32768, 32767, -1], (a) => Array.from(a as Int16Array)],
  ["int8", [-128, 127, -3], (a) => Array.from(a as Int8Array)],
  ["uint16", [65535, 1, 2], (a) => Array.from(a as Uint16Array)],
  ["uint8", [255, 0, 9], (a) => Array.from(a as Uint8Array)],
  ["bool", [true, false, true], (a) => Array.from(a as Uint8Array, (x) => x === 1)],
  ["int64", [2 ** 40, -5, 3], (a) => Array.from(a as BigInt64Array, Number)],
  ["float16", [0.5, -2, 65504], (a) => Array.from(a as Uint16Array)],
];

Deno.test("Tensor.from and toArray round-trip every dtype on every device", GPU_TEST, async () => {
  for (const dev of await devices()) {
    for (const [dtype, values, read] of CASES) {
      const t = Tensor.from(values, [values.length], { dtype, device: dev });
      const want = dtype === "float16"
        ? (values as number[]).map(f16Bits)
        : dtype === "float32"
        ? Array.from(Float32Array.from(values as number[]))
        : values;
      assert.deepEqual(read(await t.toArray()), want, `${dev.kind} ${dtype}`);
      t.dispose();
    }
  }
});

Deno.test("Tensor infers dtypes, copies its input and describes itself", async () => {
  const src = new Int32Array([1, 2, 3, 4, 5, 6]);
  const t = Tensor.from(src, [2, 3]);
  src[0] = 99;
  assert.equal(t.dtype, "int32");
  assert.equal(t.device, cpu());
  assert.deepEqual(Array.from(await t.toArray() as Int32Array), [1, 2, 3, 4, 5, 6]);
  assert.equal(String(t), "Tensor((2, 3), int32, cpu)");
  assert.equal(Tensor.from([1, 2], [2]).dtype, "float32");
  assert.equal(Tensor.from([true], [1]).dtype, "bool");
  assert.equal(Tensor.from(new BigInt64Array(2), [2]).dtype, "int64");
  assert.equal(Tensor.from(new Float64Array(2), [2], { dtype: "float32" }).dtype, "float32");
  const e = Tensor.empty([0, 4]);
  assert.equal(e.size, 0);
  assert.equal((await e.toArray()).length, 0);
});

Deno.test("Tensor reports bad shapes and use after dispose", async () => {
  assertThrowsMsg(
    () => Tensor.from([1, 2, 3], [2, 2]),
    `Tensor.from: 3 values do not fill shape (2, 2) (4 elements)`,
  );
  assertThrowsMsg(() => Tensor.from([], [2, -1]), `Tensor.from: invalid shape (2, -1)`);
  assertThrowsMsg(() => Tensor.empty([1.5]), `Tensor.empty: invalid shape (1.5,)`);
  const t = Tensor.from([1], [1]);
  t.dispose();
  assert.equal(t.disposed, true);
  await assertRejectsMsg(
    Promise.resolve().then(() => t.toArray()),
    `Tensor((1,), float32, cpu) was disposed`,
  );
});

Deno.test("Tensor.to moves data between devices", GPU_TEST, async () => {
  const gpu = await gpuDevice();
  const t = Tensor.from([1, 2, 3], [3]);
  assert.equal(await t.to(cpu()), t);
  if (!gpu) return;
  const g = await t.to(gpu);
  assert.equal(g.device, gpu);
  const back = await g.to(cpu());
  assert.deepEqual(Array.from(await back.toArray() as Float32Array), [1, 2, 3]);
});
