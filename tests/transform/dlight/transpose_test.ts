import assert from "node:assert/strict";
import { irModule } from "../../../ir/module.ts";
import { assertStructuralEqual } from "../../../ir/structural.ts";
import * as te from "../../../ir/te/mod.ts";
import type { PrimFunc } from "../../../ir/tir/prim_func.ts";
import { parseTVMScript } from "../../../script/parser/mod.ts";
import { printTVMScript } from "../../../script/printer.ts";
import { applyDefaultSchedule } from "../../../transform/dlight/apply_default_schedule.ts";
import { Fallback } from "../../../transform/dlight/fallback.ts";
import { Transpose } from "../../../transform/dlight/transpose.ts";
import { PassContext } from "../../../transform/pass.ts";
import { Schedule } from "../../../transform/schedule/schedule.ts";
import { makeTarget } from "../../../transform/target.ts";
import { lowerTIRPipeline } from "../../../transform/tir/mod.ts";
import { assertSameResults } from "../../_tir_interp.ts";
import { assertAllBound } from "./_bound.ts";
import { checkOnDevice, devices } from "./_reduce_run.ts";
import { allocations, barrierCount, threadLoops } from "./_reduce_steps.ts";

const webgpu = makeTarget("webgpu");
const f32 = "float32";

/** `T[i, j] = A[j, i]` for `A` of `m x n`. */
function transpose(m: number, n: number): PrimFunc {
  const A = te.placeholder([m, n], f32, "A");
  return te.createPrimFunc([A, te.compute([n, m], ([i, j]) => A.at(j, i), { name: "T" })]);
}

/** `T[i, j, k] = A[j, k, i]`. */
function permute3d(a: number, b: number, c: number): PrimFunc {
  const A = te.placeholder([a, b, c], f32, "A");
  return te.createPrimFunc([
    A,
    te.compute([c, a, b], ([i, j, k]) => A.at(j, k, i), { name: "T" }),
  ]);
}

/** `T[b, i, j] = A[b, j, i]`. */
function batchedTranspose(b: number, m: number, n: number): PrimFunc {
  const A = te.placeholder([b, m, n], f32, "A");
  return te.createPrimFunc([
    A,
    te.compute([b, n, m], ([x, i, j]) => A.at(x, j, i), { name: "T" }),
  ]);
}

/** `E = exp(A)` as its own block, then `T = E^T + 1`. */
function expThenTranspose(m: number, n: number): PrimFunc {
  const A = te.placeholder([m, n], f32, "A");
  const E = te.compute([m, n], ([i, j]) => te.exp(A.at(i, j)), { name: "E" });
  return te.createPrimFunc([
    A,
    te.compute([n, m], ([i, j]) => E.at(j, i).add(1), { name: "T" }),
  ]);
}

function schedule(func: PrimFunc, rule = new Transpose(), target = webgpu): PrimFunc {
  const sch = rule.apply(func, target);
  assert.ok(sch, "the Transpose rule applies");
  assertAllBound(sch.func);
  return sch.func;
}

function lower(f: PrimFunc): PrimFunc {
  return lowerTIRPipeline()(irModule({ main: f })).functions.get("main") as PrimFunc;
}

Deno.test("Transpose schedules a 2-D transpose as its documented primitive sequence", () => {
  const before = transpose(33, 17);
  const sch = new Schedule(before);
  const b = sch.getSBlock("T");
  const [i, j] = sch.getLoops(b);
  const [i0, i1] = sch.split(i!, [undefined, 32]);
  const [j0, j1] = sch.split(j!, [undefined, 32]);
  sch.reorder(i0!, j0!, i1!, j1!);
  const bx = sch.fuse(i0!, j0!);
  const [i1s, i1t] = sch.split(i1!, [undefined, 8]);
  sch.reorder(i1t!, j1!, i1s!);
  const a = sch.cacheRead(b, 0, "shared");
  sch.computeAt(a, bx);
  const [, r, c] = sch.getLoops(a);
  const [rs, rt] = sch.split(r!, [undefined, 8]);
  sch.reorder(rt!, c!, rs!);
  sch.storageAlign(a, 0, 0, 32, 1);
  sch.bind(bx, "blockIdx.x");
  sch.bind(rt!, "threadIdx.y");
  sch.bind(c!, "threadIdx.x");
  sch.bind(i1t!, "threadIdx.y");
  sch.bind(j1!, "threadIdx.x");
  assertStructuralEqual(schedule(before), sch.func);
});

Deno.test("Transpose copies padded tiles through shared memory", () => {
  const before = transpose(64, 96);
  const after = schedule(before);
  assert.deepEqual(threadLoops(after), [
    "blockIdx.x:6",
    "threadIdx.y:8",
    "threadIdx.x:32",
    "threadIdx.y:8",
    "threadIdx.x:32",
  ]);
  const lowered = lower(after);
  // a 32 x 32 tile whose rows are 33 apart
  assert.deepEqual(allocations(lowered), ["A_shared:shared:1055"], "31 * 33 + 32");
  assert.equal(barrierCount(lowered), 1);
  assertSameResults(before, after, { outputs: [1], reverseThreads: true });
});

Deno.test("Transpose keeps thread extents constant on clipped edge tiles", () => {
  for (const before of [transpose(40, 70), permute3d(20, 9, 40), batchedTranspose(3, 33, 17)]) {
    const after = schedule(before);
    assert.ok(threadLoops(after).every((t) => !t.endsWith("?")), threadLoops(after).join());
    assertSameResults(before, after, { outputs: [1], reverseThreads: true });
    assertSameResults(before, after, { outputs: [1] });
  }
});

Deno.test("Transpose inlines elementwise blocks around the permutation", () => {
  const before = expThenTranspose(33, 40);
  const after = schedule(before);
  const text = printTVMScript(irModule({ main: after }));
  assert.ok(!text.includes('sblock("E")'), "E is inlined");
  assertSameResults(before, after, { outputs: [1], reverseThreads: true });
});

Deno.test("Transpose sizes its tile from the target's threads and workgroup memory", () => {
  const before = transpose(64, 64);
  const few = schedule(before, new Transpose(), makeTarget("webgpu", { maxThreadsPerBlock: 64 }));
  assert.deepEqual(threadLoops(few).slice(0, 3), [
    "blockIdx.x:4",
    "threadIdx.y:2",
    "threadIdx.x:32",
  ]);
  const tiny = makeTarget("webgpu", { maxSharedMemoryBytes: 2048 });
  const small = schedule(before, new Transpose(), tiny);
  assert.deepEqual(allocations(lower(small)), ["A_shared:shared:271"], "15 * 17 + 16");
  const own = schedule(before, new Transpose({ tile: 16, maxThreads: 128 }));
  assert.deepEqual(threadLoops(own).slice(0, 3), [
    "blockIdx.x:16",
    "threadIdx.y:8",
    "threadIdx.x:16",
  ]);
  for (const f of [few, small, own]) assertSameResults(before, f, { outputs: [1] });
});

Deno.test("Transpose does not apply to functions of other shapes", () => {
  const rule = new Transpose();
  const A = te.placeholder([40, 40], f32, "A");
  const copy = te.createPrimFunc([A, te.compute([40, 40], ([i, j]) => A.at(i, j).mul(2))]);
  const v = te.placeholder([40], f32, "v");
  const bcast = te.createPrimFunc([v, te.compute([40, 40], ([i, _j]) => v.at(i))]);
  const k = te.reduceAxis([0, 40], "k");
  const colSum = te.createPrimFunc([A, te.compute([40], ([j]) => te.sum(A.at(k, j), [k]))]);
  for (const f of [copy, bcast, colSum, transpose(3, 5)]) {
    assert.equal(rule.apply(f, webgpu), undefined);
  }
  assert.ok(new Transpose({ minExtent: 2 }).apply(transpose(3, 5), webgpu), "minExtent lowers it");
  assert.equal(rule.apply(schedule(transpose(33, 17)), webgpu), undefined, "already bound");
});

Deno.test("Transpose output round-trips through TVMScript", () => {
  const mod = irModule({ main: schedule(transpose(40, 70)) });
  assertStructuralEqual(parseTVMScript(printTVMScript(mod)), mod);
});

Deno.test("applyDefaultSchedule() uses Transpose before Fallback", () => {
  const mod = irModule({ t: transpose(33, 17), small: transpose(3, 5) });
  const out = applyDefaultSchedule(new Transpose(), new Fallback())(
    mod,
    new PassContext({ config: { target: webgpu } }),
  );
  assert.ok(threadLoops(out.functions.get("t") as PrimFunc).includes("threadIdx.y:8"));
  assert.deepEqual(threadLoops(out.functions.get("small") as PrimFunc), [
    "blockIdx.x:1",
    "threadIdx.x:15",
  ]);
});

for (const [name, device] of devices) {
  Deno.test({
    name: `Transpose kernels match the interpreter on ${name}`,
    ignore: !device,
    fn: async () => {
      const rule = new Transpose();
      for (
        const f of [
          transpose(33, 17),
          transpose(64, 96),
          permute3d(20, 9, 40),
          batchedTranspose(3, 33, 17),
          expThenTranspose(33, 40),
        ]
      ) {
        await checkOnDevice(f, rule, device!, { outputs: [1] });
      }
    },
  });
}
