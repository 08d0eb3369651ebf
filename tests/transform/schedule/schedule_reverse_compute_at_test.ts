// reverseComputeAt (and computeAt) under loops whose iterations own strided elements: a loop
// split as [outer, serial k, thread] with the thread innermost gives thread tx the elements
// o*T*K + k*T + tx. The moved block must cover exactly those (not the interval between the
// first and the last, which holds other threads' elements), so each case runs once lowered on
// the JS target (local buffers are per thread there) and on WebGPU when there is an adapter:
// the block interpreter (assertSameResults) keeps one local buffer for all threads, so a
// write-back of another thread's element still finds the right value there.
import assert from "node:assert/strict";
import { irModule } from "../../../ir/module.ts";
import { assertStructuralEqual } from "../../../ir/structural.ts";
import * as te from "../../../ir/te/mod.ts";
import type { PrimFunc } from "../../../ir/tir/prim_func.ts";
import type { Device } from "../../../runtime/device.ts";
import { cpu } from "../../../runtime/js/device.ts";
import { compileKernel, launchKernel } from "../../../runtime/kernel.ts";
import { Tensor } from "../../../runtime/tensor.ts";
import { parseTVMScriptFunction } from "../../../script/parser/mod.ts";
import { printTVMScript } from "../../../script/printer.ts";
import { Schedule } from "../../../transform/schedule/schedule.ts";
import { lowerTIRPipeline, verifyLowered } from "../../../transform/tir/mod.ts";
import { assertSameResults } from "../../_tir_interp.ts";
import { GPU_TEST, gpuDevice, randomF32 } from "../../runtime/_helpers.ts";
import { assertReplays } from "./_stages.ts";

const gpu = await gpuDevice();
const devices: [string, Device | undefined][] = [["js", cpu()], ["webgpu", gpu]];

/** `C[i] = A[i] * 2` over `n` elements, and its float64 reference. */
function scale(n: number): { func: PrimFunc; ref: (a: Float32Array) => Float64Array } {
  const A = te.placeholder([n], "float32", "A");
  const C = te.compute([n], ([i]) => A.at(i!).mul(2), { name: "C" });
  const ref = (a: Float32Array) => Float64Array.from(a, (x) => x * 2);
  return { func: te.createPrimFunc([A, C], { name: "main" }), ref };
}

/** The iteration values and predicate of block `name`, printed. */
function bindingsOf(sch: Schedule, name: string): string[] {
  const r = sch.getSBlockRealize(sch.getSBlock(name));
  return [...r.iterValues, r.predicate].map((e) => printTVMScript(e));
}

/** The loops of block `name`, as `name:extent`. */
function loopsOf(sch: Schedule, name: string): string[] {
  return sch.getLoops(sch.getSBlock(name)).map((l) => {
    const loop = sch.get(l);
    return `${loop.loopVar.name}:${printTVMScript(loop.extent)}`;
  });
}

/**
 * `C` computed into a local cache, its loop split as `[blockIdx, k, threadIdx]` and reordered
 * to `[blockIdx, threadIdx, k]`, then the write-back moved under the thread loop.
 */
function stridedWriteBack(func: PrimFunc, factors: readonly (number | undefined)[]): Schedule {
  const sch = new Schedule(func);
  const c = sch.getSBlock("C");
  const local = sch.cacheWrite(c, 0, "local");
  const [i] = sch.getLoops(c);
  const [o, k, tx] = sch.split(i!, factors);
  sch.reorder(tx!, k!);
  sch.bind(o!, "blockIdx.x");
  sch.bind(tx!, "threadIdx.x");
  sch.reverseComputeAt(local, tx!);
  return sch;
}

/** One input of {@link runLowered}. */
interface Input {
  readonly data: Float32Array;
  readonly shape: number[];
}

/** Lowers `func`, runs it on `device` (the output starts as NaN) and returns the output. */
async function runLowered(
  func: PrimFunc,
  device: Device,
  inputs: readonly Input[],
  outShape: readonly number[],
): Promise<Float32Array> {
  const low = lowerTIRPipeline()(irModule({ main: func })).functions.get("main");
  assert.ok(low?.kind === "PrimFunc");
  verifyLowered(low, { name: "main" });
  const kernel = compileKernel(low, device.target, { name: "main" });
  const ins = inputs.map((x) => Tensor.from(x.data, x.shape, { device }));
  const size = outShape.reduce((a, b) => a * b, 1);
  const out = Tensor.from(new Float32Array(size).fill(NaN), [...outShape], { device });
  launchKernel(kernel, [...ins, out]);
  const got = await out.toArray() as Float32Array;
  for (const t of [...ins, out]) t.dispose();
  return got;
}

/** Asserts `got` matches `ref` elementwise (and that no element was left NaN). */
function assertMatches(got: Float32Array, ref: Float64Array, what: string): void {
  assert.equal(got.length, ref.length);
  for (let i = 0; i < ref.length; i++) {
    const ok = Math.abs(got[i]! - ref[i]!) <= 1e-5 * Math.max(1, Math.abs(ref[i]!));
    assert.ok(ok, `${what}: element ${i} is ${got[i]}, expected ${ref[i]}`);
  }
}

/** Runs `func` lowered on every device and compares its output with `ref`. */
async function checkOnDevices(
  func: PrimFunc,
  inputs: readonly Input[],
  outShape: readonly number[],
  ref: Float64Array,
): Promise<void> {
  for (const [name, device] of devices) {
    if (!device) continue;
    assertMatches(await runLowered(func, device, inputs, outShape), ref, `output on ${name}`);
  }
}

/** Runs a scheduled `scale(n)` on every device and compares with the reference. */
function checkScale(n: number, func: PrimFunc): Promise<void> {
  const a = randomF32(n, n);
  return checkOnDevices(func, [{ data: a, shape: [n] }], [n], scale(n).ref(a));
}

const STRIDED_EXPECTED = `
@T.prim_func
def main(A: T.Buffer((64,), "float32"), C: T.Buffer((64,), "float32")):
    T.func_attr({"tir.noalias": True})
    C_local = T.sblock_alloc_buffer((64,), scope="local")
    for i0_0 in T.thread_binding(2, thread="blockIdx.x"):
        for i0_2 in T.thread_binding(8, thread="threadIdx.x"):
            for i0_1 in range(4):
                with T.sblock("C"):
                    v_i0 = T.axis.spatial(64, i0_0 * 32 + i0_1 * 8 + i0_2)
                    T.reads(A[v_i0])
                    T.writes(C_local[v_i0])
                    C_local[v_i0] = A[v_i0] * T.float32(2.0)
            for ax0 in range(4):
                with T.sblock("C_local"):
                    v0 = T.axis.spatial(64, i0_0 * 32 + i0_2 + ax0 * 8)
                    T.reads(C_local[v0])
                    T.writes(C[v0])
                    C[v0] = C_local[v0]
`;

Deno.test(
  "reverseComputeAt() writes back only the strided elements each thread computed",
  GPU_TEST,
  async () => {
    const { func } = scale(64);
    const sch = stridedWriteBack(func, [2, 4, 8]);
    // thread tx of block o owns C[o*32 + k*8 + tx], k < 4: four elements 8 apart, not the 25
    // between o*32 + tx and o*32 + 24 + tx
    assertStructuralEqual(sch.func, parseTVMScriptFunction(STRIDED_EXPECTED));
    assertReplays(func, sch);
    assertSameResults(func, sch.func, { outputs: [1] });
    await checkScale(64, sch.func);
  },
);

Deno.test(
  "reverseComputeAt() guards the strided write-back of a split that does not divide",
  GPU_TEST,
  async () => {
    const { func } = scale(60);
    const sch = stridedWriteBack(func, [undefined, 4, 8]);
    assert.deepEqual(bindingsOf(sch, "C_local"), [
      "i0_0 * 32 + i0_2 + ax0 * 8",
      "i0_0 * 32 + i0_2 + ax0 * 8 < 60",
    ]);
    assertSameResults(func, sch.func, { outputs: [1] });
    await checkScale(60, sch.func);
  },
);

/** `C = A @ B` over 16 x 16 x 16 and its float64 reference. */
function matmul16(): { func: PrimFunc; ref: (a: Float32Array, b: Float32Array) => Float64Array } {
  const A = te.placeholder([16, 16], "float32", "A");
  const B = te.placeholder([16, 16], "float32", "B");
  const k = te.reduceAxis([0, 16], "k");
  const C = te.compute([16, 16], ([i, j]) => te.sum(A.at(i!, k).mul(B.at(k, j!)), [k]), {
    name: "C",
  });
  const ref = (a: Float32Array, b: Float32Array) => {
    const c = new Float64Array(256);
    for (let i = 0; i < 16; i++) {
      for (let j = 0; j < 16; j++) {
        let sum = 0;
        for (let p = 0; p < 16; p++) sum += a[i * 16 + p]! * b[p * 16 + j]!;
        c[i * 16 + j] = sum;
      }
    }
    return c;
  };
  return { func: te.createPrimFunc([A, B, C], { name: "main" }), ref };
}

Deno.test(
  "reverseComputeAt() of a matmul's register tile covers the thread's strided 2 x 2 outputs",
  GPU_TEST,
  async () => {
    const { func, ref } = matmul16();
    const sch = new Schedule(func);
    const c = sch.getSBlock("C");
    const local = sch.cacheWrite(c, 0, "local");
    const [i, j, k] = sch.getLoops(c);
    const [by, ii, ty] = sch.split(i!, [2, 2, 4]);
    const [bx, jj, tx] = sch.split(j!, [2, 2, 4]);
    sch.reorder(by!, bx!, ty!, tx!, k!, ii!, jj!);
    sch.bind(by!, "blockIdx.y");
    sch.bind(bx!, "blockIdx.x");
    sch.bind(ty!, "threadIdx.y");
    sch.bind(tx!, "threadIdx.x");
    sch.reverseComputeAt(local, tx!);
    // thread (ty, tx) owns C[by*8 + ii*4 + ty, bx*8 + jj*4 + tx]: 2 x 2 elements 4 apart
    assert.deepEqual(loopsOf(sch, "C_local"), [
      "i0_0:2",
      "i1_0:2",
      "i0_2:4",
      "i1_2:4",
      "ax0:2",
      "ax1:2",
    ]);
    assert.deepEqual(bindingsOf(sch, "C_local"), [
      "i0_0 * 8 + i0_2 + ax0 * 4",
      "i1_0 * 8 + i1_2 + ax1 * 4",
      "T.bool(True)",
    ]);
    assertSameResults(func, sch.func, { outputs: [2] });
    const a = randomF32(256, 1), b = randomF32(256, 2);
    const inputs = [{ data: a, shape: [16, 16] }, { data: b, shape: [16, 16] }];
    await checkOnDevices(sch.func, inputs, [16, 16], ref(a, b));
  },
);

/**
 * `C[i, j] = A[i, j] * 2` over `rows x cols` computed into a local cache, its loops fused and
 * split `[blockIdx, inner]`, the write-back moved under the block loop.
 */
function fusedWriteBack(rows: number, cols: number, inner: number): Schedule {
  const A = te.placeholder([rows, cols], "float32", "A");
  const C = te.compute([rows, cols], ([i, j]) => A.at(i!, j!).mul(2), { name: "C" });
  const sch = new Schedule(te.createPrimFunc([A, C], { name: "main" }));
  const c = sch.getSBlock("C");
  const local = sch.cacheWrite(c, 0, "local");
  const [i, j] = sch.getLoops(c);
  const [o] = sch.split(sch.fuse(i!, j!), [undefined, inner]);
  sch.bind(o!, "blockIdx.x");
  sch.reverseComputeAt(local, o!);
  return sch;
}

Deno.test(
  "reverseComputeAt() under a fused loop covers the half row each iteration wrote",
  GPU_TEST,
  async () => {
    // iteration o writes C[o // 2, o % 2 * 8 + t] for t < 8: half a row, never the whole row
    const sch = fusedWriteBack(8, 16, 8);
    assert.deepEqual(bindingsOf(sch, "C_local"), [
      "i0_i1_fused_0 // 2",
      "i0_i1_fused_0 * 8 % 16 + ax0",
      "T.bool(True)",
    ]);
    const a = randomF32(128, 3);
    await checkOnDevices(sch.func, [{ data: a, shape: [8, 16] }], [8, 16], scale(128).ref(a));
  },
);

Deno.test("reverseComputeAt() refuses a region it cannot cover exactly, naming block and loop", () => {
  // rows of 5 in chunks of 4: a chunk may span two rows, which no box of loops covers exactly
  assert.throws(
    () => fusedWriteBack(3, 5, 4),
    {
      message:
        'Cannot reverseComputeAt block "C_local" under loop "i0_i1_fused_0": it cannot cover exactly the elements of "C_local" its producers write under the loop: dimension 0 is not a strided range of the loops',
    },
  );
});

/**
 * `B = A * 2` (an intermediate in `scope`), `C = B + 1` over 64, `C`'s loop split as
 * `[blockIdx, k, threadIdx]` with the thread innermost and reordered to `[blockIdx, threadIdx,
 * k]`, then `B` computed under the thread loop.
 */
function stridedProducer(scope: "local" | "shared"): { before: PrimFunc; sch: Schedule } {
  const A = te.placeholder([64], "float32", "A");
  const B = te.compute([64], ([i]) => A.at(i!).mul(2), { name: "B" });
  const C = te.compute([64], ([i]) => B.at(i!).add(1), { name: "C" });
  const before = te.createPrimFunc([A, C], { name: "main" });
  const sch = new Schedule(before);
  const b = sch.getSBlock("B");
  sch.setScope(b, 0, scope);
  const [i] = sch.getLoops(sch.getSBlock("C"));
  const [o, k, tx] = sch.split(i!, [2, 4, 8]);
  sch.reorder(tx!, k!);
  sch.bind(o!, "blockIdx.x");
  sch.bind(tx!, "threadIdx.x");
  sch.computeAt(b, tx!);
  return { before, sch };
}

for (
  const [scope, loops, value] of [
    // a thread's own registers: exactly the four elements its iterations of k read
    ["local", ["i0_0:2", "i0_2:8", "ax0:4"], "i0_0 * 32 + i0_2 + ax0 * 8"],
    // shared by the block's threads: the strided sets of all 8 threads make one row of 32
    ["shared", ["i0_0:2", "i0_2:8", "ax0:32"], "i0_0 * 32 + ax0"],
  ] as const
) {
  Deno.test(
    `computeAt() of a ${scope} producer covers what its strided consumer reads`,
    GPU_TEST,
    async () => {
      const { before, sch } = stridedProducer(scope);
      assert.deepEqual(loopsOf(sch, "B"), loops);
      assert.deepEqual(bindingsOf(sch, "B"), [value, "T.bool(True)"]);
      assertReplays(before, sch);
      assertSameResults(before, sch.func, { outputs: [1] });
      const a = randomF32(64, 5);
      const ref = Float64Array.from(a, (x) => x * 2 + 1);
      await checkOnDevices(sch.func, [{ data: a, shape: [64] }], [64], ref);
    },
  );
}
