import assert from "node:assert/strict";
import { bindParams } from "../../../transform/relax/bind_params.ts";
import { matmul, rt } from "./_kernels.ts";
import { checkNoOp, checkPass, parse } from "./_graph_pass_helpers.ts";
import { assertClose, evalRelax, randomTensor } from "./_relax_eval.ts";
import type { NDArray } from "../../../ir/relax/expr.ts";
import { constantTensor, relaxFunction, rvar } from "../../../ir/relax/expr.ts";
import { tensorSInfo } from "../../../ir/relax/struct_info.ts";
import { irModule } from "../../../ir/module.ts";
import type { Function } from "../../../ir/relax/expr.ts";
import type { BindValue } from "../../../transform/relax/bind_params.ts";
import type { RVar } from "../../../ir/relax/expr.ts";

type Key = string | RVar;

function mod(...parts: string[]): string {
  return `
@I.ir_module
class Module:
${parts.join("\n")}`;
}

function f32(shape: number[], values?: number[]): NDArray {
  const n = shape.reduce((a, b) => a * b, 1);
  return {
    dtype: "float32",
    shape,
    data: new Float32Array(values ?? Array.from({ length: n }, (_, i) => i)),
  };
}

function metadata(...arrays: NDArray[]): string {
  const entries = arrays.map((a) => {
    const bytes = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
    return `{"dtype": "${a.dtype}", "shape": [${a.shape.join(", ")}], "data": "${
      btoa(String.fromCharCode(...bytes))
    }"}`;
  });
  return `\n# Metadata\nmetadata = {"relax.expr.Constant": [${entries.join(", ")}]}`;
}

const T16 = rt([16]);

Deno.test("BindParams: a parameter bound by name becomes a constant", () => {
  const w = f32([16]);
  checkPass(
    bindParams("main", { w }),
    mod(`
    @R.function
    def main(x: ${T16}, w: ${T16}) -> ${T16}:
        with R.dataflow():
            gv = R.add(x, w)
            R.output(gv)
        return gv`),
    mod(`
    @R.function
    def main(x: ${T16}) -> ${T16}:
        with R.dataflow():
            gv = R.add(x, metadata["relax.expr.Constant"][0])
            R.output(gv)
        return gv`) + metadata(w),
  );
});

Deno.test("BindParams: symbolic dimensions fixed by a constant are replaced everywhere", () => {
  const w = f32([6, 4]);
  checkPass(
    bindParams("main", { w }),
    mod(`
    @R.function
    def main(x: R.Tensor(("b", "m"), dtype="float32"), w: R.Tensor(("n", "m"), dtype="float32")) -> R.Tensor(("b", "n"), dtype="float32"):
        b = T.int64()
        m = T.int64()
        n = T.int64()
        with R.dataflow():
            gv = R.call_dps_packed("linear", (x, w), out_sinfo=R.Tensor((b, n), dtype="float32"))
            R.output(gv)
        return gv`),
    mod(`
    @R.function
    def main(x: R.Tensor(("b", 4), dtype="float32")) -> R.Tensor(("b", 6), dtype="float32"):
        b = T.int64()
        with R.dataflow():
            gv = R.call_dps_packed("linear", (x, metadata["relax.expr.Constant"][0]), out_sinfo=R.Tensor((b, 6), dtype="float32"))
            R.output(gv)
        return gv`) + metadata(w),
  );
});

Deno.test("BindParams: binds by parameter variable, and takes Relax expressions", () => {
  const before = parse(mod(`
    @R.function
    def main(a: ${T16}, b: R.Tensor((), dtype="float32")) -> ${T16}:
        return R.multiply(a, b)`));
  const main = before.functions.get("main") as Function;
  const data = f32([16]);
  const out = bindParams(
    "main",
    new Map<Key, BindValue>([
      [main.params[0]!, data],
      ["b", constantTensor(f32([], [2]))],
    ]),
  )(before);
  checkPass(
    bindParams("main", new Map<Key, BindValue>([["a", data], ["b", constantTensor(f32([], [2]))]])),
    mod(`
    @R.function
    def main(a: ${T16}, b: R.Tensor((), dtype="float32")) -> ${T16}:
        return R.multiply(a, b)`),
    mod(`
    @R.function
    def main() -> ${T16}:
        return R.multiply(metadata["relax.expr.Constant"][0], R.const(2.0, "float32"))`) +
      metadata(data),
  );
  assert.equal((out.functions.get("main") as Function).params.length, 0);
});

Deno.test("BindParams: another function name, or nothing to bind, returns the same module", () => {
  const text = mod(`
    @R.function
    def main(x: ${T16}) -> ${T16}:
        return x`);
  checkNoOp(bindParams("other", { x: f32([16]) }), text);
  checkNoOp(bindParams("main", {}), text);
});

Deno.test("BindParams: bound weights compute what passed weights compute", () => {
  const T48 = rt([4, 8]);
  const before = parse(mod(
    matmul("matmul", 4, 16, 8),
    `
    @R.function
    def main(x: ${rt([4, 16])}, w: ${rt([16, 8])}) -> ${T48}:
        cls = Module
        with R.dataflow():
            gv = R.call_tir(cls.matmul, (x, w), out_sinfo=${T48})
            R.output(gv)
        return gv`,
  ));
  const x = randomTensor([4, 16], 1);
  const w = randomTensor([16, 8], 2);
  const after = bindParams("main", { w: f32([16, 8], w.data) })(before);
  assertClose(evalRelax(after, "main", [x]), evalRelax(before, "main", [x, w]));
});

Deno.test("BindParams: errors name the problem", () => {
  const m = parse(mod(`
    @R.function
    def main(x: R.Tensor(("n",), dtype="float32"), y: R.Tensor(("n",), dtype="float32"), z: ${T16}) -> ${T16}:
        n = T.int64()
        return z`));
  const fails = (params: Parameters<typeof bindParams>[1], message: string) =>
    assert.throws(() => bindParams("main", params)(m), { message });
  fails(
    { w: f32([16]) },
    'BindParams: no parameter is named "w" (the parameters are: x, y, z) (function "main")',
  );
  fails(
    { z: f32([15]) },
    'BindParams: parameter "z" expects R.Tensor((16,), "float32"), but the value is R.Tensor((15,), "float32") (function "main")',
  );
  fails(
    { z: { dtype: "int32", shape: [16], data: new Int32Array(16) } },
    'BindParams: parameter "z" expects R.Tensor((16,), "float32"), but the value is R.Tensor((16,), "int32") (function "main")',
  );
  fails(
    { x: f32([3]), y: f32([4]) },
    'BindParams: symbolic variable n is T.int64(3) by one parameter and T.int64(4) by "y" (function "main")',
  );
  const main = m.functions.get("main") as Function;
  fails(
    new Map<Key, BindValue>([["z", f32([16])], [main.params[2]!, f32([16])]]),
    'BindParams: parameter "z" is bound twice (function "main")',
  );
  const a1 = rvar("a", tensorSInfo([16], "float32"));
  const a2 = rvar("a", tensorSInfo([16], "float32"));
  const dup = irModule({ main: relaxFunction([a1, a2], a1) });
  assert.throws(() => bindParams("main", { a: f32([16]) })(dup), {
    message: 'BindParams: 2 parameters are named "a" (function "main")',
  });
  const other = parse(mod(`
    @R.function
    def main(q: ${T16}) -> ${T16}:
        return q`)).functions.get("main") as Function;
  fails(
    new Map<Key, BindValue>([[other.params[0]!, f32([16])]]),
    'BindParams: "q" is not a parameter (function "main")',
  );
});
