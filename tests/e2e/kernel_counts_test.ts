/**
 * Graph optimizations end to end, on the MLP example and on a small CNN (conv-bn-relu x3,
 * max pool, linear): the kernels one `run` launches (counted at `Device.dispatch`) fall as
 * expected with fusion (`AnnotateTIROpPattern`, `FuseOps`, `FuseTIR` after `LegalizeOps`) and
 * with `FoldConstant`, and the results stay the same, on the js target and on WebGPU. Also: the
 * timing instrument's table for `build`.
 */

import assert from "node:assert/strict";
import { mlpModule, randomWeights } from "../../examples/mlp.ts";
import type { IRModule } from "../../ir/module.ts";
import { BlockBuilder } from "../../ir/relax/block_builder.ts";
import { constantTensor, type Expr, tupleGetItem } from "../../ir/relax/expr.ts";
import * as op from "../../ir/relax/op/mod.ts";
import * as R from "../../ir/relax/r.ts";
import { build, defaultPipeline } from "../../runtime/build.ts";
import { cpuConstantEvaluator } from "../../runtime/constant_evaluator.ts";
import { cpu } from "../../runtime/js/device.ts";
import { Tensor } from "../../runtime/tensor.ts";
import { timingInstrument } from "../../transform/instruments.ts";
import type { Pass } from "../../transform/pass.ts";
import { annotateTIROpPattern } from "../../transform/relax/annotate_tir_op_pattern.ts";
import { foldConstant } from "../../transform/relax/fold_constant.ts";
import { fuseOps } from "../../transform/relax/fuse_ops.ts";
import { fuseTIR } from "../../transform/relax/fuse_tir.ts";
import { canonicalizeBindings } from "../../transform/relax/canonicalize_bindings.ts";
import { deadCodeElimination } from "../../transform/relax/dead_code_elimination.ts";
import { decomposeOpsForInference } from "../../transform/relax/decompose_ops_for_inference.ts";
import { GPU_TEST, gpuDevice, randomF32 } from "../runtime/_helpers.ts";
import {
  assertOutputsClose,
  buildAndRun,
  type RunResult,
} from "../transform/relax/_compare_builds.ts";

/** The default pipeline with `extra` passes right after `LegalizeOps`. */
function pipelineWith(...extra: Pass[]): Pass[] {
  const [legalize, ...rest] = defaultPipeline();
  return [legalize!, ...extra, ...rest];
}

const fusion = () => [annotateTIROpPattern(), fuseOps(), fuseTIR()];

/** Seeded constant of `shape` with values in ±scale around `offset`. */
function constant(shape: number[], seed: number, scale = 0.3, offset = 0): Expr {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = randomF32(n, seed, 0, scale).map((v) => v + offset);
  return constantTensor({ dtype: "float32", shape, data });
}

/** conv(3x3, pad 1) -> batch_norm -> relu, three times; 2x2 max pool; linear to 10 classes. */
function cnnModule(): IRModule {
  const bb = new BlockBuilder();
  const x = R.tensor([2, 3, 8, 8], "float32", "x");
  bb.function("main", { x }, () =>
    bb.dataflow(() => {
      let h: Expr = x;
      let seed = 1;
      for (const cin of [3, 4, 4]) {
        const conv = bb.emit(op.nn.conv2d(h, constant([4, cin, 3, 3], seed++), { padding: [1] }));
        const bn = bb.emit(op.nn.batchNorm(
          conv,
          constant([4], seed++, 0.2, 1),
          constant([4], seed++),
          constant([4], seed++),
          constant([4], seed++, 0.2, 1),
        ));
        h = bb.emit(op.nn.relu(bb.emit(tupleGetItem(bn, 0))));
      }
      const pooled = bb.emit(op.nn.maxPool2d(h, [2, 2], { strides: [2, 2] }));
      const flat = bb.emit(op.reshape(pooled, [2, 64]));
      return bb.emitOutput(op.linear(flat, constant([10, 64], seed++), constant([10], seed++)));
    }));
  return bb.get();
}

interface Case {
  readonly name: string;
  readonly mod: () => IRModule;
  readonly input: { readonly data: Float32Array; readonly shape: number[] };
  /** Kernels per run: default pipeline, with fusion, with FoldConstant and fusion. */
  readonly counts: readonly [number, number, number];
}

const CASES: readonly Case[] = [
  {
    name: "MLP 16-8-8-4",
    mod: () => mlpModule(randomWeights([16, 8, 8, 4]), [16, 8, 8, 4]),
    input: { data: randomF32(5 * 16, 3), shape: [5, 16] },
    // default: 3 x (transpose, matmul, add) + 2 relu + softmax
    // fused: 3 transposes, matmul_add_relu x2, matmul_add, softmax
    // folded: the weight transposes run at compile time
    counts: [12, 7, 4],
  },
  {
    name: "CNN conv-bn-relu x3, pool, linear",
    mod: cnnModule,
    input: { data: randomF32(2 * 3 * 8 * 8, 4), shape: [2, 3, 8, 8] },
    // default: 3 x (conv2d, batch_norm, relu) + max_pool2d, reshape, transpose, matmul, add
    // fused: 3 x (conv2d_batch_norm, relu) + max_pool2d, reshape, transpose, matmul_add
    //   (the relu after batch_norm's tuple item stays separate in this FuseOps)
    // folded: the linear weight's transpose runs at compile time
    counts: [14, 10, 9],
  },
];

async function runAll(c: Case, device: Parameters<typeof buildAndRun>[1]): Promise<RunResult[]> {
  const mod = c.mod();
  const evaluator = cpuConstantEvaluator();
  const x = Tensor.from(c.input.data, c.input.shape, { device });
  const pipelines = [
    defaultPipeline(),
    pipelineWith(...fusion()),
    pipelineWith(foldConstant({ evaluator }), ...fusion()),
  ];
  const out: RunResult[] = [];
  for (const pipeline of pipelines) out.push(await buildAndRun(mod, device, [x], { pipeline }));
  x.dispose();
  return out;
}

for (const c of CASES) {
  Deno.test({
    name: `${c.name}: fusion and folding cut kernels per run, results stay equal`,
    ...GPU_TEST,
    fn: async () => {
      const gpu = await gpuDevice();
      for (const device of gpu ? [cpu(), gpu] : [cpu()]) {
        const [base, fused, folded] = await runAll(c, device);
        const what = `${c.name} on ${device.kind}`;
        assert.deepEqual(
          [base!.dispatches, fused!.dispatches, folded!.dispatches],
          c.counts,
          `${what}: kernels per run (default, fused, folded + fused)`,
        );
        assertOutputsClose(fused!.outputs, base!.outputs, { what: `${what}, fused` });
        assertOutputsClose(folded!.outputs, base!.outputs, { what: `${what}, folded` });
      }
    },
  });
}

Deno.test({
  name:
    "CNN: with batch_norm decomposed before legalization, conv, bn and relu fuse into one kernel",
  ...GPU_TEST,
  fn: async () => {
    const gpu = await gpuDevice();
    for (const device of gpu ? [cpu(), gpu] : [cpu()]) {
      const mod = cnnModule();
      const x = Tensor.from(randomF32(2 * 3 * 8 * 8, 4), [2, 3, 8, 8], { device });
      const [legalize, ...rest] = defaultPipeline();
      const base = await buildAndRun(mod, device, [x], { pipeline: defaultPipeline() });
      const pipeline = [
        decomposeOpsForInference(),
        canonicalizeBindings(),
        deadCodeElimination(),
        legalize!,
        foldConstant({ evaluator: cpuConstantEvaluator() }),
        ...fusion(),
        ...rest,
      ];
      const fused = await buildAndRun(mod, device, [x], { pipeline });
      x.dispose();
      // 3 x conv2d + batch_norm + relu in one kernel, max_pool2d, reshape, matmul_add
      assert.equal(fused.dispatches, 6, `on ${device.kind}: ${fused.dispatches} kernels`);
      assertOutputsClose(fused.outputs, base.outputs, {
        what: `CNN on ${device.kind}, decomposed`,
      });
    }
  },
});

Deno.test("build() with a timing instrument prints a table naming the pipeline's passes", () => {
  const timing = timingInstrument();
  build(mlpModule(randomWeights([8, 4]), [8, 4]), { target: "js", instruments: [timing] });
  const table = timing.table();
  const lines = table.split("\n");
  assert.match(lines[0]!, /^pass\s+ms\s+share$/);
  assert.match(lines[lines.length - 1]!, /^total\s+\d+\.\d{3}$/);
  for (const p of defaultPipeline()) {
    assert.ok(
      lines.some((l) => new RegExp(`^${p.name}\\s+\\d+\\.\\d{3}\\s+\\d+\\.\\d%$`).test(l)),
      `a row for ${p.name} in\n${table}`,
    );
  }
  // nested passes (LowerTIR's steps) are indented under their parent
  assert.ok(lines.some((l) => /^ {2}FlattenBuffer\s/.test(l)), table);
});
