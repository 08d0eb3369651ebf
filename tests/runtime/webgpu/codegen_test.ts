import assert from "node:assert/strict";
import {
  callIntrin,
  cast,
  declBuffer,
  floatImm,
  intImm,
  type PrimExpr,
  primVar,
  ramp,
  sizeVar,
  stringImm,
} from "../../../ir/expr.ts";
import { bufferLoad } from "../../../ir/expr.ts";
import { primFunc } from "../../../ir/tir/prim_func.ts";
import {
  allocBuffer,
  bufferStore,
  evaluate,
  forLoop,
  ifThenElse,
  letStmt,
  sblock,
  sblockRealize,
  seq,
  whileLoop,
} from "../../../ir/tir/stmt.ts";
import { generateWgsl } from "../../../runtime/webgpu/codegen.ts";
import { makeTarget } from "../../../transform/target.ts";
import { assertThrowsMsg, GPU_TEST, gpuDevice } from "../_helpers.ts";
import {
  addKernel,
  axpyKernel,
  barrier,
  bind,
  loop,
  mapKernel,
  matmulKernel,
  rowSumKernel,
  tiledMatmulKernel,
  twoStageKernel,
} from "../_kernels.ts";

const target = makeTarget("webgpu");
const goldenDir = new URL("../golden/", import.meta.url);

async function checkGolden(file: string, text: string): Promise<void> {
  const url = new URL(file, goldenDir);
  if (Deno.env.get("UPDATE_GOLDEN")) await Deno.writeTextFile(url, text);
  const want = await Deno.readTextFile(url);
  assert.equal(text, want, `WGSL differs from ${file} (rerun with UPDATE_GOLDEN=1 to accept)`);
}

Deno.test("WGSL of the symbolic add kernel matches its golden file", async () => {
  await checkGolden("add.wgsl", generateWgsl(addKernel(), target).source);
});

Deno.test("WGSL of the shared-memory row sum matches its golden file", async () => {
  await checkGolden("row_sum.wgsl", generateWgsl(rowSumKernel(), target).source);
});

const fl = (x: PrimExpr) => x;
const SAMPLES = () => [
  addKernel(),
  addKernel("int32"),
  axpyKernel(),
  matmulKernel(10, 12, 7),
  rowSumKernel(),
  tiledMatmulKernel(),
  twoStageKernel(),
  mapKernel("erf", "float32", "float32", (x) => callIntrin("tir.erf", [x])),
  mapKernel("round", "float32", "float32", (x) => callIntrin("tir.round", [fl(x)])),
  mapKernel("tanh", "float32", "float32", (x) => callIntrin("tir.tanh", [x])),
  mapKernel("sigmoid", "float32", "float32", (x) => callIntrin("tir.sigmoid", [x])),
  mapKernel(
    "isnan",
    "float32",
    "bool",
    (x) => callIntrin("tir.isnan", [x]).or(callIntrin("tir.isinf", [x])),
  ),
  mapKernel("inf", "float32", "float32", (x) => x.max(floatImm(-Infinity)).min(floatImm(NaN))),
  mapKernel("idiv", "int32", "int32", (x) => x.floordiv(7).add(x.floormod(-3)).add(x.mod(5))),
  mapKernel("narrow", "int32", "int8", (x) => cast(x, "int8")),
  mapKernel(
    "unsigned",
    "uint32",
    "uint16",
    (x) => cast(x.floordiv(3).add(x.floormod(5)), "uint16"),
  ),
  mapKernel("reinterpret", "float32", "int32", (x) => callIntrin("tir.reinterpret", [x], "int32")),
  mapKernel(
    "int64_index",
    "float32",
    "float32",
    (x, i) => x.add(cast(cast(i, "int64").mul(intImm(3, "int64")), "float32")),
  ),
];

Deno.test("every sample kernel compiles on the adapter with no messages", GPU_TEST, async () => {
  const gpu = await gpuDevice();
  if (!gpu) return;
  for (const f of SAMPLES()) {
    const k = generateWgsl(f, gpu.target);
    for (const st of k.stages) {
      assert.deepEqual(await gpu.compilationMessages(st.source), [], `${k.name}:\n${st.source}`);
    }
  }
});

Deno.test("bindings are read-only unless written; uniforms hold only what the shader reads", () => {
  const k = generateWgsl(axpyKernel(), target);
  assert.match(k.source, /var<storage, read> x: array<f32>;/);
  assert.match(k.source, /var<storage, read_write> y: array<f32>;/);
  assert.match(k.source, /@group\(0\) @binding\(2\) var<uniform> params: Params;/);
  assert.deepEqual(k.stages[0]!.uniforms, [{ var: 0, type: "i32" }, { var: 1, type: "f32" }]);
  assert.deepEqual(k.params.map((p) => p.kind === "buffer" && p.readOnly), [true, false, false]);
  const m = generateWgsl(matmulKernel(8, 8, 8), target);
  assert.doesNotMatch(m.source, /Params|num_workgroups/);
  assert.deepEqual(m.stages[0]!.uniforms, []);
  assert.deepEqual(m.stages[0]!.workgroupSize, [8, 8, 1]);
  assert.deepEqual(m.stages[0]!.grid, [1, 1, 1]);
});

Deno.test("a symbolic grid folds x into a spare axis and guards; constant grids do not", () => {
  const k = generateWgsl(addKernel(), target);
  assert.deepEqual(k.stages[0]!.gridFold, [1, -1, -1]);
  assert.match(
    k.source,
    /let bx: i32 = i32\(workgroup_id\.x \+ workgroup_id\.y \* num_workgroups\.x\);/,
  );
  assert.match(k.source, /if \(bx < n\) \{/);
  const t = generateWgsl(tiledMatmulKernel(), target);
  assert.deepEqual(t.stages[0]!.gridFold, [2, -1, -1]);
  const small = generateWgsl(matmulKernel(16, 16, 4), makeTarget("webgpu", { maxGridDim: 1 }));
  assert.deepEqual(small.stages[0]!.gridFold, [2, -1, -1]);
});

Deno.test("names are sanitized and made unique", () => {
  const n = sizeVar("n");
  const A = declBuffer([n], "float32", "var");
  const B = declBuffer([n], "float32", "A.shared");
  const i1 = primVar("i"), i2 = primVar("i"), tx = primVar("select");
  const body = bind(
    tx,
    1,
    "threadIdx.x",
    seq(
      loop(i1, n, bufferStore(B, bufferLoad(A, [i1]), [i1])),
      loop(i2, n, bufferStore(B, bufferLoad(B, [i2]).mul(2), [i2])),
    ),
  );
  const src = generateWgsl(primFunc([A, B], body), target).source;
  assert.match(src, /var<storage, read> var_1: array<f32>;/);
  assert.match(src, /var<storage, read_write> A_shared: array<f32>;/);
  assert.match(src, /for \(var i: i32 = 0i; i < n; i\+\+\)/);
  assert.match(src, /for \(var i_1: i32 = 0i; i_1 < n; i_1\+\+\)/);
  assert.match(src, /let select_1: i32 = i32\(local_id\.x\);/);
});

Deno.test("float16 needs shader-f16 and then enables it", () => {
  const f = mapKernel("half", "float16", "float16", (x) => x.mul(cast(floatImm(0.5), "float16")));
  assertThrowsMsg(
    () => generateWgsl(f, target),
    `Kernel "half" uses float16, which needs the shader-f16 feature the target lacks`,
  );
  const src = generateWgsl(f, makeTarget("webgpu", { supportsF16: true })).source;
  assert.match(src, /^\/\/ Kernel "half", generated by tvmts\.\nenable f16;\n/);
  assert.match(src, /var<storage, read> A: array<f16>;/);
  assert.match(src, /A\[bx \* 32i \+ tx\] \* 0\.5h/);
});

Deno.test("loops, lets, whiles and asserts become WGSL statements", () => {
  const n = sizeVar("n");
  const A = declBuffer([n], "int32", "A");
  const tx = primVar("tx"), v = primVar("v"), k = primVar("k");
  const cnt = declBuffer([1], "int32", "cnt", { scope: "local" });
  const body = bind(
    tx,
    4,
    "threadIdx.x",
    letStmt(
      v,
      tx.mul(2),
      allocBuffer(
        cnt,
        seq(
          bufferStore(cnt, 0, [0]),
          whileLoop(bufferLoad(cnt, [0]).lt(v), bufferStore(cnt, bufferLoad(cnt, [0]).add(1), [0])),
          forLoop(k, { min: 1, extent: 3 }, bufferStore(A, bufferLoad(cnt, [0]).add(k), [tx])),
          ifThenElse(
            tx.eq(0),
            bufferStore(A, 7, [tx]),
            bufferStore(A, bufferLoad(A, [tx]).add(1), [tx]),
          ),
        ),
      ),
    ),
  );
  const src = generateWgsl(primFunc([A], body), target).source;
  assert.match(src, /let v: i32 = tx \* 2i;/);
  assert.match(src, /var cnt: array<i32, 1>;/);
  assert.match(src, /while \(cnt\[0i\] < v\) \{/);
  assert.match(src, /for \(var k: i32 = 1i; k < 4i; k\+\+\) \{/);
  assert.match(src, /\} else \{/);
});

Deno.test("unrolled loops of constant extent are emitted once per iteration", () => {
  const A = declBuffer([8], "int32", "A");
  const tx = primVar("tx"), k = primVar("k"), j = primVar("j");
  const body = bind(
    tx,
    2,
    "threadIdx.x",
    seq(
      forLoop(k, { min: 1, extent: 3 }, bufferStore(A, k.mul(10), [tx.mul(4).add(k)]), {
        forKind: "unrolled",
      }),
      // too long to unroll: stays a loop
      forLoop(j, { min: 0, extent: 100 }, bufferStore(A, j, [tx]), { forKind: "unrolled" }),
    ),
  );
  const src = generateWgsl(primFunc([A], body), target).source;
  assert.match(src, /A\[tx \* 4i \+ 1i\] = 1i \* 10i;\n\s+A\[tx \* 4i \+ 2i\] = 2i \* 10i;/);
  assert.match(src, /A\[tx \* 4i \+ 3i\] = 3i \* 10i;/);
  assert.doesNotMatch(src, /var k/);
  assert.match(src, /for \(var j: i32 = 0i; j < 100i; j\+\+\) \{/);
});

Deno.test("WGSL generation rejects what WebGPU cannot run, naming the culprit", () => {
  const many = Array.from({ length: 12 }, (_, i) => declBuffer([4], "float32", `B${i}`));
  const tx = primVar("tx");
  const copyAll = bind(
    tx,
    4,
    "threadIdx.x",
    seq(...many.slice(1).map((b) => bufferStore(b, bufferLoad(many[0]!, [tx]), [tx]))),
  );
  assertThrowsMsg(
    () => generateWgsl(primFunc(many, copyAll, { attrs: { global_symbol: "f" } }), target),
    `Kernel "f" needs 12 storage buffers but the device allows 8`,
  );

  const n = sizeVar("n");
  const A = declBuffer([n], "float32", "A");
  const dyn = bind(tx, n, "threadIdx.x", bufferStore(A, 1, [tx]));
  assertThrowsMsg(
    () => generateWgsl(primFunc([A], dyn, { attrs: { global_symbol: "f" } }), target),
    `Kernel "f": loop "tx" bound to threadIdx.x has a non-constant extent; thread extents must be constants`,
  );

  const L = declBuffer([4], "int64", "L");
  const store64 = bind(tx, 4, "threadIdx.x", bufferStore(L, cast(tx, "int64"), [tx]));
  assertThrowsMsg(
    () => generateWgsl(primFunc([L], store64, { attrs: { global_symbol: "f" } }), target),
    `Kernel "f": buffer "L" has dtype int64, but WebGPU has no 64-bit integers`,
  );
  const D = declBuffer([4], "float64", "D");
  assertThrowsMsg(
    () =>
      generateWgsl(
        primFunc([D], bind(tx, 4, "threadIdx.x", bufferStore(D, cast(tx, "float64"), [tx]))),
        target,
      ),
    `buffer "D" has dtype float64, but WebGPU has no 64-bit floats`,
  );
  const F = declBuffer([4], "float32", "F");
  assertThrowsMsg(
    () =>
      generateWgsl(
        primFunc(
          [F],
          bind(tx, 4, "threadIdx.x", bufferStore(F, cast(cast(tx, "float64"), "float32"), [tx])),
        ),
        target,
      ),
    `uses float64, but WebGPU has no 64-bit floats`,
  );
  const i = primVar("i");
  assertThrowsMsg(
    () =>
      generateWgsl(
        primFunc([F], loop(i, 4, bufferStore(F, 1, [i])), { attrs: { global_symbol: "f" } }),
        target,
      ),
    `Kernel "f" has code outside thread-bound loops: schedule it (e.g. with the Fallback rule) before generating WGSL`,
  );
  const wide = bind(tx, 2048, "threadIdx.x", bufferStore(F, 1, [tx]));
  assertThrowsMsg(
    () => generateWgsl(primFunc([F], wide), target),
    `uses 2048 threads in x but the device allows 256`,
  );
  const ty = primVar("ty");
  const square = bind(tx, 32, "threadIdx.x", bind(ty, 32, "threadIdx.y", bufferStore(F, 1, [tx])));
  assertThrowsMsg(
    () => generateWgsl(primFunc([F], square), target),
    `uses 1024 threads per workgroup but the device allows 256`,
  );
  const big = declBuffer([8192], "float32", "big", { scope: "shared" });
  const shared = bind(tx, 4, "threadIdx.x", allocBuffer(big, bufferStore(big, 1, [tx])));
  assertThrowsMsg(
    () => generateWgsl(primFunc([F], shared), target),
    `needs 32768 bytes of workgroup memory but the device allows 16384`,
  );
  const dynShared = declBuffer([n], "float32", "dyn", { scope: "shared" });
  const dynBody = bind(
    tx,
    4,
    "threadIdx.x",
    allocBuffer(dynShared, bufferStore(dynShared, 1, [tx])),
  );
  assertThrowsMsg(
    () => generateWgsl(primFunc([A], dynBody), target),
    `shared buffer "dyn" needs a constant size`,
  );
  const huge = bind(
    tx,
    4,
    "threadIdx.x",
    bufferStore(F, cast(cast(tx, "int64").add(intImm(2 ** 40, "int64")), "float32"), [tx]),
  );
  assertThrowsMsg(
    () => generateWgsl(primFunc([F], huge), target),
    `constant 1099511627776 (int64) does not fit in 32 bits`,
  );
  const r8 = ramp(intImm(0), 1, 8);
  const vec = bind(tx, 1, "threadIdx.x", bufferStore(F, bufferLoad(F, [r8]), [r8]));
  assertThrowsMsg(
    () => generateWgsl(primFunc([F], vec, { attrs: { global_symbol: "f" } }), target),
    `Kernel "f": float32x8 values are not supported in WGSL (at most 4 lanes)`,
  );
  const blk = sblockRealize([], sblock("C", bufferStore(F, 1, [0])));
  assertThrowsMsg(
    () => generateWgsl(primFunc([F], blk, { attrs: { global_symbol: "f" } }), target),
    `Kernel "f" still contains block "C": lower it before code generation`,
  );
  const bx = primVar("bx");
  const narrow = bind(
    bx,
    1,
    "blockIdx.x",
    seq(
      bind(tx, 64, "threadIdx.x", bufferStore(F, 1, [tx])),
      bind(ty, 32, "threadIdx.x", seq(barrier(), bufferStore(F, 2, [ty]))),
    ),
  );
  assertThrowsMsg(
    () => generateWgsl(primFunc([F], narrow, { attrs: { global_symbol: "f" } }), target),
    `Kernel "f": loop "ty" (threadIdx.x, extent 32) is narrower than the workgroup (64) and contains a barrier`,
  );
  const globalSync = evaluate(callIntrin("tir.tvm_storage_sync", [stringImm("global")], "int32"));
  assertThrowsMsg(
    () =>
      generateWgsl(
        primFunc([F], bind(tx, 4, "threadIdx.x", globalSync), { attrs: { global_symbol: "f" } }),
        target,
      ),
    `Kernel "f": tvm_storage_sync("global") is not supported in WGSL`,
  );
});

Deno.test("each top-level loop nest is a stage; global intermediates become workspaces", () => {
  const k = generateWgsl(twoStageKernel(), target);
  assert.deepEqual(k.workspaces, [{ name: "tmp", dtype: "float32", size: "n" }]);
  assert.equal(k.stages.length, 2);
  const [s1, s2] = k.stages;
  assert.deepEqual([s1!.bindings, s1!.readOnly], [[0, 2], [true, false]]);
  assert.deepEqual([s2!.bindings, s2!.readOnly], [[0, 1, 2], [true, false, true]]);
  assert.match(s1!.source, /^\/\/ Kernel "two_stage", stage 1 of 2, generated by tvmts\./);
  assert.match(s1!.source, /@group\(0\) @binding\(1\) var<storage, read_write> tmp: array<f32>;/);
  assert.match(s2!.source, /@group\(0\) @binding\(2\) var<storage, read> tmp: array<f32>;/);
  assert.equal(k.source, `${s1!.source}\n${s2!.source}`);

  const F = declBuffer([4], "float32", "F");
  const tx = primVar("tx");
  const g = declBuffer([4], "float32", "scratch", { scope: "global" });
  const inner = bind(
    tx,
    4,
    "threadIdx.x",
    allocBuffer(g, seq(bufferStore(g, 1, [tx]), bufferStore(F, bufferLoad(g, [tx]), [tx]))),
  );
  assertThrowsMsg(
    () => generateWgsl(primFunc([F], inner, { attrs: { global_symbol: "f" } }), target),
    `Kernel "f": global buffer "scratch" must be allocated outside thread-bound loops`,
  );
});
