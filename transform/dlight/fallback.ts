/**
 * The `Fallback` GPU rule: a schedule for any PrimFunc, so that every kernel reaching the GPU
 * has thread bindings. It inlines what can be inlined, then gives each remaining loop nest its
 * own grid: the spatial loops fused and split into `blockIdx.x` x `threadIdx.x`, reduction loops
 * left serial inside each thread. An elementwise nest whose innermost loop walks every buffer
 * contiguously gives each thread 4 consecutive elements in a vectorized loop (one `vec4` load or
 * store per buffer in WGSL).
 *
 * @module
 */

import type { PrimFunc } from "../../ir/tir/prim_func.ts";
import type { Stmt } from "../../ir/tir/stmt.ts";
import { Schedule } from "../schedule/schedule.ts";
import type { LoopRV } from "../schedule/trace.ts";
import type { Target } from "../target.ts";
import {
  blocksUnder,
  contiguousInner,
  hasThreadBinding,
  loopChain,
  loopRole,
  rootRealize,
  topLevelStmts,
  VECTOR_LANES,
} from "./_analysis.ts";
import type { ScheduleRule } from "./rule.ts";

/** Options of {@link Fallback}. */
export interface FallbackOptions {
  /** The most threads per block the rule uses (default 256, never more than the target allows). */
  readonly maxThreads?: number;
}

/** Names of the blocks of the function other than the root, in program order. */
function blockNames(func: PrimFunc): string[] {
  const root = rootRealize(func);
  const out: string[] = [];
  const walk = (s: Stmt): void => {
    const { top } = blocksUnder(s);
    for (const r of top) {
      if (r !== root) out.push(r.block.name);
      walk(r.block.body);
    }
  };
  walk(func.body);
  return out;
}

/** Inlines every block that can be inlined (not outputs), until nothing changes. */
function inlineAll(sch: Schedule): Schedule {
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

/**
 * Binds the spatial loops of a single-block loop nest to blockIdx.x / threadIdx.x; an
 * elementwise block whose innermost loop walks memory contiguously gets
 * {@link VECTOR_LANES} elements per thread in a vectorized loop.
 */
function bindNest(sch: Schedule, name: string, threads: number): void {
  const block = sch.getSBlock(name);
  const realize = sch.getSBlockRealize(block);
  const loops = sch.getLoops(block);
  const hasReduce = realize.block.iterVars.some((iv) => iv.iterKind !== "spatial");
  const s: LoopRV[] = [], r: LoopRV[] = [], o: LoopRV[] = [];
  for (const l of loops) {
    const role = loopRole(l.var, realize);
    if (role === "spatial" || role === "unused" && !hasReduce) s.push(l);
    else if (role === "reduce") r.push(l);
    else o.push(l);
  }
  const order = [...s, ...r, ...o];
  if (order.some((l, i) => l !== loops[i])) sch.reorder(...order);
  if (s.length === 0) s.push(sch.addUnitLoop(loops[0] ?? block));
  const vector = !hasReduce && contiguousInner(sch, s[s.length - 1]!, realize);
  let fused = s.length === 1 ? s[0]! : sch.fuse(...s);
  if (vector) {
    const [o, v] = sch.split(fused, [undefined, VECTOR_LANES]);
    sch.vectorize(v!);
    fused = o!;
  }
  const extent = sch.get(fused).extent;
  const factor = extent.kind === "IntImm" && extent.value < threads ? extent.value : threads;
  const [bx, tx] = sch.split(fused, [undefined, factor]);
  sch.bind(bx!, "blockIdx.x");
  sch.bind(tx!, "threadIdx.x");
}

/** Runs a whole loop nest (or block) on one thread of one block. */
function bindSingleThread(sch: Schedule, top: Stmt): void {
  let inner: LoopRV;
  if (top.kind === "For") inner = sch.addUnitLoop({ kind: "LoopRV", var: top.loopVar });
  else if (top.kind === "SBlockRealize") inner = sch.addUnitLoop(sch.getSBlock(top.block.name));
  else throw new Error(`Cannot bind a ${top.kind} at the top of the function to a thread`);
  const outer = sch.addUnitLoop(inner);
  sch.bind(outer, "blockIdx.x");
  sch.bind(inner, "threadIdx.x");
}

/**
 * The fallback GPU schedule rule (dlight's `Fallback`): applies to every PrimFunc without thread
 * bindings and returns `undefined` only for a function whose top level it cannot wrap.
 *
 * @example
 * ```ts
 * const sch = new Fallback().apply(func, makeTarget("webgpu"));
 * ```
 */
export class Fallback implements ScheduleRule {
  /** The rule's name. */
  readonly name = "Fallback";
  readonly #maxThreads: number;

  /** Makes the rule. */
  constructor(options: FallbackOptions = {}) {
    this.#maxThreads = options.maxThreads ?? 256;
  }

  /** A schedule of `func` binding every loop nest to threads, or `undefined`. */
  apply(func: PrimFunc, target: Target): Schedule | undefined {
    if (hasThreadBinding(func.body)) return undefined;
    const threads = Math.max(1, Math.min(this.#maxThreads, target.maxThreadsPerBlock));
    let sch = inlineAll(new Schedule(func));
    for (const top of topLevelStmts(sch.func)) {
      if (top.kind === "Evaluate" && top.value.kind === "IntImm") continue;
      const { top: blocks, nested } = blocksUnder(top);
      const chain = loopChain(top);
      if (chain && blocks.length === 1 && !nested) {
        const trial = sch.copy();
        try {
          bindNest(trial, chain.realize.block.name, threads);
          sch = trial;
          continue;
        } catch {
          // fall through to a single thread
        }
      }
      try {
        bindSingleThread(sch, top);
      } catch {
        return undefined;
      }
    }
    return sch;
  }
}
