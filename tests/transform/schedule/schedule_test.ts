import assert from "node:assert/strict";
import { bufferLoad, declBuffer, primVar } from "../../../ir/expr.ts";
import { irModule } from "../../../ir/module.ts";
import { bufferStore, seq } from "../../../ir/tir/stmt.ts";
import { Schedule } from "../../../transform/schedule/schedule.ts";
import { block, nest, reg, rootFunc } from "./_build.ts";
import { elementwise, matmul, twoStage } from "./_fixtures.ts";

Deno.test("Schedule: getLoops() lists the loops around a block, outermost first", () => {
  const f = matmul();
  const sch = new Schedule(f);
  const loops = sch.getLoops(sch.getSBlock("C"));
  assert.deepEqual(loops.map((l) => l.var.name), ["i", "j", "k"]);
  assert.equal(sch.get(loops[2]!).extent.kind, "IntImm");
  assert.equal(sch.get(sch.getSBlock("C")).name, "C");
});

Deno.test("Schedule: getBlocks() and getChildBlocks() list blocks in program order", () => {
  const sch = new Schedule(twoStage(4, 4));
  assert.deepEqual(sch.getBlocks().map((b) => b.name), ["B", "C"]);
  assert.deepEqual(sch.getChildBlocks(sch.getSBlock("root")).map((b) => b.name), ["B", "C"]);
  const [i] = sch.getLoops(sch.getSBlock("C"));
  assert.deepEqual(sch.getChildBlocks(i!).map((b) => b.name), ["C"]);
  assert.throws(() => sch.getSBlock("X"), { message: 'Block "X" is not in the function' });
});

Deno.test("Schedule: duplicate block names and loop variables are rejected", () => {
  const A = declBuffer([4], "float32", "A");
  const mk = (name: string, i = primVar("i")) => {
    const vi = primVar("vi");
    return nest(
      [[i, 4]],
      block(name, {
        iters: [[vi, 4, "spatial", i]],
        reads: [],
        writes: [reg(A, vi)],
        body: bufferStore(A, 1, [vi]),
      }),
    );
  };
  assert.throws(() => new Schedule(rootFunc([A], [], [mk("S"), mk("S")])), {
    message: 'Cannot schedule function "main": block name "S" is used twice',
  });
  const i = primVar("i");
  assert.throws(() => new Schedule(rootFunc([A], [], [mk("S", i), mk("T", i)])), {
    message: 'Cannot schedule function "main": loop variable "i" is used twice',
  });
});

Deno.test("Schedule: works on a module and puts the function back", () => {
  const mod = irModule({ add: elementwise(4, 4), mm: matmul(4, 4, 4) });
  assert.throws(() => new Schedule(mod), {
    message: "Cannot schedule a module with 2 PrimFuncs: pass funcName (it has: add, mm)",
  });
  const sch = new Schedule(mod, { funcName: "mm" });
  const [i] = sch.getLoops(sch.getSBlock("C"));
  sch.bind(i!, "blockIdx.x");
  const out = sch.mod;
  assert.equal(out.functions.get("add"), mod.functions.get("add"));
  assert.equal(out.functions.get("mm"), sch.func);
  assert.equal(String(sch.trace).split("\n")[0], 'b0 = sch.get_sblock(name="C", func_name="mm")');
  assert.throws(() => new Schedule(mod, { funcName: "nope" }), {
    message: 'Cannot schedule "nope": the module has no PrimFunc of that name',
  });
});

Deno.test("Schedule: copy() is independent and keeps the trace", () => {
  const f = elementwise(8, 8);
  const sch = new Schedule(f);
  const [i, j] = sch.getLoops(sch.getSBlock("B"));
  const c = sch.copy();
  c.fuse(i!, j!);
  assert.equal(sch.func, f);
  assert.notEqual(c.func, f);
  assert.equal(sch.trace.records.length, 2);
  assert.equal(c.trace.records.length, 3);
  sch.reorder(j!, i!);
  assert.deepEqual(sch.getLoops(sch.getSBlock("B")).map((l) => l.var.name), ["j", "i"]);
});

Deno.test("Schedule: primitives work on loops under a shared outer loop", () => {
  const A = declBuffer([4, 4], "float32", "A"), B = declBuffer([4, 4], "float32", "B");
  const i = primVar("i"), j = primVar("j"), j2 = primVar("j2");
  const vi = primVar("vi"), vj = primVar("vj"), wi = primVar("wi"), wj = primVar("wj");
  const f = rootFunc([A, B], [], [
    nest(
      [[i, 4]],
      seq(
        nest(
          [[j, 4]],
          block("S", {
            iters: [[vi, 4, "spatial", i], [vj, 4, "spatial", j]],
            reads: [],
            writes: [reg(A, vi, vj)],
            body: bufferStore(A, 1, [vi, vj]),
          }),
        ),
        nest(
          [[j2, 4]],
          block("T", {
            iters: [[wi, 4, "spatial", i], [wj, 4, "spatial", j2]],
            reads: [reg(A, wi, wj)],
            writes: [reg(B, wi, wj)],
            body: bufferStore(B, bufferLoad(A, [wi, wj]), [wi, wj]),
          }),
        ),
      ),
    ),
  ]);
  const sch = new Schedule(f);
  const [, lj2] = sch.getLoops(sch.getSBlock("T"));
  sch.split(lj2!, [2, 2]);
  assert.deepEqual(sch.getLoops(sch.getSBlock("T")).map((l) => l.var.name), ["i", "j2_0", "j2_1"]);
  assert.deepEqual(sch.getLoops(sch.getSBlock("S")).map((l) => l.var.name), ["i", "j"]);
  const orig = new Schedule(f);
  assert.equal(sch.get(sch.getSBlock("S")), orig.get(orig.getSBlock("S")), "block S is untouched");
});
