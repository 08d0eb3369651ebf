import assert from "node:assert/strict";
import { defaultPipeline } from "../../../runtime/build.ts";
import type { Device } from "../../../runtime/device.ts";
import { cpu } from "../../../runtime/js/device.ts";
import { Tensor } from "../../../runtime/tensor.ts";
import { PassContext } from "../../../transform/pass.ts";
import { toMixedPrecision } from "../../../transform/relax/to_mixed_precision.ts";
import { makeTarget } from "../../../transform/target.ts";
import { GPU_TEST, gpuDevice, randomF32 } from "../../runtime/_helpers.ts";
import { assertOutputsClose, buildAndRun } from "./_compare_builds.ts";
import { checkNoOp, checkPass, parse } from "./_graph_pass_helpers.ts";

const mixed = toMixedPrecision();

function mod(body: string): string {
  return `
@I.ir_module
class Module:
${body}`;
}

const F32 = (s: string) => `R.Tensor((${s}), dtype="float32")`;
const F16 = (s: string) => `R.Tensor((${s}), dtype="float16")`;

const MATMUL = mod(`
    @R.function
    def main(x: ${F32("2, 4")}, w: ${F32("4, 3")}) -> ${F32("2, 3")}:
        with R.dataflow():
            gv = R.matmul(x, w)
            R.output(gv)
        return gv`);

Deno.test("ToMixedPrecision: matmul reads f16 and accumulates in f32", () => {
  checkPass(
    mixed,
    MATMUL,
    mod(`
    @R.function
    def main(x: ${F32("2, 4")}, w: ${F32("4, 3")}) -> ${F32("2, 3")}:
        with R.dataflow():
            x_f16: ${F16("2, 4")} = R.astype(x, dtype="float16")
            w_f16: ${F16("4, 3")} = R.astype(w, dtype="float16")
            gv: ${F32("2, 3")} = R.matmul(x_f16, w_f16, out_dtype="float32")
            R.output(gv)
        return gv`),
  );
});

Deno.test("ToMixedPrecision: conv2d in f16 with f32 results; relu stays f32", () => {
  const X = F32("1, 2, 5, 5"), W = F32("3, 2, 3, 3"), Y = F32("1, 3, 3, 3");
  checkPass(
    mixed,
    mod(`
    @R.function
    def main(x: ${X}, w: ${W}) -> ${Y}:
        with R.dataflow():
            lv = R.nn.conv2d(x, w)
            gv = R.nn.relu(lv)
            R.output(gv)
        return gv`),
    mod(`
    @R.function
    def main(x: ${X}, w: ${W}) -> ${Y}:
        with R.dataflow():
            x_f16: ${F16("1, 2, 5, 5")} = R.astype(x, dtype="float16")
            w_f16: ${F16("3, 2, 3, 3")} = R.astype(w, dtype="float16")
            lv: ${Y} = R.nn.conv2d(x_f16, w_f16, out_dtype="float32")
            gv: ${Y} = R.nn.relu(lv)
            R.output(gv)
        return gv`),
  );
});

Deno.test("ToMixedPrecision: outDtype float16 runs followers in f16, casts back for softmax", () => {
  const X = F32("2, 4"), W = F32("4, 3"), B = F32("3,"), Y = F32("2, 3"), H = F16("2, 3");
  checkPass(
    toMixedPrecision({ outDtype: "float16" }),
    mod(`
    @R.function
    def main(x: ${X}, w: ${W}, b: ${B}) -> R.Tuple(${Y}, ${Y}):
        with R.dataflow():
            lv = R.matmul(x, w)
            lv1 = R.add(lv, b)
            lv2 = R.nn.relu(lv1)
            gv = R.nn.softmax(lv2)
            gv1 = R.nn.relu(lv2)
            R.output(gv, gv1)
        return (gv, gv1)`),
    mod(`
    @R.function
    def main(x: ${X}, w: ${W}, b: ${B}) -> R.Tuple(${Y}, ${Y}):
        with R.dataflow():
            x_f16: ${F16("2, 4")} = R.astype(x, dtype="float16")
            w_f16: ${F16("4, 3")} = R.astype(w, dtype="float16")
            lv: ${H} = R.matmul(x_f16, w_f16, out_dtype="float16")
            b_f16: ${F16("3,")} = R.astype(b, dtype="float16")
            lv1: ${H} = R.add(lv, b_f16)
            lv2: ${H} = R.nn.relu(lv1)
            lv2_f32: ${Y} = R.astype(lv2, dtype="float32")
            gv: ${Y} = R.nn.softmax(lv2_f32)
            gv1_f16: ${H} = R.nn.relu(lv2)
            gv1: ${Y} = R.astype(gv1_f16, dtype="float32")
            R.output(gv, gv1)
        return (gv, gv1)`),
  );
});

Deno.test("ToMixedPrecision: no compute operator, or a target without f16, is a no-op", () => {
  checkNoOp(
    mixed,
    mod(`
    @R.function
    def main(x: ${F32("2, 4")}) -> ${F32("2, 4")}:
        with R.dataflow():
            lv = R.nn.relu(x)
            gv = R.nn.softmax(lv)
            R.output(gv)
        return gv`),
  );
  checkNoOp(toMixedPrecision({ target: makeTarget("webgpu") }), MATMUL);
  const m = parse(MATMUL);
  const noF16 = new PassContext({ config: { target: makeTarget("webgpu") } });
  assert.equal(mixed(m, noF16), m);
  const f16 = new PassContext({ config: { target: makeTarget("webgpu", { supportsF16: true }) } });
  assert.notEqual(mixed(m, f16), m);
  // already-f16 compute is left alone
  checkNoOp(
    mixed,
    mod(`
    @R.function
    def main(x: ${F16("2, 4")}, w: ${F16("4, 3")}) -> ${F16("2, 3")}:
        with R.dataflow():
            gv = R.matmul(x, w)
            R.output(gv)
        return gv`),
  );
});

Deno.test("ToMixedPrecision: a bad outDtype is refused", () => {
  assert.throws(
    () => toMixedPrecision({ outDtype: "int8" as "float16" }),
    { message: 'ToMixedPrecision: outDtype must be "float32" or "float16", got "int8"' },
  );
});

const MLP = mod(`
    @R.function
    def main(x: ${F32("3, 16")}, w1: ${F32("16, 8")}, b1: ${F32("8,")}, w2: ${F32("8, 4")}) -> ${
  F32("3, 4")
}:
        with R.dataflow():
            lv = R.matmul(x, w1)
            lv1 = R.add(lv, b1)
            lv2 = R.nn.relu(lv1)
            lv3 = R.matmul(lv2, w2)
            gv = R.nn.softmax(lv3)
            R.output(gv)
        return gv`);

async function checkNumerics(device: Device): Promise<void> {
  const before = parse(MLP);
  const shapes = [[3, 16], [16, 8], [8], [8, 4]];
  const args = shapes.map((s, i) =>
    Tensor.from(randomF32(s.reduce((a, b) => a * b, 1), 10 + i, 0.1, 1), s, { device })
  );
  for (const outDtype of ["float32", "float16"] as const) {
    const pipeline = [toMixedPrecision({ outDtype }), ...defaultPipeline()];
    const base = await buildAndRun(before, device, args);
    const opt = await buildAndRun(before, device, args, { pipeline });
    const what = `${device.kind} ${outDtype}`;
    assertOutputsClose(opt.outputs, base.outputs, { rtol: 2e-2, atol: 2e-3, what });
    // the f16 path really ran: casts (x, w1, lv2, w2 / x, w1, b1, w2 and lv3 back to f32) and
    // results that are not bit-identical
    assert.equal(opt.dispatches - base.dispatches, outDtype === "float32" ? 4 : 5, what);
    assert.ok(opt.outputs[0]!.some((v, i) => v !== base.outputs[0]![i]), what);
  }
}

Deno.test("ToMixedPrecision: the f16 model matches the f32 one on the js target", async () => {
  await checkNumerics(cpu());
});

Deno.test({
  name: "ToMixedPrecision: the f16 model matches the f32 one on WebGPU (with shader-f16)",
  ...GPU_TEST,
  fn: async () => {
    const gpu = await gpuDevice();
    if (!gpu) return;
    if (!gpu.target.supportsF16) {
      console.log("ToMixedPrecision WebGPU test skipped: the adapter has no shader-f16");
      // without f16 the pass leaves the module alone under the device's target
      const m = parse(MATMUL);
      assert.equal(mixed(m, new PassContext({ config: { target: gpu.target } })), m);
      return;
    }
    await checkNumerics(gpu);
  },
});
