import assert from "node:assert/strict";
import type { Var } from "../../../ir/expr.ts";
import { irModule } from "../../../ir/module.ts";
import { assertStructuralEqual } from "../../../ir/structural.ts";
import * as te from "../../../ir/te/mod.ts";
import type { PrimFunc } from "../../../ir/tir/prim_func.ts";
import { parseTVMScript } from "../../../script/parser/mod.ts";
import { printTVMScript } from "../../../script/printer.ts";
import { applyDefaultSchedule } from "../../../transform/dlight/apply_default_schedule.ts";
import { Fallback } from "../../../transform/dlight/fallback.ts";
import { Reduction } from "../../../transform/dlight/reduction.ts";
import { PassContext } from "../../../transform/pass.ts";
import { Schedule } from "../../../transform/schedule/schedule.ts";
import { makeTarget } from "../../../transform/target.ts";
import { lowerTIRPipeline } from "../../../transform/tir/mod.ts";
import { assertSameResults } from "../../_tir_interp.ts";
import { assertAllBound } from "./_bound.ts";
import { checkOnDevice, devices } from "./_reduce_run.ts";
import {
  allocations,
  barrierCount,
  crossThreadSteps,
  threadLoops,
  topLoop,
} from "./_reduce_steps.ts";

const webgpu = makeTarget("webgpu");
const f32 = "float32";

/** `S[i] = sum_k A[i, k]`, then `M[i] = S[i] / n` when `mean`. */
function rowSum(m: number | Var, n: number | Var, mean = false): PrimFunc {
  const A = te.placeholder([m, n], f32, "A");
  const k = te.reduceAxis([0, n], "k");
  const S = te.compute([m], ([i]) => te.sum(A.at(i, k), [k]), { name: "S" });
  if (!mean) return te.createPrimFunc([A, S]);
  const M = te.compute([m], ([i]) => S.at(i).div(typeof n === "number" ? n : 1), { name: "M" });
  return te.createPrimFunc([A, M]);
}

/** `M[i, j] = max_k A[i, j, k]`. */
function lastAxisMax(b: number, m: number, n: number): PrimFunc {
  const A = te.placeholder([b, m, n], f32, "A");
  const k = te.reduceAxis([0, n], "k");
  return te.createPrimFunc([
    A,
    te.compute([b, m], ([i, j]) => te.max(A.at(i, j, k), [k]), { name: "M" }),
  ]);
}

/** `S = sum_{i, j} A[i, j]`. */
function sumAll(m: number, n: number): PrimFunc {
  const A = te.placeholder([m, n], f32, "A");
  const i = te.reduceAxis([0, m], "i"), j = te.reduceAxis([0, n], "j");
  return te.createPrimFunc([A, te.compute([], () => te.sum(A.at(i, j), [i, j]), { name: "S" })]);
}

function schedule(func: PrimFunc, rule = new Reduction(), target = webgpu): PrimFunc {
  const sch = rule.apply(func, target);
  assert.ok(sch, "the Reduction rule applies");
  assertAllBound(sch.func);
  return sch.func;
}

function lower(f: PrimFunc): PrimFunc {
  return lowerTIRPipeline()(irModule({ main: f })).functions.get("main") as PrimFunc;
}

Deno.test("Reduction schedules a row sum as its documented primitive sequence", () => {
  const before = rowSum(7, 300);
  const sch = new Schedule(before);
  const s = sch.getSBlock("S");
  const [i] = sch.getLoops(s);
  crossThreadSteps(sch, s, i!, 32, 8);
  sch.bind(i!, "blockIdx.x");
  assertStructuralEqual(schedule(before), sch.func);
});

Deno.test("Reduction binds one workgroup per row and combines partial sums in shared memory", () => {
  const before = rowSum(7, 300);
  const after = schedule(before);
  // 32 threads stride over the row, 4 combine 8 partial sums each, one finishes.
  assert.deepEqual(threadLoops(after), [
    "blockIdx.x:7",
    "threadIdx.x:32",
    "threadIdx.x:4",
    "threadIdx.x:1",
  ]);
  const lowered = lower(after);
  assert.deepEqual(allocations(lowered).sort(), [
    "S_rf:shared:32",
    "S_rf:shared:4",
    "S_rf_local:local:1",
  ]);
  assert.equal(barrierCount(lowered), 2, "a barrier after each shared-memory stage");
  assertSameResults(before, after, { outputs: [1], reverseThreads: true });
  assertSameResults(before, after, { outputs: [1] });
});

Deno.test("Reduction runs an elementwise epilogue on the thread that finishes the row", () => {
  const before = rowSum(5, 1000, true);
  const sch = new Schedule(before);
  const s = sch.getSBlock("S");
  const [i] = sch.getLoops(s);
  const unit = crossThreadSteps(sch, s, i!, 64, 8);
  sch.setScope(s, 0, "local");
  sch.reverseComputeAt(sch.getSBlock("M"), unit);
  sch.bind(i!, "blockIdx.x");
  const after = schedule(before);
  assertStructuralEqual(after, sch.func);
  assert.ok(allocations(lower(after)).includes("S:local:1"), "the sum lives in a register");
  assertSameResults(before, after, { outputs: [1], reverseThreads: true });
});

Deno.test("Reduction fuses the leading axes of a last-axis max into the grid", () => {
  const before = lastAxisMax(4, 5, 100);
  const after = schedule(before);
  const top = topLoop(after);
  assert.equal(top.threadTag, "blockIdx.x");
  assert.deepEqual(threadLoops(after)[0], "blockIdx.x:20");
  assertSameResults(before, after, { outputs: [1], reverseThreads: true });
});

Deno.test("Reduction reduces everything in one workgroup when there is no spatial axis", () => {
  const before = sumAll(20, 30);
  const after = schedule(before);
  assert.deepEqual(threadLoops(after).slice(0, 2), ["blockIdx.x:1", "threadIdx.x:64"]);
  assertSameResults(before, after, { outputs: [1], reverseThreads: true });
});

Deno.test("Reduction takes its thread count from its options and the target's limits", () => {
  const before = rowSum(3, 5000);
  assert.equal(threadLoops(schedule(before))[1], "threadIdx.x:256");
  const small = makeTarget("webgpu", { maxThreadsPerBlock: 64 });
  assert.equal(threadLoops(schedule(before, new Reduction(), small))[1], "threadIdx.x:64");
  const own = schedule(before, new Reduction({ maxThreads: 128 }));
  assert.deepEqual(threadLoops(own), [
    "blockIdx.x:3",
    "threadIdx.x:128",
    "threadIdx.x:8",
    "threadIdx.x:1",
  ]);
  assertSameResults(before, own, { outputs: [1], reverseThreads: true, tol: 1e-5 });
});

Deno.test("Reduction handles a symbolic reduction length", () => {
  const k = te.var("k");
  const before = rowSum(6, k);
  const after = schedule(before);
  assert.equal(threadLoops(after)[1], "threadIdx.x:256");
  for (const size of [1, 255, 300, 513]) {
    const options = { outputs: [1], sizes: { k: size }, reverseThreads: true, tol: 1e-5 };
    assertSameResults(before, after, options);
  }
});

Deno.test("Reduction handles symbolic rows", () => {
  const before = rowSum(te.var("n"), 300, true);
  const after = schedule(before);
  assert.equal(threadLoops(after)[0], "blockIdx.x:?");
  for (const n of [1, 3]) {
    assertSameResults(before, after, { outputs: [1], sizes: { n }, reverseThreads: true });
  }
  const lowered = lower(after);
  assert.ok(allocations(lowered).includes("S:local:1"), allocations(lowered).join());
});

Deno.test("Reduction does not apply to functions of other shapes", () => {
  const rule = new Reduction();
  // a column sum reduces along the outer axis: one thread per column is coalesced already
  const A = te.placeholder([300, 7], f32, "A");
  const k = te.reduceAxis([0, 300], "k");
  const colSum = te.createPrimFunc([
    A,
    te.compute([7], ([j]) => te.sum(A.at(k, j), [k]), { name: "S" }),
  ]);
  // elementwise
  const B = te.placeholder([8, 8], f32, "B");
  const ew = te.createPrimFunc([B, te.compute([8, 8], ([i, j]) => B.at(i, j).add(1))]);
  // a reduction followed by a broadcast (GeneralReduction's job)
  const C = te.placeholder([4, 100], f32, "C");
  const k2 = te.reduceAxis([0, 100], "k");
  const S = te.compute([4], ([i]) => te.sum(C.at(i, k2), [k2]), { name: "S" });
  const centered = te.createPrimFunc([
    C,
    te.compute([4, 100], ([i, j]) => C.at(i, j).sub(S.at(i)), { name: "D" }),
  ]);
  // argmax: a reduction of two values at once
  const X = te.placeholder([4, 100], f32, "X");
  const k3 = te.reduceAxis([0, 100], "k");
  const [ai, av] = te.compute([4], ([i]) => te.argmax(X.at(i, k3), k3), { name: "argmax" });
  const argmax = te.createPrimFunc([X, ai!, av!]);
  // a matmul: no input holds every iteration variable, each is shared between outputs
  const P = te.placeholder([64, 64], f32, "P"), Q = te.placeholder([64, 64], f32, "Q");
  const k4 = te.reduceAxis([0, 64], "k");
  const mm = te.createPrimFunc([
    P,
    Q,
    te.compute([64, 64], ([i, j]) => te.sum(P.at(i, k4).mul(Q.at(k4, j)), [k4]), { name: "C" }),
  ]);
  for (const f of [colSum, ew, centered, argmax, mm, rowSum(7, 63)]) {
    assert.equal(rule.apply(f, webgpu), undefined);
  }
  assert.ok(new Reduction({ minExtent: 8 }).apply(rowSum(7, 63), webgpu), "minExtent lowers it");
  const bound = schedule(rowSum(7, 300));
  assert.equal(rule.apply(bound, webgpu), undefined, "already bound");
});

Deno.test("Reduction output round-trips through TVMScript", () => {
  const after = schedule(rowSum(5, 1000, true));
  const mod = irModule({ main: after });
  const text = printTVMScript(mod);
  assertStructuralEqual(parseTVMScript(text), mod);
});

Deno.test("applyDefaultSchedule() uses Reduction before Fallback", () => {
  const mod = irModule({ sum: rowSum(7, 300), small: rowSum(7, 10) });
  const out = applyDefaultSchedule(new Reduction(), new Fallback())(
    mod,
    new PassContext({ config: { target: webgpu } }),
  );
  assert.deepEqual(threadLoops(out.functions.get("sum") as PrimFunc).length, 4);
  assert.deepEqual(threadLoops(out.functions.get("small") as PrimFunc), [
    "blockIdx.x:1",
    "threadIdx.x:7",
  ]);
});

for (const [name, device] of devices) {
  Deno.test({
    name: `Reduction kernels match the interpreter on ${name}`,
    ignore: !device,
    fn: async () => {
      const rule = new Reduction();
      await checkOnDevice(rowSum(7, 300), rule, device!, { outputs: [1] });
      await checkOnDevice(rowSum(5, 1000, true), rule, device!, { outputs: [1] });
      await checkOnDevice(lastAxisMax(4, 5, 100), rule, device!, { outputs: [1] });
      await checkOnDevice(sumAll(20, 30), rule, device!, { outputs: [1] });
      // fewer elements than threads: the idle threads' partials must be the identity
      const tiny = lastAxisMax(3, 3, 10);
      await checkOnDevice(tiny, new Reduction({ minExtent: 2 }), device!, {
        outputs: [1],
        fill: (_i, x) => -0.1 - Math.abs(x),
      });
      await checkOnDevice(rowSum(6, te.var("k")), rule, device!, {
        outputs: [1],
        sizes: { k: 300 },
      });
      await checkOnDevice(rowSum(te.var("n"), 1000, true), rule, device!, {
        outputs: [1],
        sizes: { n: 5 },
      });
    },
  });
}
