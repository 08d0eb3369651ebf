import assert from "node:assert/strict";
import { assertStructuralEqual } from "../../../ir/structural.ts";
import { Schedule } from "../../../transform/schedule/schedule.ts";
import { Trace } from "../../../transform/schedule/trace.ts";
import { matmul, twoStage } from "./_fixtures.ts";

function scheduleMatmul(sch: Schedule): void {
  const c = sch.getSBlock("C");
  const [i, j, k] = sch.getLoops(c);
  const f = sch.fuse(i!, j!);
  const [bx, tx] = sch.split(f, [undefined, 32]);
  sch.reorder(bx!, tx!, k!);
  sch.bind(bx!, "blockIdx.x");
  sch.bind(tx!, "threadIdx.x");
}

Deno.test("Trace prints as TVM's Python lines", () => {
  const sch = new Schedule(matmul());
  scheduleMatmul(sch);
  assert.equal(
    String(sch.trace),
    [
      'b0 = sch.get_sblock(name="C", func_name="main")',
      "l1, l2, l3 = sch.get_loops(block=b0)",
      "l4 = sch.fuse(l1, l2)",
      "l5, l6 = sch.split(loop=l4, factors=[None, 32])",
      "sch.reorder(l5, l6, l3)",
      'sch.bind(loop=l5, thread_axis="blockIdx.x")',
      'sch.bind(loop=l6, thread_axis="threadIdx.x")',
    ].join("\n"),
  );
  const rec = sch.trace.records[3]!;
  assert.equal(rec.primitive, "split");
  assert.deepEqual(rec.args["factors"], [undefined, 32]);
  assert.equal(rec.outputs.length, 2);
});

Deno.test("Trace records inlining and unit loops", () => {
  const sch = new Schedule(twoStage(4, 4));
  sch.computeInline(sch.getSBlock("B"));
  sch.addUnitLoop(sch.getSBlock("C"));
  assert.equal(
    String(sch.trace),
    [
      'b0 = sch.get_sblock(name="B", func_name="main")',
      "sch.compute_inline(block=b0)",
      'b1 = sch.get_sblock(name="C", func_name="main")',
      "l2 = sch.add_unit_loop(block_or_loop=b1)",
    ].join("\n"),
  );
});

Deno.test("Schedule.replay() reapplies a trace to a fresh schedule", () => {
  const f = matmul();
  const a = new Schedule(f);
  scheduleMatmul(a);
  const b = new Schedule(f);
  b.replay(a.trace);
  assertStructuralEqual(b.func, a.func);
  assert.equal(String(b.trace), String(a.trace));
  const c = new Schedule(twoStage(4, 4));
  const t = c.copy();
  t.computeInline(t.getSBlock("B"));
  c.replay(t.trace);
  assertStructuralEqual(c.func, t.func);
  assert.throws(() => c.replay(new Trace([{ primitive: "tile", args: {}, outputs: [] }])), {
    message: 'Cannot replay primitive "tile": unknown primitive',
  });
});
