import assert from "node:assert/strict";
import { mlpModule, mlpReference, randomWeights, runMlp } from "../../examples/mlp.ts";
import { devices, GPU_TEST } from "../runtime/_helpers.ts";

Deno.test(
  "the MLP example runs batches of 1, 7 and 64 with one executable, matching float64",
  GPU_TEST,
  async () => {
    for (const device of await devices()) {
      const results = await runMlp(device, { iterations: 1 });
      assert.deepEqual(results.map((r) => r.batch), [1, 7, 64]);
      for (const r of results) {
        assert.ok(r.maxError <= 1e-4, `${device.kind} batch ${r.batch}: error ${r.maxError}`);
        assert.ok(r.ms > 0);
      }
    }
  },
);

Deno.test("the MLP's module has a symbolic batch and the reference is a probability per row", () => {
  const layers = [4, 3, 2];
  const w = randomWeights(layers, 5);
  const main = mlpModule(w, layers).functions.get("main");
  assert.ok(main?.kind === "relax.Function");
  const x = main.params[0]!.structInfo;
  assert.ok(x.kind === "TensorStructInfo" && x.shape?.[0]?.kind === "Var");
  const ref = mlpReference(Float32Array.from([1, 2, 3, 4, -1, 0, 1, 0]), 2, w, layers);
  assert.equal(ref.length, 4);
  assert.ok(Math.abs(ref[0]! + ref[1]! - 1) < 1e-12 && Math.abs(ref[2]! + ref[3]! - 1) < 1e-12);
});
