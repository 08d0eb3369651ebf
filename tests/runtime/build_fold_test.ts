import assert from "node:assert/strict";
import { mlpModule, randomWeights } from "../../examples/mlp.ts";
import { build, defaultPipeline } from "../../runtime/build.ts";
import { foldConstant } from "../../transform/relax/fold_constant.ts";
import { timingInstrument } from "../../transform/instruments.ts";
import { deadCodeElimination } from "../../transform/relax/dead_code_elimination.ts";

Deno.test("build() hands FoldConstant a CPU evaluator: a pipeline with foldConstant() folds", () => {
  const layers = [8, 4, 2];
  const mod = mlpModule(randomWeights(layers), layers);
  const [legalize, ...rest] = defaultPipeline();
  const timing = timingInstrument();
  const plain = build(mod, { target: "js" });
  const folded = build(mod, {
    target: "js",
    pipeline: [legalize!, foldConstant(), deadCodeElimination(), ...rest],
    instruments: [timing],
  });
  assert.ok(
    folded.kernels.size < plain.kernels.size,
    `${folded.kernels.size} vs ${plain.kernels.size} kernels`,
  );
  assert.ok(timing.records.some((r) => r.name === "FoldConstant"));
});
