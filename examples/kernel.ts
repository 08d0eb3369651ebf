/**
 * A matmul and a softmax written with the te DSL, compiled for WebGPU (or the CPU when no adapter
 * is found), run, checked against a float64 reference, and timed.
 *
 *   deno run examples/kernel.ts [--size 128]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { build, cpu, irModule, te, Tensor, VirtualMachine, webgpu } from "../mod.ts";
import type { Device } from "../mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { size: { type: "string", default: "128" } },
});
const N = Number(values.size);

// --- the kernels, straight in TypeScript -------------------------------------------------------
const A = te.placeholder([N, N], "float32", "A");
const B = te.placeholder([N, N], "float32", "B");
const k = te.reduceAxis([0, N], "k");
const C = te.compute([N, N], ([i, j]) => te.sum(A.at(i, k).mul(B.at(k, j)), [k]), { name: "C" });

const X = te.placeholder([N, N], "float32", "X");
const r1 = te.reduceAxis([0, N], "r1");
const rowMax = te.compute([N], ([i]) => te.max(X.at(i, r1), [r1]), { name: "row_max" });
const e = te.compute([N, N], ([i, j]) => te.exp(X.at(i, j).sub(rowMax.at(i))), { name: "e" });
const r2 = te.reduceAxis([0, N], "r2");
const rowSum = te.compute([N], ([i]) => te.sum(e.at(i, r2), [r2]), { name: "row_sum" });
const Y = te.compute([N, N], ([i, j]) => e.at(i, j).div(rowSum.at(i)), { name: "Y" });

const mod = irModule({
  matmul: te.createPrimFunc([A, B, C], { name: "matmul" }),
  softmax: te.createPrimFunc([X, Y], { name: "softmax" }),
});

// --- build and run ---------------------------------------------------------------------------
const gpu = await webgpu();
const device: Device = gpu ?? cpu();
console.log(`device: ${device.name}`);
const exec = build(mod, { device });
const vm = new VirtualMachine(exec, device);

const rand = (n: number) => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);
const a = rand(N * N), b = rand(N * N), x = rand(N * N);
const [ta, tb, tx] = [a, b, x].map((d) => Tensor.from(d, [N, N], { device }));
const tc = Tensor.empty([N, N], { device });
const ty = Tensor.empty([N, N], { device });

await vm.run("matmul", ta!, tb!, tc);
await vm.run("softmax", tx!, ty);
const [c, y] = [await tc.toArray() as Float32Array, await ty.toArray() as Float32Array];

// --- check against float64 references ---------------------------------------------------------
let errC = 0, maxC = 0;
for (let i = 0; i < N; i++) {
  for (let j = 0; j < N; j++) {
    let s = 0;
    for (let q = 0; q < N; q++) s += a[i * N + q]! * b[q * N + j]!;
    errC = Math.max(errC, Math.abs(c[i * N + j]! - s));
    maxC = Math.max(maxC, Math.abs(s));
  }
}
let errY = 0;
for (let i = 0; i < N; i++) {
  const row = Array.from(x.subarray(i * N, i * N + N));
  const m = Math.max(...row);
  const ex = row.map((v) => Math.exp(v - m));
  const tot = ex.reduce((p, q) => p + q, 0);
  ex.forEach((v, j) => (errY = Math.max(errY, Math.abs(y[i * N + j]! - v / tot) / (v / tot))));
}
console.log(`matmul ${N}x${N}x${N}: max relative error ${(errC / maxC).toExponential(2)}`);
console.log(`softmax ${N}x${N}: max relative error ${errY.toExponential(2)}`);
if (errC / maxC > 1e-5 || errY > 1e-5) {
  throw new Error("Results do not match the float64 reference");
}

// --- time ---------------------------------------------------------------------------------------
async function time(name: string, run: () => Promise<unknown>, flops: number): Promise<void> {
  await run();
  await device.sync();
  const reps = 10;
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) await run();
  await device.sync();
  const ms = (performance.now() - t0) / reps;
  console.log(
    `${name.padEnd(10)} ${ms.toFixed(3).padStart(9)} ms  ${(flops / ms / 1e6).toFixed(2)} GFLOP/s`,
  );
}
await time("matmul", () => vm.run("matmul", ta!, tb!, tc), 2 * N * N * N);
await time("softmax", () => vm.run("softmax", tx!, ty), 5 * N * N);
