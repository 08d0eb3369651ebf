/**
 * What the `Reduction`, `GeneralReduction` and `Transpose` rules share: the thread counts they
 * take from the target (the one place that turns device limits into launch shapes), inlining of
 * elementwise blocks, the shape of a function's blocks, and the cross-thread reduction built from
 * schedule primitives (partial results per thread in workgroup memory, then a two-level combine).
 *
 * @module
 */

import { isFloat } from "../../ir/dtype.ts";
import { type Buffer, intImm, mul, type PrimExpr, type Var } from "../../ir/expr.ts";
import type { PrimFunc } from "../../ir/tir/prim_func.ts";
import type { SBlockRealize, Stmt } from "../../ir/tir/stmt.ts";
import type { Schedule } from "../schedule/schedule.ts";
import type { BlockRV, LoopRV } from "../schedule/trace.ts";
import { visitPrimExpr } from "../../ir/visit.ts";
import type { Target } from "../target.ts";
import { blocksUnder, loopChain, loopRole, rootRealize, topLevelStmts } from "./_analysis.ts";

/**
 * The launch-shape policy of the rules, in one place: how many threads a workgroup gets, how
 * much work each thread should have, and when a reduction is too short to share.
 */
export const LAUNCH = {
  /** Threads per workgroup the rules aim for when the target allows them. */
  maxThreads: 256,
  /** Threads a shared reduction gets at least (a warp on NVIDIA; within the target's limit). */
  minThreads: 32,
  /** Elements each thread of a shared reduction should reduce serially before combining. */
  perThread: 16,
  /** Reductions shorter than this (known sizes) are left to one thread per output. */
  minReduceExtent: 64,
  /** Side of a transpose tile, when the threads and workgroup memory allow it. */
  tile: 32,
  /** Transpose axes shorter than this (known sizes) are left to the plain copy. */
  minTileExtent: 8,
} as const;

/** The largest power of two not above `x` (1 for `x < 2`). */
function floorPow2(x: number): number {
  return 2 ** Math.floor(Math.log2(Math.max(1, x)));
}

/**
 * Threads per workgroup along x: `wanted` (default {@link LAUNCH}`.maxThreads`) rounded down to
 * a power of two, within the target's limits per workgroup and per x dimension.
 */
export function workgroupThreads(target: Target, wanted: number = LAUNCH.maxThreads): number {
  return floorPow2(Math.min(wanted, target.maxThreadsPerBlock, target.maxThreadsPerDim[0]));
}

/** Options of {@link reductionThreads}. */
export interface ReductionThreadsOptions {
  /** The most threads (default {@link LAUNCH}`.maxThreads`). */
  readonly maxThreads?: number;
  /** Elements per thread to aim for (default {@link LAUNCH}`.perThread`). */
  readonly perThread?: number;
}

/**
 * Threads that share one reduction of `extent` elements: a power of two giving each thread about
 * `perThread` elements, at least {@link LAUNCH}`.minThreads`, but no more than the extent (every
 * thread has an element) nor {@link workgroupThreads}; a symbolic extent gets the most.
 */
export function reductionThreads(
  target: Target,
  extent: PrimExpr,
  options: ReductionThreadsOptions = {},
): number {
  const cap = workgroupThreads(target, options.maxThreads);
  if (extent.kind !== "IntImm") return cap;
  const per = Math.max(1, options.perThread ?? LAUNCH.perThread);
  const want = 2 ** Math.ceil(Math.log2(Math.max(1, extent.value / per)));
  return Math.min(cap, floorPow2(extent.value), Math.max(LAUNCH.minThreads, want));
}

/**
 * Values each thread combines per level of the cross-thread combine: `2^ceil(log2(t) / 2)`, so
 * `t` partial results take two short serial steps (256: 16 threads x 16, then 1 x 16).
 */
export function combineFanIn(threads: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(1, threads)) / 2);
}

/** Names of the blocks of the function other than the root, in program order. */
export function blockNames(func: PrimFunc): string[] {
  const root = rootRealize(func);
  const out: string[] = [];
  const walk = (s: Stmt): void => {
    for (const r of blocksUnder(s).top) {
      if (r !== root) out.push(r.block.name);
      walk(r.block.body);
    }
  };
  walk(func.body);
  return out;
}

/** Inlines every block that can be inlined (all but outputs and reductions), to a fixed point. */
export function inlineAll(sch: Schedule): Schedule {
  for (let changed = true; changed;) {
    changed = false;
    for (const name of blockNames(sch.func)) {
      const trial = sch.copy();
      try {
        trial.computeInline(trial.getSBlock(name));
      } catch {
        continue;
      }
      sch = trial;
      changed = true;
    }
  }
  return sch;
}

/** One top-level loop nest holding exactly one block. */
export interface NestInfo {
  /** The block's name. */
  readonly name: string;
  /** The block's realize. */
  readonly realize: SBlockRealize;
  /** Whether the block has reduction iteration variables. */
  readonly isReduction: boolean;
}

/**
 * The function's top level as a list of single-block loop nests, or `undefined` when it is
 * anything else (nested blocks, several blocks under one loop, bare statements).
 */
export function singleBlockNests(func: PrimFunc): NestInfo[] | undefined {
  const out: NestInfo[] = [];
  for (const top of topLevelStmts(func)) {
    if (top.kind === "Evaluate" && top.value.kind === "IntImm") continue;
    const chain = loopChain(top);
    if (!chain) return undefined;
    const { nested } = blocksUnder(chain.realize.block.body);
    if (nested || chain.realize.block.init && blocksUnder(chain.realize.block.init).top.length) {
      return undefined;
    }
    const b = chain.realize.block;
    if (b.iterVars.some((iv) => iv.iterKind !== "spatial" && iv.iterKind !== "reduce")) {
      return undefined;
    }
    out.push({
      name: b.name,
      realize: chain.realize,
      isReduction: b.iterVars.some((iv) => iv.iterKind === "reduce"),
    });
  }
  return out;
}

/**
 * The loops of `block` split by role: `spatial` (feeding only spatial iteration variables, or
 * unit loops feeding nothing) and `reduce`; `undefined` when a loop feeds both kinds or a
 * non-unit loop feeds nothing.
 */
export function loopsByRole(
  sch: Schedule,
  block: BlockRV,
): { spatial: LoopRV[]; reduce: LoopRV[] } | undefined {
  const realize = sch.getSBlockRealize(block);
  const spatial: LoopRV[] = [], reduce: LoopRV[] = [];
  for (const l of sch.getLoops(block)) {
    const role = loopRole(l.var, realize);
    const ext = sch.get(l).extent;
    if (role === "spatial" || role === "unused" && ext.kind === "IntImm" && ext.value === 1) {
      spatial.push(l);
    } else if (role === "reduce") reduce.push(l);
    else return undefined;
  }
  return { spatial, reduce };
}

/**
 * Whether the block has a dominant read along its reduction: an input whose indices use every
 * iteration variable of the block (so one workgroup per output streams its own data, unlike a
 * matmul or a convolution, whose inputs are shared between outputs) and whose innermost index
 * moves with a reduction variable (so the threads striding over the reduction read coalesced).
 */
export function reducesInnermost(realize: SBlockRealize): boolean {
  const b = realize.block;
  const red = new Set(b.iterVars.filter((iv) => iv.iterKind === "reduce").map((iv) => iv.var));
  const out = new Set(b.writes.map((w) => w.buffer));
  return b.reads.some((r) => {
    if (out.has(r.buffer)) return false;
    const last = r.region[r.region.length - 1];
    if (last === undefined || !usesAny(last.min, red)) return false;
    return b.iterVars.every((iv) => r.region.some((d) => usesAny(d.min, new Set([iv.var]))));
  });
}

/** Whether `e` mentions any of `vars`. */
export function usesAny(e: PrimExpr, vars: ReadonlySet<Var>): boolean {
  let found = false;
  visitPrimExpr(e, (x) => {
    if (x.kind === "Var" && vars.has(x)) found = true;
    return !found;
  });
  return found;
}

/** Whether the block writes one buffer, of a number type (reductions the rules can combine). */
export function hasNumericOutput(realize: SBlockRealize): boolean {
  const w = realize.block.writes;
  return w.length === 1 && (isFloat(w[0]!.buffer.dtype) || /^u?int/.test(w[0]!.buffer.dtype));
}

/**
 * Reduces `block` across the threads of a workgroup. Its loops below `outer` must all be
 * reduction loops: they are fused and split into `threads` partial results (`<block>_rf`, one per
 * `threadIdx.x`, accumulated in a register and stored to workgroup memory), which then combine in
 * two levels (`combineFanIn`) on fewer threads; the last level runs on one thread, under the
 * unit loop returned (bound to `threadIdx.x`), which is where an epilogue can go. When `outer` is
 * the block's only enclosing loop of its own, the write-back is moved back under it.
 */
export function crossThreadReduce(
  sch: Schedule,
  block: BlockRV,
  outer: LoopRV,
  threads: number,
): LoopRV {
  const below = (b: BlockRV) => {
    const ls = sch.getLoops(b);
    const at = ls.findIndex((l) => l.var === outer.var);
    if (at < 0) throw new Error(`Block "${b.name}" is not under loop "${outer.var.name}"`);
    return ls.slice(at + 1);
  };
  const red = below(block);
  if (red.length === 0) throw new Error(`Block "${block.name}" has no reduction loop`);
  const fused = red.length === 1 ? red[0]! : sch.fuse(...red);
  const [, tx] = sch.split(fused, [undefined, threads]);
  const rf = sch.rfactor(tx!, 0);
  const [r0, t] = below(rf);
  sch.reorder(t!, r0!);
  sch.bind(t!, "threadIdx.x");
  sch.setScope(rf, 0, "shared");
  const store = sch.cacheWrite(rf, 0, "local");
  sch.reverseComputeAt(store, t!);
  const init = sch.decomposeReduction(rf, r0!);
  // Every thread must initialize its partial result, also one with no element to reduce.
  const pred = sch.getSBlockRealize(init).predicate;
  if (pred.kind !== "IntImm" || pred.value !== 1) {
    throw new Error(`Cannot reduce block "${block.name}" across threads: a partial is left unset`);
  }
  if (!sch.getLoops(block).some((l) => l.var === outer.var)) sch.reverseComputeAt(block, outer);
  // Combine: each level has `fan` values per thread, read with a stride of the thread count.
  let width = threads;
  const fan = combineFanIn(threads);
  while (width > fan) {
    const loops = below(block);
    const r = loops[loops.length - 1]!;
    const [, inner] = sch.split(r, [fan, undefined]);
    const level = sch.rfactor(inner!, 0);
    const [u, v] = below(level).slice(-2);
    sch.reorder(v!, u!);
    sch.bind(v!, "threadIdx.x");
    sch.setScope(level, 0, "shared");
    width = width / fan;
  }
  const loops = below(block);
  const unit = sch.addUnitLoop(loops[0]!);
  sch.bind(unit, "threadIdx.x");
  return unit;
}

/** The product of extents, folded when they are constants. */
export function productOf(extents: readonly PrimExpr[]): PrimExpr {
  if (extents.every((e) => e.kind === "IntImm")) {
    const v = extents.reduce((a, e) => a * (e.kind === "IntImm" ? e.value : 1), 1);
    return intImm(v, extents[0]?.dtype ?? "int32");
  }
  return extents.slice(1).reduce((a, e) => mul(a, e), extents[0]!);
}

/** Whether `buffer` is one of the function's parameters. */
export function isParamBuffer(func: PrimFunc, buffer: Buffer): boolean {
  for (const b of func.bufferMap.values()) if (b === buffer) return true;
  return false;
}
