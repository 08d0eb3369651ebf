import assert from "node:assert/strict";
import { declBuffer, letExpr, primVar, sizeVar } from "../../ir/expr.ts";
import { bufferLoad } from "../../ir/expr.ts";
import { primFunc } from "../../ir/tir/prim_func.ts";
import { bufferStore, declBufferStmt } from "../../ir/tir/stmt.ts";
import { analyzeKernel, gridLayout, toKernelExpr } from "../../runtime/kernel_analysis.ts";
import { makeTarget } from "../../transform/target.ts";
import { assertThrowsMsg } from "./_helpers.ts";
import { addKernel, axpyKernel, bind, rowSumKernel, tiledMatmulKernel } from "./_kernels.ts";

Deno.test("analyzeKernel names interface variables and finds storage, threads and barriers", () => {
  const info = analyzeKernel(axpyKernel());
  assert.equal(info.name, "axpy");
  assert.deepEqual(info.vars.map((v) => info.varNames.get(v)), ["m", "alpha"]);
  assert.deepEqual(info.params.map((p) => p.kind), ["buffer", "buffer", "scalar"]);
  assert.deepEqual([...info.storage.values()].map((s) => [s.name, s.kind, s.written]), [
    ["x", "param", false],
    ["y", "param", true],
  ]);
  assert.equal(info.hasBarrier, false);
  const rs = analyzeKernel(rowSumKernel());
  assert.equal(rs.hasBarrier, true);
  assert.deepEqual([...rs.storage.values()].map((s) => s.kind), [
    "param",
    "param",
    "shared",
    "local",
  ]);
  assert.deepEqual(rs.threadLoops.map((t) => [t.dim, t.hasBarrier]), [[0, true]]);
  assert.equal(analyzeKernel(addKernel(), { name: "other" }).name, "other");
});

Deno.test("analyzeKernel rejects kernels whose interface or memory it cannot resolve", () => {
  const n = sizeVar("n"), m = sizeVar("m");
  const A = declBuffer([n.mul(2)], "float32", "A");
  const i = primVar("i");
  assertThrowsMsg(
    () =>
      analyzeKernel(
        primFunc([A], bind(i, 2, "threadIdx.x", bufferStore(A, 1, [i])), {
          attrs: { global_symbol: "f" },
        }),
      ),
    `Kernel "f": cannot infer "n" from the arguments: it appears only inside the shape of "A"`,
  );
  const B = declBuffer([n], "float32", "B");
  assertThrowsMsg(
    () =>
      analyzeKernel(
        primFunc([B], bind(i, 2, "threadIdx.x", bufferStore(B, m.cast("float32"), [i])), {
          attrs: { global_symbol: "f" },
        }),
      ),
    `Kernel "f" uses variable "m", which is neither a parameter nor defined in the kernel`,
  );
  const S = declBuffer([n], "float32", "S", { strides: [2] });
  assertThrowsMsg(
    () => analyzeKernel(primFunc([S], bufferStore(S, 1, [0]))),
    `parameter buffer "S" must be compact (no strides or offset)`,
  );
  const stray = declBuffer([4], "float32", "stray");
  assertThrowsMsg(
    () => analyzeKernel(primFunc([B], bufferStore(stray, 1, [0]))),
    `Kernel "kernel" uses buffer "stray", which is not a parameter or allocation`,
  );
  const asInt = declBuffer([n], "int32", "B_int", { data: B.data });
  assertThrowsMsg(
    () => analyzeKernel(primFunc([B], declBufferStmt(asInt, bufferStore(asInt, 1, [0])))),
    `buffer "B_int" views "B" as int32, but it holds float32`,
  );
  const g = declBuffer([4], "float32", "g", { scope: "uniform" });
  assertThrowsMsg(
    () =>
      analyzeKernel(
        primFunc([B], { kind: "AllocBuffer", buffer: g, body: bufferStore(g, 1, [0]) }),
      ),
    `cannot allocate buffer "g" in scope "uniform"`,
  );
  const V = declBuffer([4], "float32x4", "V");
  assertThrowsMsg(
    () => analyzeKernel(primFunc([V], bufferStore(V, bufferLoad(V, [0]), [0]))),
    `buffer "V" has vector dtype float32x4`,
  );
});

Deno.test("gridLayout takes the largest block extent and folds overflow into spare axes", () => {
  const t = makeTarget("webgpu");
  const g = gridLayout(analyzeKernel(tiledMatmulKernel()), t);
  assert.deepEqual(g.grid, [["floordiv", ["add", "N", 7], 8], ["floordiv", ["add", "M", 7], 8], 1]);
  assert.deepEqual(g.fold, [2, -1, -1]);
  assert.equal(g.guarded.size, 1);
});

Deno.test("toKernelExpr converts shape and grid expressions, rejecting the rest", () => {
  const n = sizeVar("n");
  const A = declBuffer([n, 4, 3], "float32", "A");
  const [i, j] = [primVar("i"), primVar("j")];
  const names = new Map([[i, "i"], [n, "n"]]);
  assert.deepEqual(toKernelExpr(n.add(7).floordiv(8).max(i.div(2)), names), [
    "max",
    ["floordiv", ["add", "n", 7], 8],
    ["div", "i", 2],
  ]);
  assert.deepEqual(toKernelExpr(letExpr(j, n.mul(2), j.add(j)), names), ["add", ["mul", "n", 2], [
    "mul",
    "n",
    2,
  ]]);
  assertThrowsMsg(
    () => toKernelExpr(bufferLoad(A, [i, i, i]).cast("int32"), names, { what: "Extent" }),
    `Extent must depend only on parameters and shapes, got BufferLoad`,
  );
  assertThrowsMsg(
    () => toKernelExpr(primVar("q"), names, { what: "Extent" }),
    `Extent uses "q", which is not a parameter or shape`,
  );
});
