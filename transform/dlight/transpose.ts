/**
 * The `Transpose` GPU rule: a permutation (2-D transpose, batched, or any layout change whose
 * input moves fastest along a different axis than its output) copies square tiles through
 * workgroup memory, so that both the reads of the input and the writes of the output are
 * coalesced. The tile is padded by one element per row (`storageAlign`) so that reading it
 * column-wise does not hit the same memory bank.
 *
 * The primitive sequence, for `B[i, j] = A[j, i]` with a `t x t` tile and `t x ty` threads:
 *
 * ```ts
 * const [i, j] = sch.getLoops(b);
 * const [i0, i1] = sch.split(i, [undefined, t]);
 * const [j0, j1] = sch.split(j, [undefined, t]);
 * sch.reorder(i0, j0, i1, j1);
 * const bx = sch.fuse(i0, j0);
 * const [i1s, i1t] = sch.split(i1, [undefined, ty]);
 * sch.reorder(i1t, j1, i1s);
 * const a = sch.cacheRead(b, 0, "shared");
 * sch.computeAt(a, bx);
 * const [, r, c] = sch.getLoops(a);                 // A's rows (j) and columns (i)
 * const [rs, rt] = sch.split(r, [undefined, ty]);
 * sch.reorder(rt, c, rs);
 * sch.storageAlign(a, 0, 0, t, 1);                 // rows t + 1 apart
 * sch.bind(bx, "blockIdx.x");
 * // rt, i1t -> threadIdx.y; c, j1 -> threadIdx.x
 * ```
 *
 * @module
 */

import { dtypeBytes } from "../../ir/dtype.ts";
import type { Var } from "../../ir/expr.ts";
import type { PrimFunc } from "../../ir/tir/prim_func.ts";
import type { BufferRegion, SBlockRealize } from "../../ir/tir/stmt.ts";
import { Schedule } from "../schedule/schedule.ts";
import type { LoopRV } from "../schedule/trace.ts";
import type { Target } from "../target.ts";
import { hasThreadBinding } from "./_analysis.ts";
import { inlineAll, LAUNCH, singleBlockNests, usesAny, workgroupThreads } from "./_reduce_util.ts";
import type { ScheduleRule } from "./rule.ts";

/** Options of {@link Transpose}. */
export interface TransposeOptions {
  /** The most threads per workgroup (default 256, never more than the target allows). */
  readonly maxThreads?: number;
  /** The tile's side (default 32, made smaller to fit the threads and workgroup memory). */
  readonly tile?: number;
  /** Axes shorter than this (known sizes) are left to other rules (default 8). */
  readonly minExtent?: number;
}

/**
 * Which read is transposed and along which loop it moves fastest: the first read of at least
 * two dimensions whose innermost index is exactly one of the block's outer iteration variables
 * and which also depends on the innermost one.
 */
function transposedRead(
  realize: SBlockRealize,
): { read: BufferRegion; index: number; axis: number } | undefined {
  const b = realize.block;
  const ivs = b.iterVars.map((iv) => iv.var);
  const last = ivs[ivs.length - 1];
  if (!last) return undefined;
  const out = new Set(b.writes.map((w) => w.buffer));
  for (const [index, r] of b.reads.entries()) {
    if (out.has(r.buffer) || r.region.length < 2) continue;
    const inner = r.region[r.region.length - 1]!;
    if (inner.extent.kind !== "IntImm" || inner.extent.value !== 1) continue;
    const axis = ivs.indexOf(inner.min as Var);
    if (axis < 0 || axis === ivs.length - 1) continue;
    if (!r.region.some((d) => usesAny(d.min, new Set([last])))) continue;
    return { read: r, index, axis };
  }
  return undefined;
}

/**
 * The tiled transpose rule (dlight's `Transpose`). Applies to a function made of one
 * elementwise block (after inlining) that reads some input transposed: its innermost index is
 * one of the outer loops of the output. Returns `undefined` for anything else.
 *
 * @example
 * ```ts
 * const mod2 = applyDefaultSchedule(new Transpose(), new Fallback())(mod);
 * ```
 */
export class Transpose implements ScheduleRule {
  /** The rule's name. */
  readonly name = "Transpose";
  readonly #maxThreads: number | undefined;
  readonly #tile: number;
  readonly #minExtent: number;

  /** Makes the rule. */
  constructor(options: TransposeOptions = {}) {
    this.#maxThreads = options.maxThreads;
    this.#tile = options.tile ?? LAUNCH.tile;
    this.#minExtent = options.minExtent ?? LAUNCH.minTileExtent;
  }

  /** A schedule of `func` that transposes through workgroup-memory tiles, or `undefined`. */
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
    if (!nests || nests.length !== 1 || nests[0]!.isReduction) return undefined;
    const realize = nests[0]!.realize;
    const found = transposedRead(realize);
    if (!found) return undefined;
    const block = sch.getSBlock(nests[0]!.name);
    const loops = sch.getLoops(block);
    // Loops must be the iteration variables themselves, in order.
    const trivial = loops.length === realize.iterValues.length &&
      realize.iterValues.every((v, i) => v === loops[i]!.var);
    if (!trivial) return undefined;
    const p = loops[found.axis]!, q = loops[loops.length - 1]!;
    for (const l of [p, q]) {
      const ext = sch.get(l).extent;
      if (ext.kind === "IntImm" && ext.value < this.#minExtent) return undefined;
    }
    const threads = workgroupThreads(target, this.#maxThreads);
    let tile = 2 ** Math.floor(Math.log2(Math.max(1, Math.min(this.#tile, threads))));
    const elem = Math.max(4, dtypeBytes(found.read.buffer.dtype)); // at least 4 bytes in WGSL
    while (tile > 1 && tile * (tile + 1) * elem > target.maxSharedMemoryBytes) tile /= 2;
    const ty = Math.max(1, Math.min(tile, Math.floor(threads / tile)));

    const [p0, p1] = sch.split(p, [undefined, tile]);
    const [q0, q1] = sch.split(q, [undefined, tile]);
    const outer = loops.filter((l) => l !== p && l !== q);
    sch.reorder(...outer, p0!, q0!, p1!, q1!);
    const bx: LoopRV = sch.fuse(...outer, p0!, q0!);
    const [ps, pt] = sch.split(p1!, [undefined, ty]);
    sch.reorder(pt!, q1!, ps!);
    const cache = sch.cacheRead(block, found.index, "shared");
    sch.computeAt(cache, bx);
    const cl = sch.getLoops(cache);
    const at = cl.findIndex((l) => l.var === bx.var);
    const [r, c] = cl.slice(at + 1);
    if (!r || !c || cl.length !== at + 3) return undefined;
    // Tiles at the edges of the input are clipped (symbolic extents): the thread loops keep
    // constant extents by splitting off a serial loop (of one iteration) with a predicate.
    const [rs, rt] = sch.split(r, [undefined, ty]);
    const [cs, ct] = sch.get(c).extent.kind === "IntImm"
      ? [undefined, c]
      : sch.split(c, [undefined, tile]);
    sch.reorder(rt!, ct!, ...(cs ? [cs] : []), rs!);
    sch.storageAlign(cache, 0, found.read.region.length - 2, tile, 1);
    sch.bind(bx, "blockIdx.x");
    sch.bind(rt!, "threadIdx.y");
    sch.bind(ct!, "threadIdx.x");
    sch.bind(pt!, "threadIdx.y");
    sch.bind(q1!, "threadIdx.x");
    return sch;
  }
}
