import assert from "node:assert/strict";
import type { Var } from "../../../ir/expr.ts";
import { irModule } from "../../../ir/module.ts";
import { layerNorm, rmsNorm } from "../../../ir/relax/op/legalize/topi_norm.ts";
import { softmax as legalSoftmax } from "../../../ir/relax/op/legalize/topi_reduce.ts";
import { assertStructuralEqual } from "../../../ir/structural.ts";
import * as te from "../../../ir/te/mod.ts";
import type { PrimFunc } from "../../../ir/tir/prim_func.ts";
import { parseTVMScript } from "../../../script/parser/mod.ts";
import { printTVMScript } from "../../../script/printer.ts";
import { visitStmt } from "../../../ir/visit.ts";
import { applyDefaultSchedule } from "../../../transform/dlight/apply_default_schedule.ts";
import { Fallback } from "../../../transform/dlight/fallback.ts";
import { GeneralReduction } from "../../../transform/dlight/general_reduction.ts";
import { Reduction } from "../../../transform/dlight/reduction.ts";
import { PassContext } from "../../../transform/pass.ts";
import { Schedule } from "../../../transform/schedule/schedule.ts";
import { makeTarget } from "../../../transform/target.ts";
import { lowerTIRPipeline } from "../../../transform/tir/mod.ts";
import { assertSameResults } from "../../_tir_interp.ts";
import { assertAllBound } from "./_bound.ts";
import { checkOnDevice, devices } from "./_reduce_run.ts";
import { allocations, barrierCount, crossThreadSteps, threadLoops } from "./_reduce_steps.ts";

const webgpu = makeTarget("webgpu");
const f32 = "float32";

/** Softmax over the rows of `m x n`: max, exp, sum, div. */
function softmax(m: number | Var, n: number | Var): PrimFunc {
  const A = te.placeholder([m, n], f32, "A");
  const k = te.reduceAxis([0, n], "k");
  const mx = te.compute([m], ([i]) => te.max(A.at(i, k), [k]), { name: "T_max" });
  const e = te.compute([m, n], ([i, j]) => te.exp(A.at(i, j).sub(mx.at(i))), { name: "T_exp" });
  const k2 = te.reduceAxis([0, n], "k2");
  const s = te.compute([m], ([i]) => te.sum(e.at(i, k2), [k2]), { name: "T_sum" });
  const out = te.compute([m, n], ([i, j]) => e.at(i, j).div(s.at(i)), { name: "T_div" });
  return te.createPrimFunc([A, out]);
}

/** Layer norm from the sums of `x` and `x^2` (two independent reductions). */
function layerNormTwoSums(m: number, n: number): PrimFunc {
  const A = te.placeholder([m, n], f32, "A");
  const g = te.placeholder([n], f32, "gamma"), b = te.placeholder([n], f32, "beta");
  const k = te.reduceAxis([0, n], "k"), k2 = te.reduceAxis([0, n], "k2");
  const s1 = te.compute([m], ([i]) => te.sum(A.at(i, k), [k]), { name: "s1" });
  const s2 = te.compute([m], ([i]) => te.sum(A.at(i, k2).mul(A.at(i, k2)), [k2]), { name: "s2" });
  const out = te.compute([m, n], ([i, j]) => {
    const mu = s1.at(i).div(n);
    const v = s2.at(i).div(n).sub(mu.mul(mu));
    return A.at(i, j).sub(mu).mul(te.rsqrt(v.add(1e-5))).mul(g.at(j)).add(b.at(j));
  }, { name: "layer_norm" });
  return te.createPrimFunc([A, g, b, out]);
}

/** The legalized layer norm (mean, then the sum of squared deviations from it). */
function legalLayerNorm(m: number, n: number): PrimFunc {
  const x = te.placeholder([m, n], f32, "x");
  const g = te.placeholder([n], f32, "gamma"), b = te.placeholder([n], f32, "beta");
  return te.createPrimFunc([x, g, b, layerNorm(x, g, b, [1], { epsilon: 1e-5 })]);
}

/** The legalized RMS norm over the last axis of `shape`. */
function legalRmsNorm(shape: readonly number[]): PrimFunc {
  const x = te.placeholder(shape, f32, "x");
  const w = te.placeholder([shape[shape.length - 1]!], f32, "weight");
  return te.createPrimFunc([x, w, rmsNorm(x, w, [shape.length - 1], { epsilon: 1e-5 })]);
}

function schedule(func: PrimFunc, rule = new GeneralReduction(), target = webgpu): PrimFunc {
  const sch = rule.apply(func, target);
  assert.ok(sch, "the GeneralReduction rule applies");
  assertAllBound(sch.func);
  return sch.func;
}

function lower(f: PrimFunc): PrimFunc {
  return lowerTIRPipeline()(irModule({ main: f })).functions.get("main") as PrimFunc;
}

Deno.test("GeneralReduction schedules softmax as its documented primitive sequence", () => {
  const before = softmax(5, 129);
  const sch = new Schedule(before);
  sch.computeInline(sch.getSBlock("T_exp"));
  const [i, j] = sch.getLoops(sch.getSBlock("T_div"));
  const [j0, tx] = sch.split(j!, [undefined, 32]);
  sch.reorder(tx!, j0!);
  sch.bind(tx!, "threadIdx.x");
  for (const name of ["T_sum", "T_max"]) {
    const b = sch.getSBlock(name);
    sch.setScope(b, 0, "shared");
    sch.computeAt(b, i!);
    crossThreadSteps(sch, b, i!, 32, 8);
  }
  sch.bind(i!, "blockIdx.x");
  assertStructuralEqual(schedule(before), sch.func);
});

Deno.test("GeneralReduction runs a softmax row per workgroup with its statistics in shared memory", () => {
  const before = softmax(5, 129);
  const after = schedule(before);
  assert.deepEqual(threadLoops(after), [
    "blockIdx.x:5",
    "threadIdx.x:32",
    "threadIdx.x:4",
    "threadIdx.x:1",
    "threadIdx.x:32",
    "threadIdx.x:4",
    "threadIdx.x:1",
    "threadIdx.x:32",
  ]);
  const lowered = lower(after);
  const shared = allocations(lowered).filter((a) => a.includes(":shared:")).sort();
  assert.deepEqual(shared, [
    "T_max:shared:1",
    "T_max_rf:shared:32",
    "T_max_rf:shared:4",
    "T_sum:shared:1",
    "T_sum_rf:shared:32",
    "T_sum_rf:shared:4",
  ]);
  assert.equal(barrierCount(lowered), 6, "three per reduction");
  assertSameResults(before, after, { outputs: [1], reverseThreads: true });
  assertSameResults(before, after, { outputs: [1] });
});

Deno.test("GeneralReduction schedules both layer norms and RMS norm", () => {
  for (const before of [layerNormTwoSums(3, 100), legalLayerNorm(3, 100)]) {
    const after = schedule(before);
    assert.equal(threadLoops(after)[0], "blockIdx.x:3");
    assertSameResults(before, after, { outputs: [3], reverseThreads: true, tol: 1e-5 });
  }
  const rms = legalRmsNorm([4, 2, 70]);
  const after = schedule(rms);
  assert.equal(threadLoops(after)[0], "blockIdx.x:8", "leading axes fused into the grid");
  assertSameResults(rms, after, { outputs: [2], reverseThreads: true, tol: 1e-5 });
});

Deno.test("GeneralReduction takes its thread count from its options and the target's limits", () => {
  const before = softmax(2, 4096);
  assert.equal(threadLoops(schedule(before))[1], "threadIdx.x:256");
  const small = makeTarget("webgpu", { maxThreadsPerBlock: 64 });
  assert.equal(threadLoops(schedule(before, new GeneralReduction(), small))[1], "threadIdx.x:64");
  const own = schedule(before, new GeneralReduction({ maxThreads: 128 }));
  assert.equal(threadLoops(own)[1], "threadIdx.x:128");
  assertSameResults(before, own, { outputs: [1], reverseThreads: true, tol: 1e-5 });
});

Deno.test("GeneralReduction handles symbolic sizes", () => {
  const n = te.var("n"), m = te.var("m");
  const x = te.placeholder([n, m], f32, "x");
  const before = te.createPrimFunc([x, legalSoftmax(x, 1)]);
  const after = schedule(before);
  assert.deepEqual(threadLoops(after).slice(0, 2), ["blockIdx.x:?", "threadIdx.x:256"]);
  for (const sizes of [{ n: 3, m: 300 }, { n: 2, m: 1 }, { n: 1, m: 257 }]) {
    assertSameResults(before, after, { outputs: [1], sizes, reverseThreads: true, tol: 1e-5 });
  }
  const shared = allocations(lower(after)).filter((a) => a.includes(":shared:"));
  assert.ok(shared.every((a) => !a.endsWith(":?")), `constant sizes: ${shared.join()}`);
  const rowsKnown = schedule(softmax(4, m));
  assertSameResults(softmax(4, m), rowsKnown, {
    outputs: [1],
    sizes: { m: 77 },
    reverseThreads: true,
  });
});

Deno.test("GeneralReduction does not apply to functions of other shapes", () => {
  const rule = new GeneralReduction();
  // softmax over columns: the reductions' reads are not along the innermost axis
  const A = te.placeholder([100, 6], f32, "A");
  const colSoftmax = te.createPrimFunc([A, legalSoftmax(A, 0)]);
  // the statistic is also an output of the function
  const B = te.placeholder([4, 100], f32, "B");
  const k = te.reduceAxis([0, 100], "k");
  const S = te.compute([4], ([i]) => te.sum(B.at(i, k), [k]), { name: "S" });
  const D = te.compute([4, 100], ([i, j]) => B.at(i, j).sub(S.at(i)), { name: "D" });
  const twoOutputs = te.createPrimFunc([B, S, D]);
  // reductions over rows of different lengths
  const C = te.placeholder([4, 100], f32, "C"), E = te.placeholder([8, 100], f32, "E");
  const kc = te.reduceAxis([0, 100], "k"), ke = te.reduceAxis([0, 100], "k2");
  const sc = te.compute([4], ([i]) => te.sum(C.at(i, kc), [kc]), { name: "sc" });
  const se = te.compute([8], ([i]) => te.sum(E.at(i, ke), [ke]), { name: "se" });
  const mixed = te.createPrimFunc([
    C,
    E,
    te.compute([4, 100], ([i, j]) => C.at(i, j).add(sc.at(i)).add(se.at(i)), { name: "F" }),
  ]);
  // elementwise only
  const G = te.placeholder([8, 8], f32, "G");
  const ew = te.createPrimFunc([G, te.compute([8, 8], ([i, j]) => G.at(i, j).add(1))]);
  for (const f of [colSoftmax, twoOutputs, mixed, ew, softmax(4, 12)]) {
    assert.equal(rule.apply(f, webgpu), undefined);
  }
  assert.ok(new GeneralReduction({ minExtent: 8 }).apply(softmax(4, 12), webgpu));
  assert.equal(rule.apply(schedule(softmax(5, 129)), webgpu), undefined, "already bound");
});

Deno.test("GeneralReduction output round-trips through TVMScript", () => {
  const mod = irModule({ main: schedule(legalLayerNorm(3, 100)) });
  assertStructuralEqual(parseTVMScript(printTVMScript(mod)), mod);
});

Deno.test("applyDefaultSchedule() tries Reduction, then GeneralReduction, then Fallback", () => {
  const mod = irModule({ sm: softmax(5, 129), small: softmax(4, 12) });
  const out = applyDefaultSchedule(new Reduction(), new GeneralReduction(), new Fallback())(
    mod,
    new PassContext({ config: { target: webgpu } }),
  );
  assert.equal(threadLoops(out.functions.get("sm") as PrimFunc).length, 8);
  assert.deepEqual(threadLoops(out.functions.get("small") as PrimFunc), [
    "blockIdx.x:1",
    "threadIdx.x:4",
    "blockIdx.x:1",
    "threadIdx.x:4",
    "blockIdx.x:1",
    "threadIdx.x:12",
  ]);
});

Deno.test("GeneralReduction writes rows of whole vectors in runs of 4 per thread", () => {
  const kinds = (f: PrimFunc) => {
    const out: string[] = [];
    visitStmt(f.body, { stmt: (s) => void (s.kind === "For" && out.push(s.forKind)) });
    return out;
  };
  assert.ok(kinds(schedule(softmax(2, 1024))).includes("vectorized"));
  assert.ok(!kinds(schedule(softmax(5, 129))).includes("vectorized"));
});

for (const [name, device] of devices) {
  Deno.test({
    name: `GeneralReduction kernels match the interpreter on ${name}`,
    ignore: !device,
    fn: async () => {
      const rule = new GeneralReduction();
      await checkOnDevice(softmax(5, 129), rule, device!, { outputs: [1] });
      await checkOnDevice(softmax(2, 1024), rule, device!, { outputs: [1] });
      await checkOnDevice(legalLayerNorm(2, 1024), rule, device!, { outputs: [3], rtol: 1e-4 });
      await checkOnDevice(layerNormTwoSums(3, 100), rule, device!, { outputs: [3], rtol: 1e-4 });
      await checkOnDevice(legalLayerNorm(3, 100), rule, device!, { outputs: [3] });
      await checkOnDevice(legalRmsNorm([4, 2, 70]), rule, device!, { outputs: [2] });
      await checkOnDevice(softmax(3, te.var("m")), rule, device!, {
        outputs: [1],
        sizes: { m: 300 },
      });
      const n = te.var("n"), m = te.var("m");
      const x = te.placeholder([n, m], f32, "x");
      await checkOnDevice(te.createPrimFunc([x, legalSoftmax(x, 1)]), rule, device!, {
        outputs: [1],
        sizes: { n: 4, m: 200 },
      });
    },
  });
}
