import assert from "node:assert/strict";
import type { Function } from "../../../ir/relax/expr.ts";
import { assertStructuralEqual } from "../../../ir/structural.ts";
import { checkWellFormed } from "../../../ir/well_formed.ts";
import { parseTVMScript } from "../../../script/parser/mod.ts";
import { printTVMScript } from "../../../script/printer.ts";
import { mergeCompositeFunctions } from "../../../transform/relax/merge_composite_functions.ts";

const T = 'R.Tensor((4,), dtype="float32")';

/** A private composite function `name` applying `op` to its parameters. */
const composite = (name: string, composite: string, op: string, arity: number) => {
  const params = ["a", "b"].slice(0, arity).map((p) => `${p}: ${T}`).join(", ");
  const args = ["a", "b"].slice(0, arity).join(", ");
  return `
    @R.function(private=True)
    def ${name}(${params}) -> ${T}:
        R.func_attr({"Composite": "${composite}", "Primitive": True})
        with R.dataflow():
            gv: ${T} = ${op}(${args})
            R.output(gv)
        return gv
`;
};

const module = (main: string, ...funcs: string[]) => `
@I.ir_module
class Module:
    @R.function
    def main(x: ${T}, y: ${T}) -> ${T}:
        cls = Module
        with R.dataflow():
${main.trim().split("\n").map((l) => "            " + l.trim()).join("\n")}
            R.output(gv)
        return gv
${funcs.join("")}
`;

/** A Codegen function `name` that binds one composite function `local` and calls it on `args`. */
const codegenFn = (
  name: string,
  codegen: string,
  params: string[],
  local: string,
  comp: string,
  op: string,
) => {
  const lp = ["a", "b"].slice(0, params.length);
  return `
    @R.function
    def ${name}(${params.map((p) => `${p}: ${T}`).join(", ")}) -> ${T}:
        R.func_attr({"Codegen": "${codegen}"})
        @R.function
        def ${local}(${lp.map((p) => `${p}: ${T}`).join(", ")}) -> ${T}:
            R.func_attr({"Composite": "${comp}"})
            with R.dataflow():
                gv: ${T} = ${op}(${lp.join(", ")})
                R.output(gv)
            return gv

        gv: ${T} = ${local}(${params.join(", ")})
        return gv
`;
};

const relu = composite("fused_relax_nn_relu", "dnnl.relu", "R.nn.relu", 1);
const add = composite("fused_relax_add", "dnnl.add", "R.add", 2);

Deno.test("adjacent composite calls of one codegen merge into one Codegen function", () => {
  const before = parseTVMScript(module(
    `
    lv: ${T} = cls.fused_relax_nn_relu(x)
    gv: ${T} = cls.fused_relax_add(lv, y)`,
    relu,
    add,
  ));
  const after = mergeCompositeFunctions()(before);
  checkWellFormed(after);
  const expected = parseTVMScript(`
@I.ir_module
class Module:
    @R.function
    def main(x: ${T}, y: ${T}) -> ${T}:
        cls = Module
        with R.dataflow():
            gv: ${T} = cls.fused_relax_nn_relu_relax_add_dnnl(x, y)
            R.output(gv)
        return gv

    @R.function
    def fused_relax_nn_relu_relax_add_dnnl(x: ${T}, y: ${T}) -> ${T}:
        R.func_attr({"Codegen": "dnnl"})
        @R.function
        def fused_relax_nn_relu(a: ${T}) -> ${T}:
            R.func_attr({"Composite": "dnnl.relu"})
            with R.dataflow():
                gv: ${T} = R.nn.relu(a)
                R.output(gv)
            return gv

        lv: ${T} = fused_relax_nn_relu(x)
        @R.function
        def fused_relax_add(a: ${T}, b: ${T}) -> ${T}:
            R.func_attr({"Composite": "dnnl.add"})
            with R.dataflow():
                gv: ${T} = R.add(a, b)
                R.output(gv)
            return gv

        gv: ${T} = fused_relax_add(lv, y)
        return gv
`);
  assertStructuralEqual(after, expected);
  assertStructuralEqual(parseTVMScript(printTVMScript(after)), expected);
  const f = after.functions.get("fused_relax_nn_relu_relax_add_dnnl") as Function;
  assert.equal(f.attrs["global_symbol"], "fused_relax_nn_relu_relax_add_dnnl");
});

Deno.test("a group is not merged across another codegen's call that depends on it", () => {
  // A.relu -> B.gelu -> A.add(., A.relu): merging the add into the first A group would make
  // A depend on B and B on A. Names that exist already get a suffix, as in TVM.
  const geluB = composite("fused_relax_nn_gelu", "tensorrt.gelu", "R.nn.gelu", 1);
  const before = parseTVMScript(module(
    `
    lv: ${T} = cls.fused_relax_nn_relu(x)
    lv1: ${T} = cls.fused_relax_nn_gelu(lv)
    gv: ${T} = cls.fused_relax_add(lv1, lv)`,
    relu,
    geluB,
    add,
  ));
  const after = mergeCompositeFunctions()(before);
  checkWellFormed(after);
  assert.deepEqual([...after.functions.keys()].sort(), [
    "fused_relax_add1_dnnl",
    "fused_relax_nn_gelu1_tensorrt",
    "fused_relax_nn_relu1_dnnl",
    "main",
  ]);
  const expected = parseTVMScript(module(
    `
    lv: ${T} = cls.fused_relax_nn_relu1_dnnl(x)
    lv1: ${T} = cls.fused_relax_nn_gelu1_tensorrt(lv)
    gv: ${T} = cls.fused_relax_add1_dnnl(lv1, lv)`,
    codegenFn(
      "fused_relax_nn_relu1_dnnl",
      "dnnl",
      ["x"],
      "fused_relax_nn_relu",
      "dnnl.relu",
      "R.nn.relu",
    ),
    codegenFn(
      "fused_relax_nn_gelu1_tensorrt",
      "tensorrt",
      ["lv"],
      "fused_relax_nn_gelu",
      "tensorrt.gelu",
      "R.nn.gelu",
    ),
    codegenFn(
      "fused_relax_add1_dnnl",
      "dnnl",
      ["lv1", "lv"],
      "fused_relax_add",
      "dnnl.add",
      "R.add",
    ),
  ));
  assertStructuralEqual(after, expected);
  assertStructuralEqual(parseTVMScript(printTVMScript(after)), expected);
});

Deno.test("plain operators stay in main and split the groups around them", () => {
  const before = parseTVMScript(module(
    `
    lv: ${T} = cls.fused_relax_nn_relu(x)
    lv1: ${T} = R.nn.gelu(lv)
    gv: ${T} = cls.fused_relax_add(lv1, lv)`,
    relu,
    add,
  ));
  const after = mergeCompositeFunctions()(before);
  checkWellFormed(after);
  const expected = parseTVMScript(module(
    `
    lv: ${T} = cls.fused_relax_nn_relu1_dnnl(x)
    lv1: ${T} = R.nn.gelu(lv)
    gv: ${T} = cls.fused_relax_add1_dnnl(lv1, lv)`,
    codegenFn(
      "fused_relax_nn_relu1_dnnl",
      "dnnl",
      ["x"],
      "fused_relax_nn_relu",
      "dnnl.relu",
      "R.nn.relu",
    ),
    codegenFn(
      "fused_relax_add1_dnnl",
      "dnnl",
      ["lv1", "lv"],
      "fused_relax_add",
      "dnnl.add",
      "R.add",
    ),
  ));
  assertStructuralEqual(after, expected);
  assert.ok(!after.functions.has("fused_relax_nn_relu"), "the inlined composite is removed");
});

Deno.test("a module without composite calls is returned as is; main is required", () => {
  const before = parseTVMScript(module(`gv: ${T} = R.add(x, y)`));
  assert.equal(mergeCompositeFunctions()(before), before);
  assert.throws(
    () => mergeCompositeFunctions({ entry: "nope" })(before),
    { message: 'MergeCompositeFunctions: the module has no Relax function "nope"' },
  );
  const bad = parseTVMScript(
    module(`gv: ${T} = cls.f(x)`, composite("f", "norelu", "R.nn.relu", 1)),
  );
  assert.throws(
    () => mergeCompositeFunctions()(bad),
    { message: /MergeCompositeFunctions: composite name "norelu" must start with a codegen name/ },
  );
});
