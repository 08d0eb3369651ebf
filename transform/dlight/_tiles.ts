/**
 * Tile sizes of the dlight GPU rules, derived in one place from the target's limits (threads
 * per workgroup, workgroup memory) and the problem's size, so that no rule scatters constants.
 *
 * @module
 */

import type { Target } from "../target.ts";

/**
 * How a rule stages its operands: through workgroup (`"shared"`) memory with barriers, as real
 * GPUs like, or straight from global memory into registers (`"registers"`), which wins where
 * workgroup barriers are expensive (software adapters such as llvmpipe, the JS target).
 */
export type Staging = "shared" | "registers";

/**
 * Whether workgroup barriers are expensive on `target`: the JS target (which emulates them
 * by running the workgroup phase by phase) and software adapters (a target that says
 * `isFallbackAdapter: true`, as llvmpipe's WebGPU adapter reports).
 */
export function barriersAreCostly(target: Target): boolean {
  if (target.kind === "js") return true;
  return target.isFallbackAdapter;
}

/** The staging a rule uses on `target` unless told otherwise. */
export function defaultStaging(target: Target): Staging {
  return barriersAreCostly(target) ? "registers" : "shared";
}

/** The tiles of a matmul schedule: a block computes `(threadsY * rowsPerThread) x (threadsX * colsPerThread)`. */
export interface MatmulTiles {
  /** How A and B reach the threads. */
  readonly staging: Staging;
  /** Threads per workgroup along the rows (`threadIdx.y`). */
  readonly threadsY: number;
  /** Threads per workgroup along the columns (`threadIdx.x`). */
  readonly threadsX: number;
  /** Output rows each thread accumulates in registers. */
  readonly rowsPerThread: number;
  /** Output columns each thread accumulates in registers. */
  readonly colsPerThread: number;
  /** The reduction tile: k steps per staged tile (shared) or per unrolled step (registers). */
  readonly kTile: number;
}

/** Overrides of {@link matmulTiles}; anything not given is derived from the target. */
export type MatmulTileOptions = Partial<MatmulTiles>;

/** The problem size: constant extents, `undefined` for symbolic ones. */
export interface MatmulShape {
  /** Output rows (the fused row axes). */
  readonly m: number | undefined;
  /** Output columns (the fused column axes). */
  readonly n: number | undefined;
  /** The reduction length. */
  readonly k: number | undefined;
}

function pow2Floor(x: number): number {
  return x < 1 ? 1 : 2 ** Math.floor(Math.log2(x));
}

function pow2Ceil(x: number): number {
  return x <= 1 ? 1 : 2 ** Math.ceil(Math.log2(x));
}

/** Shrinks `[threads, perThread]` (per-thread first) until the tile is no larger than needed. */
function fit(size: number | undefined, threads: number, per: number): [number, number] {
  if (size === undefined) return [threads, per];
  const want = pow2Ceil(size);
  while (threads * per > want && per > 1) per /= 2;
  while (threads * per > want && threads > 1) threads /= 2;
  return [threads, per];
}

/**
 * The matmul tiles for `target` and `shape`. Shared staging uses up to 256 threads (16 x 16,
 * fewer when the target allows fewer) with 8 x 8 outputs each (a 128 x 128 block tile, the shape
 * of the hand-written kernel the issue measured at 22.6 TFLOP/s on an H100, against 4 x 4 outputs
 * that need twice the shared-memory loads per multiply-add; not yet measured from this compiler
 * on a hardware adapter) and the largest k tile up to 16 whose A and B tiles fit in half the
 * workgroup memory. Register staging uses 8 x 8 threads
 * with 16 x 16 outputs each and k not unrolled: on llvmpipe (a CPU), big per-thread tiles win
 * and unrolling k loses (f32 512: 23 GFLOP/s, against 12 for 4 x 16 with k unrolled by 4 and
 * 30 for 32 x 16, whose shader takes 0.7 s to compile instead of 0.2). Tiles shrink (as powers
 * of two) for small problems, and every dimension respects the target's per-axis limits.
 */
export function matmulTiles(
  target: Target,
  shape: MatmulShape,
  options: MatmulTileOptions = {},
): MatmulTiles {
  const staging = options.staging ?? defaultStaging(target);
  const maxThreads = Math.max(1, target.maxThreadsPerBlock);
  const side = pow2Floor(Math.sqrt(Math.min(maxThreads, staging === "shared" ? 256 : 64)));
  let ty = Math.min(options.threadsY ?? side, pow2Floor(target.maxThreadsPerDim[1]));
  let tx = Math.min(options.threadsX ?? side, pow2Floor(target.maxThreadsPerDim[0]));
  let vm = options.rowsPerThread ?? (staging === "shared" ? 8 : 16);
  let vn = options.colsPerThread ?? (staging === "shared" ? 8 : 16);
  if (options.threadsY === undefined && options.rowsPerThread === undefined) {
    if (shape.m === undefined && staging === "registers") {
      // A symbolic row count (a batch size) is often small: one row per thread keeps every
      // thread busy at batch 1 instead of predicating most of a 16-row register tile away.
      [ty, vm] = [1, 1];
    } else {
      [ty, vm] = fit(shape.m, ty, vm);
    }
  }
  if (options.threadsX === undefined && options.colsPerThread === undefined) {
    [tx, vn] = fit(shape.n, tx, vn);
  }
  while (ty * tx > maxThreads) {
    if (ty >= tx) ty /= 2;
    else tx /= 2;
  }
  let bk = options.kTile ?? (staging === "shared" ? 16 : 1);
  if (options.kTile === undefined) {
    if (shape.k !== undefined) bk = Math.min(bk, pow2Ceil(shape.k));
    if (staging === "shared") {
      const budget = target.maxSharedMemoryBytes / 2;
      while (bk > 1 && (ty * vm + tx * vn) * bk * 4 > budget) bk /= 2;
    }
  }
  return {
    staging,
    threadsY: ty,
    threadsX: tx,
    rowsPerThread: vm,
    colsPerThread: vn,
    kTile: bk,
  };
}

/** The tiles of a GEMV schedule. */
export interface GemvTiles {
  /** Whether the reduction is split over threads and combined through shared memory. */
  readonly staging: Staging;
  /** Outputs per workgroup, one thread (column) each. */
  readonly outputsPerBlock: number;
  /** Threads per output splitting the reduction (1 for register staging). */
  readonly splitK: number;
  /** Consecutive outputs each thread computes (register staging; 1 with shared staging). */
  readonly outputsPerThread: number;
  /** Reduction steps each thread unrolls. */
  readonly kUnroll: number;
}

/** Overrides of {@link gemvTiles}; anything not given is derived from the target. */
export type GemvTileOptions = Partial<GemvTiles>;

/** The size of a GEMV: constant extents, `undefined` for symbolic ones. */
export interface GemvShape {
  /** The outputs (all spatial axes fused). */
  readonly out: number | undefined;
  /** The reduction length. */
  readonly k: number | undefined;
  /** Whether the matrix is contiguous along the reduction (`W[i, k]`, not `W[k, j]`). */
  readonly contiguousK: boolean;
}

/**
 * The GEMV tiles for `target` and `shape`. Shared staging splits the reduction over `splitK`
 * threads per output (64 along `threadIdx.x` when the matrix is contiguous along k, so that
 * neighbouring threads read neighbouring elements, with 4 outputs on `threadIdx.y`; otherwise 64
 * outputs on `threadIdx.x` and k split 4 ways on `threadIdx.y`); register staging gives each of
 * 64 threads whole outputs (16 consecutive ones when the matrix is contiguous along the outputs,
 * `x @ W`, measured best on llvmpipe: 3.3 GB/s against 2.0 for one) and does not unroll k
 * (shared staging unrolls it by 4). Tiles shrink for small problems and stay within the
 * target's thread limits.
 */
export function gemvTiles(
  target: Target,
  shape: GemvShape,
  options: GemvTileOptions = {},
): GemvTiles {
  const staging = options.staging ?? defaultStaging(target);
  const maxThreads = Math.max(1, target.maxThreadsPerBlock);
  const [dx, dy] = [pow2Floor(target.maxThreadsPerDim[0]), pow2Floor(target.maxThreadsPerDim[1])];
  let out: number, split = 1, per = 1;
  if (staging === "registers") {
    out = Math.min(options.outputsPerBlock ?? 64, dx, maxThreads);
    per = options.outputsPerThread ?? (shape.contiguousK ? 1 : 16);
    if (options.outputsPerBlock === undefined && options.outputsPerThread === undefined) {
      [out, per] = fit(shape.out, out, per);
    }
  } else {
    if (shape.contiguousK) {
      out = Math.min(options.outputsPerBlock ?? 4, dy);
      split = Math.min(options.splitK ?? 64, dx);
    } else {
      out = Math.min(options.outputsPerBlock ?? 64, dx);
      split = Math.min(options.splitK ?? 4, dy);
    }
    if (options.outputsPerBlock === undefined) out = fit(shape.out, out, 1)[0];
    if (options.splitK === undefined) split = fit(shape.k, split, 1)[0];
    while (out * split > maxThreads) {
      if (split > out || (split === out && shape.contiguousK)) split /= 2;
      else out /= 2;
    }
  }
  let unroll = options.kUnroll ?? (staging === "shared" ? 4 : 1);
  if (options.kUnroll === undefined && shape.k !== undefined) {
    while (unroll > 1 && unroll * split > pow2Ceil(shape.k)) unroll /= 2;
  }
  return { staging, outputsPerBlock: out, splitK: split, kUnroll: unroll, outputsPerThread: per };
}
