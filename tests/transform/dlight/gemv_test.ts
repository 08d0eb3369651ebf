import assert from "node:assert/strict";
import { assertStructuralEqual } from "../../../ir/structural.ts";
import * as te from "../../../ir/te/mod.ts";
import type { PrimFunc } from "../../../ir/tir/prim_func.ts";
import type { Stmt } from "../../../ir/tir/stmt.ts";
import { visitStmt } from "../../../ir/visit.ts";
import { GEMV, type GemvTiles, gemvTiles } from "../../../transform/dlight/gemv.ts";
import { Schedule } from "../../../transform/schedule/schedule.ts";
import type { LoopRV } from "../../../transform/schedule/trace.ts";
import { makeTarget } from "../../../transform/target.ts";
import { assertAllBound } from "./_bound.ts";
import {
  applyRule,
  type Case,
  checkOnDevice,
  devices,
  gemvCase,
  lower,
  matmulCase,
} from "./_contraction.ts";

const gpuTarget = makeTarget("webgpu");

function allocs(s: Stmt): string[] {
  const out: string[] = [];
  visitStmt(s, {
    stmt: (x) => {
      const bufs = x.kind === "SBlockRealize"
        ? x.block.allocBuffers
        : x.kind === "AllocBuffer"
        ? [x.buffer]
        : [];
      for (const b of bufs) out.push(`${b.name}:${b.scope}`);
    },
  });
  return out;
}

function barriers(s: Stmt): number {
  let n = 0;
  visitStmt(s, {
    stmt: (x) =>
      void (x.kind === "Evaluate" && x.value.kind === "Call" &&
        x.value.op === "tir.tvm_storage_sync" && n++),
  });
  return n;
}

/**
 * The documented primitive sequence of the GEMV rule, by hand, for `y[0, j] = x[0, k] * W[k, j]`
 * (loops `i0, i1, k`): split-K over `threadIdx.y` with partial sums in shared memory, or one
 * output per thread.
 */
function byHand(f: PrimFunc, t: GemvTiles): Schedule {
  const sch = new Schedule(f);
  const y = sch.getSBlock("y");
  const [i0, i1, k] = sch.getLoops(y) as [LoopRV, LoopRV, LoopRV];
  const o = sch.fuse(i0, i1);
  if (t.staging === "registers") {
    const [bo, to, ov] = sch.split(o, [undefined, t.outputsPerBlock, t.outputsPerThread]);
    const [k0, k1] = sch.split(k, [undefined, t.kUnroll]);
    sch.reorder(bo!, to!, k0!, k1!, ov!);
    sch.bind(bo!, "blockIdx.x");
    sch.bind(to!, "threadIdx.x");
    sch.reverseComputeAt(sch.cacheWrite(y, 0, "local"), to!);
    sch.decomposeReduction(y, k0!);
    if (t.kUnroll > 1) sch.unroll(k1!);
    if (t.outputsPerThread % 4 === 0) {
      // runs of 4 consecutive outputs: W is contiguous along them
      if (t.outputsPerThread === 4) {
        sch.vectorize(ov!);
      } else {
        const [ov0, ov1] = sch.split(ov!, [undefined, 4]);
        sch.unroll(ov0!);
        sch.vectorize(ov1!);
      }
    } else if (t.outputsPerThread > 1) {
      sch.unroll(ov!);
    }
    return sch;
  }
  const [bo, to] = sch.split(o, [undefined, t.outputsPerBlock]);
  const [k0, kt, k1] = sch.split(k, [undefined, t.splitK, t.kUnroll]);
  sch.reorder(bo!, to!, kt!, k0!, k1!);
  const rf = sch.rfactor(kt!, 0);
  sch.bind(bo!, "blockIdx.x");
  sch.bind(to!, "threadIdx.x");
  sch.bind(kt!, "threadIdx.y");
  const rfLocal = sch.cacheWrite(rf, 0, "local");
  sch.reverseComputeAt(rfLocal, kt!);
  sch.reverseComputeAt(y, to!);
  sch.setScope(rfLocal, 0, "shared");
  sch.decomposeReduction(rf, k0!);
  sch.unroll(k1!);
  const combine = sch.getLoops(y).at(-1)!;
  const one = sch.addUnitLoop(combine);
  sch.bind(one, "threadIdx.y");
  sch.reverseComputeAt(sch.cacheWrite(y, 0, "local"), one);
  sch.decomposeReduction(y, combine);
  return sch;
}

Deno.test("GEMV splits the reduction over threads and combines it in shared memory", () => {
  const { func } = gemvCase(256, 96);
  const t = gemvTiles(gpuTarget, { out: 96, k: 256, contiguousK: false });
  assert.deepEqual(t, {
    staging: "shared",
    outputsPerBlock: 64,
    splitK: 4,
    kUnroll: 4,
    outputsPerThread: 1,
  });
  const got = applyRule(new GEMV(), func, gpuTarget);
  assertStructuralEqual(got.func, byHand(func, t).func);
  assert.deepEqual(allocs(got.func.body), ["y_rf:shared", "y_rf_local:local", "y_local:local"]);
  assertAllBound(got.func);
  // once lowered: a 4 x 64 shared buffer of partial sums and one barrier before the combine
  const low = lower(got.func);
  assert.equal(barriers(low.body), 1);
  let size = 0;
  visitStmt(low.body, {
    stmt: (s) =>
      void (s.kind === "AllocBuffer" && s.buffer.scope === "shared" &&
        (size = (s.buffer.shape[0] as { value: number }).value)),
  });
  assert.equal(size, 256);
});

Deno.test("GEMV with register staging gives each thread whole outputs", () => {
  const { func } = gemvCase(256, 96);
  const js = makeTarget("js");
  const t = gemvTiles(js, { out: 96, k: 256, contiguousK: false });
  // 96 outputs: 64 threads of 2 consecutive outputs (16 for large problems)
  assert.deepEqual(t, {
    staging: "registers",
    outputsPerBlock: 64,
    splitK: 1,
    kUnroll: 1,
    outputsPerThread: 2,
  });
  assert.equal(gemvTiles(js, { out: 4096, k: 4096, contiguousK: false }).outputsPerThread, 16);
  assert.equal(gemvTiles(js, { out: 4096, k: 4096, contiguousK: true }).outputsPerThread, 1);
  const got = applyRule(new GEMV(), func, js);
  assertStructuralEqual(got.func, byHand(func, t).func);
  assert.deepEqual(allocs(got.func.body), ["y_local:local"]);
  assertAllBound(got.func);
  assert.equal(barriers(lower(got.func).body), 0);
});

Deno.test("GEMV with register staging reads runs of 4 consecutive outputs as vectors", () => {
  const { func } = gemvCase(64, 2048);
  const js = makeTarget("js");
  const t = gemvTiles(js, { out: 2048, k: 64, contiguousK: false });
  assert.equal(t.outputsPerThread, 16);
  const got = applyRule(new GEMV(), func, js);
  assertStructuralEqual(got.func, byHand(func, t).func);
  // once lowered, each run of W is one ramp load
  let ramps = 0;
  visitStmt(lower(got.func).body, {
    expr: (e) => void (e.kind === "BufferLoad" && e.indices[0]?.kind === "Ramp" && ramps++),
  });
  assert.ok(ramps > 0);
  // a matrix contiguous along k keeps one output per thread, no vectors
  const wx = applyRule(new GEMV(), gemvCase(64, 2048, { layout: "Wx" }).func, js).func;
  visitStmt(wx.body, { stmt: (x) => assert.ok(x.kind !== "For" || x.forKind !== "vectorized") });
});

Deno.test("GEMV puts k on threadIdx.x when the matrix is contiguous along k", () => {
  const { func } = gemvCase(256, 96, { layout: "Wx" });
  const t = gemvTiles(gpuTarget, { out: 96, k: 256, contiguousK: true });
  assert.deepEqual(t, {
    staging: "shared",
    outputsPerBlock: 4,
    splitK: 64,
    kUnroll: 4,
    outputsPerThread: 1,
  });
  const got = applyRule(new GEMV(), func, gpuTarget);
  const tags: string[] = [];
  visitStmt(got.func.body, {
    stmt: (s) =>
      void (s.kind === "For" && s.threadTag &&
        tags.push(`${s.threadTag}:${(s.extent as { value: number }).value}`)),
  });
  // 4 outputs on y, the split reduction on x (neighbouring threads read neighbouring elements),
  // and the combine on a unit loop over x
  assert.deepEqual(tags, ["blockIdx.x:24", "threadIdx.y:4", "threadIdx.x:64", "threadIdx.x:1"]);
});

Deno.test("GEMV tiles shrink for small problems and follow the target's limits", () => {
  assert.deepEqual(gemvTiles(gpuTarget, { out: 3, k: 8, contiguousK: true }), {
    staging: "shared",
    outputsPerBlock: 4,
    splitK: 8,
    kUnroll: 1,
    outputsPerThread: 1,
  });
  const few = makeTarget("webgpu", { maxThreadsPerBlock: 32 });
  const t = gemvTiles(few, { out: 4096, k: 4096, contiguousK: false });
  assert.ok(t.outputsPerBlock * t.splitK <= 32);
  assert.equal(t.splitK, 4);
  assert.equal(
    gemvTiles(gpuTarget, { out: 64, k: 64, contiguousK: true }, { splitK: 16 }).splitK,
    16,
  );
  const software = { ...gpuTarget, isFallbackAdapter: true };
  assert.equal(gemvTiles(software, { out: 64, k: 64, contiguousK: true }).staging, "registers");
});

Deno.test("GEMV does not apply to matmuls, elementwise or already bound functions", () => {
  const rule = new GEMV();
  assert.equal(rule.apply(matmulCase(8, 32, 16).func, gpuTarget), undefined);
  const A = te.placeholder([16, 16], "float32", "A");
  const ew = te.compute([16, 16], ([i, j]) => A.at(i, j).mul(2), { name: "B" });
  assert.equal(rule.apply(te.createPrimFunc([A, ew]), gpuTarget), undefined);
  const bound = applyRule(rule, gemvCase(64, 32).func, gpuTarget).func;
  assert.equal(rule.apply(bound, gpuTarget), undefined);
});

const cases: Case[] = [
  gemvCase(256, 96),
  gemvCase(256, 96, { layout: "Wx" }),
  gemvCase(77, 45, { layout: "Wx", batch: 3, biasRelu: true }),
  gemvCase(77, 45, { batch: 2, biasRelu: true }),
  gemvCase(40, 2048, { biasRelu: true }),
];

for (const [name, device] of await devices()) {
  for (const staging of ["shared", "registers"] as const) {
    Deno.test({
      name: `GEMV (${staging} staging) matches the float64 reference on ${name}`,
      ignore: !device,
      fn: async () => {
        for (const c of cases) {
          const sch = applyRule(new GEMV({ staging }), c.func, device!.target);
          await checkOnDevice(c, lower(sch.func), device!);
        }
      },
    });
  }
}
