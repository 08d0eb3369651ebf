// A tiled matmul scheduled the way a dlight Matmul rule does it: block/thread tiles, A and B
// staged through shared memory per k tile (computeAt + cooperative fetch), C accumulated in
// registers (cacheWrite + reverseComputeAt), the init split off (decomposeReduction). It must
// keep the results, lower, and run correctly once lowered.
import assert from "node:assert/strict";
import { constIntValue } from "../../../ir/expr.ts";
import { irModule } from "../../../ir/module.ts";
import type { PrimFunc } from "../../../ir/tir/prim_func.ts";
import { visitStmt } from "../../../ir/visit.ts";
import { Schedule } from "../../../transform/schedule/schedule.ts";
import { lowerTIRPipeline, verifyLowered } from "../../../transform/tir/mod.ts";
import { assertSameResults, randomArray, runPrimFunc } from "../../_tir_interp.ts";
import { matmul } from "./_fixtures.ts";
import { assertReplays } from "./_stages.ts";

/** Schedules `C = A @ B` with 16 x 16 block tiles, 4 x 4 threads of 4 x 4 and k tiles of 8. */
function scheduleTiled(before: PrimFunc, align = false): Schedule {
  const sch = new Schedule(before);
  const c = sch.getSBlock("C");
  const [i, j, k] = sch.getLoops(c);
  const [bi, ti, ii] = sch.split(i!, [undefined, 4, 4]);
  const [bj, tj, jj] = sch.split(j!, [undefined, 4, 4]);
  const [k0, k1] = sch.split(k!, [undefined, 8]);
  sch.reorder(bi!, bj!, ti!, tj!, k0!, k1!, ii!, jj!);
  sch.bind(bi!, "blockIdx.y");
  sch.bind(bj!, "blockIdx.x");
  sch.bind(ti!, "threadIdx.y");
  sch.bind(tj!, "threadIdx.x");
  const local = sch.cacheWrite(c, 0, "local");
  sch.reverseComputeAt(local, tj!);
  for (const index of [0, 1]) {
    const shared = sch.cacheRead(c, index, "shared");
    sch.computeAt(shared, k0!);
    const fused = sch.fuse(...sch.getLoops(shared).slice(-2));
    const [, ty, tx, vec] = sch.split(fused, [undefined, 4, 4, 2]);
    sch.bind(ty!, "threadIdx.y");
    sch.bind(tx!, "threadIdx.x");
    sch.vectorize(vec!);
    if (align) sch.storageAlign(shared, 0, -2, 16, 1);
  }
  sch.decomposeReduction(c, k0!);
  sch.unroll(k1!);
  return sch;
}

function lower(f: PrimFunc): PrimFunc {
  const out = lowerTIRPipeline()(irModule([["main", f]])).functions.get("main");
  assert.ok(out?.kind === "PrimFunc");
  verifyLowered(out, { name: "main" });
  return out;
}

/** Runs the lowered function on random inputs and compares with a float64 matmul. */
function checkLowered(f: PrimFunc, m: number, n: number, kk: number): void {
  const a = randomArray(m * kk, 1), b = randomArray(kk * n, 2);
  const c = new Float32Array(m * n).fill(NaN);
  runPrimFunc(f, [{ data: a, shape: [m, kk] }, { data: b, shape: [kk, n] }, {
    data: c,
    shape: [m, n],
  }]);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let ref = 0;
      for (let k = 0; k < kk; k++) ref += a[i * kk + k]! * b[k * n + j]!;
      const got = c[i * n + j]!;
      assert.ok(
        Math.abs(got - ref) <= 1e-4 * Math.max(1, Math.abs(ref)),
        `C[${i}, ${j}]: ${got} vs ${ref}`,
      );
    }
  }
}

function allocs(f: PrimFunc): string[] {
  const out: string[] = [];
  visitStmt(f.body, {
    stmt: (s) => {
      if (s.kind === "AllocBuffer") {
        out.push(`${s.buffer.name}:${s.buffer.scope}:${constIntValue(s.buffer.shape[0]!)}`);
      }
    },
  });
  return out;
}

Deno.test("a dlight-style tiled matmul keeps its results and lowers", () => {
  const before = matmul(32, 32, 16);
  const sch = scheduleTiled(before);
  const blocks = sch.getBlocks().map((b) => b.name);
  assert.deepEqual(blocks, ["C_init", "A_shared", "B_shared", "C", "C_local"]);
  assert.deepEqual(sch.getLoops(sch.getSBlock("A_shared")).map((l) => sch.get(l).forKind), [
    "thread_binding",
    "thread_binding",
    "thread_binding",
    "thread_binding",
    "serial",
    "serial",
    "thread_binding",
    "thread_binding",
    "vectorized",
  ]);
  assertSameResults(before, sch.func, { outputs: [2] });
  assertSameResults(before, sch.func, { outputs: [2], reverseThreads: true });
  assertReplays(before, sch);
  const low = lower(sch.func);
  // shared tiles of 16 x 8 and 8 x 16, a 4 x 4 register tile per thread
  assert.deepEqual(allocs(low), ["C_local:local:16", "A_shared:shared:128", "B_shared:shared:128"]);
  checkLowered(low, 32, 32, 16);
});

Deno.test("the tiled matmul schedule handles sizes that do not divide the tiles", () => {
  const before = matmul(30, 26, 13);
  const sch = scheduleTiled(before);
  assertSameResults(before, sch.func, { outputs: [2] });
  assertSameResults(before, sch.func, { outputs: [2], reverseThreads: true });
  checkLowered(lower(sch.func), 30, 26, 13);
});

Deno.test("storageAlign() pads the rows of the shared tiles once lowered", () => {
  const before = matmul(32, 32, 16);
  const sch = scheduleTiled(before, true);
  assertSameResults(before, sch.func, { outputs: [2] });
  const low = lower(sch.func);
  // A_shared is 16 x 8 with row stride 17: 15 * 17 + 8 elements; B_shared 8 x 16, stride 17
  assert.deepEqual(allocs(low), ["C_local:local:16", "A_shared:shared:263", "B_shared:shared:135"]);
  checkLowered(low, 32, 32, 16);
});
