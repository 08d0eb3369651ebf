import assert from "node:assert/strict";
import { irModule, withFunction } from "../../ir/module.ts";
import {
  bindingBlock,
  dataflowBlock,
  relaxFunction,
  rvar,
  seqExpr,
  varBinding,
} from "../../ir/relax/expr.ts";
import { tensorSInfo } from "../../ir/relax/struct_info.ts";
import { primFunc } from "../../ir/tir/prim_func.ts";
import { evaluate } from "../../ir/tir/stmt.ts";
import {
  dumpIRInstrument,
  PassWellFormedError,
  printIRInstrument,
  timingInstrument,
  wellFormedInstrument,
} from "../../transform/instruments.ts";
import {
  dataflowBlockPass,
  modulePass,
  PassContext,
  runPass,
  sequential,
} from "../../transform/pass.ts";

const base = irModule({ f: primFunc([], evaluate(0)) });
const addG = modulePass("AddG", (m) => withFunction(m, "g", primFunc([], evaluate(1))));
const same = modulePass("Same", (m) => m);

Deno.test("timing instrument prints a table of nested passes", () => {
  const timing = timingInstrument();
  runPass(sequential([same, addG], "Pipeline"), base, new PassContext({ instruments: [timing] }));
  assert.deepEqual(timing.records.map((r) => [r.name, r.depth]), [["Same", 1], ["AddG", 1], [
    "Pipeline",
    0,
  ]]);
  const lines = timing.table().split("\n");
  assert.match(lines[0]!, /^pass\s+ms\s+share$/);
  assert.match(lines[1]!, /^Pipeline\s+[\d.]+\s+100\.0%$/);
  assert.match(lines[2]!, /^ {2}Same\s+[\d.]+/);
  assert.match(lines[3]!, /^ {2}AddG\s+[\d.]+/);
  assert.match(lines[4]!, /^total\s+[\d.]+$/);
});

Deno.test("print instrument shows the IR around the named pass only", () => {
  const out: string[] = [];
  const ctx = new PassContext({
    instruments: [printIRInstrument(["AddG"], { before: true, log: (t) => out.push(t) })],
  });
  runPass(sequential([same, addG]), base, ctx);
  assert.equal(out.length, 2);
  assert.ok(out[0]!.startsWith("# IR before AddG"));
  assert.ok(out[1]!.startsWith("# IR after AddG"));
});

Deno.test("well-formedness instrument names the pass that broke the module", () => {
  const x = rvar("x", tensorSInfo([2], "float32"));
  const y = rvar("y", tensorSInfo([2], "float32"));
  const good = irModule({
    main: relaxFunction([x], seqExpr([bindingBlock([varBinding(y, x)])], y)),
  });
  const breaker = modulePass(
    "Breaker",
    (m) =>
      withFunction(
        m,
        "main",
        relaxFunction([x], seqExpr([], rvar("ghost", tensorSInfo([2], "float32")))),
      ),
  );
  const ctx = new PassContext({ instruments: [wellFormedInstrument()] });
  assert.equal(runPass(same, good, ctx), good);
  assert.throws(() => runPass(breaker, good, ctx), (e: unknown) => {
    assert.ok(e instanceof PassWellFormedError);
    assert.equal(e.passName, "Breaker");
    assert.match(
      e.message,
      /^Pass "Breaker" produced an ill-formed module:\n {2}In function "main": variable "ghost" is used but never defined/,
    );
    return true;
  });
});

Deno.test("dump instrument writes one file per changing step", () => {
  const dir = Deno.makeTempDirSync();
  runPass(
    sequential([same, addG]),
    base,
    new PassContext({ instruments: [dumpIRInstrument(dir)] }),
  );
  const files = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  assert.deepEqual(files, ["000_input.py", "001_AddG.py", "002_Sequential.py"]);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("dataflowBlockPass rewrites dataflow blocks only", () => {
  const x = rvar("x", tensorSInfo([2], "float32"));
  const y = rvar("y", tensorSInfo([2], "float32"));
  const f = relaxFunction([x], seqExpr([dataflowBlock([varBinding(y, x)]), bindingBlock([])], y));
  const mod = irModule({ main: f });
  const seen: string[] = [];
  const p = dataflowBlockPass("Count", (b, name) => {
    seen.push(`${name}:${b.kind}`);
    return b;
  });
  assert.equal(p(mod), mod);
  assert.deepEqual(seen, ["main:DataflowBlock"]);
  const drop = dataflowBlockPass("Drop", (b) => ({ ...b, bindings: [] }));
  const out = drop(mod).functions.get("main");
  assert.equal(
    out?.kind === "relax.Function" && out.body.kind === "relax.SeqExpr" &&
      out.body.blocks[0]!.bindings.length,
    0,
  );
});
