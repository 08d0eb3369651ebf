/**
 * The `Reduction` GPU rule: a function whose main block reduces over its innermost axes (row
 * sum, mean, max over the last axis, a sum of everything) runs one workgroup per output
 * element. The workgroup's threads stride over the reduction (reads are coalesced), each keeping
 * a partial result in a register, store them to workgroup memory, and combine them in two short
 * levels; elementwise blocks after the reduction (a mean's division) run on the thread that
 * finishes it.
 *
 * The primitive sequence, for `R[i] = sum_k A[i, k]` with `t` threads:
 *
 * ```ts
 * const [i, k] = sch.getLoops(r);
 * const [, tx] = sch.split(k, [undefined, t]);
 * const rf = sch.rfactor(tx, 0);                     // R_rf[tx, i]: partial sums
 * const [, k0, t1] = sch.getLoops(rf);
 * sch.reorder(t1, k0);
 * sch.bind(t1, "threadIdx.x");
 * sch.setScope(rf, 0, "shared");
 * sch.reverseComputeAt(sch.cacheWrite(rf, 0, "local"), t1);  // accumulate in a register
 * sch.decomposeReduction(rf, k0);                   // every thread initializes its partial
 * sch.reverseComputeAt(r, i);
 * // combine: split R's loop [fan, t / fan], rfactor the inner one into shared memory, bind it
 * // to threadIdx.x; R itself then runs under a unit loop bound to threadIdx.x
 * sch.bind(i, "blockIdx.x");
 * ```
 *
 * Barriers between the thread loops are left to the lowering (`threadSync` in
 * `lowerTIRPipeline()`). Subgroup operations are not used, so no adapter feature is needed.
 *
 * @module
 */

import type { PrimFunc } from "../../ir/tir/prim_func.ts";
import { proveEqual } from "../schedule/_arith.ts";
import { Schedule } from "../schedule/schedule.ts";
import type { LoopRV } from "../schedule/trace.ts";
import type { Target } from "../target.ts";
import { hasThreadBinding } from "./_analysis.ts";
import {
  crossThreadReduce,
  hasNumericOutput,
  inlineAll,
  isParamBuffer,
  LAUNCH,
  loopsByRole,
  productOf,
  reducesInnermost,
  reductionThreads,
  singleBlockNests,
} from "./_reduce_util.ts";
import type { ScheduleRule } from "./rule.ts";

/** Options of {@link Reduction}. */
export interface ReductionOptions {
  /** The most threads per workgroup (default 256, never more than the target allows). */
  readonly maxThreads?: number;
  /**
   * Reductions of fewer elements than this (known sizes) are left to other rules (default 64):
   * one thread per output does them serially about as fast.
   */
  readonly minExtent?: number;
}

/**
 * The cross-thread reduction rule (dlight's `Reduction`). Applies to a function made of one
 * reduction block that reduces along the innermost axis of its input, optionally followed by
 * elementwise blocks over its output; returns `undefined` for anything else.
 *
 * @example
 * ```ts
 * const mod2 = applyDefaultSchedule(new Reduction(), new Fallback())(mod);
 * ```
 */
export class Reduction implements ScheduleRule {
  /** The rule's name. */
  readonly name = "Reduction";
  readonly #maxThreads: number | undefined;
  readonly #minExtent: number;

  /** Makes the rule. */
  constructor(options: ReductionOptions = {}) {
    this.#maxThreads = options.maxThreads;
    this.#minExtent = options.minExtent ?? LAUNCH.minReduceExtent;
  }

  /** A schedule of `func` with a cross-thread reduction, or `undefined`. */
  apply(func: PrimFunc, target: Target): Schedule | undefined {
    if (hasThreadBinding(func.body)) return undefined;
    try {
      return this.#schedule(func, target);
    } catch {
      // A primitive refused: the function is not of the shape this rule handles.
      return undefined;
    }
  }

  #schedule(func: PrimFunc, target: Target): Schedule | undefined {
    const sch = inlineAll(new Schedule(func));
    const nests = singleBlockNests(sch.func);
    if (!nests || nests.length === 0) return undefined;
    const [main, ...epilogue] = nests as [(typeof nests)[0], ...typeof nests];
    if (!main.isReduction || epilogue.some((e) => e.isReduction)) return undefined;
    if (!hasNumericOutput(main.realize) || !reducesInnermost(main.realize)) return undefined;
    const out = main.realize.block.writes[0]!.buffer;
    const rows = main.realize.block.iterVars.filter((iv) => iv.iterKind === "spatial")
      .map((iv) => iv.dom.extent);
    for (const e of epilogue) {
      // Elementwise over the reduction's output: one element per workgroup.
      const ext = e.realize.block.iterVars.map((iv) => iv.dom.extent);
      if (!e.realize.block.reads.some((r) => r.buffer === out)) return undefined;
      if (ext.length !== rows.length || !ext.every((x, i) => proveEqual(x, rows[i]!))) {
        return undefined;
      }
    }
    const block = sch.getSBlock(main.name);
    const roles = loopsByRole(sch, block);
    if (!roles || roles.reduce.length === 0) return undefined;
    const { spatial, reduce } = roles;
    const extent = productOf(reduce.map((l) => sch.get(l).extent));
    if (extent.kind === "IntImm" && extent.value < this.#minExtent) return undefined;
    const order = [...spatial, ...reduce];
    const loops = sch.getLoops(block);
    if (order.some((l, i) => l.var !== loops[i]!.var)) sch.reorder(...order);
    const bx: LoopRV = spatial.length === 0
      ? sch.addUnitLoop(reduce[0]!)
      : spatial.length === 1
      ? spatial[0]!
      : sch.fuse(...spatial);
    const threads = reductionThreads(target, extent, {
      ...(this.#maxThreads !== undefined ? { maxThreads: this.#maxThreads } : {}),
    });
    const unit = crossThreadReduce(sch, block, bx, threads);
    if (!isParamBuffer(sch.func, out)) sch.setScope(block, 0, "local");
    for (const e of epilogue) sch.reverseComputeAt(sch.getSBlock(e.name), unit);
    sch.bind(bx, "blockIdx.x");
    return sch;
  }
}
