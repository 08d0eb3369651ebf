import assert from "node:assert/strict";
import { cpu, CpuDevice } from "../../../runtime/js/device.ts";
import { compileKernel } from "../../../runtime/kernel.ts";
import { makeTarget } from "../../../transform/target.ts";
import { assertRejectsMsg, assertThrowsMsg } from "../_helpers.ts";
import { addKernel } from "../_kernels.ts";

Deno.test("the CPU device runs JS kernels only, on its own storage", async () => {
  const dev = cpu();
  assert.equal(dev, cpu());
  assert.equal(dev.target.kind, "js");
  const k = compileKernel(addKernel(), makeTarget("webgpu"));
  await assertRejectsMsg(
    dev.prepare(k),
    `Kernel "add" was compiled for webgpu, not for the cpu device`,
  );
  const s = dev.alloc("float32", 3);
  assertThrowsMsg(
    () => dev.write(s, new Float32Array(2)),
    `Cannot write 2 elements into storage of 3`,
  );
  const other = new CpuDevice();
  assertThrowsMsg(() => other.free(s), `Storage on cpu cannot be used on the cpu device`);
  dev.write(s, new Float32Array([1, 2, 3]));
  const out = await dev.read(s);
  out[0] = 9;
  assert.deepEqual(Array.from(await dev.read(s) as Float32Array), [1, 2, 3]);
});
