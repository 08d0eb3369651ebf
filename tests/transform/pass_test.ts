import assert from "node:assert/strict";
import { irModule, withFunction } from "../../ir/module.ts";
import { primFunc } from "../../ir/tir/prim_func.ts";
import { evaluate } from "../../ir/tir/stmt.ts";
import {
  modulePass,
  PassContext,
  primFuncPass,
  runPass,
  sequential,
} from "../../transform/pass.ts";

const base = irModule({ f: primFunc([], evaluate(0)) });
const addG = modulePass("AddG", (m) => withFunction(m, "g", primFunc([], evaluate(1))));
const identity = modulePass("Identity", (m) => m);

Deno.test("passes are named callables; sequential runs in order", () => {
  assert.equal(addG.name, "AddG");
  assert.equal(identity(base), base);
  const out = sequential([identity, addG])(base);
  assert.deepEqual([...out.functions.keys()], ["f", "g"]);
});

Deno.test("disabled passes are skipped and instruments see each pass", () => {
  const seen: string[] = [];
  const ctx = new PassContext({
    disabled: ["AddG"],
    instruments: [{
      name: "log",
      before: (p) => void seen.push("before " + p.name),
      after: (p) => void seen.push("after " + p.name),
    }],
  });
  const out = runPass(sequential([identity, addG], "Pipeline"), base, ctx);
  assert.equal(out, base);
  assert.deepEqual(seen, [
    "before Pipeline",
    "before Identity",
    "after Identity",
    "after Pipeline",
  ]);
  const skip = new PassContext({
    instruments: [{ name: "skip", shouldRun: (p) => p.name !== "Identity" }],
  });
  assert.equal(runPass(addG, base, skip).functions.size, 2);
});

Deno.test("primFuncPass rewrites each PrimFunc and keeps the module when unchanged", () => {
  const same = primFuncPass("Same", (f) => f);
  assert.equal(same(base), base);
  const attr = primFuncPass("Attr", (f) => ({ ...f, attrs: { ...f.attrs, seen: true } }));
  const out = attr(base);
  assert.equal(out.functions.get("f")!.attrs.seen, true);
});
