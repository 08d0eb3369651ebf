/**
 * End to end: a model optimized by the graph-level passes (BindParams, EliminateCommonSubexpr,
 * CanonicalizeBindings, AnnotateTIROpPattern, FuseOps, FuseTIR, DeadCodeElimination) builds and
 * computes what the unoptimized model computes, on the CPU (`js`) and, when an adapter exists,
 * on WebGPU.
 */

import assert from "node:assert/strict";
import { sizeVar } from "../../../ir/expr.ts";
import { BlockBuilder } from "../../../ir/relax/block_builder.ts";
import * as op from "../../../ir/relax/op/mod.ts";
import * as R from "../../../ir/relax/r.ts";
import { build, defaultPipeline } from "../../../runtime/build.ts";
import { Tensor } from "../../../runtime/tensor.ts";
import { VirtualMachine } from "../../../runtime/vm/interpreter/virtual_machine.ts";
import { annotateTIROpPattern } from "../../../transform/relax/annotate_tir_op_pattern.ts";
import { bindParams } from "../../../transform/relax/bind_params.ts";
import { canonicalizeBindings } from "../../../transform/relax/canonicalize_bindings.ts";
import { deadCodeElimination } from "../../../transform/relax/dead_code_elimination.ts";
import { eliminateCommonSubexpr } from "../../../transform/relax/eliminate_common_subexpr.ts";
import { fuseOps } from "../../../transform/relax/fuse_ops.ts";
import { fuseTIR } from "../../../transform/relax/fuse_tir.ts";
import { legalizeOps } from "../../../transform/relax/legalize_ops.ts";
import { sequential } from "../../../transform/pass.ts";
import { assertClose, devices, GPU_TEST, randomF32 } from "../../runtime/_helpers.ts";

const n = sizeVar("n", "int64");

/** `exp(relu(x @ w + b)) + exp(relu(x @ w + b)) @ w2` with the second branch a repeat. */
function model() {
  const bb = new BlockBuilder();
  const x = R.tensor([n, 16], "float32", "x");
  const w = R.tensor([16, 8], "float32", "w");
  const b = R.tensor([8], "float32", "b");
  const w2 = R.tensor([8, 8], "float32", "w2");
  bb.function("main", { x, w, b, w2 }, () =>
    bb.dataflow(() => {
      const h = bb.emit(op.nn.relu(op.add(op.matmul(x, w), b)));
      const h2 = bb.emit(op.nn.relu(op.add(op.matmul(x, w), b)));
      const e = bb.emit(op.exp(h));
      const alias = bb.emit(h2);
      return bb.emitOutput(op.add(e, op.matmul(alias, w2)));
    }));
  return bb.get();
}

const optimize = sequential([
  legalizeOps(),
  eliminateCommonSubexpr(),
  canonicalizeBindings(),
  deadCodeElimination(),
  annotateTIROpPattern(),
  fuseOps(),
  fuseTIR(),
]);

Deno.test(
  "graph passes: the optimized model computes what the original computes",
  GPU_TEST,
  async () => {
    const b = randomF32(8, 3, -1, 1);
    const bound = bindParams("main", { b: { dtype: "float32", shape: [8], data: b } })(model());
    const optimized = optimize(bound);
    const kernels = [...optimized.functions.values()].filter((f) => f.kind === "PrimFunc");
    assert.equal(kernels.length, 2, "one kernel per matmul layer");
    const [legalize, ...rest] = defaultPipeline();
    const x = randomF32(3 * 16, 1, -1, 1), w = randomF32(16 * 8, 2, -1, 1);
    const w2 = randomF32(64, 4, -1, 1);
    for (const dev of await devices()) {
      const run = async (exec: ReturnType<typeof build>, withBias: boolean) => {
        const args = [
          Tensor.from(x, [3, 16], { device: dev }),
          Tensor.from(w, [16, 8], { device: dev }),
          ...(withBias ? [Tensor.from(b, [8], { device: dev })] : []),
          Tensor.from(w2, [8, 8], { device: dev }),
        ];
        const y = await new VirtualMachine(exec, dev).run("main", ...args) as Tensor;
        return await y.toArray() as Float32Array;
      };
      const want = await run(build(model(), { device: dev }), true);
      const got = await run(
        build(bound, { device: dev, pipeline: [legalize!, optimize, ...rest] }),
        false,
      );
      assertClose(got, Float64Array.from(want), { rtol: 1e-5, atol: 1e-6, what: dev.kind });
    }
  },
);
