import assert from "node:assert/strict";
import type { IRModule } from "../../../ir/module.ts";
import type { PrimFunc } from "../../../ir/tir/prim_func.ts";
import { declBuffer, primVar, ramp } from "../../../ir/expr.ts";
import { bufferLoad } from "../../../ir/expr.ts";
import { primFunc } from "../../../ir/tir/prim_func.ts";
import { bufferStore } from "../../../ir/tir/stmt.ts";
import { cpu } from "../../../runtime/js/device.ts";
import { compileKernel, launchKernel } from "../../../runtime/kernel.ts";
import { Tensor } from "../../../runtime/tensor.ts";
import { generateWgsl } from "../../../runtime/webgpu/codegen.ts";
import { parseTVMScript } from "../../../script/parser/mod.ts";
import { makeTarget } from "../../../transform/target.ts";
import { lowerTIRPipeline } from "../../../transform/tir/pipeline.ts";
import { assertClose, assertThrowsMsg, GPU_TEST, gpuDevice, randomF32 } from "../_helpers.ts";
import { bind } from "../_kernels.ts";

const target = makeTarget("webgpu");

/** Parses a kernel with thread loops and `T.vectorized` loops and lowers it. */
function lowered(params: string, body: string): PrimFunc {
  const mod = parseTVMScript(`
# from tvm.script import tir as T

@T.prim_func
def main(${params}):
    T.func_attr({"global_symbol": "main"})
${body}`) as IRModule;
  return lowerTIRPipeline()(mod).functions.get("main") as PrimFunc;
}

/** `C = A * 2 + B[j]` over (8, 64), each thread 4 consecutive elements. */
const scaleAdd = () =>
  lowered(
    `A: T.Buffer((8, 64), "float32"), B: T.Buffer((64,), "float32"), C: T.Buffer((8, 64), "float32")`,
    `
    for bx in T.thread_binding(8, thread="blockIdx.x"):
        for tx in T.thread_binding(16, thread="threadIdx.x"):
            for v in T.vectorized(4):
                C[bx, tx * 4 + v] = A[bx, tx * 4 + v] * T.float32(2) + B[tx * 4 + v]
`,
  );

Deno.test("WGSL declares buffers read in aligned runs as vec4 arrays and loads them whole", () => {
  const src = generateWgsl(scaleAdd(), target).source;
  assert.match(src, /var<storage, read> A: array<vec4<f32>>;/);
  assert.match(src, /var<storage, read> B: array<vec4<f32>>;/);
  assert.match(src, /var<storage, read_write> C: array<vec4<f32>>;/);
  assert.match(
    src,
    /C\[bx \* 16i \+ tx\] = A\[bx \* 16i \+ tx\] \* vec4<f32>\(2\.0f\) \+ B\[tx\];/,
  );
});

/** Lanes that are not an aligned run: a transposed read, an odd offset, a short buffer. */
const irregular = () =>
  lowered(
    `A: T.Buffer((16, 16), "float32"), B: T.Buffer((67,), "float32"), C: T.Buffer((16, 16), "float32"), D: T.Buffer((67,), "float32")`,
    `
    for tx in T.thread_binding(16, thread="threadIdx.x"):
        for i in range(4):
            for v in T.vectorized(4):
                C[tx, i * 4 + v] = A[i * 4 + v, tx] + B[tx * 4 + v + 1]
        for v in T.vectorized(2):
            D[tx * 4 + v] = B[tx * 4 + v] * T.float32(3)
        for v in T.vectorized(2):
            D[tx * 4 + 2 + v] = B[tx * 4 + 2 + v]
        D[64 + tx % 2] = B[64 + tx % 2]
`,
  );

Deno.test("WGSL gathers lanes that are not aligned runs and keeps odd-sized buffers scalar", () => {
  const src = generateWgsl(irregular(), target).source;
  // A is read down a column (stride 16): a gather from an array of scalars. C is written in
  // aligned runs.
  assert.match(src, /var<storage, read> A: array<f32>;/);
  assert.match(src, /var<storage, read_write> C: array<vec4<f32>>;/);
  assert.match(src, /vec4<f32>\(A\[i \* 64i \+ tx\], A\[i \* 64i \+ tx \+ 16i\], /);
  // 67 elements are not a whole number of vectors: B and D stay scalar, read lane by lane.
  assert.match(src, /var<storage, read> B: array<f32>;/);
  assert.match(src, /vec2<f32>\(B\[tx \* 4i\], B\[tx \* 4i \+ 1i\]\)/);
  assert.match(src, /let lanes(_\d+)? = /);
});

Deno.test("WGSL addresses single elements of a vec4 array by component", () => {
  const src = generateWgsl(
    lowered(
      `A: T.Buffer((64,), "float32"), B: T.Buffer((64,), "float32")`,
      `
    for tx in T.thread_binding(16, thread="threadIdx.x"):
        for v in T.vectorized(4):
            B[tx * 4 + v] = A[tx * 4 + v]
        B[63 - tx] = B[63 - tx] + T.float32(1)
`,
    ),
    target,
  ).source;
  assert.match(src, /var<storage, read_write> B: array<vec4<f32>>;/);
  const i = String.raw`\(tx \* -1i \+ 63i\)`;
  assert.match(
    src,
    new RegExp(String.raw`B\[${i} / 4i\]\[${i} % 4i\] = B\[${i} / 4i\]\[${i} % 4i\] \+ 1\.0f;`),
  );
});

Deno.test("kernel analysis rejects buffers whose elements are vectors", () => {
  const V = declBuffer([4], "float32x4", "V");
  const tx = primVar("tx");
  const f = primFunc([V], bind(tx, 4, "threadIdx.x", bufferStore(V, bufferLoad(V, [tx]), [tx])), {
    attrs: { global_symbol: "f" },
  });
  assertThrowsMsg(
    () => generateWgsl(f, target),
    `Kernel "f": buffer "V" has vector dtype float32x4 (buffers hold scalars; vectorize a loop instead)`,
  );
  const r = ramp(tx, 1, 4);
  assert.equal(bufferLoad(declBuffer([16], "float32", "A"), [r]).dtype, "float32x4");
});

const gpu = await gpuDevice();

for (const [name, device] of [["js", cpu()], ["webgpu", gpu]] as const) {
  Deno.test({
    name: `vectorized kernels compute the same values as float64 on ${name}`,
    ignore: !device,
    ...GPU_TEST,
    fn: async () => {
      const dev = device!;
      {
        const k = compileKernel(scaleAdd(), dev.target, { name: "scale_add" });
        const a = randomF32(512, 1), b = randomF32(64, 2);
        const [A, B] = [
          Tensor.from(a, [8, 64], { device: dev }),
          Tensor.from(b, [64], { device: dev }),
        ];
        const C = Tensor.from(new Float32Array(512).fill(NaN), [8, 64], { device: dev });
        launchKernel(k, [A, B, C]);
        const want = Array.from(a, (x, i) => x * 2 + b[i % 64]!);
        assertClose(await C.toArray() as Float32Array, want, { what: `${name} scale_add` });
      }
      {
        const k = compileKernel(irregular(), dev.target, { name: "irregular" });
        const a = randomF32(256, 3), b = randomF32(67, 4);
        const A = Tensor.from(a, [16, 16], { device: dev });
        const B = Tensor.from(b, [67], { device: dev });
        const C = Tensor.from(new Float32Array(256).fill(NaN), [16, 16], { device: dev });
        const D = Tensor.from(new Float32Array(67).fill(NaN), [67], { device: dev });
        launchKernel(k, [A, B, C, D]);
        const c = new Float64Array(256), d = new Float64Array(67).fill(NaN);
        for (let tx = 0; tx < 16; tx++) {
          for (let j = 0; j < 16; j++) c[tx * 16 + j] = a[j * 16 + tx]! + b[tx * 4 + (j % 4) + 1]!;
          d[tx * 4] = b[tx * 4]! * 3;
          d[tx * 4 + 1] = b[tx * 4 + 1]! * 3;
          d[tx * 4 + 2] = b[tx * 4 + 2]!;
          d[tx * 4 + 3] = b[tx * 4 + 3]!;
        }
        d[64] = b[64]!;
        d[65] = b[65]!;
        assertClose(await C.toArray() as Float32Array, c, { what: `${name} irregular C` });
        assertClose(await D.toArray() as Float32Array, d, { what: `${name} irregular D` });
      }
    },
  });
}

/** `C = A * B + 1` in float16, 4 elements per thread. */
const halfFma = () =>
  lowered(
    `A: T.Buffer((256,), "float16"), B: T.Buffer((256,), "float16"), C: T.Buffer((256,), "float16")`,
    `
    for tx in T.thread_binding(64, thread="threadIdx.x"):
        for v in T.vectorized(4):
            C[tx * 4 + v] = A[tx * 4 + v] * B[tx * 4 + v] + T.float16(1)
`,
  );

Deno.test("WGSL declares float16 runs as vec4<f16> arrays", () => {
  const src = generateWgsl(halfFma(), makeTarget("webgpu", { supportsF16: true })).source;
  assert.match(src, /enable f16;/);
  assert.match(src, /var<storage, read> A: array<vec4<f16>>;/);
  assert.match(src, /C\[tx\] = A\[tx\] \* B\[tx\] \+ vec4<f16>\(1\.0h\);/);
});

for (const [name, device] of [["js", cpu()], ["webgpu", gpu]] as const) {
  Deno.test({
    name: `vectorized float16 kernels match float64 on ${name}`,
    ignore: !device || !device.target.supportsF16,
    ...GPU_TEST,
    fn: async () => {
      const dev = device!;
      const k = compileKernel(halfFma(), dev.target, { name: "half_fma" });
      const a = Array.from(randomF32(256, 5), (x) => Math.f16round(x));
      const b = Array.from(randomF32(256, 6), (x) => Math.f16round(x));
      const opts = { device: dev, dtype: "float16" } as const;
      const [A, B] = [Tensor.from(a, [256], opts), Tensor.from(b, [256], opts)];
      const C = Tensor.from(new Array(256).fill(NaN), [256], opts);
      launchKernel(k, [A, B, C]);
      const bits = await C.toArray() as Uint16Array;
      const got = Array.from(bits, (h) => new Float16Array(new Uint16Array([h]).buffer)[0]!);
      const want = a.map((x, i) => x * b[i]! + 1);
      assertClose(got, want, { rtol: 2e-3, atol: 2e-3, what: `${name} half_fma` });
    },
  });
}

Deno.test("WGSL names vector values that reach an operation taking scalars", () => {
  const f = lowered(
    `A: T.Buffer((64,), "float32"), B: T.Buffer((64,), "float32")`,
    `
    for tx in T.thread_binding(16, thread="threadIdx.x"):
        B[tx * 4:tx * 4 + 4] = T.tanh(A[tx * 4:tx * 4 + 4])
`,
  );
  assertThrowsMsg(
    () => generateWgsl(f, target),
    `Kernel "main": float32x4 values are not supported here in WGSL (this operation takes scalars)`,
  );
});
