import assert from "node:assert/strict";
import { assertStructuralEqual } from "../../../ir/structural.ts";
import { checkWellFormed } from "../../../ir/well_formed.ts";
import { parseTVMScript } from "../../../script/parser/mod.ts";
import { printTVMScript } from "../../../script/printer.ts";
import { decomposeOpsForInference } from "../../../transform/relax/decompose_ops_for_inference.ts";
import { build } from "../../../runtime/build.ts";
import { cpu } from "../../../runtime/js/device.ts";
import { Tensor } from "../../../runtime/tensor.ts";
import { VirtualMachine } from "../../../runtime/vm/interpreter/virtual_machine.ts";

const X = 'R.Tensor((1, 64, 112, 112), dtype="float32")';
const C = 'R.Tensor((64,), dtype="float32")';
const E = 'R.Tensor((1, 64, 1, 1), dtype="float32")';
const BN = `R.Tuple(${X}, ${C}, ${C})`;
const PARAMS = `x: ${X}, gamma: ${C}, beta: ${C}, moving_mean: ${C}, moving_var: ${C}`;

const module = (body: string, params = PARAMS, ret = X) =>
  parseTVMScript(`
@I.ir_module
class Module:
    @R.function
    def main(${params}) -> ${ret}:
        with R.dataflow():
${body.trim().split("\n").map((l) => "            " + l.trim()).join("\n")}
            R.output(gv)
        return gv
`);

function check(before: ReturnType<typeof module>, expected: ReturnType<typeof module>) {
  const after = decomposeOpsForInference()(before);
  checkWellFormed(after);
  assertStructuralEqual(after, expected);
  assertStructuralEqual(parseTVMScript(printTVMScript(after)), expected);
}

Deno.test("batch_norm becomes (x - mean) / sqrt(var + eps) * gamma + beta", () => {
  const before = module(`
    bn: ${BN} = R.nn.batch_norm(x, gamma, beta, moving_mean, moving_var, axis=1, epsilon=1e-05, center=True, scale=True)
    gv: ${X} = bn[0]`);
  const expected = module(`
    lv: ${E} = R.expand_dims(moving_mean, axis=[0, 2, 3])
    lv1: ${X} = R.subtract(x, lv)
    lv2: ${E} = R.expand_dims(moving_var, axis=[0, 2, 3])
    lv3: ${E} = R.add(lv2, R.const(9.9999997473787516e-06, "float32"))
    lv4: ${E} = R.sqrt(lv3)
    lv5: ${X} = R.divide(lv1, lv4)
    lv6: ${E} = R.expand_dims(gamma, axis=[0, 2, 3])
    lv7: ${X} = R.multiply(lv5, lv6)
    lv8: ${E} = R.expand_dims(beta, axis=[0, 2, 3])
    lv9: ${X} = R.add(lv7, lv8)
    bn: ${BN} = (lv9, moving_mean, moving_var)
    gv: ${X} = bn[0]`);
  check(before, expected);
});

Deno.test("without scale and center, along the last axis of a 2-D input", () => {
  const X2 = 'R.Tensor((8, 64), dtype="float32")';
  const E2 = 'R.Tensor((1, 64), dtype="float32")';
  const P2 = `x: ${X2}, gamma: ${C}, beta: ${C}, moving_mean: ${C}, moving_var: ${C}`;
  const before = module(
    `
    bn: R.Tuple(${X2}, ${C}, ${C}) = R.nn.batch_norm(x, gamma, beta, moving_mean, moving_var, axis=-1, epsilon=0.5, center=False, scale=False)
    gv: ${X2} = bn[0]`,
    P2,
    X2,
  );
  const expected = module(
    `
    lv: ${E2} = R.expand_dims(moving_mean, axis=[0])
    lv1: ${X2} = R.subtract(x, lv)
    lv2: ${E2} = R.expand_dims(moving_var, axis=[0])
    lv3: ${E2} = R.add(lv2, R.const(0.5, "float32"))
    lv4: ${E2} = R.sqrt(lv3)
    lv5: ${X2} = R.divide(lv1, lv4)
    bn: R.Tuple(${X2}, ${C}, ${C}) = (lv5, moving_mean, moving_var)
    gv: ${X2} = bn[0]`,
    P2,
    X2,
  );
  check(before, expected);
});

Deno.test("a module without batch_norm is returned as is", () => {
  const before = module(`
    lv: ${X} = R.nn.relu(x)
    gv: ${X} = R.add(lv, x)`);
  assert.equal(decomposeOpsForInference()(before), before);
  assert.equal(decomposeOpsForInference({ funcName: "main" })(before), before);
});

Deno.test("funcName limits the pass and must name a Relax function", () => {
  const before = module(`
    bn: ${BN} = R.nn.batch_norm(x, gamma, beta, moving_mean, moving_var)
    gv: ${X} = bn[0]`);
  assert.throws(
    () => decomposeOpsForInference({ funcName: "nope" })(before),
    { message: 'DecomposeOpsForInference: the module has no Relax function "nope"' },
  );
  assert.notEqual(decomposeOpsForInference({ funcName: "main" })(before), before);
});

Deno.test("the decomposed batch_norm matches a float64 reference on the js target", async () => {
  const XS = 'R.Tensor((2, 3, 2, 2), dtype="float32")', CS = 'R.Tensor((3,), dtype="float32")';
  const before = module(
    `
    bn: R.Tuple(${XS}, ${CS}, ${CS}) = R.nn.batch_norm(x, gamma, beta, moving_mean, moving_var, axis=1, epsilon=0.001)
    gv: ${XS} = bn[0]`,
    `x: ${XS}, gamma: ${CS}, beta: ${CS}, moving_mean: ${CS}, moving_var: ${CS}`,
    XS,
  );
  const after = decomposeOpsForInference()(before);
  const dev = cpu();
  const data = (n: number, s: number) =>
    Float32Array.from({ length: n }, (_, i) => Math.abs(Math.sin(i * 1.3 + s)) + 0.1);
  const [x, g, b, m, v] = [data(24, 0), data(3, 1), data(3, 2), data(3, 3), data(3, 4)];
  const args = [
    Tensor.from(x, [2, 3, 2, 2], { device: dev }),
    ...[g, b, m, v].map((a) => Tensor.from(a, [3], { device: dev })),
  ];
  const y = await new VirtualMachine(build(after, { device: dev }), dev).run("main", ...args);
  const got = await (y as Tensor).toArray() as Float32Array;
  for (let i = 0; i < 24; i++) {
    const c = Math.floor(i / 4) % 3;
    const want = (x[i]! - m[c]!) / Math.sqrt(v[c]! + 0.001) * g[c]! + b[c]!;
    assert.ok(Math.abs(got[i]! - want) <= 1e-5, `at ${i}: ${got[i]} vs ${want}`);
  }
});

Deno.test("batch_norm of an input of unknown rank cannot be decomposed", () => {
  const before = module(
    `
    bn = R.nn.batch_norm(x, gamma, beta, moving_mean, moving_var)
    gv = bn[0]`,
    `x: R.Tensor(dtype="float32"), gamma: ${C}, beta: ${C}, moving_mean: ${C}, moving_var: ${C}`,
    'R.Tensor(dtype="float32")',
  );
  assert.throws(() => decomposeOpsForInference()(before), {
    message:
      'DecomposeOpsForInference: batch_norm needs an input tensor of known rank, got R.Tensor((?), "float32")',
  });
});

Deno.test("channels last (axis=3), shift only; the statistics stay readable from the tuple", () => {
  const XN = 'R.Tensor((1, 5, 5, 64), dtype="float32")';
  const EN = 'R.Tensor((1, 1, 1, 64), dtype="float32")';
  const PN = `x: ${XN}, gamma: ${C}, beta: ${C}, moving_mean: ${C}, moving_var: ${C}`;
  const before = module(
    `
    bn: R.Tuple(${XN}, ${C}, ${C}) = R.nn.batch_norm(x, gamma, beta, moving_mean, moving_var, axis=3, scale=False)
    lv: ${XN} = bn[0]
    lv1: ${C} = bn[1]
    gv: R.Tuple(${XN}, ${C}) = (lv, lv1)`,
    PN,
    `R.Tuple(${XN}, ${C})`,
  );
  const expected = module(
    `
    lv2: ${EN} = R.expand_dims(moving_mean, axis=[0, 1, 2])
    lv3: ${XN} = R.subtract(x, lv2)
    lv4: ${EN} = R.expand_dims(moving_var, axis=[0, 1, 2])
    lv5: ${EN} = R.add(lv4, R.const(9.9999997473787516e-06, "float32"))
    lv6: ${EN} = R.sqrt(lv5)
    lv7: ${XN} = R.divide(lv3, lv6)
    lv8: ${EN} = R.expand_dims(beta, axis=[0, 1, 2])
    lv9: ${XN} = R.add(lv7, lv8)
    bn: R.Tuple(${XN}, ${C}, ${C}) = (lv9, moving_mean, moving_var)
    lv: ${XN} = bn[0]
    lv1: ${C} = bn[1]
    gv: R.Tuple(${XN}, ${C}) = (lv, lv1)`,
    PN,
    `R.Tuple(${XN}, ${C})`,
  );
  check(before, expected);
});
