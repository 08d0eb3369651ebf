import assert from "node:assert/strict";
import { canonicalizeBindings } from "../../../transform/relax/canonicalize_bindings.ts";
import { rt, unary } from "./_kernels.ts";
import { checkNoOp, checkPass, parse } from "./_graph_pass_helpers.ts";
import { assertClose, evalRelax, randomTensor } from "./_relax_eval.ts";

function mod(...parts: string[]): string {
  return `
@I.ir_module
class Module:
${parts.join("\n")}`;
}

const T48 = rt([4, 8]);
const I32 = `R.Tensor((), dtype="int32")`;

Deno.test("CanonicalizeBindings: a chain of trivial bindings collapses", () => {
  checkPass(
    canonicalizeBindings(),
    mod(`
    @R.function
    def main(x: ${T48}, y: ${T48}) -> ${T48}:
        a = x
        b = a
        c = y
        z = R.add(b, c)
        w = z
        return R.add(w, b)`),
    mod(`
    @R.function
    def main(x: ${T48}, y: ${T48}) -> ${T48}:
        z = R.add(x, y)
        return R.add(z, x)`),
  );
});

Deno.test("CanonicalizeBindings: a dataflow chain ending in an output binds the output directly", () => {
  checkPass(
    canonicalizeBindings(),
    mod(`
    @R.function
    def main(x: ${T48}) -> ${T48}:
        with R.dataflow():
            y = R.exp(x)
            z = y
            o = z
            n = o
            R.output(n)
        return n`),
    mod(`
    @R.function
    def main(x: ${T48}) -> ${T48}:
        with R.dataflow():
            n = R.exp(x)
            R.output(n)
        return n`),
  );
});

Deno.test("CanonicalizeBindings: a block reduced to nothing is removed", () => {
  checkPass(
    canonicalizeBindings(),
    mod(`
    @R.function
    def main(x: ${T48}) -> ${T48}:
        with R.dataflow():
            y = x
            n = y
            R.output(n)
        return n`),
    mod(`
    @R.function
    def main(x: ${T48}) -> ${T48}:
        return x`),
  );
});

Deno.test("CanonicalizeBindings: an output used only in its block becomes a dataflow variable", () => {
  checkPass(
    canonicalizeBindings(),
    mod(`
    @R.function
    def main(x: ${T48}) -> ${T48}:
        with R.dataflow():
            y = R.exp(x)
            z = R.exp(y)
            R.output(y, z)
        return z`),
    mod(`
    @R.function
    def main(x: ${T48}) -> ${T48}:
        with R.dataflow():
            y = R.exp(x)
            z = R.exp(y)
            R.output(z)
        return z`),
  );
});

Deno.test("CanonicalizeBindings: gv = lv with gv used later makes lv's binding define gv", () => {
  checkPass(
    canonicalizeBindings(),
    mod(`
    @R.function
    def main(x: ${T48}) -> R.Tuple(${T48}, ${T48}):
        with R.dataflow():
            lv1 = R.exp(x)
            gv2 = R.exp(lv1)
            gv1 = lv1
            R.output(gv1, gv2)
        return (gv1, gv2)`),
    mod(`
    @R.function
    def main(x: ${T48}) -> R.Tuple(${T48}, ${T48}):
        with R.dataflow():
            gv1 = R.exp(x)
            gv2 = R.exp(gv1)
            R.output(gv1, gv2)
        return (gv1, gv2)`),
  );
});

Deno.test("CanonicalizeBindings: fields of known tuples and constants are used directly", () => {
  checkPass(
    canonicalizeBindings(),
    mod(`
    @R.function
    def main(x: ${T48}, y: ${T48}, p: R.Tuple(${T48}, ${T48})) -> ${I32}:
        t = (x, y)
        w = t[0]
        q = t[1]
        z = R.add(w, q)
        u = (p[0], p[1])
        v = u[1]
        c = R.const(1, "int32")
        return c`),
    mod(`
    @R.function
    def main(x: ${T48}, y: ${T48}, p: R.Tuple(${T48}, ${T48})) -> ${I32}:
        t = (x, y)
        z = R.add(x, y)
        v = p[1]
        c = R.const(1, "int32")
        return R.const(1, "int32")`),
  );
});

Deno.test("CanonicalizeBindings: match_casts that define known symbolic variables are resolved", () => {
  checkPass(
    canonicalizeBindings(),
    mod(`
    @R.function
    def main(x: R.Tensor(("m", "n"), dtype="float32")) -> R.Tensor(("m", "n"), dtype="float32"):
        m = T.int64()
        n = T.int64()
        o = T.int64()
        p = T.int64()
        y = x
        z = R.match_cast(x, R.Tensor((o, p), dtype="float32"))
        w = z
        q: R.Tensor((o, p), dtype="float32") = R.add(w, y)
        return R.add(q, w)`),
    mod(`
    @R.function
    def main(x: R.Tensor(("m", "n"), dtype="float32")) -> R.Tensor(("m", "n"), dtype="float32"):
        m = T.int64()
        n = T.int64()
        q: R.Tensor((m, n), dtype="float32") = R.add(x, x)
        return R.add(q, x)`),
  );
});

Deno.test("CanonicalizeBindings: a match_cast that refines an unknown shape stays", () => {
  checkNoOp(
    canonicalizeBindings(),
    mod(`
    @R.function
    def main(x: R.Tensor(dtype="float32", ndim=2)) -> R.Tensor(dtype="float32", ndim=2):
        o = T.int64()
        p = T.int64()
        z = R.match_cast(x, R.Tensor((o, p), dtype="float32"))
        return R.add(z, x)`),
  );
});

Deno.test("CanonicalizeBindings: returns the same module when every binding is canonical", () => {
  checkNoOp(
    canonicalizeBindings(),
    mod(`
    @R.function
    def main(x: ${T48}) -> ${T48}:
        with R.dataflow():
            y = R.exp(x)
            gv = R.add(y, x)
            R.output(gv)
        return gv`),
  );
});

Deno.test("CanonicalizeBindings: inconsistent match_casts are an error", () => {
  const m = parse(mod(`
    @R.function
    def main(a: R.Tensor((16, 16), dtype="float32"), b: R.Tensor((32, 32), dtype="float32")) -> R.Tensor((16, 16), dtype="float32"):
        n = T.int64()
        x = R.match_cast(a, R.Tensor((n, n), dtype="float32"))
        y = R.match_cast(b, R.Tensor((n, n), dtype="float32"))
        return a`));
  assert.throws(() => canonicalizeBindings()(m), {
    message:
      'CanonicalizeBindings: match_cast statements must be consistent, but "x" implies n = T.int64(16) while "y" implies n = T.int64(32)',
  });
});

Deno.test("CanonicalizeBindings: the result is unchanged", () => {
  const before = parse(mod(
    unary("exp", [4, 8], "T.exp(X)"),
    `
    @R.function
    def main(x: ${T48}) -> ${T48}:
        cls = Module
        with R.dataflow():
            a = x
            lv = R.call_tir(cls.exp, (a,), out_sinfo=${T48})
            b = lv
            gv = R.call_tir(cls.exp, (b,), out_sinfo=${T48})
            gv1 = gv
            R.output(gv1)
        return gv1`,
  ));
  const after = canonicalizeBindings()(before);
  assert.notEqual(after, before);
  const args = [randomTensor([4, 8], 3)];
  assertClose(evalRelax(after, "main", args), evalRelax(before, "main", args));
});
