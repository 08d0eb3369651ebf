import assert from "node:assert/strict";
import { eliminateCommonSubexpr } from "../../../transform/relax/eliminate_common_subexpr.ts";
import { rt, unary } from "./_kernels.ts";
import { checkNoOp, checkPass, parse } from "./_graph_pass_helpers.ts";
import { assertClose, evalRelax, randomTensor } from "./_relax_eval.ts";

function mod(...parts: string[]): string {
  return `
@I.ir_module
class Module:
${parts.join("\n")}`;
}

const T23 = rt([2, 3]);

Deno.test("EliminateCommonSubexpr: a repeated call is bound once", () => {
  checkPass(
    eliminateCommonSubexpr(),
    mod(`
    @R.function
    def foo(x: ${T23}, y: ${T23}) -> ${T23}:
        with R.dataflow():
            lv0 = R.add(x, y)
            lv1 = R.add(x, y)
            gv = R.multiply(lv0, lv1)
            R.output(gv)
        return gv`),
    mod(`
    @R.function
    def foo(x: ${T23}, y: ${T23}) -> ${T23}:
        with R.dataflow():
            lv0 = R.add(x, y)
            lv1 = lv0
            gv = R.multiply(lv0, lv0)
            R.output(gv)
        return gv`),
  );
});

Deno.test("EliminateCommonSubexpr: dataflow variables are not reused after their block", () => {
  checkPass(
    eliminateCommonSubexpr(),
    mod(`
    @R.function
    def main(x: ${T23}, y: ${T23}) -> R.Tuple(${T23}, ${T23}, ${T23}):
        with R.dataflow():
            A = R.add(x, y)
            B = R.add(x, y)
            C = R.multiply(A, B)
            R.output(B, C)
        D = R.add(x, y)
        return (B, C, D)`),
    mod(`
    @R.function
    def main(x: ${T23}, y: ${T23}) -> R.Tuple(${T23}, ${T23}, ${T23}):
        with R.dataflow():
            A = R.add(x, y)
            B = A
            C = R.multiply(A, A)
            R.output(B, C)
        D = B
        return (B, C, B)`),
  );
});

Deno.test("EliminateCommonSubexpr: branches see earlier bindings but not each other's", () => {
  checkPass(
    eliminateCommonSubexpr(),
    mod(`
    @R.function
    def main(c: R.Tensor((), dtype="bool"), x: ${T23}) -> ${T23}:
        a = R.exp(x)
        if c:
            b = R.exp(x)
            d = R.negative(x)
            r = R.add(b, d)
        else:
            e = R.negative(x)
            r = e
        f = R.negative(x)
        return R.add(r, f)`),
    mod(`
    @R.function
    def main(c: R.Tensor((), dtype="bool"), x: ${T23}) -> ${T23}:
        a = R.exp(x)
        if c:
            b = a
            d = R.negative(x)
            r = R.add(a, d)
        else:
            e = R.negative(x)
            r = e
        f = R.negative(x)
        return R.add(r, f)`),
  );
});

Deno.test("EliminateCommonSubexpr: callOnly leaves repeated tuples alone", () => {
  const before = mod(`
    @R.function
    def main(x: ${T23}) -> R.Tuple(R.Tuple(${T23}, ${T23}), R.Tuple(${T23}, ${T23})):
        t = (x, x)
        u = (x, x)
        return (t, u)`);
  checkNoOp(eliminateCommonSubexpr({ callOnly: true }), before);
  checkPass(
    eliminateCommonSubexpr(),
    before,
    mod(`
    @R.function
    def main(x: ${T23}) -> R.Tuple(R.Tuple(${T23}, ${T23}), R.Tuple(${T23}, ${T23})):
        t = (x, x)
        u = t
        return (t, t)`),
  );
});

Deno.test("EliminateCommonSubexpr: match_casts merge only with the same StructInfo", () => {
  checkPass(
    eliminateCommonSubexpr(),
    mod(`
    @R.function
    def main(x: R.Tensor(dtype="float32", ndim=2)) -> R.Tensor(dtype="float32", ndim=2):
        m = T.int64()
        n = T.int64()
        a = R.match_cast(x, R.Tensor((m, n), dtype="float32"))
        b = R.match_cast(x, R.Tensor((m, n), dtype="float32"))
        c = R.match_cast(x, R.Tensor(dtype="float32", ndim=2))
        return R.add(R.add(a, b), c)`),
    mod(`
    @R.function
    def main(x: R.Tensor(dtype="float32", ndim=2)) -> R.Tensor(dtype="float32", ndim=2):
        m = T.int64()
        n = T.int64()
        a = R.match_cast(x, R.Tensor((m, n), dtype="float32"))
        b = a
        c = R.match_cast(x, R.Tensor(dtype="float32", ndim=2))
        return R.add(R.add(a, a), c)`),
  );
});

Deno.test("EliminateCommonSubexpr: impure calls are never merged (same module)", () => {
  checkNoOp(
    eliminateCommonSubexpr(),
    mod(`
    @R.function(pure=False)
    def main(x: ${T23}) -> ${T23}:
        y = R.call_packed("f", x, sinfo_args=${T23})
        z = R.call_packed("f", x, sinfo_args=${T23})
        p = R.print(x, format="{}")
        q = R.print(x, format="{}")
        return R.add(y, z)`),
  );
});

Deno.test("EliminateCommonSubexpr: the result is unchanged", () => {
  const T48 = rt([4, 8]);
  const before = parse(mod(
    unary("exp", [4, 8], "T.exp(X)"),
    unary("relu", [4, 8], "T.max(X, T.float32(0.0))"),
    `
    @R.function
    def main(x: ${T48}) -> ${T48}:
        cls = Module
        with R.dataflow():
            lv = R.call_tir(cls.exp, (x,), out_sinfo=${T48})
            lv1 = R.call_tir(cls.exp, (x,), out_sinfo=${T48})
            lv2 = R.call_tir(cls.relu, (lv1,), out_sinfo=${T48})
            lv3 = R.call_tir(cls.relu, (lv,), out_sinfo=${T48})
            gv = R.call_tir(cls.exp, (lv3,), out_sinfo=${T48})
            R.output(gv)
        return gv`,
  ));
  const after = eliminateCommonSubexpr()(before);
  assert.notEqual(after, before);
  const args = [randomTensor([4, 8], 9)];
  assertClose(evalRelax(after, "main", args), evalRelax(before, "main", args));
});
