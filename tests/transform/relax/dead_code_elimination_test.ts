import assert from "node:assert/strict";
import { deadCodeElimination } from "../../../transform/relax/dead_code_elimination.ts";
import { add, rt, unary } from "./_kernels.ts";
import { checkNoOp, checkPass, parse } from "./_graph_pass_helpers.ts";
import { assertClose, evalRelax, randomTensor } from "./_relax_eval.ts";
import { irModule } from "../../../ir/module.ts";
import { globalVar, rcall, relaxFunction, rvar } from "../../../ir/relax/expr.ts";
import { tensorSInfo } from "../../../ir/relax/struct_info.ts";

function mod(...parts: string[]): string {
  return `
@I.ir_module
class Module:
${parts.join("\n")}`;
}

const T48 = rt([4, 8]);
const EXP = unary("exp", [4, 8], "T.exp(X)");
const ADD = add("add", [4, 8]);

Deno.test("DeadCodeElimination: unused bindings go, transitively", () => {
  checkPass(
    deadCodeElimination(),
    mod(`
    @R.function
    def main(x: ${T48}, y: ${T48}) -> ${T48}:
        with R.dataflow():
            lv0 = R.add(x, y)
            lv1 = R.multiply(lv0, y)
            lv2 = R.exp(lv1)
            gv = R.subtract(x, y)
            unused = R.add(gv, gv)
            R.output(gv, unused)
        return gv`),
    mod(`
    @R.function
    def main(x: ${T48}, y: ${T48}) -> ${T48}:
        with R.dataflow():
            gv = R.subtract(x, y)
            R.output(gv)
        return gv`),
  );
});

Deno.test("DeadCodeElimination: unreachable private functions go; external ones and entries stay", () => {
  const before = mod(
    ADD,
    EXP,
    unary("log", [4, 8], "T.log(X)").replace("(private=True)", ""),
    `
    @R.function(private=True)
    def helper(x: ${T48}) -> ${T48}:
        cls = Module
        gv = R.call_tir(cls.exp, (x,), out_sinfo=${T48})
        return gv

    @R.function(private=True)
    def unused(x: ${T48}) -> ${T48}:
        return x

    @R.function
    def main(x: ${T48}, y: ${T48}) -> ${T48}:
        cls = Module
        with R.dataflow():
            gv = R.call_tir(cls.add, (x, y), out_sinfo=${T48})
            R.output(gv)
        return gv`,
  );
  checkPass(
    deadCodeElimination(),
    before,
    mod(
      ADD,
      unary("log", [4, 8], "T.log(X)").replace("(private=True)", ""),
      `
    @R.function
    def main(x: ${T48}, y: ${T48}) -> ${T48}:
        cls = Module
        with R.dataflow():
            gv = R.call_tir(cls.add, (x, y), out_sinfo=${T48})
            R.output(gv)
        return gv`,
    ),
  );
  const kept = deadCodeElimination({ entryFunctions: ["helper"] })(parse(before));
  assert.deepEqual([...kept.functions.keys()].sort(), ["add", "exp", "helper", "log", "main"]);
});

Deno.test("DeadCodeElimination: a block left empty goes; side effects and match_casts stay", () => {
  checkPass(
    deadCodeElimination(),
    mod(`
    @R.function(pure=False)
    def main(x: ${T48}) -> ${T48}:
        with R.dataflow():
            lv = R.exp(x)
            R.output(lv)
        y = R.call_packed("log_it", x, sinfo_args=R.Object)
        z = R.match_cast(x, ${T48})
        w = R.exp(z)
        return x`),
    mod(`
    @R.function(pure=False)
    def main(x: ${T48}) -> ${T48}:
        y = R.call_packed("log_it", x, sinfo_args=R.Object)
        z = R.match_cast(x, ${T48})
        return x`),
  );
});

Deno.test("DeadCodeElimination: uses inside if branches keep their producers", () => {
  checkPass(
    deadCodeElimination(),
    mod(`
    @R.function
    def main(c: R.Tensor((), dtype="bool"), x: ${T48}) -> ${T48}:
        a = R.exp(x)
        b = R.exp(x)
        if c:
            d = R.add(a, a)
            e = R.exp(d)
            r = d
        else:
            r = x
        return r`),
    mod(`
    @R.function
    def main(c: R.Tensor((), dtype="bool"), x: ${T48}) -> ${T48}:
        a = R.exp(x)
        if c:
            d = R.add(a, a)
            r = d
        else:
            r = x
        return r`),
  );
});

Deno.test("DeadCodeElimination: returns the same module when nothing is dead", () => {
  checkNoOp(
    deadCodeElimination(),
    mod(
      EXP,
      `
    @R.function
    def main(x: ${T48}) -> ${T48}:
        cls = Module
        with R.dataflow():
            gv = R.call_tir(cls.exp, (x,), out_sinfo=${T48})
            R.output(gv)
        return gv`,
    ),
  );
});

Deno.test("DeadCodeElimination: a call of a function outside the module keeps every function", () => {
  const x = rvar("x", tensorSInfo([4], "float32"));
  const main = relaxFunction([x], rcall(globalVar("elsewhere"), [x], { structInfo: x.structInfo }));
  const unused = relaxFunction([x], x, { isPrivate: true });
  const m = irModule({ main, unused });
  assert.equal(deadCodeElimination()(m), m);
});

Deno.test("DeadCodeElimination: the result is unchanged", () => {
  const before = parse(mod(
    ADD,
    EXP,
    `
    @R.function
    def main(x: ${T48}, y: ${T48}) -> ${T48}:
        cls = Module
        with R.dataflow():
            lv = R.call_tir(cls.add, (x, y), out_sinfo=${T48})
            lv1 = R.call_tir(cls.exp, (x,), out_sinfo=${T48})
            gv = R.call_tir(cls.exp, (lv,), out_sinfo=${T48})
            R.output(gv)
        return gv`,
  ));
  const after = deadCodeElimination()(before);
  assert.notEqual(after, before);
  const args = [randomTensor([4, 8], 1), randomTensor([4, 8], 2)];
  assertClose(evalRelax(after, "main", args), evalRelax(before, "main", args));
});

Deno.test("DeadCodeElimination: an unknown entry function is an error", () => {
  const m = parse(mod(`
    @R.function
    def main(x: ${T48}) -> ${T48}:
        return x`));
  assert.throws(() => deadCodeElimination({ entryFunctions: ["nope"] })(m), {
    message: 'DeadCodeElimination: entry function "nope" is not in the module (it has: main)',
  });
});
