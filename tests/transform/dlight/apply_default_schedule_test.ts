import assert from "node:assert/strict";
import { irModule } from "../../../ir/module.ts";
import type { PrimFunc } from "../../../ir/tir/prim_func.ts";
import {
  applyDefaultSchedule,
  IS_SCHEDULED,
} from "../../../transform/dlight/apply_default_schedule.ts";
import { Fallback } from "../../../transform/dlight/fallback.ts";
import type { ScheduleRule } from "../../../transform/dlight/rule.ts";
import { PassContext } from "../../../transform/pass.ts";
import { Schedule } from "../../../transform/schedule/schedule.ts";
import { makeTarget, type Target } from "../../../transform/target.ts";
import { elementwise, matmul, twoStage } from "../schedule/_fixtures.ts";
import { assertSameResults } from "../../_tir_interp.ts";
import { assertAllBound } from "./_bound.ts";

Deno.test("applyDefaultSchedule() binds every PrimFunc and marks it scheduled", () => {
  const mod = irModule({ add: elementwise(8, 8), mm: matmul(4, 4, 4), two: twoStage(4, 4) });
  const out = applyDefaultSchedule(new Fallback())(mod);
  for (const name of ["add", "mm", "two"]) {
    const f = out.functions.get(name) as PrimFunc;
    assertAllBound(f);
    assert.equal(f.attrs[IS_SCHEDULED], true);
    assert.equal(f.attrs["global_symbol"], "main");
  }
  assertSameResults(mod.functions.get("two") as PrimFunc, out.functions.get("two") as PrimFunc, {
    outputs: [1],
  });
});

Deno.test("applyDefaultSchedule() skips scheduled functions and returns the module when unchanged", () => {
  const bound = applyDefaultSchedule(new Fallback())(irModule({ f: elementwise(8, 8) })).functions
    .get("f")!;
  const marked: PrimFunc = { ...elementwise(8, 8), attrs: { [IS_SCHEDULED]: true } };
  const unmarkedButBound: PrimFunc = { ...(bound as PrimFunc), attrs: {} };
  const mod = irModule({ marked, bound: unmarkedButBound });
  const pass = applyDefaultSchedule(new Fallback());
  assert.equal(pass(mod), mod);
  assert.equal(pass.name, "ApplyDefaultSchedule");
});

Deno.test("applyDefaultSchedule() tries rules in order and uses the first that applies", () => {
  const seen: string[] = [];
  const never: ScheduleRule = {
    name: "Never",
    apply: () => {
      seen.push("never");
      return undefined;
    },
  };
  const bindOuter: ScheduleRule = {
    name: "BindOuter",
    apply: (func: PrimFunc) => {
      seen.push("bindOuter");
      const sch = new Schedule(func);
      const [i, j] = sch.getLoops(sch.getSBlock("B"));
      sch.bind(i!, "blockIdx.x");
      sch.bind(j!, "threadIdx.x");
      return sch;
    },
  };
  const out = applyDefaultSchedule(never, bindOuter, new Fallback())(
    irModule({ f: elementwise(4, 4) }),
  );
  assert.deepEqual(seen, ["never", "bindOuter"]);
  const f = out.functions.get("f") as PrimFunc;
  const top = f.body.kind === "SBlockRealize" ? f.body.block.body : f.body;
  assert.ok(top.kind === "For" && top.extent.kind === "IntImm");
  assert.equal(top.extent.value, 4, "the outer loop was bound as is, not fused by Fallback");
  const none = irModule({ f: elementwise(4, 4) });
  assert.equal(applyDefaultSchedule(never)(none), none, "no rule applies: the function stays");
});

Deno.test("applyDefaultSchedule() reads the target from the pass context", () => {
  let got: Target | undefined;
  const spy: ScheduleRule = {
    name: "Spy",
    apply: (_f, t) => {
      got = t;
      return undefined;
    },
  };
  const mod = irModule({ f: elementwise(4, 4) });
  const target = makeTarget("webgpu", { maxThreadsPerBlock: 32 });
  applyDefaultSchedule(spy)(mod, new PassContext({ config: { target } }));
  assert.equal(got, target);
  applyDefaultSchedule(spy)(mod, new PassContext({ config: { target: "js" } }));
  assert.equal(got?.kind, "js");
  applyDefaultSchedule(spy)(mod);
  assert.equal(got?.kind, "webgpu");
  assert.throws(() => applyDefaultSchedule(spy)(mod, new PassContext({ config: { target: 3 } })), {
    message: 'Cannot apply default schedules: config "target" is not a target',
  });
});
