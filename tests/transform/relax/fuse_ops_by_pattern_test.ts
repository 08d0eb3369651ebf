import assert from "node:assert/strict";
import type { Function } from "../../../ir/relax/expr.ts";
import { isConst, isOp, wildcard } from "../../../ir/relax/dpl/pattern.ts";
import { varToValue } from "../../../ir/relax/dpl/match.ts";
import { assertStructuralEqual } from "../../../ir/structural.ts";
import { checkWellFormed } from "../../../ir/well_formed.ts";
import { parseTVMScript } from "../../../script/parser/mod.ts";
import { printTVMScript } from "../../../script/printer.ts";
import {
  fuseOpsByPattern,
  type FuseOpsByPatternOptions,
  type FusionPattern,
} from "../../../transform/relax/fuse_ops_by_pattern.ts";

const D = 'R.Tensor((1, 4, 8, 8), dtype="float32")';
const W = 'R.Tensor((4, 4, 3, 3), dtype="float32")';
const O = 'R.Tensor((1, 4, 6, 6), dtype="float32")';
const O2 = 'R.Tensor((1, 4, 4, 4), dtype="float32")';

const conv = () => isOp("relax.nn.conv2d")(wildcard(), wildcard());
const convRelu: FusionPattern = {
  name: "dnnl.conv2d_relu",
  pattern: isOp("relax.nn.relu")(conv()),
};
const convOnly: FusionPattern = { name: "dnnl.conv2d", pattern: conv() };

function check(
  before: string,
  patterns: readonly FusionPattern[],
  expected: string,
  options: FuseOpsByPatternOptions = {},
) {
  const after = fuseOpsByPattern(patterns, options)(parseTVMScript(before));
  checkWellFormed(after);
  const want = parseTVMScript(expected);
  assertStructuralEqual(after, want);
  assertStructuralEqual(parseTVMScript(printTVMScript(after)), want);
}

const convReluX2 = `
@I.ir_module
class Module:
    @R.function
    def main(data: ${D}, w1: ${W}, w2: ${W}) -> ${O2}:
        with R.dataflow():
            lv: ${O} = R.nn.conv2d(data, w1)
            conv1: ${O} = R.nn.relu(lv)
            lv1: ${O2} = R.nn.conv2d(conv1, w2)
            gv: ${O2} = R.nn.relu(lv1)
            R.output(gv)
        return gv
`;

Deno.test("conv2d+relu twice becomes two composite functions", () => {
  check(
    convReluX2,
    [convRelu],
    `
@I.ir_module
class Module:
    @R.function
    def main(data: ${D}, w1: ${W}, w2: ${W}) -> ${O2}:
        cls = Module
        with R.dataflow():
            conv1: ${O} = cls.fused_relax_nn_conv2d_relax_nn_relu(data, w1)
            gv: ${O2} = cls.fused_relax_nn_conv2d_relax_nn_relu1(conv1, w2)
            R.output(gv)
        return gv

    @R.function(private=True)
    def fused_relax_nn_conv2d_relax_nn_relu(data: ${D}, w1: ${W}) -> ${O}:
        R.func_attr({"Composite": "dnnl.conv2d_relu", "Primitive": True})
        with R.dataflow():
            lv: ${O} = R.nn.conv2d(data, w1)
            gv: ${O} = R.nn.relu(lv)
            R.output(gv)
        return gv

    @R.function(private=True)
    def fused_relax_nn_conv2d_relax_nn_relu1(conv1: ${O}, w2: ${W}) -> ${O2}:
        R.func_attr({"Composite": "dnnl.conv2d_relu", "Primitive": True})
        with R.dataflow():
            lv1: ${O2} = R.nn.conv2d(conv1, w2)
            gv: ${O2} = R.nn.relu(lv1)
            R.output(gv)
        return gv
`,
  );
});

Deno.test("patterns apply in order: conv2d alone first leaves the relus outside", () => {
  check(
    convReluX2,
    [convOnly, convRelu],
    `
@I.ir_module
class Module:
    @R.function
    def main(data: ${D}, w1: ${W}, w2: ${W}) -> ${O2}:
        cls = Module
        with R.dataflow():
            lv: ${O} = cls.fused_relax_nn_conv2d(data, w1)
            conv1: ${O} = R.nn.relu(lv)
            lv1: ${O2} = cls.fused_relax_nn_conv2d1(conv1, w2)
            gv: ${O2} = R.nn.relu(lv1)
            R.output(gv)
        return gv

    @R.function(private=True)
    def fused_relax_nn_conv2d(data: ${D}, w1: ${W}) -> ${O}:
        R.func_attr({"Composite": "dnnl.conv2d", "Primitive": True})
        with R.dataflow():
            gv: ${O} = R.nn.conv2d(data, w1)
            R.output(gv)
        return gv

    @R.function(private=True)
    def fused_relax_nn_conv2d1(conv1: ${O}, w2: ${W}) -> ${O2}:
        R.func_attr({"Composite": "dnnl.conv2d", "Primitive": True})
        with R.dataflow():
            gv: ${O2} = R.nn.conv2d(conv1, w2)
            R.output(gv)
        return gv
`,
  );
});

Deno.test("an intermediate used outside the match becomes a second result", () => {
  check(
    `
@I.ir_module
class Module:
    @R.function
    def main(data: ${D}, w: ${W}) -> ${O}:
        with R.dataflow():
            conv1: ${O} = R.nn.conv2d(data, w)
            relu1: ${O} = R.nn.relu(conv1)
            gelu1: ${O} = R.nn.gelu(relu1)
            gelu2: ${O} = R.nn.gelu(conv1)
            out: ${O} = R.add(gelu1, gelu2)
            R.output(out)
        return out
`,
    [convRelu],
    `
@I.ir_module
class Module:
    @R.function
    def main(data: ${D}, w: ${W}) -> ${O}:
        cls = Module
        with R.dataflow():
            lv: R.Tuple(${O}, ${O}) = cls.fused_relax_nn_conv2d_relax_nn_relu(data, w)
            lv1: ${O} = lv[1]
            lv2: ${O} = lv[0]
            gelu1: ${O} = R.nn.gelu(lv2)
            gelu2: ${O} = R.nn.gelu(lv1)
            out: ${O} = R.add(gelu1, gelu2)
            R.output(out)
        return out

    @R.function(private=True)
    def fused_relax_nn_conv2d_relax_nn_relu(data: ${D}, w: ${W}) -> R.Tuple(${O}, ${O}):
        R.func_attr({"Composite": "dnnl.conv2d_relu", "Primitive": True})
        with R.dataflow():
            gv: ${O} = R.nn.conv2d(data, w)
            gv1: ${O} = R.nn.relu(gv)
            R.output(gv, gv1)
        return (gv1, gv)
`,
  );
});

const withConst = `
@I.ir_module
class Module:
    @R.function
    def main(data: ${D}, w: ${W}) -> ${O}:
        with R.dataflow():
            lv: ${O} = R.nn.conv2d(data, w)
            gv: ${O} = R.add(lv, R.const(1.5, "float32"))
            R.output(gv)
        return gv
`;
const convAdd: FusionPattern = {
  name: "dnnl.conv2d_add",
  pattern: isOp("relax.add")(conv(), isConst()),
};

Deno.test("constants stay inside by default and become parameters without bindConstants", () => {
  const fn = (params: string, body: string, args: string) => `
@I.ir_module
class Module:
    @R.function
    def main(data: ${D}, w: ${W}) -> ${O}:
        cls = Module
        with R.dataflow():
            gv: ${O} = cls.fused_relax_nn_conv2d_relax_add(${args})
            R.output(gv)
        return gv

    @R.function(private=True)
    def fused_relax_nn_conv2d_relax_add(${params}) -> ${O}:
        R.func_attr({"Composite": "dnnl.conv2d_add", "Primitive": True})
        with R.dataflow():
            lv: ${O} = R.nn.conv2d(data, w)
            gv: ${O} = R.add(lv, ${body})
            R.output(gv)
        return gv
`;
  check(withConst, [convAdd], fn(`data: ${D}, w: ${W}`, 'R.const(1.5, "float32")', "data, w"));
  check(
    withConst,
    [convAdd],
    fn(
      `data: ${D}, w: ${W}, param_0: R.Tensor((), dtype="float32")`,
      "param_0",
      'data, w, R.const(1.5, "float32")',
    ),
    { bindConstants: false },
  );
});

Deno.test("annotateCodegen wraps each composite function in a Codegen function", () => {
  const before = parseTVMScript(convReluX2);
  const after = fuseOpsByPattern([convRelu], { annotateCodegen: true })(before);
  checkWellFormed(after);
  const names = [...after.functions.keys()].sort();
  assert.deepEqual(names, [
    "fused_relax_nn_conv2d_relax_nn_relu1_dnnl",
    "fused_relax_nn_conv2d_relax_nn_relu_dnnl",
    "main",
  ]);
  const expected = parseTVMScript(`
@I.ir_module
class Module:
    @R.function
    def fused_relax_nn_conv2d_relax_nn_relu_dnnl(data: ${D}, w1: ${W}) -> ${O}:
        R.func_attr({"Codegen": "dnnl"})
        @R.function
        def local_func(data_1: ${D}, w1_1: ${W}) -> ${O}:
            R.func_attr({"Composite": "dnnl.conv2d_relu"})
            with R.dataflow():
                lv: ${O} = R.nn.conv2d(data_1, w1_1)
                gv: ${O} = R.nn.relu(lv)
                R.output(gv)
            return gv

        output: ${O} = local_func(data, w1)
        return output
`);
  assertStructuralEqual(
    after.functions.get("fused_relax_nn_conv2d_relax_nn_relu_dnnl"),
    expected.functions.get("fused_relax_nn_conv2d_relax_nn_relu_dnnl"),
  );
  const f = after.functions.get("fused_relax_nn_conv2d_relax_nn_relu_dnnl") as Function;
  assert.equal(f.attrs["global_symbol"], "fused_relax_nn_conv2d_relax_nn_relu_dnnl");
  assertStructuralEqual(parseTVMScript(printTVMScript(after)), after);
});

Deno.test("no match, or a check that rejects every match, returns the same module", () => {
  const before = parseTVMScript(convReluX2);
  const gelu = isOp("relax.nn.gelu")(wildcard());
  assert.equal(fuseOpsByPattern([{ name: "dnnl.gelu", pattern: gelu }])(before), before);
  assert.equal(
    fuseOpsByPattern([{ name: "dnnl.gelu", pattern: gelu }], { annotateCodegen: true })(before),
    before,
  );
  let seen = 0;
  const rejectAll: FusionPattern = {
    ...convRelu,
    check: (ctx) => {
      seen++;
      assert.equal(ctx.matchedExpr.kind, "relax.Call");
      assert.equal(ctx.matchedBindings.size, 2);
      return false;
    },
  };
  assert.equal(fuseOpsByPattern([rejectAll])(before), before);
  assert.equal(seen, 2);
});

Deno.test("check sees annotations and variable usages", () => {
  const c = conv();
  const pattern = isOp("relax.nn.relu")(c);
  let usersOfConv: string[] = [];
  const onlyIfConvUnshared: FusionPattern = {
    name: "dnnl.conv2d_relu",
    pattern,
    annotationPatterns: { conv: c },
    check: (ctx) => {
      const convExpr = ctx.annotatedExpr.get("conv")!;
      const v = ctx.valueToBoundVar.get(convExpr)!;
      usersOfConv = (ctx.varUsages.get(v) ?? []).map((x) => x.name);
      return usersOfConv.length === 1;
    },
  };
  const before = parseTVMScript(convReluX2);
  const after = fuseOpsByPattern([onlyIfConvUnshared])(before);
  assert.deepEqual(usersOfConv, ["gv"]);
  assert.equal(after.functions.size, 3);
});

Deno.test("a match whose function would feed and consume the same binding is skipped", () => {
  // conv -> relu -> add(relu, gelu(conv)): fusing {conv, relu, add} would wrap around gelu.
  const before = parseTVMScript(`
@I.ir_module
class Module:
    @R.function
    def main(data: ${D}, w: ${W}) -> ${O}:
        with R.dataflow():
            c: ${O} = R.nn.conv2d(data, w)
            r: ${O} = R.nn.relu(c)
            g: ${O} = R.nn.gelu(c)
            gv: ${O} = R.add(r, g)
            R.output(gv)
        return gv
`);
  const add = isOp("relax.add")(isOp("relax.nn.relu")(conv()), isOp("relax.nn.gelu")(wildcard()));
  const convReluAdd = isOp("relax.add")(isOp("relax.nn.relu")(conv()), wildcard());
  const main = before.functions.get("main") as Function;
  const gv = main.body.kind === "relax.SeqExpr"
    ? main.body.blocks[0]!.bindings[3]!.value
    : main.body;
  assert.ok(convReluAdd.match(gv, { bindings: varToValue(main) }), "the pattern does match");
  assert.equal(fuseOpsByPattern([{ name: "x.cra", pattern: convReluAdd }])(before), before);
  // Taking the gelu in too removes the cycle.
  const after = fuseOpsByPattern([{ name: "x.all", pattern: add }])(before);
  assert.equal(after.functions.size, 2);
});

Deno.test("bad uses are reported", () => {
  assert.throws(
    () => fuseOpsByPattern([{ name: "", pattern: conv() }]),
    { message: "FuseOpsByPattern: every pattern needs a non-empty name" },
  );
  const before = parseTVMScript(convReluX2);
  assert.throws(
    () => fuseOpsByPattern([convRelu], { entryFunctions: ["nope"] })(before),
    { message: 'FuseOpsByPattern: the module has no Relax function "nope"' },
  );
  assert.throws(
    () =>
      fuseOpsByPattern([{ ...convRelu, name: "conv2d_relu" }], { annotateCodegen: true })(before),
    {
      message:
        'FuseOpsByPattern: composite name "conv2d_relu" must start with a codegen name and a period (e.g. "dnnl.conv2d")',
    },
  );
});

Deno.test("a later, larger match takes over an earlier one it contains", () => {
  // relu(conv).or(conv): conv alone matches first, then relu(conv) takes it over.
  const c = conv();
  const maximal: FusionPattern = {
    name: "dnnl.conv2d_opt_relu",
    pattern: isOp("relax.nn.relu")(c).or(c),
  };
  const after = fuseOpsByPattern([maximal])(parseTVMScript(convReluX2));
  assert.deepEqual([...after.functions.keys()].sort(), [
    "fused_relax_nn_conv2d_relax_nn_relu",
    "fused_relax_nn_conv2d_relax_nn_relu1",
    "main",
  ]);
});

Deno.test("a match overlapping part of an earlier match is dropped", () => {
  // add(relu(a), b) where relu's input conv was fused with relu already by this very pattern:
  // relu(conv) | add(relu(wildcard), wildcard): the add match holds relu but not its conv.
  const before = parseTVMScript(`
@I.ir_module
class Module:
    @R.function
    def main(data: ${D}, w: ${W}, b: ${O}) -> ${O}:
        with R.dataflow():
            c: ${O} = R.nn.conv2d(data, w)
            r: ${O} = R.nn.relu(c)
            gv: ${O} = R.add(r, b)
            R.output(gv)
        return gv
`);
  const pattern = isOp("relax.nn.relu")(conv()).or(
    isOp("relax.add")(isOp("relax.nn.relu")(wildcard()), wildcard()),
  );
  const after = fuseOpsByPattern([{ name: "x.p", pattern }])(before);
  const main = printTVMScript(after.functions.get("main"));
  assert.match(main, /r: .* = fused_relax_nn_conv2d_relax_nn_relu\(data, w\)/);
  assert.match(main, /gv: .* = R\.add\(r, b\)/);
});
