/**
 * Helpers of the Matmul and GEMV rule tests: te fixtures with float64 references, and a check
 * that runs a rule's schedule, lowered and compiled, on the JS and WebGPU targets.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Var } from "../../../ir/expr.ts";
import { irModule } from "../../../ir/module.ts";
import * as te from "../../../ir/te/mod.ts";
import type { PrimFunc } from "../../../ir/tir/prim_func.ts";
import type { Device } from "../../../runtime/device.ts";
import { cpu } from "../../../runtime/js/device.ts";
import { compileKernel, launchKernel } from "../../../runtime/kernel.ts";
import { Tensor } from "../../../runtime/tensor.ts";
import { gpuDevice } from "../../runtime/_helpers.ts";
import type { ScheduleRule } from "../../../transform/dlight/rule.ts";
import type { Schedule } from "../../../transform/schedule/schedule.ts";
import { lowerTIRPipeline, verifyLowered } from "../../../transform/tir/mod.ts";
import type { Target } from "../../../transform/target.ts";

/** A te kernel: its function, the shapes of its inputs and output, and a float64 reference. */
export interface Case {
  readonly name: string;
  readonly func: PrimFunc;
  readonly inputs: readonly (readonly number[])[];
  readonly output: readonly number[];
  readonly ref: (xs: readonly Float64Array[]) => Float64Array;
}

/** Options of {@link matmulCase}. */
export interface MatmulCaseOptions {
  /** A leading batch dimension. */
  readonly batch?: number;
  /** `"NN"` (default): `A[m, k] @ B[k, n]`; `"NT"`: `B` is `[n, k]`; `"TN"`: `A` is `[k, m]`. */
  readonly layout?: "NN" | "NT" | "TN";
  /** Adds a bias over the columns and a relu, as separate blocks after the matmul. */
  readonly biasRelu?: boolean;
  /** `A` goes through an elementwise prologue block (`A * 0.5`) before the matmul. */
  readonly prologue?: boolean;
}

/** `C = A @ B` over `m x n x k` (see {@link MatmulCaseOptions}). */
export function matmulCase(m: number, n: number, kk: number, o: MatmulCaseOptions = {}): Case {
  const layout = o.layout ?? "NN";
  const bt = o.batch;
  const pre = (s: number[]) => (bt === undefined ? s : [bt, ...s]);
  const aShape = pre(layout === "TN" ? [kk, m] : [m, kk]);
  const bShape = pre(layout === "NT" ? [n, kk] : [kk, n]);
  const A = te.placeholder(aShape, "float32", "A");
  const B = te.placeholder(bShape, "float32", "B");
  const bias = te.placeholder([n], "float32", "bias");
  const k = te.reduceAxis([0, kk], "k");
  const A1 = o.prologue
    ? te.compute(aShape, (ix) => A.at(...ix).mul(0.5), { name: "A_scaled" })
    : A;
  const out = pre([m, n]);
  const C = te.compute(out, (ix) => {
    const [i, j] = ix.slice(-2) as [Var, Var];
    const b = ix.slice(0, -2);
    const a = layout === "TN" ? A1.at(...b, k, i) : A1.at(...b, i, k);
    const w = layout === "NT" ? B.at(...b, j, k) : B.at(...b, k, j);
    return te.sum(a.mul(w), [k]);
  }, { name: "C" });
  let R = C;
  if (o.biasRelu) {
    const D = te.compute(out, (ix) => C.at(...ix).add(bias.at(ix[ix.length - 1]!)), { name: "D" });
    R = te.compute(out, (ix) => te.maximum(D.at(...ix), 0), { name: "E" });
  }
  const name = `matmul_${layout}${bt ? "_batched" : ""}${o.biasRelu ? "_bias_relu" : ""}`;
  const args = o.biasRelu ? [A, B, bias, R] : [A, B, R];
  const nb = bt ?? 1;
  return {
    name,
    func: te.createPrimFunc(args, { name }),
    inputs: o.biasRelu ? [aShape, bShape, [n]] : [aShape, bShape],
    output: out,
    ref: ([a, b, bi]) => {
      const r = new Float64Array(nb * m * n);
      for (let q = 0; q < nb; q++) {
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            let s = 0;
            for (let p = 0; p < kk; p++) {
              const av = a![q * m * kk + (layout === "TN" ? p * m + i : i * kk + p)]!;
              const bv = b![q * n * kk + (layout === "NT" ? j * kk + p : p * n + j)]!;
              s += (o.prologue ? av * 0.5 : av) * bv;
            }
            if (o.biasRelu) s = Math.max(s + bi![j]!, 0);
            r[q * m * n + i * n + j] = s;
          }
        }
      }
      return r;
    },
  };
}

/** Options of {@link gemvCase}. */
export interface GemvCaseOptions {
  /** `"xW"` (default): `y[1, n] = x[1, k] @ W[k, n]`; `"Wx"`: `y[n] = W[n, k] @ x[k]`. */
  readonly layout?: "xW" | "Wx";
  /** A leading batch dimension (of `W`, `x` and `y`). */
  readonly batch?: number;
  /** Adds a bias and a relu, as separate blocks after the product. */
  readonly biasRelu?: boolean;
}

/** A matrix-vector product over `k` inputs and `n` outputs (see {@link GemvCaseOptions}). */
export function gemvCase(kk: number, n: number, o: GemvCaseOptions = {}): Case {
  const layout = o.layout ?? "xW";
  const bt = o.batch;
  const pre = (s: number[]) => (bt === undefined ? s : [bt, ...s]);
  const xShape = pre(layout === "xW" ? [1, kk] : [kk]);
  const wShape = pre(layout === "xW" ? [kk, n] : [n, kk]);
  const out = pre(layout === "xW" ? [1, n] : [n]);
  const x = te.placeholder(xShape, "float32", "x");
  const W = te.placeholder(wShape, "float32", "W");
  const bias = te.placeholder([n], "float32", "bias");
  const k = te.reduceAxis([0, kk], "k");
  const y = te.compute(out, (ix) => {
    const b = ix.slice(0, bt === undefined ? 0 : 1);
    const j = ix[ix.length - 1]!;
    const prod = layout === "xW"
      ? x.at(...b, ix[ix.length - 2]!, k).mul(W.at(...b, k, j))
      : W.at(...b, j, k).mul(x.at(...b, k));
    return te.sum(prod, [k]);
  }, { name: "y" });
  let R = y;
  if (o.biasRelu) {
    const D = te.compute(out, (ix) => y.at(...ix).add(bias.at(ix[ix.length - 1]!)), { name: "D" });
    R = te.compute(out, (ix) => te.maximum(D.at(...ix), 0), { name: "E" });
  }
  const name = `gemv_${layout}${bt ? "_batched" : ""}${o.biasRelu ? "_bias_relu" : ""}`;
  const nb = bt ?? 1;
  return {
    name,
    func: te.createPrimFunc(o.biasRelu ? [x, W, bias, R] : [x, W, R], { name }),
    inputs: o.biasRelu ? [xShape, wShape, [n]] : [xShape, wShape],
    output: out,
    ref: ([xs, ws, bi]) => {
      const r = new Float64Array(nb * n);
      for (let q = 0; q < nb; q++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let p = 0; p < kk; p++) {
            const w = ws![q * n * kk + (layout === "xW" ? p * n + j : j * kk + p)]!;
            s += xs![q * kk + p]! * w;
          }
          r[q * n + j] = o.biasRelu ? Math.max(s + bi![j]!, 0) : s;
        }
      }
      return r;
    },
  };
}

/** The devices to run on: the CPU (JS) always, WebGPU when an adapter exists. */
export async function devices(): Promise<[string, Device | undefined][]> {
  const gpu = await gpuDevice();
  if (!gpu) console.log("no WebGPU adapter (requestAdapter() gave none): WebGPU cases are skipped");
  return [["js", cpu()], ["webgpu", gpu]];
}

/** Applies `rule` to `func` for `target`, failing when it does not apply. */
export function applyRule(rule: ScheduleRule, func: PrimFunc, target: Target): Schedule {
  const sch = rule.apply(func, target);
  assert.ok(sch, `${rule.name} did not apply`);
  return sch;
}

/** Lowers a scheduled function and checks that it is lowered. */
export function lower(func: PrimFunc): PrimFunc {
  const out = lowerTIRPipeline()(irModule({ main: func })).functions.get("main") as PrimFunc;
  verifyLowered(out, { name: "main" });
  return out;
}

/** Deterministic inputs in [-1, 1). */
function inputData(n: number, seed: number): Float32Array {
  let s = seed * 7919 + 17;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 1073741824 - 1;
  });
}

/**
 * Runs the lowered `func` on `device` with deterministic inputs, the output pre-filled with NaN,
 * and checks every element against the reference (normwise relative error below 1e-5).
 */
export async function checkOnDevice(c: Case, func: PrimFunc, device: Device): Promise<void> {
  const k = compileKernel(func, device.target, { name: c.name });
  const host = c.inputs.map((s, i) => inputData(s.reduce((a, b) => a * b, 1), i + 1));
  const ins = host.map((d, i) => Tensor.from(d, c.inputs[i]!, { device }));
  const size = c.output.reduce((a, b) => a * b, 1);
  const out = Tensor.from(new Float32Array(size).fill(NaN), c.output, { device });
  launchKernel(k, [...ins, out]);
  const got = await out.toArray() as Float32Array;
  const ref = c.ref(host.map((d) => Float64Array.from(d)));
  let num = 0, den = 0;
  for (let i = 0; i < size; i++) {
    assert.ok(!Number.isNaN(got[i]!), `${c.name} on ${device.kind}: element ${i} was not written`);
    num = Math.max(num, Math.abs(got[i]! - ref[i]!));
    den = Math.max(den, Math.abs(ref[i]!));
  }
  assert.ok(
    num <= 1e-5 * Math.max(den, 1),
    `${c.name} on ${device.kind}: error ${num} (max ${den})`,
  );
  for (const t of [...ins, out]) t.dispose();
}
