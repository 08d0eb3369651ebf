import assert from "node:assert/strict";
import {
  type CompiledKernel,
  dispatchSize,
  evalKernelExpr,
  formatKernelExpr,
  formatShape,
  type KernelStage,
} from "../../runtime/kernel_abi.ts";
import { assertThrowsMsg } from "./_helpers.ts";

Deno.test("evalKernelExpr follows TIR's integer semantics", () => {
  const v = { n: -7, m: 2 };
  assert.equal(evalKernelExpr(["div", "n", "m"], v), -3);
  assert.equal(evalKernelExpr(["floordiv", "n", "m"], v), -4);
  assert.equal(evalKernelExpr(["mod", "n", "m"], v), -1);
  assert.equal(evalKernelExpr(["floormod", "n", "m"], v), 1);
  assert.equal(evalKernelExpr(["floormod", 7, -2], v), -1);
  assert.equal(evalKernelExpr(["fdiv", 1, 4], v), 0.25);
  assert.equal(evalKernelExpr(["select", ["lt", "n", 0], ["max", "m", 5], 0], v), 5);
  assert.equal(evalKernelExpr(["and", ["ge", "m", 2], ["not", ["eq", "n", 0]]], v), 1);
  assert.equal(evalKernelExpr(["int", 2.7], v), 2);
  assertThrowsMsg(() => evalKernelExpr(["add", "k", 1], v), `Unknown kernel variable "k"`);
});

Deno.test("formatKernelExpr prints shapes for error messages", () => {
  assert.equal(formatShape(["n", 64]), "(n, 64)");
  assert.equal(formatShape([8]), "(8,)");
  assert.equal(formatKernelExpr(["mul", ["add", "n", 1], 2]), "(n + 1) * 2");
  assert.equal(formatKernelExpr(["max", "a", "b"]), "max(a, b)");
});

const kernel = (
  grid: KernelStage["grid"],
  fold: KernelStage["gridFold"],
  max = 65535,
): CompiledKernel => ({
  name: "k",
  target: "webgpu",
  source: "",
  params: [],
  vars: [{ name: "n", dtype: "int32" }],
  workspaces: [],
  stages: [{
    source: "",
    bindings: [],
    readOnly: [],
    uniforms: [],
    workgroupSize: [64, 1, 1],
    grid,
    gridFold: fold,
  }],
  maxGridDim: max,
});

Deno.test("dispatchSize splits grids over the per-dimension limit into a spare axis", () => {
  const k = kernel([["floordiv", ["add", "n", 63], 64], 1, 1], [1, -1, -1]);
  assert.deepEqual(dispatchSize(k, { n: 640 }), [10, 1, 1]);
  assert.deepEqual(dispatchSize(k, { n: 0 }), [0, 0, 0]);
  // 100000 workgroups: two rows of 50000.
  assert.deepEqual(dispatchSize(k, { n: 6_400_000 }), [50000, 2, 1]);
  const small = kernel(["n", 3, 1], [2, -1, -1], 4);
  assert.deepEqual(dispatchSize(small, { n: 11 }), [4, 3, 3]);
  const stuck = kernel(["n", 1, 1], [-1, -1, -1], 4);
  assertThrowsMsg(
    () => dispatchSize(stuck, { n: 5 }),
    `Kernel "k": grid of 5 workgroups in x exceeds the device limit 4`,
  );
  assertThrowsMsg(
    () => dispatchSize(small, { n: 17 }),
    `grid of 17 workgroups in x exceeds the device limit 4`,
  );
});
