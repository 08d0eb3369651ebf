import assert from "node:assert/strict";
import { build } from "../../../runtime/build.ts";
import { cpu } from "../../../runtime/js/device.ts";
import { Tensor } from "../../../runtime/tensor.ts";
import { VirtualMachine } from "../../../runtime/vm/interpreter/virtual_machine.ts";
import type { VMValue } from "../../../runtime/vm/value.ts";
import { liftTransformParams } from "../../../transform/relax/lift_transform_params.ts";
import { GPU_TEST, gpuDevice, randomF32 } from "../../runtime/_helpers.ts";
import { assertOutputsClose } from "./_compare_builds.ts";
import { checkNoOp, checkPass, parse } from "./_graph_pass_helpers.ts";
import { rt } from "./_kernels.ts";

const lift = liftTransformParams();

function mod(...parts: string[]): string {
  return `
@I.ir_module
class Module:
${parts.join("\n")}`;
}

const T24 = rt([2, 4]), T34 = rt([3, 4]), T43 = rt([4, 3]), T3 = rt([3]), T23 = rt([2, 3]);

const BASIC = mod(`
    @R.function
    def main(x: ${T24}, w: ${T34}, b: ${T3}) -> ${T23}:
        R.func_attr({"num_input": 1})
        with R.dataflow():
            wt = R.permute_dims(w, axes=[1, 0])
            lv = R.matmul(x, wt)
            gv = R.add(lv, b)
            R.output(gv)
        return gv`);

Deno.test("LiftTransformParams: a weight transpose moves to main_transform_params", () => {
  checkPass(
    lift,
    BASIC,
    mod(`
    @R.function
    def main(x: ${T24}, b: ${T3}, wt: ${T43}) -> ${T23}:
        R.func_attr({"num_input": 1})
        with R.dataflow():
            lv = R.matmul(x, wt)
            gv = R.add(lv, b)
            R.output(gv)
        return gv

    @R.function
    def main_transform_params(params: R.Tuple(${T34}, ${T3})) -> R.Tuple(${T3}, ${T43}):
        with R.dataflow():
            w = params[0]
            b = params[1]
            wt = R.permute_dims(w, axes=[1, 0])
            gv = (b, wt)
            R.output(gv)
        return gv`),
  );
});

Deno.test("LiftTransformParams: chains lift; only what the model reads is returned", () => {
  const X = `R.Tensor(("n", 4), dtype="float32")`, Y = `R.Tensor((n, 4), dtype="float32")`;
  const T44 = rt([4, 4]), T4 = rt([4]);
  checkPass(
    lift,
    mod(`
    @R.function
    def main(x: ${X}, w1: ${T44}, w2: ${T4}) -> ${Y}:
        n = T.int64()
        R.func_attr({"num_input": 1})
        with R.dataflow():
            w1t = R.permute_dims(w1, axes=[1, 0])
            w1s = R.multiply(w1t, R.const(2.0, "float32"))
            lv = R.matmul(x, w1s)
            lv1 = R.add(lv, w2)
            w2n = R.negative(w2)
            gv = R.add(lv1, w2n)
            R.output(gv)
        return gv`),
    mod(`
    @R.function
    def main(x: ${X}, w2: ${T4}, w1s: ${T44}, w2n: ${T4}) -> ${Y}:
        n = T.int64()
        R.func_attr({"num_input": 1})
        with R.dataflow():
            lv = R.matmul(x, w1s)
            lv1 = R.add(lv, w2)
            gv = R.add(lv1, w2n)
            R.output(gv)
        return gv

    @R.function
    def main_transform_params(params: R.Tuple(${T44}, ${T4})) -> R.Tuple(${T4}, ${T44}, ${T4}):
        with R.dataflow():
            w1 = params[0]
            w2 = params[1]
            w1t = R.permute_dims(w1, axes=[1, 0])
            w1s = R.multiply(w1t, R.const(2.0, "float32"))
            w2n = R.negative(w2)
            gv = (w2, w1s, w2n)
            R.output(gv)
        return gv`),
  );
});

Deno.test("LiftTransformParams: nothing to lift keeps the model, adds a pass-through", () => {
  const before = parse(mod(`
    @R.function
    def main(x: ${T3}, w: ${T3}) -> ${T3}:
        R.func_attr({"num_input": 1})
        with R.dataflow():
            gv = R.add(x, w)
            R.output(gv)
        lv = R.multiply(w, w)
        return gv`));
  const after = checkPass(
    lift,
    mod(`
    @R.function
    def main(x: ${T3}, w: ${T3}) -> ${T3}:
        R.func_attr({"num_input": 1})
        with R.dataflow():
            gv = R.add(x, w)
            R.output(gv)
        lv = R.multiply(w, w)
        return gv`),
    mod(`
    @R.function
    def main(x: ${T3}, w: ${T3}) -> ${T3}:
        R.func_attr({"num_input": 1})
        with R.dataflow():
            gv = R.add(x, w)
            R.output(gv)
        lv = R.multiply(w, w)
        return gv

    @R.function
    def main_transform_params(params: R.Tuple(${T3})) -> R.Tuple(${T3}):
        with R.dataflow():
            w = params[0]
            gv = (w,)
            R.output(gv)
        return gv`),
  );
  // the model function itself is untouched (bindings outside dataflow blocks are not lifted)
  assert.equal(lift(before).functions.get("main"), before.functions.get("main"));
  assert.equal(after.functions.size, 2);
});

Deno.test("LiftTransformParams: functions without num_input give the same module", () => {
  checkNoOp(
    lift,
    mod(`
    @R.function
    def main(x: ${T24}, w: ${T34}) -> ${T23}:
        with R.dataflow():
            wt = R.permute_dims(w, axes=[1, 0])
            gv = R.matmul(x, wt)
            R.output(gv)
        return gv

    @R.function
    def only_inputs(x: ${T3}) -> ${T3}:
        R.func_attr({"num_input": 1})
        return x`),
  );
});

Deno.test("LiftTransformParams: errors name the function and the problem", () => {
  const withInputs = (n: string) =>
    parse(mod(`
    @R.function
    def main(x: ${T3}) -> ${T3}:
        R.func_attr({"num_input": ${n}})
        return x`));
  assert.throws(() => lift(withInputs("2")), {
    message: 'LiftTransformParams: "main" has num_input 2 but only 1 parameters',
  });
  assert.throws(() => lift(withInputs('"one"')), {
    message: 'LiftTransformParams: "main" has num_input "one": expected a non-negative integer',
  });
  const lifted = lift(parse(BASIC));
  assert.throws(() => lift(lifted), {
    message: 'LiftTransformParams: the module already has a function named "main_transform_params"',
  });
});

Deno.test({
  name: "LiftTransformParams: transform once, then run: same results as the original",
  ...GPU_TEST,
  fn: async () => {
    const before = parse(BASIC);
    const after = lift(before);
    const gpu = await gpuDevice();
    for (const device of gpu ? [cpu(), gpu] : [cpu()]) {
      const t = (seed: number, shape: number[]) =>
        Tensor.from(randomF32(shape.reduce((a, b) => a * b, 1), seed), shape, { device });
      const [x, w, b] = [t(1, [2, 4]), t(2, [3, 4]), t(3, [3])];
      const base = new VirtualMachine(build(before, { device }), device);
      const want = await (await base.run("main", x, w, b) as Tensor).toArray();
      const vm = new VirtualMachine(build(after, { device }), device);
      const prepared = await vm.run("main_transform_params", [w, b]) as readonly VMValue[];
      assert.equal(prepared.length, 2);
      const got = await (await vm.run("main", x, ...prepared) as Tensor).toArray();
      assertOutputsClose([Array.from(got as Float32Array)], [Array.from(want as Float32Array)], {
        what: `${device.kind} output`,
      });
    }
  },
});
