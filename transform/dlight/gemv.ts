/**
 * The `GEMV` GPU rule: matrix-vector products (`y[i] = sum_k W[i, k] * x[k]`, and the decode
 * shape `x[1, K] @ W[K, N]`), optionally batched, with injective prologues inlined and an
 * elementwise epilogue fused into the write-back.
 *
 * @module
 */

import type { Var } from "../../ir/expr.ts";
import type { PrimFunc } from "../../ir/tir/prim_func.ts";
import type { ThreadTag } from "../../ir/tir/stmt.ts";
import { Schedule } from "../schedule/schedule.ts";
import type { BlockRV, LoopRV } from "../schedule/trace.ts";
import type { Target } from "../target.ts";
import { hasThreadBinding, VECTOR_LANES, vectorizeRuns } from "./_analysis.ts";
import {
  constExtent,
  type ContractionInfo,
  contractionInfo,
  inlinePrologue,
} from "./_matmul_analysis.ts";
import { type GemvTileOptions, type GemvTiles, gemvTiles } from "./_tiles.ts";
import type { ScheduleRule } from "./rule.ts";

export { type GemvShape, type GemvTileOptions, type GemvTiles, gemvTiles } from "./_tiles.ts";

/** Options of {@link GEMV}: tile overrides (see `gemvTiles`); by default from the target. */
export type GemvOptions = GemvTileOptions;

/** Whether a contraction is a GEMV: no row axes or no column axes of extent above 1. */
function isGemv(info: ContractionInfo): boolean {
  const m = constExtent(info, info.rows), n = constExtent(info, info.cols);
  return info.rows.length === 0 || info.cols.length === 0 || m === 1 || n === 1;
}

/** Whether the matrix operand is contiguous along the reduction (its last index is one). */
function contiguousK(info: ContractionInfo): boolean {
  const m = constExtent(info, info.rows);
  const rowsUnit = info.rows.length === 0 || m === 1;
  const last = (rowsUnit ? info.rhsIndices : info.lhsIndices).at(-1);
  return last?.kind === "Var" && info.red.includes(last);
}

/** The block's loops: batch loops fused, the other spatial ones fused, the reduction fused. */
interface GemvLoops {
  readonly batch: LoopRV | undefined;
  readonly o: LoopRV;
  readonly k: LoopRV;
}

/**
 * Reorders the block's loops into batch, other spatial and reduction ones and fuses each group
 * (a unit loop stands for no spatial loops).
 */
function gemvLoops(sch: Schedule, info: ContractionInfo): GemvLoops {
  const group = (vs: readonly Var[]) => vs.map((v) => info.loopOf.get(v)!);
  const b = group(info.batch), s = group([...info.rows, ...info.cols]), r = group(info.red);
  sch.reorder(...b, ...s, ...r);
  const k = r.length === 1 ? r[0]! : sch.fuse(...r);
  const o = s.length === 0 ? sch.addUnitLoop(k) : s.length === 1 ? s[0]! : sch.fuse(...s);
  const batch = b.length === 0 ? undefined : b.length === 1 ? b[0]! : sch.fuse(...b);
  return { batch, o, k };
}

/** Accumulates `block` in a register and writes it back (with the epilogue) under `at`. */
function writeBack(sch: Schedule, block: BlockRV, epilogue: readonly string[], at: LoopRV): void {
  const local = sch.cacheWrite(block, 0, "local");
  for (const name of epilogue) sch.reverseComputeInline(sch.getSBlock(name));
  sch.reverseComputeAt(local, at);
}

/**
 * Whole outputs per thread, the reduction serial in each thread (unrolled by `kUnroll`); with
 * `vector`, the thread's consecutive outputs go in runs of 4 (vector loads of the matrix).
 */
function perThread(
  sch: Schedule,
  main: BlockRV,
  epilogue: readonly string[],
  { batch, o, k }: GemvLoops,
  t: GemvTiles,
  vector: boolean,
): void {
  const [bo, to, ov] = sch.split(o, [undefined, t.outputsPerBlock, t.outputsPerThread]);
  const [k0, k1] = sch.split(k, [undefined, t.kUnroll]);
  sch.reorder(bo!, to!, k0!, k1!, ov!);
  if (batch) sch.bind(batch, "blockIdx.y");
  sch.bind(bo!, "blockIdx.x");
  sch.bind(to!, "threadIdx.x");
  writeBack(sch, main, epilogue, to!);
  sch.decomposeReduction(main, k0!);
  if (t.kUnroll > 1) sch.unroll(k1!);
  if (vector) {
    // consecutive outputs in runs of VECTOR_LANES: one vector load of the matrix row per run
    vectorizeRuns(sch, ov!);
  } else if (t.outputsPerThread > 1) {
    sch.unroll(ov!);
  }
}

/**
 * The reduction split over `splitK` threads per output: each thread accumulates a strided part
 * in a register (`rfactor`), the partial sums meet in shared memory, and one thread per output
 * adds them up (the barrier between comes from `threadSync` at lowering).
 */
function splitK(
  sch: Schedule,
  main: BlockRV,
  epilogue: readonly string[],
  { batch, o, k }: GemvLoops,
  t: GemvTiles,
  contiguous: boolean,
): void {
  const [outAxis, kAxis]: [ThreadTag, ThreadTag] = contiguous
    ? ["threadIdx.y", "threadIdx.x"]
    : ["threadIdx.x", "threadIdx.y"];
  const [bo, to] = sch.split(o, [undefined, t.outputsPerBlock]);
  const [k0, kt, k1] = sch.split(k, [undefined, t.splitK, t.kUnroll]);
  sch.reorder(bo!, to!, kt!, k0!, k1!);
  const rf = sch.rfactor(kt!, 0);
  if (batch) sch.bind(batch, "blockIdx.y");
  sch.bind(bo!, "blockIdx.x");
  sch.bind(to!, outAxis);
  sch.bind(kt!, kAxis);
  const rfLocal = sch.cacheWrite(rf, 0, "local");
  sch.reverseComputeAt(rfLocal, kt!);
  sch.reverseComputeAt(main, to!);
  sch.setScope(rfLocal, 0, "shared");
  sch.decomposeReduction(rf, k0!);
  if (t.kUnroll > 1) sch.unroll(k1!);
  const combine = sch.getLoops(main).at(-1)!;
  const one = sch.addUnitLoop(combine);
  sch.bind(one, kAxis);
  writeBack(sch, main, epilogue, one);
  sch.decomposeReduction(main, combine);
}

/**
 * The dlight `GEMV` rule: applies to a function whose only reduction block is a contraction
 * (see the `Matmul` rule) without row axes or without column axes of extent above 1, after its
 * injective prologue is inlined; the blocks after it must inline into its write-back. With
 * shared staging (GPUs) the reduction is split over threads of a workgroup and combined through
 * shared memory (`rfactor`, partial sums in a shared buffer, a serial sum by one thread per
 * output); with register staging (the JS target, software adapters) each thread computes whole
 * outputs with the reduction unrolled. Tiles come from `gemvTiles(target, shape)`.
 *
 * @example
 * ```ts
 * const mod2 = applyDefaultSchedule(new Matmul(), new GEMV(), new Fallback())(mod);
 * ```
 */
export class GEMV implements ScheduleRule {
  /** The rule's name. */
  readonly name = "GEMV";
  readonly #options: GemvOptions;

  /** Makes the rule; `options` override the tiles derived from the target. */
  constructor(options: GemvOptions = {}) {
    this.#options = options;
  }

  /** A schedule of `func`, or `undefined` when it is not a GEMV. */
  apply(func: PrimFunc, target: Target): Schedule | undefined {
    if (hasThreadBinding(func.body)) return undefined;
    const sch = new Schedule(func);
    try {
      const found = inlinePrologue(sch);
      if (!found) return undefined;
      const info = contractionInfo(sch, found.main);
      if (!info || !isGemv(info)) return undefined;
      const contiguous = contiguousK(info);
      const out = constExtent(info, [...info.rows, ...info.cols]);
      const shape = { out, k: constExtent(info, info.red), contiguousK: contiguous };
      const tiles = gemvTiles(target, shape, this.#options);
      const main = sch.getSBlock(found.main);
      const loops = gemvLoops(sch, info);
      if (tiles.staging === "registers" || tiles.splitK === 1) {
        // Runs of consecutive outputs are contiguous in the matrix when it is not contiguous
        // along k (`x @ W`).
        const vector = !contiguous && tiles.outputsPerThread % VECTOR_LANES === 0;
        perThread(sch, main, found.epilogue, loops, tiles, vector);
      } else {
        splitK(sch, main, found.epilogue, loops, tiles, contiguous);
      }
      return sch;
    } catch (e) {
      // a primitive refused this function's shape: leave it to the next rule (not our bugs)
      if (e instanceof TypeError || e instanceof RangeError) throw e;
      return undefined;
    }
  }
}
