import assert from "node:assert/strict";
import type { Function } from "../../ir/relax/expr.ts";
import { cpu } from "../../runtime/js/device.ts";
import { customFusion, customFusionModule, main, twoConvs } from "../../examples/custom_fusion.ts";

const callees = (f: Function) =>
  f.body.kind === "relax.SeqExpr"
    ? f.body.blocks.flatMap((b) => b.bindings).map((b) => {
      const v = b.value;
      if (v.kind !== "relax.Call") return v.kind;
      return v.op.kind === "relax.Op" ? v.op.name : v.op.kind === "GlobalVar" ? v.op.name : "?";
    })
    : [];

Deno.test("the pattern puts the two convolutions in one composite function", () => {
  const { patternFused } = customFusion(customFusionModule());
  const comp = patternFused.functions.get("fused_relax_nn_conv2d_relax_nn_conv2d") as Function;
  assert.equal(comp.attrs["Composite"], "my.conv2d_conv2d");
  assert.equal(comp.attrs["Primitive"], true);
  assert.deepEqual(callees(comp), ["relax.nn.conv2d", "relax.nn.conv2d"]);
  assert.deepEqual(callees(patternFused.functions.get("main") as Function), [
    "fused_relax_nn_conv2d_relax_nn_conv2d",
    "relax.nn.relu",
    "relax.add",
  ]);
  assert.equal(
    String(twoConvs()),
    'isOp("relax.nn.conv2d")(isOp("relax.nn.conv2d")(wildcard(), wildcard()), wildcard())',
  );
});

Deno.test("FuseOps then fuses relu and add, and FuseTIR makes one kernel per group", () => {
  const { fused, kernels } = customFusion(customFusionModule());
  assert.deepEqual(callees(fused.functions.get("main") as Function), [
    "fused_relax_nn_conv2d_relax_nn_conv2d",
    "fused_relu_add",
  ]);
  const ew = fused.functions.get("fused_relu_add") as Function;
  assert.equal(ew.attrs["Primitive"], true);
  assert.equal(callees(ew).length, 2);
  const prims = [...kernels.functions].filter(([, f]) => f.kind === "PrimFunc").map(([n]) => n);
  assert.deepEqual(prims.sort(), ["fused_relax_nn_conv2d_relax_nn_conv2d", "fused_relu_add"]);
});

Deno.test("the example prints every stage and the fused module computes the same result", async () => {
  const lines: string[] = [];
  const { maxError } = await main(cpu(), (l) => lines.push(l));
  assert.ok(maxError <= 1e-5, `max error ${maxError}`);
  const text = lines.join("\n");
  assert.match(text, /# After FuseOpsByPattern\(my\.conv2d_conv2d\)/);
  assert.match(text, /R\.func_attr\(\{"Composite": "my\.conv2d_conv2d", "Primitive": True\}\)/);
  assert.match(text, /kernels fused_relax_nn_conv2d_relax_nn_conv2d, fused_relu_add/);
  assert.match(text, /Fused vs unfused on cpu: 1152 outputs, max \|difference\| /);
});
