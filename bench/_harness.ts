/**
 * What every framework provides to the benchmark (a {@link Framework} making {@link Runner}s),
 * and how a runner is checked and timed the same way for all of them.
 *
 * @module
 */

import type { BenchCase } from "./_cases.ts";

/** One prepared case on one framework: inputs uploaded, kernels compiled. */
export interface Runner {
  /** Enqueues one call; every output it produces must be computed by the next {@link sync}. */
  run(): void | Promise<void>;
  /** Waits until all enqueued calls have executed on the GPU (realizing lazy results). */
  sync(): Promise<void>;
  /** Reads back the output of the latest call as numbers. */
  read(): Promise<ArrayLike<number>>;
  /** Frees the case's GPU memory. */
  dispose(): void | Promise<void>;
}

/** A framework under test: ours or a peer. */
export interface Framework {
  /** The column title, e.g. `tfjs-webgpu 4.22.0`. */
  readonly name: string;
  /** The adapter description of the framework's own GPU device, when it can be read. */
  readonly adapter?: string;
  /** Prepares a case, or throws with the reason it cannot run (shown as "n/a (reason)"). */
  prepare(c: BenchCase, inputs: readonly Float32Array[]): Promise<Runner>;
  /** Releases the framework's device. */
  close?(): void | Promise<void>;
}

/** The outcome of one case on one framework. */
export type Measurement =
  | {
    readonly ok: true;
    /** Median milliseconds per call. */
    readonly ms: number;
    /** Each repetition's milliseconds per call. */
    readonly samples: readonly number[];
    /** Calls per timed repetition. */
    readonly iters: number;
    /** Compute dispatches one call records (counted on `GPUComputePassEncoder`). */
    readonly dispatches: number;
    /** The normwise relative error of the checked output. */
    readonly error: number;
  }
  | { readonly ok: false; readonly reason: string };

let dispatchCount = 0;
let counting = false;

/**
 * Wraps `GPUComputePassEncoder.prototype.dispatchWorkgroups` (once) to count dispatches, so the
 * table can tell how many kernels each framework runs per call.
 */
export function installDispatchCounter(): void {
  if (counting || typeof GPUComputePassEncoder === "undefined") return;
  const proto = GPUComputePassEncoder.prototype;
  const orig = proto.dispatchWorkgroups;
  proto.dispatchWorkgroups = function (
    this: GPUComputePassEncoder,
    x: number,
    y?: number,
    z?: number,
  ) {
    dispatchCount++;
    return orig.call(this, x, y, z);
  };
  counting = true;
}

/** Options of {@link measureAll}. */
export interface MeasureOptions {
  /** Target wall time of one timed repetition (default 200 ms). */
  readonly targetMs?: number;
  /** Timed repetitions; the median is reported (default 7). */
  readonly reps?: number;
  /** The most calls in one repetition (default 200). */
  readonly maxIters?: number;
  /** Untimed calls before timing (default 2). */
  readonly warmup?: number;
}

/** The median of numbers. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

interface Calibrated {
  readonly runner: Runner;
  readonly iters: number;
  readonly dispatches: number;
  readonly error: number;
  readonly samples: number[];
}

/** Checks one call's output, counts its dispatches, warms up and picks the calls per repetition. */
async function calibrate(
  runner: Runner,
  check: (out: ArrayLike<number>) => number,
  options: Required<MeasureOptions>,
): Promise<Calibrated> {
  await runner.run();
  await runner.sync();
  const error = check(await runner.read());
  // Count on a call after the first, which may include one-time work (uploads, compiles).
  const before = dispatchCount;
  await runner.run();
  await runner.sync();
  const dispatches = dispatchCount - before;
  for (let i = 0; i < options.warmup; i++) await runner.run();
  await runner.sync();
  const t0 = performance.now();
  await runner.run();
  await runner.sync();
  const one = performance.now() - t0;
  const iters = Math.max(1, Math.min(options.maxIters, Math.round(options.targetMs / one)));
  return { runner, iters, dispatches, error, samples: [] };
}

/**
 * Checks and times the runners of one case (one per framework; a string is a framework that
 * could not prepare it). Each runner's first call is checked by `check` before anything is
 * timed. Repetitions are interleaved across frameworks (rep 1 of each, then rep 2, ...), so a
 * change in machine load affects all of them alike. Each repetition enqueues `iters` calls and
 * waits for the GPU, so a call's time includes the framework's own dispatch overhead but no
 * readback; `iters` is chosen from one synced call so a repetition takes about `targetMs`. A
 * repetition that records fewer dispatches than `iters` checked calls did fails the framework.
 */
export async function measureAll(
  runners: readonly (Runner | string)[],
  check: (out: ArrayLike<number>) => number,
  options: MeasureOptions = {},
): Promise<Measurement[]> {
  const o = { targetMs: 200, reps: 7, maxIters: 200, warmup: 2, ...options };
  const state: (Calibrated | string)[] = [];
  for (const r of runners) {
    if (typeof r === "string") {
      state.push(r);
      continue;
    }
    try {
      state.push(await calibrate(r, check, o));
    } catch (e) {
      state.push(reasonOf(e));
    }
  }
  for (let rep = 0; rep < o.reps; rep++) {
    for (let i = 0; i < state.length; i++) {
      const s = state[i]!;
      if (typeof s === "string") continue;
      try {
        const before = dispatchCount;
        const t0 = performance.now();
        for (let k = 0; k < s.iters; k++) await s.runner.run();
        await s.runner.sync();
        s.samples.push((performance.now() - t0) / s.iters);
        // Every timed call must do its work: no dropped or deduplicated results.
        const done = dispatchCount - before;
        if (counting && done < s.iters * s.dispatches) {
          throw new Error(
            `${s.iters} calls recorded ${done} dispatches, expected ${s.iters * s.dispatches}`,
          );
        }
      } catch (e) {
        state[i] = reasonOf(e);
      }
    }
  }
  return state.map((s) =>
    typeof s === "string" ? { ok: false, reason: s } : {
      ok: true,
      ms: median(s.samples),
      samples: s.samples,
      iters: s.iters,
      dispatches: s.dispatches,
      error: s.error,
    }
  );
}

/** A short, one-line reason from an error. */
export function reasonOf(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const line = msg.split("\n").map((l) => l.trim()).find((l) => l.length > 0) ?? "failed";
  return line.length > 90 ? `${line.slice(0, 87)}...` : line;
}
