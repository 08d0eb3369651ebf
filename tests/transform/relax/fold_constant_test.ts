import assert from "node:assert/strict";
import { mlpModule, randomWeights } from "../../../examples/mlp.ts";
import type { NDArray } from "../../../ir/relax/expr.ts";
import { cpuConstantEvaluator } from "../../../runtime/constant_evaluator.ts";
import { defaultPipeline } from "../../../runtime/build.ts";
import { cpu } from "../../../runtime/js/device.ts";
import { Tensor } from "../../../runtime/tensor.ts";
import { PassContext } from "../../../transform/pass.ts";
import {
  CONSTANT_EVALUATOR_CONFIG,
  type ConstantEvaluator,
  foldConstant,
} from "../../../transform/relax/fold_constant.ts";
import { GPU_TEST, gpuDevice, randomF32 } from "../../runtime/_helpers.ts";
import { assertOutputsClose, buildAndRun } from "./_compare_builds.ts";
import { checkNoOp, checkPass, parse } from "./_graph_pass_helpers.ts";
import { add, rt, transpose, twoOutputs, unary } from "./_kernels.ts";

const evaluator = cpuConstantEvaluator();
const fold = foldConstant({ evaluator });

function mod(...parts: string[]): string {
  return `
@I.ir_module
class Module:
${parts.join("\n")}`;
}

function f32(shape: number[], values: number[]): NDArray {
  return { dtype: "float32", shape, data: new Float32Array(values) };
}

/** The TVMScript metadata section holding `arrays` as constants 0, 1, ... */
function metadata(...arrays: NDArray[]): string {
  const entries = arrays.map((a) => {
    const bytes = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
    return `{"dtype": "${a.dtype}", "shape": [${a.shape.join(", ")}], "data": "${
      btoa(String.fromCharCode(...bytes))
    }"}`;
  });
  return `\n# Metadata\nmetadata = {"relax.expr.Constant": [${entries.join(", ")}]}`;
}

const C = (i: number) => `metadata["relax.expr.Constant"][${i}]`;
const T4 = rt([4]);
const ADDONE = unary("addone", [4], "X + T.float32(1.0)");

Deno.test("FoldConstant: a call_tir of constants becomes a constant its uses read", () => {
  const c = f32([4], [1, 2, 3, 4]);
  checkPass(
    fold,
    mod(
      ADDONE,
      add("add", [4]),
      `
    @R.function
    def main(x: ${T4}) -> ${T4}:
        cls = Module
        with R.dataflow():
            lv = R.call_tir(cls.addone, (${C(0)},), out_sinfo=${T4})
            gv = R.call_tir(cls.add, (x, lv), out_sinfo=${T4})
            R.output(gv)
        return gv`,
    ) + metadata(c),
    mod(
      ADDONE,
      add("add", [4]),
      `
    @R.function
    def main(x: ${T4}) -> ${T4}:
        cls = Module
        with R.dataflow():
            gv = R.call_tir(cls.add, (x, ${C(0)}), out_sinfo=${T4})
            R.output(gv)
        return gv`,
    ) + metadata(f32([4], [2, 3, 4, 5])),
  );
});

Deno.test("FoldConstant: chains of kernels and high-level operators fold to one constant", () => {
  // transpose, then R.add and R.multiply legalized on the side and evaluated
  const c = f32([3, 2], [1, 2, 3, 4, 5, 6]);
  const T23 = rt([2, 3]);
  checkPass(
    fold,
    mod(
      transpose("transpose", 3, 2),
      `
    @R.function
    def main() -> ${T23}:
        cls = Module
        with R.dataflow():
            lv = R.call_tir(cls.transpose, (${C(0)},), out_sinfo=${T23})
            lv1 = R.add(lv, lv)
            gv = R.multiply(lv1, R.const(0.5, "float32"))
            R.output(gv)
        return gv`,
    ) + metadata(c),
    mod(
      transpose("transpose", 3, 2),
      `
    @R.function
    def main() -> ${T23}:
        return ${C(0)}`,
    ) + metadata(f32([2, 3], [1, 3, 5, 2, 4, 6])),
  );
});

Deno.test("FoldConstant: tuples of outputs fold field by field; the rest stays", () => {
  const T22 = rt([2, 2]);
  const c = f32([2, 2], [1, 2, 3, 4]);
  checkPass(
    fold,
    mod(
      twoOutputs("two", 2, 2),
      `
    @R.function
    def main(x: ${T22}) -> R.Tuple(${T22}, ${T22}):
        cls = Module
        with R.dataflow():
            t = R.call_tir(cls.two, (${C(0)},), out_sinfo=[${T22}, ${T22}])
            a = t[0]
            b = t[1]
            lv = R.add(x, b)
            gv = (a, lv)
            R.output(gv)
        return gv`,
    ) + metadata(c),
    mod(
      twoOutputs("two", 2, 2),
      `
    @R.function
    def main(x: ${T22}) -> R.Tuple(${T22}, ${T22}):
        with R.dataflow():
            lv = R.add(x, ${C(1)})
            gv = (${C(0)}, lv)
            R.output(gv)
        return gv`,
    ) + metadata(f32([2, 2], [2, 4, 6, 8]), f32([2, 2], [2, 3, 4, 5])),
  );
});

Deno.test("FoldConstant: nothing constant to fold returns the same module, with no evaluator", () => {
  const noEvaluator = foldConstant();
  // symbolic output shape; an input; outside a dataflow block; a creation op without tensors
  checkNoOp(
    noEvaluator,
    mod(
      `
    @T.prim_func(private=True)
    def addone_n(a: T.handle, b: T.handle):
        n = T.int64()
        A = T.match_buffer(a, (n,))
        B = T.match_buffer(b, (n,))
        for i in range(n):
            with T.sblock("B"):
                vi = T.axis.spatial(n, i)
                B[vi] = A[vi] + T.float32(1.0)`,
      `
    @R.function
    def main(x: R.Tensor(("n",), dtype="float32")) -> R.Tensor(("n",), dtype="float32"):
        n = T.int64()
        cls = Module
        with R.dataflow():
            lv = R.call_tir(cls.addone_n, (x,), out_sinfo=R.Tensor((n,), dtype="float32"))
            z = R.zeros(R.shape([4]), dtype="float32")
            gv = R.add(lv, R.const(1.0, "float32"))
            R.output(gv)
        c = R.add(${C(0)}, ${C(0)})
        return gv`,
    ) + metadata(f32([4], [1, 2, 3, 4])),
  );
});

Deno.test("FoldConstant: errors name the kernel and the missing evaluator", () => {
  const m = parse(
    mod(
      ADDONE,
      `
    @R.function
    def main() -> ${T4}:
        cls = Module
        with R.dataflow():
            gv = R.call_tir(cls.addone, (${C(0)},), out_sinfo=${T4})
            R.output(gv)
        return gv`,
    ) + metadata(f32([4], [1, 2, 3, 4])),
  );
  assert.throws(() => foldConstant()(m), {
    message:
      `FoldConstant needs a constant evaluator to fold "addone": pass foldConstant({ evaluator }) or set the pass context's "relax.FoldConstant.evaluator" (build() does)`,
  });
  const broken: ConstantEvaluator = {
    callPrimFunc: () => {
      throw new Error("no kernels today");
    },
  };
  assert.throws(() => foldConstant({ evaluator: broken })(m), {
    message: 'FoldConstant: cannot evaluate "addone": no kernels today',
  });
  const short: ConstantEvaluator = { callPrimFunc: () => [] };
  assert.throws(() => foldConstant({ evaluator: short })(m), {
    message: 'FoldConstant: the evaluator returned 0 outputs for "addone", expected 1',
  });
  // the evaluator can come from the pass context, as build() passes it
  const ctx = new PassContext({ config: { [CONSTANT_EVALUATOR_CONFIG]: evaluator } });
  const folded = foldConstant()(m, ctx);
  assert.notEqual(folded, m);
});

Deno.test({
  name: "FoldConstant: the folded MLP computes what the original computes, with fewer kernels",
  ...GPU_TEST,
  fn: async () => {
    const layers = [16, 8, 8, 4];
    const model = mlpModule(randomWeights(layers), layers);
    const [legalize, ...rest] = defaultPipeline();
    const folded = [legalize!, fold, ...rest];
    const x = { data: randomF32(3 * 16, 7), shape: [3, 16] };
    const gpu = await gpuDevice();
    for (const device of gpu ? [cpu(), gpu] : [cpu()]) {
      const args = [Tensor.from(x.data, x.shape, { device })];
      const base = await buildAndRun(model, device, args);
      const opt = await buildAndRun(model, device, args, { pipeline: folded });
      assertOutputsClose(opt.outputs, base.outputs, { what: `${device.kind} output` });
      // the three weight transposes run at compile time
      assert.equal(base.dispatches, 12, `${device.kind} kernels before`);
      assert.equal(opt.dispatches, 9, `${device.kind} kernels after`);
    }
  },
});
