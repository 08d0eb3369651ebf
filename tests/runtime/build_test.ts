import assert from "node:assert/strict";
import { sizeVar } from "../../ir/expr.ts";
import type { IRModule } from "../../ir/module.ts";
import { irModule } from "../../ir/module.ts";
import { BlockBuilder } from "../../ir/relax/block_builder.ts";
import { constantTensor } from "../../ir/relax/expr.ts";
import * as op from "../../ir/relax/op/mod.ts";
import * as R from "../../ir/relax/r.ts";
import * as te from "../../ir/te/mod.ts";
import type { Pass } from "../../transform/pass.ts";
import { build, defaultPipeline, resolveTarget } from "../../runtime/build.ts";
import type { Device } from "../../runtime/device.ts";
import { launchKernel } from "../../runtime/kernel.ts";
import { Tensor } from "../../runtime/tensor.ts";
import { Executable } from "../../runtime/vm/executable.ts";
import { VirtualMachine } from "../../runtime/vm/interpreter/virtual_machine.ts";
import type { WebGPUDevice } from "../../runtime/webgpu/device.ts";
import {
  assertClose,
  assertRejectsMsg,
  assertThrowsMsg,
  devices,
  GPU_TEST,
  gpuDevice,
  randomF32,
} from "./_helpers.ts";

const n = sizeVar("n", "int64");

/** `softmax(relu(x @ w1^T + b1) @ w2^T)` with x: (n, 8), w1: (16, 8), w2: (4, 16); b1 a constant. */
function smallMlp(): { mod: IRModule; b1: Float32Array } {
  const b1 = randomF32(16, 99);
  const bb = new BlockBuilder();
  const x = R.tensor([n, 8], "float32", "x");
  const w1 = R.tensor([16, 8], "float32", "w1");
  const w2 = R.tensor([4, 16], "float32", "w2");
  bb.function("main", { x, w1, w2 }, () =>
    bb.dataflow(() => {
      const bias = constantTensor({ dtype: "float32", shape: [16], data: b1 });
      const h = bb.emit(op.nn.relu(op.linear(x, w1, bias)));
      return bb.emitOutput(op.nn.softmax(op.linear(h, w2), { axis: -1 }));
    }));
  return { mod: bb.get(), b1 };
}

/** The float64 reference of {@link smallMlp}. */
function mlpRef(
  x: Float32Array,
  w1: Float32Array,
  b1: Float32Array,
  w2: Float32Array,
  rows: number,
) {
  const out = new Float64Array(rows * 4);
  for (let r = 0; r < rows; r++) {
    const h = new Float64Array(16);
    for (let j = 0; j < 16; j++) {
      let s = b1[j]!;
      for (let k = 0; k < 8; k++) s += x[r * 8 + k]! * w1[j * 8 + k]!;
      h[j] = Math.max(0, s);
    }
    const z = [0, 1, 2, 3].map((j) => {
      let s = 0;
      for (let k = 0; k < 16; k++) s += h[k]! * w2[j * 16 + k]!;
      return s;
    });
    const mx = Math.max(...z);
    const e = z.map((v) => Math.exp(v - mx));
    const sum = e.reduce((a, b) => a + b, 0);
    e.forEach((v, j) => out[r * 4 + j] = v / sum);
  }
  return out;
}

function on(device: Device, data: Float32Array, shape: readonly number[]): Tensor {
  return Tensor.from(data, shape, { device });
}

Deno.test(
  "build: a legalized MLP runs on every device, one executable serving several batch sizes",
  GPU_TEST,
  async () => {
    const { mod, b1 } = smallMlp();
    const w1 = randomF32(16 * 8, 1), w2 = randomF32(4 * 16, 2);
    for (const dev of await devices()) {
      const exec = build(mod, { device: dev });
      const vm = new VirtualMachine(exec, dev);
      for (const rows of [1, 3, 5]) {
        const x = randomF32(rows * 8, 10 + rows);
        const y = await vm.run(
          "main",
          on(dev, x, [rows, 8]),
          on(dev, w1, [16, 8]),
          on(dev, w2, [4, 16]),
        );
        assert.ok(y instanceof Tensor);
        assert.deepEqual(y.shape, [rows, 4]);
        assertClose(await y.toArray() as Float32Array, mlpRef(x, w1, b1, w2, rows), {
          rtol: 1e-4,
          atol: 1e-6,
          what: `${dev.kind} batch ${rows}`,
        });
      }
    }
  },
);

Deno.test(
  "build: one run on WebGPU is one submit, and a repeated run creates no new GPU objects",
  GPU_TEST,
  async () => {
    const gpu = await gpuDevice() as WebGPUDevice | undefined;
    if (!gpu) return;
    const { mod } = smallMlp();
    const vm = new VirtualMachine(build(mod, { device: gpu }), gpu);
    const args = [
      on(gpu, randomF32(16, 3), [2, 8]),
      on(gpu, randomF32(128, 4), [16, 8]),
      on(gpu, randomF32(64, 5), [4, 16]),
    ];
    // Two warm-up runs: the second settles the order in which pooled buffers come back.
    for (let i = 0; i < 2; i++) {
      const warm = await vm.run("main", ...args) as Tensor;
      await warm.toArray();
      warm.dispose();
    }
    const created = gpu.memory.created;
    const before = { ...gpu.stats };
    const y = await vm.run("main", ...args) as Tensor;
    assert.equal(gpu.stats.submits - before.submits, 1, "one submit per run");
    assert.ok(gpu.stats.dispatches - before.dispatches >= 5, "every kernel was dispatched");
    assert.equal(gpu.stats.bindGroups, before.bindGroups, "bind groups are reused");
    assert.equal(gpu.stats.uniformBuffers, before.uniformBuffers, "uniform buffers are reused");
    await y.toArray();
    y.dispose();
    assert.equal(gpu.memory.created, created, "the second run reuses pooled buffers");
  },
);

Deno.test(
  "build: a PrimFunc-only module is callable by name, through the VM or the kernel",
  GPU_TEST,
  async () => {
    const m = te.sizeVar("m");
    const A = te.placeholder([m, 4], "float32", "A"), B = te.placeholder([m, 4], "float32", "B");
    const C = te.compute([m, 4], ([i, j]) => A.at(i, j).add(B.at(i, j)), { name: "C" });
    const mod = irModule({ add: te.createPrimFunc([A, B, C]) });
    const a = randomF32(12, 1), b = randomF32(12, 2);
    const want = a.map((v, i) => v + b[i]!);
    for (const dev of await devices()) {
      const exec = build(mod, { device: dev });
      assert.deepEqual(exec.functionNames(), ["add"]);
      const vm = new VirtualMachine(exec, dev);
      const c = Tensor.empty([3, 4], { device: dev });
      assert.equal(await vm.run("add", on(dev, a, [3, 4]), on(dev, b, [3, 4]), c), undefined);
      assertClose(await c.toArray() as Float32Array, want, { what: `${dev.kind} vm.run` });
      const c2 = Tensor.empty([3, 4], { device: dev });
      launchKernel(exec.kernels.get("add")!, [on(dev, a, [3, 4]), on(dev, b, [3, 4]), c2]);
      assertClose(await c2.toArray() as Float32Array, want, { what: `${dev.kind} launchKernel` });
      await assertRejectsMsg(
        vm.run("add", on(dev, a, [3, 4]), on(dev, b, [4, 3]), c),
        'Kernel "add": parameter "B" expects shape (m, 4) = (3, 4), got (4, 3)',
      );
    }
  },
);

Deno.test(
  "build: hand-emitted te kernels with tir_vars run on every device",
  GPU_TEST,
  async () => {
    // `main(x: (n,), y: (m,)) = x * m + y[0:n]`-like: the first kernel uses m, which only y's shape
    // gives, so it travels as a tir_var (a shape made from the VM's shape heap).
    const m = sizeVar("m", "int64");
    const bb = new BlockBuilder();
    const x = R.tensor([n], "float32", "x"), y = R.tensor([m], "float32", "y");
    bb.function("main", { x, y }, () =>
      bb.dataflow(() => {
        const scaled = bb.emitTe(
          (a) => te.compute(a.shape, ([i]) => a.at(i!).mul(m.cast("float32"))),
          [x],
          {
            name: "scale_by_m",
          },
        );
        return bb.emitOutput(
          bb.emitTe((a, b) => te.compute(a.shape, ([i]) => a.at(i!).add(b.at(0))), [scaled, y], {
            name: "add_first",
          }),
        );
      }));
    const mod = bb.get();
    for (const dev of await devices()) {
      // The module is already made of call_tir: the pipeline without LegalizeOps builds it.
      const vm = new VirtualMachine(
        build(mod, { device: dev, pipeline: defaultPipeline().slice(1) }),
        dev,
      );
      const out = await vm.run(
        "main",
        on(dev, Float32Array.from([1, 2, 3]), [3]),
        on(dev, Float32Array.from([10, 0, 0, 0]), [4]),
      ) as Tensor;
      assert.deepEqual(Array.from(await out.toArray() as Float32Array), [14, 18, 22], dev.kind);
    }
  },
);

Deno.test("build: errors name what cannot be built", () => {
  const { mod } = smallMlp();
  const noLegalize: Pass[] = defaultPipeline().slice(1);
  assertThrowsMsg(
    () => build(mod, { target: "js", pipeline: noLegalize }),
    'Cannot build "main": it still calls operator "relax.permute_dims"; legalize it first (LegalizeOps)',
  );
  assertThrowsMsg(() => resolveTarget({ target: "cuda" as "js" }), 'build: unknown target "cuda"');
});

Deno.test("build: instruments see every pass, and an executable survives serialization", async () => {
  const { mod, b1 } = smallMlp();
  const names: string[] = [];
  const exec = build(mod, {
    target: "js",
    instruments: [{ name: "names", before: (p) => void names.push(p.name) }],
  });
  for (const p of defaultPipeline()) assert.ok(names.includes(p.name), `${p.name} ran`);
  assertThrowsMsg(
    () => Executable.load(exec.serialize()),
    "pass { allowJsKernels: true } if you trust the file",
  );
  const loaded = Executable.load(exec.serialize(), { allowJsKernels: true });
  assert.equal(String(loaded), String(exec));
  const { cpu } = await import("../../runtime/js/device.ts");
  const x = randomF32(16, 7), w1 = randomF32(128, 8), w2 = randomF32(64, 9);
  const y = await new VirtualMachine(loaded, cpu()).run(
    "main",
    Tensor.from(x, [2, 8]),
    Tensor.from(w1, [16, 8]),
    Tensor.from(w2, [4, 16]),
  ) as Tensor;
  assertClose(await y.toArray() as Float32Array, mlpRef(x, w1, b1, w2, 2), {
    rtol: 1e-4,
    atol: 1e-6,
  });
});
