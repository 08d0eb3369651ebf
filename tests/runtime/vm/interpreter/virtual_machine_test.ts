import assert from "node:assert/strict";
import { sizeVar } from "../../../../ir/expr.ts";
import { BlockBuilder } from "../../../../ir/relax/block_builder.ts";
import {
  bindingBlock,
  ifExpr,
  rcall,
  rvar,
  seqExpr,
  tuple,
  varBinding,
} from "../../../../ir/relax/expr.ts";
import { callDPSPacked, callPacked } from "../../../../ir/relax/op/call.ts";
import * as op from "../../../../ir/relax/op/mod.ts";
import * as R from "../../../../ir/relax/r.ts";
import { build } from "../../../../runtime/build.ts";
import type { Device, DeviceStorage } from "../../../../runtime/device.ts";
import { CpuDevice, CpuStorage } from "../../../../runtime/js/device.ts";
import { Tensor } from "../../../../runtime/tensor.ts";
import { Executable } from "../../../../runtime/vm/executable.ts";
import { VirtualMachine } from "../../../../runtime/vm/interpreter/virtual_machine.ts";
import type { VMValue } from "../../../../runtime/vm/value.ts";
import {
  assertClose,
  assertRejectsMsg,
  assertThrowsMsg,
  GPU_TEST,
  gpuDevice,
} from "../../_helpers.ts";
import { pick, table } from "../_programs.ts";

const n = sizeVar("n", "int64");

/** A CPU device that counts dispatches, allocations and frees. */
function countingCpu(): CpuDevice & { counts: { dispatch: number; alloc: number; free: number } } {
  const dev = new CpuDevice() as CpuDevice & {
    counts: { dispatch: number; alloc: number; free: number };
  };
  const counts = { dispatch: 0, alloc: 0, free: 0 };
  dev.counts = counts;
  const { dispatch, alloc, free } = dev;
  dev.dispatch = (...a) => (counts.dispatch++, dispatch.apply(dev, a));
  dev.alloc = (...a) => (counts.alloc++, alloc.apply(dev, a));
  dev.free = (...a) => (counts.free++, free.apply(dev, a));
  return dev;
}

Deno.test("the VM runs hand-written bytecode with branches", async () => {
  const exec = new Executable({
    target: "js",
    functions: [pick],
    funcTable: table,
    constants: [],
    kernels: new Map(),
  });
  const vm = new VirtualMachine(exec, new CpuDevice());
  assert.equal(await vm.run("pick", true, 1, 2), 1);
  assert.equal(await vm.run("pick", 0, 1, 2), 2);
  await assertRejectsMsg(
    vm.run("pick", true),
    'Function "pick" expects 3 arguments (c, a, b), got 1',
  );
  await assertRejectsMsg(vm.run("nope"), 'The executable has no function "nope" (it has: pick)');
  assertThrowsMsg(
    () => new VirtualMachine(exec, { kind: "webgpu", name: "gpu0" } as Device),
    "The executable was built for js, but gpu0 runs webgpu kernels",
  );
  const broken = new Executable({
    target: "js",
    functions: [pick],
    funcTable: [table[0]!, { kind: "packed", name: "vm.builtin.nope" }],
    constants: [],
    kernels: new Map(),
  });
  await assertRejectsMsg(
    new VirtualMachine(broken, new CpuDevice()).run("pick", true, 1, 2),
    'Function "pick" calls unknown VM builtin "vm.builtin.nope"',
  );
});

/** `main(flag, x) = (flag ? helper(x) : x + x, x)` with `helper(x) = exp(x)`. */
function branchModule() {
  const bb = new BlockBuilder();
  const hx = R.tensor([n], "float32", "x");
  const helper = bb.function("helper", { x: hx }, () => bb.emit(op.exp(hx)));
  const flag = R.param("flag", R.Prim("bool"));
  const x = R.tensor([n], "float32", "x");
  const t = rvar("t", R.Tensor([n], "float32")), e = rvar("e", R.Tensor([n], "float32"));
  const thenB = seqExpr([
    bindingBlock([varBinding(t, rcall(helper, [x], { structInfo: t.structInfo }))]),
  ], t);
  const elseB = seqExpr([bindingBlock([varBinding(e, op.add(x, x))])], e);
  bb.function("main", { flag, x }, () => {
    const y = bb.emit(ifExpr(flag, thenB, elseB));
    return bb.emit(tuple([y, x]));
  });
  return bb.get();
}

Deno.test("Relax control flow, nested calls and tuples run through build and the VM", async () => {
  const dev = new CpuDevice();
  const vm = new VirtualMachine(build(branchModule(), { target: "js" }), dev);
  const data = Float32Array.from([0, 1, -2]);
  const x = Tensor.from(data, [3], { device: dev });
  const [y1, same] = await vm.run("main", true, x) as Tensor[];
  assertClose(await y1!.toArray() as Float32Array, Array.from(data, Math.exp), { rtol: 1e-6 });
  assert.equal(same, x);
  const [y2] = await vm.run("main", false, x) as Tensor[];
  assert.deepEqual(Array.from(await y2!.toArray() as Float32Array), [0, 2, -4]);
  await assertRejectsMsg(
    vm.run("main", 1.5, x),
    'main: parameter "flag" expects R.Prim("bool"), got the number 1.5',
  );
});

/** `main(x) = g(exp(x))` where `g` is a packed function, and `d(x)` writes `out` in DPS style. */
function packedModule(name: string) {
  const bb = new BlockBuilder();
  const x = R.tensor([n], "float32", "x");
  bb.function("main", { x }, () => {
    const y = bb.emit(op.exp(x));
    return bb.emit(callPacked(name, [y], R.Tensor([n], "float32")));
  });
  const x2 = R.tensor([n], "float32", "x");
  bb.function("dps", { x: x2 }, () => bb.emit(callDPSPacked(name, [x2], R.Tensor([n], "float32"))));
  return bb.get();
}

Deno.test("packed functions given to the VM are called, and awaited when async", async () => {
  const dev = new CpuDevice();
  const exec = build(packedModule("test.vm.neg"), { target: "js" });
  const seen: VMValue[][] = [];
  const vm = new VirtualMachine(exec, dev, {
    functions: {
      "test.vm.neg": async (...args) => {
        seen.push(args);
        const t = args[0] as Tensor;
        const data = await t.toArray() as Float32Array;
        const out = args[1] instanceof Tensor ? args[1] : Tensor.empty(t.shape, { device: dev });
        dev.write(out.storage, data.map((v) => -v));
        return args[1] instanceof Tensor ? undefined : out;
      },
    },
  });
  const x = Tensor.from([0, 1], [2], { device: dev });
  const y = await vm.run("main", x) as Tensor;
  assertClose(await y.toArray() as Float32Array, [-1, -Math.E], { rtol: 1e-6 });
  const z = await vm.run("dps", x) as Tensor;
  assert.deepEqual(Array.from(await z.toArray() as Float32Array), [-0, -1]);
  assert.equal(seen.length, 2);
  assert.equal(seen[1]!.length, 2, "DPS: input and output");
});

Deno.test("bad calls fail before any kernel runs, and release what they allocated", async () => {
  const dev = countingCpu();
  const exec = build(packedModule("test.vm.missing"), { target: "js" });
  const vm = new VirtualMachine(exec, dev);
  const x = Tensor.from([1, 2], [2], { device: dev });
  const before = { ...dev.counts };
  await assertRejectsMsg(
    vm.run("main", x),
    'Function "main" calls "test.vm.missing", which is not registered (register it with registerFunction("test.vm.missing", fn))',
  );
  await assertRejectsMsg(
    vm.run("main", Tensor.from([1, 2, 3, 4], [2, 2], { device: dev })),
    'Function "main" calls "test.vm.missing", which is not registered',
  );
  assert.equal(dev.counts.dispatch, before.dispatch, "nothing was dispatched");

  const vm2 = new VirtualMachine(exec, dev, { functions: { "test.vm.missing": () => null } });
  await assertRejectsMsg(
    vm2.run("main", Tensor.from([1, 2, 3, 4], [2, 2], { device: dev })),
    'main: parameter "x" expects R.Tensor((n,), "float32"), got a tensor of shape (2, 2)',
  );
  await assertRejectsMsg(
    vm2.run("main", Tensor.from([1, 2], [2], { device: dev, dtype: "int32" })),
    'main: parameter "x" expects R.Tensor((n,), "float32"), got a tensor of dtype int32',
  );
  await assertRejectsMsg(
    vm2.run("main", Tensor.from([1, 2], [2])),
    'main: parameter "x" expects R.Tensor((n,), "float32"), got a tensor on another cpu device than the VM\'s',
  );
  assert.equal(dev.counts.dispatch, before.dispatch, "nothing was dispatched");

  // A failure after allocation frees what the run allocated.
  const vm3 = new VirtualMachine(exec, dev, {
    functions: {
      "test.vm.missing": () => {
        throw new Error("boom");
      },
    },
  });
  const a0 = dev.counts.alloc, f0 = dev.counts.free;
  await assertRejectsMsg(vm3.run("main", x), "boom");
  assert.equal(dev.counts.free - f0, dev.counts.alloc - a0, "every allocation was freed");
  assert.ok(dev.counts.alloc > a0);
});

Deno.test("a run keeps its intermediates for the next run and hands the result to the caller", async () => {
  const dev = countingCpu();
  const bb = new BlockBuilder();
  const x = R.tensor([n], "float32", "x");
  bb.function("main", { x }, () =>
    bb.dataflow(() => {
      const a = bb.emit(op.exp(x));
      const b = bb.emit(op.exp(a));
      return bb.emitOutput(op.add(a, b));
    }));
  const vm = new VirtualMachine(build(bb.get(), { target: "js" }), dev);
  const x1 = Tensor.from([0, 1], [2], { device: dev });
  const y1 = await vm.run("main", x1) as Tensor;
  const allocs = dev.counts.alloc;
  const y2 = await vm.run("main", x1) as Tensor;
  assert.equal(
    dev.counts.alloc - allocs,
    1,
    "only the result is new; the intermediates are reused",
  );
  assert.notEqual(y1.storage, y2.storage);
  assert.deepEqual(
    Array.from(await y1.toArray() as Float32Array),
    Array.from(await y2.toArray() as Float32Array),
  );
  // Another size replaces the kept storage.
  const y3 = await vm.run("main", Tensor.from([0, 1, 2], [3], { device: dev })) as Tensor;
  assert.deepEqual(y3.shape, [3]);
  const freed: DeviceStorage[] = [];
  const free = dev.free;
  dev.free = (s) => (freed.push(s), free.call(dev, s));
  vm.releaseMemory();
  assert.equal(freed.length, 2, "the two kept intermediates");
  assert.ok(![y1, y2, y3].some((y) => freed.includes(y.storage)), "results stay with the caller");
  assert.ok(y3.storage instanceof CpuStorage);
  const y4 = await vm.run("main", x1) as Tensor;
  assert.deepEqual(
    Array.from(await y4.toArray() as Float32Array),
    Array.from(await y1.toArray() as Float32Array),
  );
});

Deno.test(
  "a CPU tensor passed to a WebGPU VM is rejected before any dispatch",
  GPU_TEST,
  async () => {
    const gpu = await gpuDevice();
    if (!gpu) return;
    const exec = build(packedModule("test.vm.unused"), { device: gpu });
    const vm = new VirtualMachine(exec, gpu, { functions: { "test.vm.unused": (a) => a ?? null } });
    const d = gpu.stats.dispatches;
    await assertRejectsMsg(
      vm.run("main", Tensor.from([1, 2], [2])),
      'main: parameter "x" expects R.Tensor((n,), "float32"), got a tensor on cpu, but the VM runs on',
    );
    assert.equal(gpu.stats.dispatches, d);
  },
);
