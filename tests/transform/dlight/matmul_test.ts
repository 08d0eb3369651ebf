import assert from "node:assert/strict";
import { irModule } from "../../../ir/module.ts";
import { assertStructuralEqual } from "../../../ir/structural.ts";
import * as te from "../../../ir/te/mod.ts";
import type { PrimFunc } from "../../../ir/tir/prim_func.ts";
import type { Stmt } from "../../../ir/tir/stmt.ts";
import { visitStmt } from "../../../ir/visit.ts";
import { compileKernel, launchKernel } from "../../../runtime/kernel.ts";
import { Tensor } from "../../../runtime/tensor.ts";
import { applyDefaultSchedule } from "../../../transform/dlight/apply_default_schedule.ts";
import { Fallback } from "../../../transform/dlight/fallback.ts";
import { GEMV } from "../../../transform/dlight/gemv.ts";
import {
  Matmul,
  type MatmulOptions,
  type MatmulTiles,
  matmulTiles,
} from "../../../transform/dlight/matmul.ts";
import { PassContext, runPass } from "../../../transform/pass.ts";
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

/** `(threadIdx/blockIdx tag, extent)` of every thread-bound loop, outermost first. */
function bindings(f: PrimFunc): string[] {
  const out: string[] = [];
  visitStmt(f.body, {
    stmt: (s) => {
      if (s.kind === "For" && s.threadTag) {
        out.push(`${s.threadTag}:${s.extent.kind === "IntImm" ? s.extent.value : "?"}`);
      }
    },
  });
  return out;
}

/** `name:scope` of every allocated buffer. */
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

/** Block names, in program order. */
function blocks(f: PrimFunc): string[] {
  const out: string[] = [];
  visitStmt(f.body, { stmt: (s) => void (s.kind === "SBlockRealize" && out.push(s.block.name)) });
  return out.filter((n) => n !== "root");
}

/**
 * The documented primitive sequence of the Matmul rule, applied by hand to the two-dimensional
 * `C[i, j] += A[i, k] * B[k, j]` (block "C") with an optional epilogue.
 */
function byHand(f: PrimFunc, t: MatmulTiles, epilogue: readonly string[] = []): Schedule {
  const sch = new Schedule(f);
  const c = sch.getSBlock("C");
  const [i, j, k] = sch.getLoops(c) as [LoopRV, LoopRV, LoopRV];
  const [bi, ti, ii] = sch.split(i, [undefined, t.threadsY, t.rowsPerThread]);
  const [bj, tj, jj] = sch.split(j, [undefined, t.threadsX, t.colsPerThread]);
  const [k0, k1] = sch.split(k, [undefined, t.kTile]);
  sch.reorder(bi!, bj!, ti!, tj!, k0!, k1!, ii!, jj!);
  sch.bind(bi!, "blockIdx.y");
  sch.bind(bj!, "blockIdx.x");
  sch.bind(ti!, "threadIdx.y");
  sch.bind(tj!, "threadIdx.x");
  const local = sch.cacheWrite(c, 0, "local");
  for (const e of epilogue) sch.reverseComputeInline(sch.getSBlock(e));
  sch.reverseComputeAt(local, tj!);
  if (t.staging === "shared") {
    for (const index of [0, 1]) {
      const copy = sch.cacheRead(c, index, "shared");
      sch.computeAt(copy, k0!);
      const tileLoops = sch.getLoops(copy).slice(-2);
      const [rows, cols] = tileLoops.map((l) => (sch.get(l).extent as { value: number }).value);
      // runs of 4 consecutive elements per thread when the tile is made of whole runs
      const runs = cols! % 4 === 0 && (rows! * cols!) % (t.threadsY * t.threadsX * 4) === 0;
      const fused = sch.fuse(...tileLoops);
      const [, ty, tx, v] = sch.split(fused, [
        undefined,
        t.threadsY,
        t.threadsX,
        ...(runs ? [4] : []),
      ]);
      if (v) sch.vectorize(v);
      sch.bind(ty!, "threadIdx.y");
      sch.bind(tx!, "threadIdx.x");
    }
  }
  const init = sch.decomposeReduction(c, k0!);
  const [back0, back1] = sch.getLoops(local).slice(-2);
  // B[k, j] and C[i, j] are contiguous along each thread's columns: runs of 4 are vectors
  const vectorCols = t.colsPerThread % 4 === 0;
  const inner = [k1!, ii!, ...sch.getLoops(init).slice(-2), back0!];
  if (vectorCols) {
    for (const l of [jj!, back1!]) {
      if (t.colsPerThread === 4) {
        sch.vectorize(l);
        continue;
      }
      const [runs, lanes] = sch.split(l, [undefined, 4]);
      inner.push(runs!);
      sch.vectorize(lanes!);
    }
  } else {
    inner.push(jj!, back1!);
  }
  for (const l of inner) {
    const loop = sch.get(l);
    if (loop.forKind === "serial" && loop.extent.kind === "IntImm" && loop.extent.value > 1) {
      sch.unroll(l);
    }
  }
  return sch;
}

Deno.test("Matmul stages A and B through shared memory as the documented primitives do", () => {
  const { func } = matmulCase(64, 64, 32);
  const t = matmulTiles(gpuTarget, { m: 64, n: 64, k: 32 });
  assert.deepEqual(t, {
    staging: "shared",
    threadsY: 16,
    threadsX: 16,
    rowsPerThread: 4,
    colsPerThread: 4,
    kTile: 16,
  });
  const got = applyRule(new Matmul(), func, gpuTarget);
  assertStructuralEqual(got.func, byHand(func, t).func);
  assert.deepEqual(blocks(got.func), ["C_init", "A_shared", "B_shared", "C", "C_local"]);
  assert.deepEqual(allocs(got.func.body), ["C_local:local", "A_shared:shared", "B_shared:shared"]);
  assertAllBound(got.func);
  // the copies are cooperative: bound to the same thread axes as the compute
  assert.deepEqual(bindings(got.func), [
    "blockIdx.y:1",
    "blockIdx.x:1",
    "threadIdx.y:16",
    "threadIdx.x:16",
    "threadIdx.y:16",
    "threadIdx.x:16",
    "threadIdx.y:16",
    "threadIdx.x:16",
  ]);
});

Deno.test("Matmul with register staging reads A and B straight into each thread's tile", () => {
  const { func } = matmulCase(64, 64, 32);
  const js = makeTarget("js");
  const t = matmulTiles(js, { m: 64, n: 64, k: 32 });
  assert.deepEqual(t, {
    staging: "registers",
    threadsY: 8,
    threadsX: 8,
    rowsPerThread: 8,
    colsPerThread: 8,
    kTile: 1,
  });
  // 16 x 16 outputs per thread for large problems
  const big = matmulTiles(js, { m: 512, n: 512, k: 512 });
  assert.deepEqual([big.rowsPerThread, big.colsPerThread], [16, 16]);
  const got = applyRule(new Matmul(), func, js);
  assertStructuralEqual(got.func, byHand(func, t).func);
  assert.deepEqual(allocs(got.func.body), ["C_local:local"]);
  assertAllBound(got.func);
});

Deno.test("Matmul fuses a bias-add and relu epilogue into the register write-back", () => {
  const c = matmulCase(32, 32, 16, { biasRelu: true });
  const t = matmulTiles(gpuTarget, { m: 32, n: 32, k: 16 });
  const got = applyRule(new Matmul(), c.func, gpuTarget);
  assertStructuralEqual(got.func, byHand(c.func, t, ["D", "E"]).func);
  // no intermediate buffers or epilogue blocks are left
  assert.deepEqual(blocks(got.func), ["C_init", "A_shared", "B_shared", "C", "C_local"]);
  assert.deepEqual(allocs(got.func.body), ["C_local:local", "A_shared:shared", "B_shared:shared"]);
});

Deno.test("Matmul inlines an elementwise prologue and tiles batched, transposed layouts", () => {
  const c = matmulCase(24, 40, 12, { batch: 3, layout: "TN", prologue: true });
  const got = applyRule(new Matmul({ staging: "shared" }), c.func, gpuTarget);
  assert.ok(!blocks(got.func).includes("A_scaled"));
  assert.equal(bindings(got.func)[0], "blockIdx.z:3");
  assertAllBound(got.func);
  lower(got.func);
});

Deno.test("Matmul tiles shrink for small problems and follow the target's limits", () => {
  // 8 rows: one per thread (threads kept before rows per thread); k = 4: one k tile
  assert.deepEqual(matmulTiles(gpuTarget, { m: 8, n: 128, k: 4 }), {
    staging: "shared",
    threadsY: 8,
    threadsX: 16,
    rowsPerThread: 1,
    colsPerThread: 8,
    kTile: 4,
  });
  // large problems: 128 x 128 block tiles of 16 x 16 threads with 8 x 8 outputs each, k tile 8
  // so that A's and B's tiles (256 rows of 8 floats) take half of the default 16 KiB
  assert.deepEqual(matmulTiles(gpuTarget, { m: 4096, n: 4096, k: 4096 }), {
    staging: "shared",
    threadsY: 16,
    threadsX: 16,
    rowsPerThread: 8,
    colsPerThread: 8,
    kTile: 8,
  });
  const small = makeTarget("webgpu", { maxThreadsPerBlock: 64, maxSharedMemoryBytes: 2048 });
  const t = matmulTiles(small, { m: 512, n: 512, k: 512 });
  assert.equal(t.threadsY * t.threadsX, 64);
  // (8 * 8 + 8 * 8) rows of k tile, 4 bytes each, within half the workgroup memory
  assert.equal(t.kTile, 2);
  assert.ok((t.threadsY * t.rowsPerThread + t.threadsX * t.colsPerThread) * t.kTile * 4 <= 1024);
  const narrow = makeTarget("webgpu", { maxThreadsPerDim: [4, 256, 64] });
  assert.equal(matmulTiles(narrow, { m: 64, n: 64, k: 64 }).threadsX, 4);
  // options override the derived tiles
  assert.equal(matmulTiles(gpuTarget, { m: 64, n: 64, k: 64 }, { kTile: 2 }).kTile, 2);
  // a software adapter (llvmpipe) makes barriers costly: operands go straight to registers
  const software = { ...gpuTarget, isFallbackAdapter: true };
  assert.equal(matmulTiles(software, { m: 64, n: 64, k: 64 }).staging, "registers");
});

Deno.test("Matmul does not apply to GEMVs, other reductions, elementwise or bound functions", () => {
  const rule = new Matmul();
  assert.equal(rule.apply(gemvCase(64, 32).func, gpuTarget), undefined);
  assert.equal(rule.apply(gemvCase(64, 32, { layout: "Wx" }).func, gpuTarget), undefined);
  assert.equal(rule.apply(matmulCase(1, 32, 16).func, gpuTarget), undefined);
  const A = te.placeholder([16, 16], "float32", "A");
  const k = te.reduceAxis([0, 16], "k");
  const rowSum = te.compute([16], ([i]) => te.sum(A.at(i, k), [k]), { name: "S" });
  assert.equal(rule.apply(te.createPrimFunc([A, rowSum]), gpuTarget), undefined);
  const sq = te.compute([16, 16], ([i, j]) => te.sum(A.at(i, k).mul(A.at(k, j)), [k]), {
    name: "C",
  });
  // both operands are the same buffer: not a two-operand contraction
  assert.equal(rule.apply(te.createPrimFunc([A, sq]), gpuTarget), undefined);
  const ew = te.compute([16, 16], ([i, j]) => A.at(i, j).mul(2), { name: "B" });
  assert.equal(rule.apply(te.createPrimFunc([A, ew]), gpuTarget), undefined);
  const bound = applyRule(rule, matmulCase(16, 16, 16).func, gpuTarget).func;
  assert.equal(rule.apply(bound, gpuTarget), undefined);
});

/**
 * The numeric cases, with tile overrides: the clipped 45 x 70 case keeps 4 columns per thread
 * because its fully predicated 8 x 8 shared-staging shader (about 1700 lines) takes minutes to
 * compile on llvmpipe over GL; 64 x 128 x 16 covers the default 8-column tiles (two vector runs
 * per thread) without predicates.
 */
const cases: [Case, MatmulOptions][] = [
  [matmulCase(64, 48, 40), {}],
  [matmulCase(37, 29, 23), {}],
  [matmulCase(37, 29, 23, { layout: "NT" }), {}],
  [matmulCase(20, 33, 17, { batch: 3, layout: "TN", prologue: true }), {}],
  [matmulCase(45, 70, 19, { biasRelu: true }), { colsPerThread: 4 }],
  [matmulCase(64, 128, 16), {}],
];

for (const [name, device] of await devices()) {
  for (const staging of ["shared", "registers"] as const) {
    Deno.test({
      name: `Matmul (${staging} staging) matches the float64 reference on ${name}`,
      ignore: !device,
      fn: async () => {
        for (const [c, tiles] of cases) {
          const sch = applyRule(new Matmul({ staging, ...tiles }), c.func, device!.target);
          await checkOnDevice(c, lower(sch.func), device!);
        }
      },
    });
  }

  Deno.test({
    name: `Matmul compiled once for a symbolic row count runs with three sizes on ${name}`,
    ignore: !device,
    fn: async () => {
      const m = te.var("m");
      const A = te.placeholder([m, 24], "float32", "A");
      const B = te.placeholder([24, 40], "float32", "B");
      const k = te.reduceAxis([0, 24], "k");
      const C = te.compute([m, 40], ([i, j]) => te.sum(A.at(i, k).mul(B.at(k, j)), [k]), {
        name: "C",
      });
      const sch = applyRule(new Matmul(), te.createPrimFunc([A, B, C]), device!.target);
      const kernel = compileKernel(lower(sch.func), device!.target);
      for (const rows of [1, 37, 100]) {
        const a = Float32Array.from({ length: rows * 24 }, (_, i) => ((i * 7) % 13) / 13 - 0.5);
        const b = Float32Array.from({ length: 24 * 40 }, (_, i) => ((i * 5) % 11) / 11 - 0.5);
        const ta = Tensor.from(a, [rows, 24], { device: device! });
        const tb = Tensor.from(b, [24, 40], { device: device! });
        const tc = Tensor.from(new Float32Array(rows * 40).fill(NaN), [rows, 40], {
          device: device!,
        });
        launchKernel(kernel, [ta, tb, tc]);
        const got = await tc.toArray() as Float32Array;
        for (let i = 0; i < rows; i++) {
          for (let j = 0; j < 40; j++) {
            let r = 0;
            for (let p = 0; p < 24; p++) r += a[i * 24 + p]! * b[p * 40 + j]!;
            assert.ok(Math.abs(got[i * 40 + j]! - r) < 1e-5, `m = ${rows}: C[${i}, ${j}]`);
          }
        }
        for (const t of [ta, tb, tc]) t.dispose();
      }
    },
  });
}

Deno.test("applyDefaultSchedule(Matmul, GEMV, Fallback) gives each kernel its rule", () => {
  const mod = irModule({
    mm: matmulCase(32, 32, 32).func,
    gemv: gemvCase(64, 32).func,
    scale: te.createPrimFunc((() => {
      const A = te.placeholder([32], "float32", "A");
      return [A, te.compute([32], ([i]) => A.at(i).mul(2), { name: "B" })];
    })()),
  });
  const ctx = new PassContext({ config: { target: gpuTarget } });
  const out = runPass(applyDefaultSchedule(new Matmul(), new GEMV(), new Fallback()), mod, ctx);
  const f = (n: string) => out.functions.get(n) as PrimFunc;
  assert.ok(allocs(f("mm").body).includes("A_shared:shared"));
  assert.ok(allocs(f("gemv").body).includes("y_rf:shared"));
  assert.deepEqual(allocs(f("scale").body), []);
  for (const n of ["mm", "gemv", "scale"]) {
    assertAllBound(f(n));
    assert.equal(f(n).attrs["tir.is_scheduled"], true);
  }
});

Deno.test("Matmul declines convolutions and broadcast-batch matmuls (their operand indices are not plain axes)", () => {
  const target = makeTarget("webgpu");
  // conv2d: x[n, c, h + rh, w + rw] * w[o, c, rh, rw]
  const X = te.placeholder([1, 3, 6, 6], "float32", "X");
  const W = te.placeholder([4, 3, 3, 3], "float32", "W");
  const rc = te.reduceAxis([0, 3], "rc"),
    rh = te.reduceAxis([0, 3], "rh"),
    rw = te.reduceAxis([0, 3], "rw");
  const Y = te.compute(
    [1, 4, 4, 4],
    ([n, o, h, w]) =>
      te.sum(X.at(n, rc, h.add(rh), w.add(rw)).mul(W.at(o, rc, rh, rw)), [rc, rh, rw]),
    { name: "conv" },
  );
  assert.equal(new Matmul().apply(te.createPrimFunc([X, W, Y]), target), undefined);
  // (2, 1, 3, 4) @ (3, 4, 5): the lhs batch axis of size 1 is read at index 0
  const A = te.placeholder([2, 1, 3, 4], "float32", "A");
  const B = te.placeholder([3, 4, 5], "float32", "B");
  const k = te.reduceAxis([0, 4], "k");
  const C = te.compute(
    [2, 3, 3, 5],
    ([b0, b1, i, j]) => te.sum(A.at(b0, 0, i, k).mul(B.at(b1, k, j)), [k]),
    {
      name: "C",
    },
  );
  assert.equal(new Matmul().apply(te.createPrimFunc([A, B, C]), target), undefined);
});

Deno.test("register tiles use one row per thread when the row count is symbolic (a batch size)", () => {
  const soft = makeTarget("webgpu", { isFallbackAdapter: true });
  const t = matmulTiles(soft, { m: undefined, n: 128, k: 784 });
  assert.equal(t.staging, "registers");
  assert.deepEqual([t.threadsY, t.rowsPerThread], [1, 1]);
  assert.equal(t.threadsX * t.colsPerThread, 128);
  // a constant row count keeps the 2-D register tile; shared staging is unaffected
  const c = matmulTiles(soft, { m: 512, n: 512, k: 512 });
  assert.ok(c.threadsY * c.rowsPerThread > 1);
  const hw = matmulTiles(makeTarget("webgpu"), { m: undefined, n: 128, k: 784 });
  assert.equal(hw.staging, "shared");
  assert.ok(hw.threadsY > 1);
});
