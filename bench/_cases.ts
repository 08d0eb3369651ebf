/**
 * The benchmarked operations: shapes per size, deterministic inputs, the work each does (for
 * GFLOP/s or GB/s) and a float64 reference at sampled output positions, so every framework's
 * output is checked before it is timed.
 *
 * @module
 */

/** The operations of the benchmark. */
export type OpKind = "matmul" | "gemv" | "softmax" | "layer_norm" | "add" | "chain";

/** Element types benchmarked. */
export type BenchDType = "float32" | "float16";

/** How a case's throughput is reported. */
export type MetricUnit = "GFLOP/s" | "GB/s" | "us/kernel";

/** One row of the table. */
export interface BenchCase {
  /** A stable identifier, e.g. `matmul_f32_512`. */
  readonly id: string;
  /** The operation. */
  readonly op: OpKind;
  /** The row label, e.g. `matmul f32 512x512x512`. */
  readonly label: string;
  /** The element type of inputs and output. */
  readonly dtype: BenchDType;
  /** Input shapes, in argument order. */
  readonly inputs: readonly (readonly number[])[];
  /** The output shape. */
  readonly output: readonly number[];
  /** For `chain`: how many kernels one call runs. */
  readonly chainLength?: number;
  /** The throughput unit. */
  readonly unit: MetricUnit;
  /** Work per call in the unit's numerator (flops, bytes, or kernels for `us/kernel`). */
  readonly work: number;
  /** Largest normwise relative error accepted (max |got - ref| / max |ref| over the samples). */
  readonly tol: number;
}

/** Benchmark sizes: `small` fits a software adapter, `full` is the issue's sizes. */
export type BenchSize = "small" | "full";

/** The layer-norm epsilon every framework uses. */
export const LAYER_NORM_EPS = 1e-5;

/** The chain's addend per element (exact in f32: the chain's result is exact). */
export const CHAIN_ADDEND = 0.5;

function tag(dtype: BenchDType): string {
  return dtype === "float32" ? "f32" : "f16";
}

function matmul(m: number, n: number, k: number, dtype: BenchDType): BenchCase {
  const gemv = m === 1;
  const eb = dtype === "float32" ? 4 : 2;
  return {
    id: `${gemv ? "gemv" : "matmul"}_${tag(dtype)}_${gemv ? `${k}x${n}` : m}`,
    op: gemv ? "gemv" : "matmul",
    label: `${gemv ? "gemv" : "matmul"} ${tag(dtype)} ${m}x${k}x${n}`,
    dtype,
    inputs: [[m, k], [k, n]],
    output: [m, n],
    // A GEMV is bound by reading the matrix: report bandwidth.
    unit: gemv ? "GB/s" : "GFLOP/s",
    work: gemv ? (m * k + k * n + m * n) * eb : 2 * m * n * k,
    tol: dtype === "float32" ? 1e-4 : 1e-2,
  };
}

function rowOp(op: "softmax" | "layer_norm", m: number, n: number): BenchCase {
  return {
    id: `${op}_f32_${m}x${n}`,
    op,
    label: `${op.replace("_", " ")} f32 ${m}x${n}`,
    dtype: "float32",
    inputs: op === "softmax" ? [[m, n]] : [[m, n], [n], [n]],
    output: [m, n],
    unit: "GB/s",
    work: (2 * m * n + (op === "softmax" ? 0 : 2 * n)) * 4,
    tol: 1e-4,
  };
}

function add(n: number, dtype: BenchDType): BenchCase {
  const eb = dtype === "float32" ? 4 : 2;
  const label = n >= 1 << 20 ? `${n / (1 << 20)}M` : `${n}`;
  return {
    id: `add_${tag(dtype)}_${label}`,
    op: "add",
    label: `add ${tag(dtype)} ${label} floats`,
    dtype,
    inputs: [[n], [n]],
    output: [n],
    unit: "GB/s",
    work: 3 * n * eb,
    tol: dtype === "float32" ? 1e-6 : 1e-3,
  };
}

function chain(length: number, n: number): BenchCase {
  return {
    id: `chain_${length}`,
    op: "chain",
    label: `chain of ${length} adds (${n} f32)`,
    dtype: "float32",
    inputs: [[n], [n]],
    output: [n],
    chainLength: length,
    unit: "us/kernel",
    work: length,
    tol: 0,
  };
}

/**
 * The cases of a run. `f16` adds float16 rows (only where the adapter has `shader-f16`).
 */
export function benchCases(size: BenchSize, options: { readonly f16?: boolean } = {}): BenchCase[] {
  const cases: BenchCase[] = [];
  if (size === "small") {
    cases.push(matmul(256, 256, 256, "float32"), matmul(512, 512, 512, "float32"));
    cases.push(matmul(1, 4096, 4096, "float32"));
    cases.push(rowOp("softmax", 512, 512), rowOp("layer_norm", 512, 512));
    cases.push(add(1 << 20, "float32"));
    if (options.f16) cases.push(matmul(512, 512, 512, "float16"), add(1 << 20, "float16"));
  } else {
    for (const s of [1024, 2048, 4096]) cases.push(matmul(s, s, s, "float32"));
    cases.push(matmul(1, 4096, 4096, "float32"));
    cases.push(rowOp("softmax", 4096, 4096), rowOp("layer_norm", 4096, 4096));
    cases.push(add(1 << 26, "float32"));
    if (options.f16) cases.push(matmul(4096, 4096, 4096, "float16"), add(1 << 26, "float16"));
  }
  cases.push(chain(1000, 1024));
  return cases;
}

/** A small deterministic PRNG (mulberry32), so every run and framework sees the same data. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The inputs of a case as float32 arrays (already rounded to float16 for f16 cases): uniform in
 * [-1, 1) for data, [0.5, 1.5) for layer-norm gamma; small integers and the exact addend for the
 * chain, so its result is exact.
 */
export function caseInputs(c: BenchCase, seed = 1): Float32Array[] {
  return c.inputs.map((shape, i) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const r = rng(seed * 7919 + i);
    let data: Float32Array;
    if (c.op === "chain") {
      data = i === 0
        ? Float32Array.from({ length: n }, () => Math.floor(r() * 16))
        : new Float32Array(n).fill(CHAIN_ADDEND);
    } else if (c.op === "layer_norm" && i === 1) {
      data = Float32Array.from({ length: n }, () => 0.5 + r());
    } else {
      data = Float32Array.from({ length: n }, () => 2 * r() - 1);
    }
    if (c.dtype === "float16") data = Float32Array.from(new Float16Array(data));
    return data;
  });
}

/** Output positions to check: the first and last elements and up to `count` spread between. */
export function samplePositions(c: BenchCase, count = 2048): number[] {
  const size = c.output.reduce((a, b) => a * b, 1);
  if (size <= count) return Array.from({ length: size }, (_, i) => i);
  const r = rng(12345);
  const out = new Set([0, size - 1]);
  while (out.size < count) out.add(Math.floor(r() * size));
  return [...out].sort((a, b) => a - b);
}

/** Per-row statistics, computed once per row. */
function rowCache<T>(f: (row: number) => T): (row: number) => T {
  const memo = new Map<number, T>();
  return (row) => {
    let v = memo.get(row);
    if (v === undefined) memo.set(row, v = f(row));
    return v;
  };
}

/** The float64 reference of a case at the given flat output positions. */
export function reference(
  c: BenchCase,
  inputs: readonly Float32Array[],
  positions: readonly number[],
): Float64Array {
  const out = new Float64Array(positions.length);
  const [x, y, z] = inputs;
  switch (c.op) {
    case "matmul":
    case "gemv": {
      const [[, k], [, n]] = c.inputs as [[number, number], [number, number]];
      positions.forEach((p, o) => {
        const i = Math.floor(p / n), j = p % n;
        let s = 0;
        for (let q = 0; q < k; q++) s += x![i * k + q]! * y![q * n + j]!;
        out[o] = s;
      });
      break;
    }
    case "softmax": {
      const n = c.inputs[0]![1]!;
      const stats = rowCache((i) => {
        let mx = -Infinity, s = 0;
        for (let j = 0; j < n; j++) mx = Math.max(mx, x![i * n + j]!);
        for (let j = 0; j < n; j++) s += Math.exp(x![i * n + j]! - mx);
        return { mx, s };
      });
      positions.forEach((p, o) => {
        const { mx, s } = stats(Math.floor(p / n));
        out[o] = Math.exp(x![p]! - mx) / s;
      });
      break;
    }
    case "layer_norm": {
      const n = c.inputs[0]![1]!;
      const stats = rowCache((i) => {
        let mu = 0, v = 0;
        for (let j = 0; j < n; j++) mu += x![i * n + j]!;
        mu /= n;
        for (let j = 0; j < n; j++) v += (x![i * n + j]! - mu) ** 2;
        return { mu, rstd: 1 / Math.sqrt(v / n + LAYER_NORM_EPS) };
      });
      positions.forEach((p, o) => {
        const { mu, rstd } = stats(Math.floor(p / n));
        const j = p % n;
        out[o] = (x![p]! - mu) * rstd * y![j]! + z![j]!;
      });
      break;
    }
    case "add":
      positions.forEach((p, o) => out[o] = x![p]! + y![p]!);
      break;
    case "chain":
      positions.forEach((p, o) => out[o] = x![p]! + c.chainLength! * y![p]!);
      break;
    default:
      c.op satisfies never;
  }
  return out;
}

/**
 * Checks a framework's full output against the reference at `positions`: every element must be
 * finite, and the normwise relative error within the case's tolerance. Returns the error, or
 * throws with the first problem.
 */
export function checkOutput(
  c: BenchCase,
  got: ArrayLike<number>,
  positions: readonly number[],
  ref: Float64Array,
): number {
  const size = c.output.reduce((a, b) => a * b, 1);
  if (got.length < size) throw new Error(`output has ${got.length} elements, expected ${size}`);
  for (let i = 0; i < size; i++) {
    if (!Number.isFinite(got[i]!)) throw new Error(`output[${i}] is ${got[i]}`);
  }
  let num = 0, den = 0, worst = 0;
  positions.forEach((p, o) => {
    const d = Math.abs(got[p]! - ref[o]!);
    if (d > num) [num, worst] = [d, p];
    den = Math.max(den, Math.abs(ref[o]!));
  });
  const err = den === 0 ? num : num / den;
  if (!(err <= c.tol)) {
    const o = positions.indexOf(worst);
    throw new Error(
      `wrong result: relative error ${err.toExponential(2)} > ${c.tol} (output[${worst}] = ${
        got[worst]
      }, expected ${ref[o]})`,
    );
  }
  return err;
}
