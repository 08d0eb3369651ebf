import assert from "node:assert/strict";
import { irModule } from "../../../ir/module.ts";
import * as te from "../../../ir/te/mod.ts";
import type { PrimFunc } from "../../../ir/tir/prim_func.ts";
import { visitStmt } from "../../../ir/visit.ts";
import { applyDefaultSchedule, Fallback } from "../../../transform/dlight/mod.ts";
import { lowerTIRPipeline, verifyLowered } from "../../../transform/tir/mod.ts";
import { type Arg, randomArray, runPrimFunc } from "../../_tir_interp.ts";

/** Schedules `f` with the Fallback rule (or not) and lowers it. */
function scheduleAndLower(f: PrimFunc, maxThreads?: number): PrimFunc {
  let mod = irModule({ main: f });
  if (maxThreads !== undefined) mod = applyDefaultSchedule(new Fallback({ maxThreads }))(mod);
  const out = lowerTIRPipeline()(mod).functions.get("main");
  assert.ok(out?.kind === "PrimFunc");
  verifyLowered(out, { name: "main" });
  return out;
}

/** Asserts that `f` and `g` compute the same on random inputs of the given shapes. */
function assertSameResults(f: PrimFunc, g: PrimFunc, shapes: readonly (readonly number[])[]) {
  const make = (): Arg[] =>
    shapes.map((shape, i) => ({
      data: randomArray(shape.reduce((a, b) => a * b, 1), i + 1),
      shape,
    }));
  const a = make(), b = make();
  runPrimFunc(f, a);
  runPrimFunc(g, b);
  a.forEach((x, i) => {
    const y = b[i]!;
    if (typeof x === "number" || typeof y === "number") return;
    assert.deepEqual(Array.from(y.data), Array.from(x.data), `argument ${i} differs`);
  });
}

function threadLoops(f: PrimFunc): string[] {
  const tags: string[] = [];
  visitStmt(f.body, {
    stmt: (s) => void (s.kind === "For" && s.threadTag && tags.push(s.threadTag)),
  });
  return tags;
}

Deno.test("te matmul, scheduled by Fallback with a non-divisible split, lowers correctly", () => {
  const A = te.placeholder([8, 6], "float32", "A"), B = te.placeholder([6, 5], "float32", "B");
  const k = te.reduceAxis([0, 6], "k");
  const C = te.compute([8, 5], ([i, j]) => te.sum(A.at(i, k).mul(B.at(k, j)), [k]), { name: "C" });
  const f = te.createPrimFunc([A, B, C]);
  for (const threads of [undefined, 16, 256]) {
    const g = scheduleAndLower(f, threads);
    if (threads !== undefined) assert.deepEqual(threadLoops(g), ["blockIdx.x", "threadIdx.x"]);
    assertSameResults(f, g, [[8, 6], [6, 5], [8, 5]]);
  }
});

Deno.test("te softmax with intermediates lowers correctly, scheduled or not", () => {
  const A = te.placeholder([4, 8], "float32", "A");
  const k = te.reduceAxis([0, 8], "k"), k2 = te.reduceAxis([0, 8], "k2");
  const M = te.compute([4], ([i]) => te.max(A.at(i, k), [k]), { name: "maxelem" });
  const E = te.compute([4, 8], ([i, j]) => te.exp(A.at(i, j).sub(M.at(i))), { name: "E" });
  const S = te.compute([4], ([i]) => te.sum(E.at(i, k2), [k2]), { name: "S" });
  const B = te.compute([4, 8], ([i, j]) => E.at(i, j).div(S.at(i)), { name: "B" });
  const f = te.createPrimFunc([A, B]);
  for (const threads of [undefined, 8]) {
    assertSameResults(f, scheduleAndLower(f, threads), [[4, 8], [4, 8]]);
  }
});

Deno.test("te elementwise with a symbolic shape lowers correctly for several sizes", () => {
  const n = te.sizeVar("n");
  const A = te.placeholder([n, 3], "float32", "A");
  const B = te.compute([n, 3], ([i, j]) => A.at(i, j).mul(2), { name: "B" });
  const f = te.createPrimFunc([A, B]);
  const g = scheduleAndLower(f, 16);
  for (const size of [1, 5, 7]) assertSameResults(f, g, [[size, 3], [size, 3]]);
});
