import assert from "node:assert/strict";
import { floatImm, sizeVar } from "../../ir/expr.ts";
import { BlockBuilder } from "../../ir/relax/block_builder.ts";
import { primValue } from "../../ir/relax/expr.ts";
import { callDPSPacked, callPacked } from "../../ir/relax/op/call.ts";
import * as op from "../../ir/relax/op/mod.ts";
import * as R from "../../ir/relax/r.ts";
import { build } from "../../runtime/build.ts";
import { cpu } from "../../runtime/js/device.ts";
import { compileKernel } from "../../runtime/kernel.ts";
import {
  getRegisteredFunction,
  listRegisteredFunctions,
  registerFunction,
  registerKernel,
  unregisterFunction,
  wgslKernel,
} from "../../runtime/registry.ts";
import { Tensor } from "../../runtime/tensor.ts";
import { VirtualMachine } from "../../runtime/vm/interpreter/virtual_machine.ts";
import { makeTarget } from "../../transform/target.ts";
import { assertClose, assertThrowsMsg, GPU_TEST, gpuDevice } from "./_helpers.ts";
import { addKernel } from "./_kernels.ts";

const n = sizeVar("n", "int64");

/** Registers `fn` for the duration of `body`. */
async function withRegistered(name: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } finally {
    unregisterFunction(name);
  }
}

Deno.test("registerFunction registers, lists, replaces and removes functions", () => {
  const f = () => 1;
  registerFunction("test.reg.one", f);
  try {
    assert.equal(getRegisteredFunction("test.reg.one"), f);
    assert.ok(listRegisteredFunctions().includes("test.reg.one"));
    assertThrowsMsg(
      () => registerFunction("test.reg.one", () => 2),
      'A function named "test.reg.one" is already registered; pass { override: true } to replace it',
    );
    const g = () => 2;
    registerFunction("test.reg.one", g, { override: true });
    assert.equal(getRegisteredFunction("test.reg.one"), g);
  } finally {
    assert.equal(unregisterFunction("test.reg.one"), true);
  }
  assert.equal(getRegisteredFunction("test.reg.one"), undefined);
  assert.equal(unregisterFunction("test.reg.one"), false);
  assertThrowsMsg(
    () => registerFunction("", f),
    "registerFunction: the name must be a non-empty string",
  );
  assertThrowsMsg(
    () => registerFunction("x", 3 as never),
    'registerFunction("x"): expected a function, got number',
  );
  assertThrowsMsg(
    () => registerFunction("vm.builtin.copy", f),
    'registerFunction("vm.builtin.copy"): names starting with "vm.builtin." are reserved',
  );
});

Deno.test("R.call_packed calls a registered function and uses its result", async () => {
  await withRegistered("test.reg.square", async () => {
    registerFunction("test.reg.square", async (x) => {
      const t = x as Tensor;
      const d = await t.toArray() as Float32Array;
      return Tensor.from(d.map((v) => v * v), t.shape, { device: t.device });
    });
    const bb = new BlockBuilder();
    const x = R.tensor([n], "float32", "x");
    bb.function("main", { x }, () => {
      const sq = bb.emit(callPacked("test.reg.square", [x], R.Tensor([n], "float32")));
      return bb.emit(op.add(sq, x));
    });
    const vm = new VirtualMachine(build(bb.get(), { target: "js" }), cpu());
    const y = await vm.run("main", Tensor.from([1, 2, 3], [3])) as Tensor;
    assert.deepEqual(Array.from(await y.toArray() as Float32Array), [2, 6, 12]);
  });
});

Deno.test("R.call_dps_packed passes an allocated output to a registered function", async () => {
  await withRegistered("test.reg.iota", async () => {
    registerFunction("test.reg.iota", (x, out) => {
      const o = out as Tensor;
      o.device.write(
        o.storage,
        Float32Array.from({ length: o.size }, (_, i) => i + (x as Tensor).size),
      );
    });
    const bb = new BlockBuilder();
    const x = R.tensor([n], "float32", "x");
    bb.function(
      "main",
      { x },
      () => bb.emit(callDPSPacked("test.reg.iota", [x], R.Tensor([n, 2], "float32"))),
    );
    const vm = new VirtualMachine(build(bb.get(), { target: "js" }), cpu());
    const y = await vm.run("main", Tensor.from([7, 7], [2])) as Tensor;
    assert.deepEqual(y.shape, [2, 2]);
    assert.deepEqual(Array.from(await y.toArray() as Float32Array), [2, 3, 4, 5]);
  });
});

/** `main(a, b) = my_add(a, b)` through `call_dps_packed`, for tensors of shape (n, 64). */
function addModule(name: string) {
  const bb = new BlockBuilder();
  const a = R.tensor([n, 64], "float32", "a"), b = R.tensor([n, 64], "float32", "b");
  bb.function(
    "main",
    { a, b },
    () => bb.emit(callDPSPacked(name, [a, b], R.Tensor([n, 64], "float32"))),
  );
  return bb.get();
}

Deno.test(
  "registerKernel calls a compiled kernel in destination-passing style",
  GPU_TEST,
  async () => {
    await withRegistered("test.reg.add", async () => {
      registerKernel("test.reg.add", compileKernel(addKernel(), makeTarget("js"), { name: "add" }));
      const vm = new VirtualMachine(build(addModule("test.reg.add"), { target: "js" }), cpu());
      const a = Float32Array.from({ length: 128 }, (_, i) => i), b = a.map((v) => 2 * v);
      const y = await vm.run("main", Tensor.from(a, [2, 64]), Tensor.from(b, [2, 64])) as Tensor;
      assertClose(await y.toArray() as Float32Array, a.map((v) => 3 * v));
    });
    const k = compileKernel(addKernel(), makeTarget("js"), { name: "add" });
    assertThrowsMsg(
      () => registerKernel("test.reg.none", []),
      'registerKernel("test.reg.none"): no kernel given',
    );
    assertThrowsMsg(
      () => registerKernel("test.reg.two", [k, k]),
      'registerKernel("test.reg.two"): two kernels for the js target',
    );
    await withRegistered("test.reg.jsonly", async () => {
      registerKernel("test.reg.jsonly", k);
      const f = getRegisteredFunction("test.reg.jsonly")!;
      assertThrowsMsg(
        () => f(1, 2),
        'Kernel function "test.reg.jsonly" was called without tensors',
      );
      assertThrowsMsg(
        () => f("s"),
        'Kernel function "test.reg.jsonly" takes tensors, numbers and shapes',
      );
      const gpu = await gpuDevice();
      if (gpu) {
        const t = Tensor.empty([1, 64], { device: gpu });
        assertThrowsMsg(
          () => f(t, t, t),
          `Kernel function "test.reg.jsonly" has no kernel for ${gpu.name} (webgpu); it has: js`,
        );
      }
    });
  },
);

const SCALE_WGSL = `
struct Params { n: i32, alpha: f32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;
@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let i = i32(g.x);
  if (i < p.n) { y[i] = p.alpha * x[i]; }
}`;

Deno.test("a hand-written WGSL kernel is registered and called from Relax", GPU_TEST, async () => {
  const scale = wgslKernel({
    name: "scale",
    source: SCALE_WGSL,
    params: [
      { name: "x", dtype: "float32", shape: ["n"], readOnly: true },
      { name: "alpha", dtype: "float32", scalar: true },
      { name: "y", dtype: "float32", shape: ["n"] },
    ],
    workgroupSize: [64, 1, 1],
    grid: [["floordiv", ["add", "n", 63], 64], 1, 1],
  });
  assert.deepEqual(scale.vars, [{ name: "n", dtype: "int32" }, {
    name: "alpha",
    dtype: "float32",
  }]);
  assertThrowsMsg(
    () =>
      wgslKernel({
        ...scale,
        params: [{ name: "n", dtype: "int32", shape: ["n"] }, {
          name: "n",
          dtype: "int32",
          scalar: true,
        }],
        workgroupSize: [1, 1, 1],
        grid: [1, 1, 1],
      }),
    'wgslKernel "scale": scalar "n" is also a shape variable',
  );
  const gpu = await gpuDevice();
  if (!gpu) return;
  await withRegistered("test.reg.scale", async () => {
    registerKernel("test.reg.scale", scale);
    const bb = new BlockBuilder();
    const x = R.tensor([n], "float32", "x");
    bb.function("main", { x }, () => {
      const y = bb.emit(
        callDPSPacked(
          "test.reg.scale",
          [x, primValue(floatImm(2.5, "float32"))],
          R.Tensor([n], "float32"),
        ),
      );
      return bb.emit(op.add(y, x));
    });
    const vm = new VirtualMachine(build(bb.get(), { device: gpu }), gpu);
    const data = Float32Array.from({ length: 100 }, (_, i) => i - 50);
    const y = await vm.run("main", Tensor.from(data, [100], { device: gpu })) as Tensor;
    assertClose(await y.toArray() as Float32Array, data.map((v) => 3.5 * v));
  });
});
