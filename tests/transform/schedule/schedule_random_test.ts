// Random sequences of loop primitives on small matmuls must keep the results, and a rejected
// request must leave the function unchanged.
import assert from "node:assert/strict";
import { Schedule } from "../../../transform/schedule/schedule.ts";
import { matmul } from "./_fixtures.ts";
import { assertSameResults } from "../../_tir_interp.ts";

function rng(seed: number): (n: number) => number {
  let s = seed;
  return (n) => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return Math.floor((s / 2147483648) * n);
  };
}

Deno.test("random split/fuse/reorder/bind sequences keep matmul results", () => {
  const rand = rng(42);
  let applied = 0, rejected = 0;
  for (let trial = 0; trial < 40; trial++) {
    const before = matmul(1 + rand(6), 1 + rand(6), 1 + rand(6));
    const sch = new Schedule(before);
    const c = sch.getSBlock("C");
    for (let step = 0; step < 6; step++) {
      const loops = sch.getLoops(c);
      const pick = () => loops[rand(loops.length)]!;
      const funcBefore = sch.func;
      try {
        switch (rand(4)) {
          case 0: {
            const f = 1 + rand(4);
            sch.split(pick(), rand(2) ? [undefined, f] : [f, undefined]);
            break;
          }
          case 1: {
            const k = rand(Math.max(1, loops.length - 1));
            sch.fuse(...loops.slice(k, k + 2));
            break;
          }
          case 2:
            sch.reorder(pick(), pick());
            break;
          default:
            sch.bind(pick(), rand(2) ? "blockIdx.x" : "threadIdx.x");
        }
        applied++;
      } catch (e) {
        assert.ok(e instanceof Error && /^(Cannot|Loop)/.test(e.message), String(e));
        assert.equal(sch.func, funcBefore, "a rejected primitive changes nothing");
        rejected++;
      }
      assertSameResults(before, sch.func, { outputs: [2], reverseThreads: true });
    }
  }
  assert.ok(applied > 100 && rejected > 10, `applied ${applied}, rejected ${rejected}`);
});
