/**
 * The `Matmul` GPU rule: a tiled schedule for matmul-like reductions
 * (`C[b?, i, j] += A[.., i, k] * B[.., k, j]` in any layout, optionally batched), with injective
 * prologues inlined and an elementwise epilogue fused into the write-back.
 *
 * @module
 */

import type { PrimFunc } from "../../ir/tir/prim_func.ts";
import { Schedule } from "../schedule/schedule.ts";
import type { BlockRV, LoopRV } from "../schedule/trace.ts";
import type { Target } from "../target.ts";
import { hasThreadBinding, VECTOR_LANES, vectorizeRuns } from "./_analysis.ts";
import {
  constExtent,
  type ContractionInfo,
  contractionInfo,
  groupLoops,
  inlinePrologue,
} from "./_matmul_analysis.ts";
import { type MatmulTileOptions, type MatmulTiles, matmulTiles } from "./_tiles.ts";
import type { ScheduleRule } from "./rule.ts";

export {
  barriersAreCostly,
  type MatmulShape,
  type MatmulTileOptions,
  type MatmulTiles,
  matmulTiles,
  type Staging,
} from "./_tiles.ts";

/** Options of {@link Matmul}: tile overrides (see `matmulTiles`); by default from the target. */
export type MatmulOptions = MatmulTileOptions;

/** Marks a serial loop unrolled when its extent is a constant above 1. */
function unrollConst(sch: Schedule, loop: LoopRV): void {
  const l = sch.get(loop);
  if (l.forKind === "serial" && l.extent.kind === "IntImm" && l.extent.value > 1) sch.unroll(loop);
}

/**
 * Whether a constant-size tile copy can move runs of {@link VECTOR_LANES} elements per thread:
 * its innermost (contiguous) extent is a multiple of the lanes and every thread gets whole runs.
 */
function wholeRuns(sch: Schedule, inner: readonly LoopRV[], t: MatmulTiles): boolean {
  const extents = inner.map((l) => sch.get(l).extent);
  if (extents.some((e) => e.kind !== "IntImm")) return false;
  const sizes = extents.map((e) => (e as { value: number }).value);
  const total = sizes.reduce((a, b) => a * b, 1);
  return sizes[sizes.length - 1]! % VECTOR_LANES === 0 &&
    total % (t.threadsY * t.threadsX * VECTOR_LANES) === 0;
}

/**
 * Stages operand `which` (A or B) of `main` through shared memory: one tile per `k0` iteration,
 * copied cooperatively by all threads (the copy's loops fused and split over `threadIdx.y` x
 * `threadIdx.x`, or rows and columns over each when the tile is clipped at the matrix's edge).
 */
function stageShared(
  sch: Schedule,
  main: BlockRV,
  info: ContractionInfo,
  which: "lhs" | "rhs",
  k0: LoopRV,
  t: MatmulTiles,
): void {
  const buffer = which === "lhs" ? info.lhs : info.rhs;
  const index = sch.get(main).reads.findIndex((r) => r.buffer === buffer);
  const copy = sch.cacheRead(main, index, "shared");
  sch.computeAt(copy, k0);
  const loops = sch.getLoops(copy);
  const inner = loops.slice(loops.findIndex((l) => l.var === k0.var) + 1);
  if (inner.every((l) => sch.get(l).extent.kind === "IntImm") || inner.length < 2) {
    // a tile of constant size: all threads share one flat range of elements, copied in runs of
    // VECTOR_LANES consecutive elements (one vector load and store each) when the rows allow
    const runs = wholeRuns(sch, inner, t);
    const fused = inner.length === 1 ? inner[0]! : sch.fuse(...inner);
    const [, ty, tx, v] = sch.split(fused, [
      undefined,
      t.threadsY,
      t.threadsX,
      ...(runs ? [VECTOR_LANES] : []),
    ]);
    if (v) sch.vectorize(v);
    sch.bind(ty!, "threadIdx.y");
    sch.bind(tx!, "threadIdx.x");
    return;
  }
  // a tile clipped at the edge of the matrix (sizes that do not divide the tiles): rows over
  // threadIdx.y and columns over threadIdx.x, so that no index divides by a clipped extent
  const outer = inner.slice(0, -1), last = inner[inner.length - 1]!;
  const rows = outer.length === 1 ? outer[0]! : sch.fuse(...outer);
  const [r0, ty] = sch.split(rows, [undefined, t.threadsY]);
  const [c0, tx] = sch.split(last, [undefined, t.threadsX]);
  sch.reorder(r0!, c0!, ty!, tx!);
  sch.bind(ty!, "threadIdx.y");
  sch.bind(tx!, "threadIdx.x");
}

/**
 * Schedules the contraction: block tiles of `(threadsY * rowsPerThread) x (threadsX *
 * colsPerThread)` outputs on `blockIdx.y/x` (batch on `blockIdx.z`), one register tile per
 * thread on `threadIdx.y/x`, the reduction split by `kTile`, the output accumulated in
 * registers (`cacheWrite` "local") and written back with the epilogue inlined.
 */
function tile(
  sch: Schedule,
  mainName: string,
  epilogue: readonly string[],
  info: ContractionInfo,
  t: MatmulTiles,
): void {
  const main = sch.getSBlock(mainName);
  const g = groupLoops(sch, info);
  const [bi, ti, ii] = sch.split(g.rows!, [undefined, t.threadsY, t.rowsPerThread]);
  const [bj, tj, jj] = sch.split(g.cols!, [undefined, t.threadsX, t.colsPerThread]);
  const [k0, k1] = sch.split(g.red, [undefined, t.kTile]);
  sch.reorder(...(g.batch ? [g.batch] : []), bi!, bj!, ti!, tj!, k0!, k1!, ii!, jj!);
  if (g.batch) sch.bind(g.batch, "blockIdx.z");
  sch.bind(bi!, "blockIdx.y");
  sch.bind(bj!, "blockIdx.x");
  sch.bind(ti!, "threadIdx.y");
  sch.bind(tj!, "threadIdx.x");
  const local = sch.cacheWrite(main, 0, "local");
  for (const name of epilogue) sch.reverseComputeInline(sch.getSBlock(name));
  sch.reverseComputeAt(local, tj!);
  if (t.staging === "shared") {
    stageShared(sch, main, info, "lhs", k0!, t);
    stageShared(sch, main, info, "rhs", k0!, t);
  }
  const init = sch.decomposeReduction(main, k0!);
  // Each thread's columns are consecutive in B (or its shared tile) when B's last index is the
  // column, and in C: runs of VECTOR_LANES of them are vector loads of B and stores of C.
  const lastB = info.rhsIndices.at(-1);
  const vectorCols = t.colsPerThread % VECTOR_LANES === 0 && lastB?.kind === "Var" &&
    info.cols.includes(lastB);
  for (const l of [k1!, ii!]) unrollConst(sch, l);
  const back = sch.getLoops(local).slice(-2);
  unrollConst(sch, back[0]!);
  for (const l of [jj!, back[1]!]) {
    // (a write-back clipped at the matrix's edge has a non-constant extent: left unrolled)
    if (vectorCols && sch.get(l).extent.kind === "IntImm") vectorizeRuns(sch, l);
    else unrollConst(sch, l);
  }
  for (const l of sch.getLoops(init).slice(-2)) unrollConst(sch, l);
}

/**
 * The dlight `Matmul` rule: applies to a function whose only reduction block is a contraction
 * with row and column axes (at least one of each, neither of constant extent 1: those are
 * GEMVs), after its injective prologue blocks are inlined; the blocks after it must inline
 * into its write-back (an elementwise epilogue such as a bias add and relu). Tiles come from
 * `matmulTiles(target, shape)`: on GPUs A and B tiles are staged through shared memory (with
 * barriers inserted by `threadSync` at lowering), where barriers are costly (the JS target, a
 * software adapter) each thread reads its operands straight into registers. Sizes that do not
 * divide the tiles are handled by predicates.
 *
 * @example
 * ```ts
 * const mod2 = applyDefaultSchedule(new Matmul(), new Fallback())(mod);
 * ```
 */
export class Matmul implements ScheduleRule {
  /** The rule's name. */
  readonly name = "Matmul";
  readonly #options: MatmulOptions;

  /** Makes the rule; `options` override the tiles derived from the target. */
  constructor(options: MatmulOptions = {}) {
    this.#options = options;
  }

  /** A tiled schedule of `func`, or `undefined` when it is not matmul-like. */
  apply(func: PrimFunc, target: Target): Schedule | undefined {
    if (hasThreadBinding(func.body)) return undefined;
    const sch = new Schedule(func);
    try {
      const main = inlinePrologue(sch);
      if (!main) return undefined;
      const info = contractionInfo(sch, main.main);
      if (!info) return undefined;
      const m = constExtent(info, info.rows), n = constExtent(info, info.cols);
      if (info.rows.length === 0 || info.cols.length === 0 || m === 1 || n === 1) {
        return undefined;
      }
      const tiles = matmulTiles(target, { m, n, k: constExtent(info, info.red) }, this.#options);
      tile(sch, main.main, main.epilogue, info, tiles);
      return sch;
    } catch (e) {
      // a primitive refused this function's shape: leave it to the next rule (not our bugs)
      if (e instanceof TypeError || e instanceof RangeError) throw e;
      return undefined;
    }
  }
}
