/**
 * The `GeneralReduction` GPU rule: softmax, layer norm, RMS norm and their kin, i.e. several
 * reductions over the same rows followed by an elementwise block over the rows, run one
 * workgroup per row. Each reduction is done across the workgroup's threads through workgroup
 * memory (partial results per thread, then a two-level combine) and its result stays in
 * workgroup memory for the blocks after it; the final elementwise block strides its threads over
 * the row, in runs of 4 consecutive elements (vectors) when the row is a whole number of runs.
 * Elementwise blocks in between (softmax's `exp`, a mean's division) are inlined.
 *
 * The primitive sequence, for softmax (`max`, `sum`, `norm` after inlining `exp`) with `t`
 * threads:
 *
 * ```ts
 * const [i, j] = sch.getLoops(norm);
 * const [j0, tx] = sch.split(j, [undefined, t]);
 * sch.reorder(tx, j0);
 * sch.bind(i, "blockIdx.x");
 * sch.bind(tx, "threadIdx.x");
 * for (const b of [sum, max]) {          // last to first
 *   sch.setScope(b, 0, "shared");
 *   sch.computeAt(b, i);
 *   // then the cross-thread reduction of the Reduction rule under `i`
 * }
 * ```
 *
 * @module
 */

import type { PrimExpr } from "../../ir/expr.ts";
import type { PrimFunc } from "../../ir/tir/prim_func.ts";
import { proveEqual } from "../schedule/_arith.ts";
import { Schedule } from "../schedule/schedule.ts";
import type { LoopRV } from "../schedule/trace.ts";
import type { Target } from "../target.ts";
import { contiguousInner, hasThreadBinding, VECTOR_LANES } from "./_analysis.ts";
import {
  crossThreadReduce,
  hasNumericOutput,
  inlineAll,
  isParamBuffer,
  LAUNCH,
  productOf,
  reducesInnermost,
  reductionThreads,
  singleBlockNests,
} from "./_reduce_util.ts";
import type { ScheduleRule } from "./rule.ts";

/** Options of {@link GeneralReduction}. */
export interface GeneralReductionOptions {
  /** The most threads per workgroup (default 256, never more than the target allows). */
  readonly maxThreads?: number;
  /**
   * Rows shorter than this (known sizes) are left to other rules (default 64): one thread per
   * row does them serially about as fast.
   */
  readonly minExtent?: number;
}

function sameExtents(a: readonly PrimExpr[], b: readonly PrimExpr[]): boolean {
  return a.length === b.length && a.every((x, i) => proveEqual(x, b[i]!));
}

/**
 * The multi-block row reduction rule (dlight's `GeneralReduction`). Applies to a function whose
 * blocks, after inlining elementwise ones, are reductions over the innermost axes of the same
 * rows (with results in buffers of their own) followed by one elementwise block whose outer
 * loops run over those rows; returns `undefined` for anything else.
 *
 * @example
 * ```ts
 * const mod2 = applyDefaultSchedule(new Reduction(), new GeneralReduction(), new Fallback())(mod);
 * ```
 */
export class GeneralReduction implements ScheduleRule {
  /** The rule's name. */
  readonly name = "GeneralReduction";
  readonly #maxThreads: number | undefined;
  readonly #minExtent: number;

  /** Makes the rule. */
  constructor(options: GeneralReductionOptions = {}) {
    this.#maxThreads = options.maxThreads;
    this.#minExtent = options.minExtent ?? LAUNCH.minReduceExtent;
  }

  /** A schedule of `func` with one workgroup per row, or `undefined`. */
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
    if (!nests || nests.length < 2) return undefined;
    const last = nests[nests.length - 1]!;
    const reds = nests.slice(0, -1);
    if (last.isReduction || reds.some((r) => !r.isReduction)) return undefined;
    // The rows: the spatial extents every reduction shares; the reduction extent of the first.
    let rows: PrimExpr[] | undefined;
    let extent: PrimExpr | undefined;
    for (const r of reds) {
      const b = r.realize.block;
      if (!hasNumericOutput(r.realize) || !reducesInnermost(r.realize)) return undefined;
      if (isParamBuffer(sch.func, b.writes[0]!.buffer)) return undefined;
      const s = b.iterVars.filter((iv) => iv.iterKind === "spatial").map((iv) => iv.dom.extent);
      const k = productOf(
        b.iterVars.filter((iv) => iv.iterKind === "reduce").map((iv) => iv.dom.extent),
      );
      if (rows && !sameExtents(rows, s)) return undefined;
      rows ??= s;
      extent ??= k;
    }
    if (extent!.kind === "IntImm" && extent!.value < this.#minExtent) return undefined;
    const threads = reductionThreads(target, extent!, {
      ...(this.#maxThreads !== undefined ? { maxThreads: this.#maxThreads } : {}),
    });
    const lastBlock = sch.getSBlock(last.name);
    const loops = sch.getLoops(lastBlock);
    const lead = loops.slice(0, rows!.length);
    if (!sameExtents(lead.map((l) => sch.get(l).extent), rows!)) return undefined;
    const rest = loops.slice(rows!.length);
    const bx: LoopRV = lead.length === 0
      ? sch.addUnitLoop(loops[0] ?? lastBlock)
      : lead.length === 1
      ? lead[0]!
      : sch.fuse(...lead);
    if (rest.length > 0) {
      // Runs of VECTOR_LANES consecutive elements per thread when the row allows whole runs.
      const total = productOf(rest.map((l) => sch.get(l).extent));
      const vector = total.kind === "IntImm" && total.value % (threads * VECTOR_LANES) === 0 &&
        contiguousInner(sch, rest[rest.length - 1]!, sch.getSBlockRealize(lastBlock));
      const r = rest.length === 1 ? rest[0]! : sch.fuse(...rest);
      const [r0, tx, v] = sch.split(r, [undefined, threads, ...(vector ? [VECTOR_LANES] : [])]);
      sch.reorder(tx!, r0!);
      if (v) sch.vectorize(v);
      sch.bind(tx!, "threadIdx.x");
    } else {
      sch.bind(sch.addUnitLoop(lastBlock), "threadIdx.x");
    }
    for (const r of [...reds].reverse()) {
      const block = sch.getSBlock(r.name);
      sch.setScope(block, 0, "shared");
      sch.computeAt(block, bx);
      crossThreadReduce(sch, block, bx, threads);
    }
    sch.bind(bx, "blockIdx.x");
    return sch;
  }
}
