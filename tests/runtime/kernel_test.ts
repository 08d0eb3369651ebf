import { callIntrin, cast, declBuffer, floatImm, primVar, sizeVar } from "../../ir/expr.ts";
import { primFunc } from "../../ir/tir/prim_func.ts";
import { bufferStore, ifThenElse } from "../../ir/tir/stmt.ts";
import { bufferLoad } from "../../ir/expr.ts";
import type { Device } from "../../runtime/device.ts";
import { cpu } from "../../runtime/js/device.ts";
import {
  bindKernelArgs,
  compileKernel,
  type KernelArg,
  launchKernel,
  prepareKernel,
} from "../../runtime/kernel.ts";
import { Tensor } from "../../runtime/tensor.ts";
import { makeTarget } from "../../transform/target.ts";
import {
  assertClose,
  assertThrowsMsg,
  devices,
  GPU_TEST,
  gpuDevice,
  randomF32,
} from "./_helpers.ts";
import {
  addKernel,
  axpyKernel,
  bind,
  mapKernel,
  matmulKernel,
  rowSumKernel,
  tiledMatmulKernel,
  twoStageKernel,
} from "./_kernels.ts";
import * as te from "../../ir/te/mod.ts";
import { getFunction, irModule } from "../../ir/module.ts";
import type { PrimFunc } from "../../ir/tir/prim_func.ts";
import { Fallback } from "../../transform/dlight/fallback.ts";
import { lowerTIRPipeline } from "../../transform/tir/pipeline.ts";

const nan = (n: number) => new Float32Array(n).fill(NaN);

async function run(dev: Device, f: Parameters<typeof compileKernel>[0], args: KernelArg[]) {
  const k = compileKernel(f, dev.target);
  await prepareKernel(k, dev);
  launchKernel(k, args);
}

function matmulRef(
  a: Float32Array,
  b: Float32Array,
  M: number,
  N: number,
  K: number,
): Float64Array {
  const c = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += a[i * K + k]! * b[k * N + j]!;
      c[i * N + j] = s;
    }
  }
  return c;
}

Deno.test("add: one symbolic kernel runs with three sizes on every device", GPU_TEST, async () => {
  for (const dev of await devices()) {
    const k = compileKernel(addKernel(), dev.target);
    await prepareKernel(k, dev);
    for (const n of [1, 3, 7]) {
      const a = randomF32(n * 64, n), b = randomF32(n * 64, n + 100);
      const A = Tensor.from(a, [n, 64], { device: dev });
      const B = Tensor.from(b, [n, 64], { device: dev });
      const C = Tensor.from(nan(n * 64), [n, 64], { device: dev });
      launchKernel(k, [A, B, C]);
      const want = a.map((x, i) => x + b[i]!);
      assertClose(await C.toArray() as Float32Array, want, { what: `${dev.kind} add n=${n}` });
      for (const t of [A, B, C]) t.dispose();
    }
  }
});

Deno.test("axpy: scalar parameter and a ragged last block", GPU_TEST, async () => {
  for (const dev of await devices()) {
    const k = compileKernel(axpyKernel(), dev.target);
    for (const m of [1, 33, 100]) {
      const x = randomF32(m, m);
      const X = Tensor.from(x, [m], { device: dev });
      const Y = Tensor.from(nan(m), [m], { device: dev });
      launchKernel(k, [X, Y, 0.75]);
      assertClose(await Y.toArray() as Float32Array, Array.from(x, (v) => v * 0.75 + 1), {
        what: `${dev.kind} axpy m=${m}`,
      });
    }
  }
});

Deno.test("matmul: serial k loop with a local accumulator, 2-D grid", GPU_TEST, async () => {
  const [M, N, K] = [10, 12, 7];
  const a = randomF32(M * K, 1), b = randomF32(K * N, 2);
  for (const dev of await devices()) {
    const C = Tensor.from(nan(M * N), [M, N], { device: dev });
    await run(dev, matmulKernel(M, N, K), [
      Tensor.from(a, [M, K], { device: dev }),
      Tensor.from(b, [K, N], { device: dev }),
      C,
    ]);
    assertClose(await C.toArray() as Float32Array, matmulRef(a, b, M, N, K), {
      what: `${dev.kind} matmul`,
    });
  }
});

Deno.test("row_sum: shared memory tree reduction with barriers", GPU_TEST, async () => {
  for (const dev of await devices()) {
    const k = compileKernel(rowSumKernel(), dev.target);
    for (const [rows, n] of [[3, 100], [2, 5]] as const) {
      const a = randomF32(rows * n, rows * n);
      const S = Tensor.from(nan(rows), [rows], { device: dev });
      launchKernel(k, [Tensor.from(a, [rows, n], { device: dev }), S]);
      const want = Array.from(
        { length: rows },
        (_, r) => a.slice(r * n, (r + 1) * n).reduce((x, y) => x + y, 0),
      );
      assertClose(await S.toArray() as Float32Array, want, {
        rtol: 1e-5,
        atol: 1e-5,
        what: `${dev.kind} row_sum`,
      });
    }
  }
});

Deno.test(
  "tiled_matmul: shared tiles with two barriers per k step, symbolic sizes",
  GPU_TEST,
  async () => {
    for (const dev of await devices()) {
      const k = compileKernel(tiledMatmulKernel(), dev.target);
      for (const [M, N, K] of [[9, 17, 13], [16, 8, 8]] as const) {
        const a = randomF32(M * K, M), b = randomF32(K * N, N);
        const C = Tensor.from(nan(M * N), [M, N], { device: dev });
        launchKernel(k, [
          Tensor.from(a, [M, K], { device: dev }),
          Tensor.from(b, [K, N], { device: dev }),
          C,
        ]);
        assertClose(await C.toArray() as Float32Array, matmulRef(a, b, M, N, K), {
          atol: 1e-5,
          what: `${dev.kind} tiled_matmul ${M}x${N}x${K}`,
        });
      }
    }
  },
);

// Accurate erf in float64 for references (alternating Taylor series, |x| <= 3).
function erfRef(x: number): number {
  let term = x, sum = x;
  for (let n = 1; n < 80; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

const f = (op: string) => (x: import("../../ir/expr.ts").PrimExpr) => callIntrin(op, [x]);
const fabs = (x: import("../../ir/expr.ts").PrimExpr) => callIntrin("tir.fabs", [x]);
const UNARY: [
  string,
  (x: import("../../ir/expr.ts").PrimExpr) => import("../../ir/expr.ts").PrimExpr,
  (x: number) => number,
  number,
][] = [
  ["exp", f("tir.exp"), Math.exp, 2],
  ["exp2", f("tir.exp2"), (x) => 2 ** x, 2],
  ["log", (x) => callIntrin("tir.log", [fabs(x)]), (x) => Math.log(Math.abs(x)), 2],
  ["log2", (x) => callIntrin("tir.log2", [fabs(x)]), (x) => Math.log2(Math.abs(x)), 2],
  ["log10", (x) => callIntrin("tir.log10", [fabs(x)]), (x) => Math.log10(Math.abs(x)), 2],
  ["sqrt", (x) => callIntrin("tir.sqrt", [fabs(x)]), (x) => Math.sqrt(Math.abs(x)), 2],
  ["rsqrt", (x) => callIntrin("tir.rsqrt", [fabs(x)]), (x) => 1 / Math.sqrt(Math.abs(x)), 2],
  ["tanh", f("tir.tanh"), Math.tanh, 60],
  ["sigmoid", f("tir.sigmoid"), (x) => 1 / (1 + Math.exp(-x)), 20],
  ["erf", f("tir.erf"), erfRef, 3],
  ["sin", f("tir.sin"), Math.sin, 3],
  ["cos", f("tir.cos"), Math.cos, 3],
  ["tan", f("tir.tan"), Math.tan, 1],
  ["atan", f("tir.atan"), Math.atan, 4],
  ["pow", (x) => callIntrin("tir.pow", [fabs(x), x.mul(0).add(1.7)]), (x) => Math.abs(x) ** 1.7, 3],
  ["floor", (x) => callIntrin("tir.floor", [x.mul(3)]), (x) => Math.floor(Math.fround(x * 3)), 3],
  ["ceil", (x) => callIntrin("tir.ceil", [x.mul(3)]), (x) => Math.ceil(Math.fround(x * 3)), 3],
  ["trunc", (x) => callIntrin("tir.trunc", [x.mul(3)]), (x) => Math.trunc(Math.fround(x * 3)), 3],
  ["fabs", fabs, Math.abs, 3],
  [
    "if_then_else",
    (x) => callIntrin("tir.if_then_else", [x.lt(0), x.neg(), x.mul(2)], "float32"),
    (x) => x < 0 ? -x : 2 * x,
    3,
  ],
  ["div_mod", (x) => x.div(0.75).add(x.mod(0.5)), (x) => Math.fround(x / 0.75) + (x % 0.5), 3],
  [
    "floordiv_floormod",
    (x) => x.floordiv(0.75).add(x.floormod(0.5)),
    (x) => Math.floor(x / 0.75) + (x - Math.floor(x / 0.5) * 0.5),
    3,
  ],
];

Deno.test(
  "float intrinsics and operators match float64 references on every device",
  GPU_TEST,
  async () => {
    const n = 64;
    for (const dev of await devices()) {
      for (const [name, fn, ref, scale] of UNARY) {
        const x = randomF32(n, name.length, 0.01, scale);
        const A = Tensor.from(x, [n], { device: dev });
        const B = Tensor.from(nan(n), [n], { device: dev });
        await run(dev, mapKernel(name, "float32", "float32", fn), [A, B]);
        assertClose(await B.toArray() as Float32Array, Array.from(x, ref), {
          rtol: 2e-5,
          atol: 2e-6,
          what: `${dev.kind} ${name}`,
        });
      }
    }
  },
);

Deno.test("round halves away from zero, nearbyint to even; isnan/isinf", GPU_TEST, async () => {
  const x = Float32Array.from([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49999997, -3.7, 2.2, 7]);
  const cases: [string, string, number[]][] = [
    ["round", "tir.round", [-3, -2, -1, 1, 2, 3, 0, -4, 2, 7]],
    ["nearbyint", "tir.nearbyint", [-2, -2, -0, 0, 2, 2, 0, -4, 2, 7]],
  ];
  for (const dev of await devices()) {
    for (const [name, op, want] of cases) {
      const B = Tensor.from(nan(x.length), [x.length], { device: dev });
      await run(dev, mapKernel(name, "float32", "float32", (v) => callIntrin(op, [v])), [
        Tensor.from(x, [x.length], { device: dev }),
        B,
      ]);
      assertClose(await B.toArray() as Float32Array, want, { what: `${dev.kind} ${name}` });
    }
    const special = Float32Array.from([NaN, Infinity, -Infinity, 1, -0, 3e38]);
    const B = Tensor.from(nan(special.length), [special.length], { device: dev });
    const code = (v: import("../../ir/expr.ts").PrimExpr) =>
      cast(callIntrin("tir.isnan", [v]), "float32").add(
        cast(callIntrin("tir.isinf", [v]), "float32").mul(10),
      );
    await run(dev, mapKernel("classify", "float32", "float32", code), [
      Tensor.from(special, [special.length], { device: dev }),
      B,
    ]);
    assertClose(await B.toArray() as Float32Array, [1, 10, 10, 0, 0, 0], {
      what: `${dev.kind} isnan/isinf`,
    });
  }
});

Deno.test(
  "int32 arithmetic: floor and truncating division, wrap-around, casts",
  GPU_TEST,
  async () => {
    const n = 50;
    const x = Int32Array.from({ length: n }, (_, i) => (i % 2 ? -1 : 1) * (3 * i + 1));
    const fd = (a: number, b: number) => Math.floor(a / b);
    const fm = (a: number, b: number) => a - Math.floor(a / b) * b;
    const cases: [
      string,
      (
        v: import("../../ir/expr.ts").PrimExpr,
        i: import("../../ir/expr.ts").PrimExpr,
      ) => import("../../ir/expr.ts").PrimExpr,
      (v: number, i: number) => number,
    ][] = [
      ["floordiv7", (v) => v.floordiv(7), (v) => fd(v, 7)],
      ["floormod7", (v) => v.floormod(7), (v) => fm(v, 7)],
      ["floordiv_neg3", (v) => v.floordiv(-3), (v) => fd(v, -3)],
      ["floormod_neg3", (v) => v.floormod(-3), (v) => fm(v, -3)],
      ["floordiv_var", (v, i) => v.floordiv(i.add(1)), (v, i) => fd(v, i + 1)],
      ["floormod_var", (v, i) => v.floormod(i.add(1)), (v, i) => fm(v, i + 1)],
      ["truncdiv", (v) => v.div(7), (v) => Math.trunc(v / 7)],
      ["truncmod", (v) => v.mod(7), (v) => v % 7],
      ["wrap", (v) => v.mul(100000007), (v) => Math.imul(v, 100000007)],
      ["minmax", (v) => v.min(20).max(-20), (v) => Math.max(Math.min(v, 20), -20)],
      ["int8", (v) => cast(cast(v.mul(3), "int8"), "int32"), (v) => (v * 3 << 24) >> 24],
      ["via_float", (v) => cast(cast(v, "float32").mul(0.5), "int32"), (v) => Math.trunc(v * 0.5)],
    ];
    for (const dev of await devices()) {
      for (const [name, fn, ref] of cases) {
        const B = Tensor.from(new Int32Array(n).fill(-12345), [n], { dtype: "int32", device: dev });
        await run(dev, mapKernel(name, "int32", "int32", fn), [
          Tensor.from(x, [n], { device: dev }),
          B,
        ]);
        assertClose(await B.toArray() as Int32Array, Array.from(x, (v, i) => ref(v, i)), {
          what: `${dev.kind} ${name}`,
        });
      }
    }
  },
);

Deno.test("bool and uint8 buffers round-trip through kernels", GPU_TEST, async () => {
  const n = 40;
  const x = randomF32(n, 9);
  for (const dev of await devices()) {
    const B = Tensor.from(new Uint8Array(n).fill(7), [n], { dtype: "bool", device: dev });
    await run(dev, mapKernel("positive", "float32", "bool", (v) => v.gt(0)), [
      Tensor.from(x, [n], { device: dev }),
      B,
    ]);
    const bits = await B.toArray();
    assertClose(bits as Uint8Array, Array.from(x, (v) => v > 0 ? 1 : 0), {
      what: `${dev.kind} bool out`,
    });
    const C = Tensor.from(nan(n), [n], { device: dev });
    const pick = (v: import("../../ir/expr.ts").PrimExpr) =>
      callIntrin("tir.if_then_else", [v, floatImm(1), floatImm(-1)]);
    await run(dev, mapKernel("pick", "bool", "float32", pick), [B, C]);
    assertClose(await C.toArray() as Float32Array, Array.from(x, (v) => v > 0 ? 1 : -1), {
      what: `${dev.kind} bool in`,
    });
    const U = Tensor.from(new Uint8Array(n).fill(1), [n], { dtype: "uint8", device: dev });
    await run(
      dev,
      mapKernel(
        "u8",
        "float32",
        "uint8",
        (v) => cast(cast(v.mul(100), "int32").add(1000), "uint8"),
      ),
      [Tensor.from(x, [n], { device: dev }), U],
    );
    assertClose(
      await U.toArray() as Uint8Array,
      Array.from(x, (v) => (Math.trunc(Math.fround(v * 100)) + 1000) & 255),
      { what: `${dev.kind} uint8` },
    );
  }
});

Deno.test("the CPU runs int64, float64 and float16 kernels", async () => {
  const n = 10;
  const dev = cpu();
  const x = Float64Array.from({ length: n }, (_, i) => i * 1e10 + 0.25);
  const L = Tensor.from(new BigInt64Array(n), [n], { device: dev });
  await run(dev, mapKernel("f64_to_i64", "float64", "int64", (v) => cast(v, "int64").mul(3)), [
    Tensor.from(x, [n], { device: dev }),
    L,
  ]);
  assertClose(
    Array.from(await L.toArray() as BigInt64Array, Number),
    Array.from(x, (v) => Math.trunc(v) * 3),
    { what: "int64" },
  );
  const H = Tensor.from(new Float32Array(n).fill(NaN), [n], { dtype: "float16", device: dev });
  const xs = randomF32(n, 5);
  await run(
    dev,
    mapKernel("half", "float32", "float16", (v) => cast(v, "float16").mul(cast(v, "float16"))),
    [Tensor.from(xs, [n], { device: dev }), H],
  );
  const half = new Float16Array((await H.toArray() as Uint16Array).buffer);
  assertClose(Array.from(half), Array.from(xs, (v) => Math.f16round(Math.f16round(v) ** 2)), {
    what: "float16",
  });
});

// ---------------------------------------------------------------------------------------------
// argument checks

const js = makeTarget("js");

Deno.test("launchKernel checks the argument count, kinds, dtypes, ranks and shapes", () => {
  const k = compileKernel(addKernel(), js);
  const t = (shape: number[], dtype: "float32" | "int32" = "float32") =>
    Tensor.from(new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(1), shape, { dtype });
  const [a, b] = [t([8, 64]), t([8, 64])];
  assertThrowsMsg(
    () => launchKernel(k, [a, b]),
    `Kernel "add" expects 3 arguments (A, B, C), got 2`,
  );
  assertThrowsMsg(
    () => launchKernel(k, [a, t([8, 32]), b]),
    `Kernel "add": parameter "B" expects shape (n, 64) = (8, 64), got (8, 32)`,
  );
  assertThrowsMsg(
    () => launchKernel(k, [a, t([9, 64]), b]),
    `parameter "B" expects shape (n, 64) = (8, 64), got (9, 64)`,
  );
  assertThrowsMsg(
    () => launchKernel(k, [t([8]), a, b]),
    `Kernel "add": parameter "A" expects rank 2 (n, 64), got rank 1 (8,)`,
  );
  assertThrowsMsg(
    () => launchKernel(k, [t([8, 64], "int32"), a, b]),
    `Kernel "add": parameter "A" expects float32, got int32`,
  );
  assertThrowsMsg(
    () => launchKernel(k, [3, a, b]),
    `Kernel "add": parameter "A" expects a tensor, got the number 3`,
  );
  const d = t([8, 64]);
  d.dispose();
  assertThrowsMsg(() => launchKernel(k, [a, d, b]), `Kernel "add": parameter "B" was disposed`);
  const m = compileKernel(matmulKernel(4, 4, 4), js);
  assertThrowsMsg(
    () => launchKernel(m, [t([4, 4]), t([4, 5]), t([4, 4])]),
    `Kernel "matmul": parameter "B" expects shape (4, 4), got (4, 5)`,
  );
});

Deno.test("launchKernel checks scalar arguments", () => {
  const k = compileKernel(axpyKernel(), js);
  const x = Tensor.from([1, 2, 3], [3]);
  assertThrowsMsg(
    () => launchKernel(k, [x, x, x]),
    `Kernel "axpy": parameter "alpha" expects a number, got a tensor`,
  );
  // An integer scalar that is also a shape variable must agree with the shapes.
  const n = sizeVar("n");
  const A = declBuffer([n], "float32", "A");
  const i = primVar("i");
  const f = primFunc(
    [A, n],
    bind(i, n, "blockIdx.x", ifThenElse(i.lt(n), bufferStore(A, bufferLoad(A, [i]).add(1), [i]))),
    {
      attrs: { global_symbol: "bump" },
    },
  );
  const kb = compileKernel(f, js);
  assertThrowsMsg(
    () => launchKernel(kb, [x, 1.5]),
    `Kernel "bump": parameter "n" expects an integer (int32), got 1.5`,
  );
  assertThrowsMsg(
    () => launchKernel(kb, [x, 5]),
    `Kernel "bump": parameter "n" is 5, but the shapes give n = 3`,
  );
  launchKernel(kb, [x, 3]);
});

Deno.test("launchKernel checks devices and targets", GPU_TEST, async () => {
  const gpu = await gpuDevice();
  const kjs = compileKernel(addKernel(), js);
  const cpuT = Tensor.from(new Float32Array(64), [1, 64]);
  if (!gpu) {
    assertThrowsMsg(
      () => launchKernel(kjs, [], { device: cpu() }),
      `Kernel "add" expects 3 arguments`,
    );
    return;
  }
  const gpuT = Tensor.from(new Float32Array(64), [1, 64], { device: gpu });
  assertThrowsMsg(
    () => launchKernel(kjs, [cpuT, gpuT, cpuT]),
    `Kernel "add": parameter "B" is on ${gpu.name}, but "A" is on cpu`,
  );
  assertThrowsMsg(
    () => launchKernel(kjs, [gpuT, gpuT, gpuT]),
    `Kernel "add" was compiled for js, but its arguments are on ${gpu.name} (webgpu)`,
  );
  const kgpu = compileKernel(addKernel(), gpu.target);
  assertThrowsMsg(
    () => launchKernel(kgpu, [cpuT, cpuT, cpuT]),
    `Kernel "add" was compiled for webgpu, but its arguments are on cpu (js)`,
  );
  assertThrowsMsg(
    () => launchKernel(kgpu, [gpuT, gpuT, gpuT], { device: cpu() }),
    `Kernel "add": parameter "A" is on ${gpu.name}, but options.device is cpu`,
  );
  assertClose(bindKernelArgs(kgpu, [gpuT, gpuT, gpuT]).values, [1]);
  // WGSL integers are 32-bit: larger values are refused before dispatch.
  const kscale = compileKernel(scaleKernel(), gpu.target);
  const x = Tensor.from([1, 2], [2], { device: gpu });
  assertThrowsMsg(
    () => launchKernel(kscale, [x, 2 ** 31]),
    `Kernel "scale": s = 2147483648 does not fit in 32 bits`,
  );
  launchKernel(kscale, [x, -3]);
  assertClose(await x.toArray() as Float32Array, [-3, -6]);
});

/** `A[i] *= s` for an int32 scalar `s`. */
function scaleKernel() {
  const m = sizeVar("m");
  const A = declBuffer([m], "float32", "A");
  const s = primVar("s");
  const i = primVar("i");
  const body = bind(
    i,
    m,
    "blockIdx.x",
    bufferStore(A, bufferLoad(A, [i]).mul(cast(s, "float32")), [i]),
  );
  return primFunc([A, s], body, { attrs: { global_symbol: "scale" } });
}

Deno.test("compiled kernels are plain data: they survive a JSON round trip", GPU_TEST, async () => {
  for (const dev of await devices()) {
    const k = JSON.parse(JSON.stringify(compileKernel(axpyKernel(), dev.target)));
    const X = Tensor.from([1, 2, 3], [3], { device: dev });
    const Y = Tensor.from(nan(3), [3], { device: dev });
    launchKernel(k, [X, Y, 2]);
    assertClose(await Y.toArray() as Float32Array, [3, 5, 7], { what: dev.kind });
  }
});

function twoStageRef(a: Float32Array, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < 64; k++) s += a[i * 64 + k]!;
    for (let j = 0; j < 64; j++) out.push(Math.exp(a[i * 64 + j]!) + s);
  }
  return out;
}

Deno.test("loop nests through a global intermediate run as ordered stages", GPU_TEST, async () => {
  for (const dev of await devices()) {
    const k = compileKernel(twoStageKernel(), dev.target);
    for (const n of [3, 40]) {
      const a = randomF32(n * 64, n, 0.1, 1);
      const Out = Tensor.from(nan(n * 64), [n, 64], { device: dev });
      launchKernel(k, [Tensor.from(a, [n, 64], { device: dev }), Out]);
      assertClose(await Out.toArray() as Float32Array, twoStageRef(a, n), {
        what: `${dev.kind} n=${n}`,
      });
    }
  }
});

Deno.test(
  "kernels scheduled by Fallback and lowered by the TIR pipeline run on every device",
  GPU_TEST,
  async () => {
    const n = te.var("n");
    const A = te.placeholder([n, 64], "float32", "A");
    const k = te.reduceAxis([0, 64], "k");
    const S = te.compute([n], ([i]) => te.sum(A.at(i, k), [k]), { name: "row_sum" });
    const B = te.compute([n, 64], ([i, j]) => te.exp(A.at(i, j)).add(S.at(i)), { name: "out" });
    const f = te.createPrimFunc([A, B], { name: "fused" });
    for (const dev of await devices()) {
      const sch = new Fallback().apply(f, dev.target)!;
      const lowered = getFunction(
        lowerTIRPipeline()(irModule({ fused: sch.func })),
        "fused",
      ) as PrimFunc;
      const kern = compileKernel(lowered, dev.target);
      const a = randomF32(5 * 64, 3, 0.1, 1);
      const Out = Tensor.from(nan(5 * 64), [5, 64], { device: dev });
      launchKernel(kern, [Tensor.from(a, [5, 64], { device: dev }), Out]);
      assertClose(await Out.toArray() as Float32Array, twoStageRef(a, 5), { what: dev.kind });
    }
  },
);
