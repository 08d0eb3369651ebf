/**
 * The primitive sequences the reduction rules document, written out by hand for the tests'
 * expected schedules, plus small queries on scheduled and lowered functions.
 *
 * @module
 */

import type { PrimFunc } from "../../../ir/tir/prim_func.ts";
import type { For, Stmt } from "../../../ir/tir/stmt.ts";
import { visitStmt } from "../../../ir/visit.ts";
import type { Schedule } from "../../../transform/schedule/schedule.ts";
import type { BlockRV, LoopRV } from "../../../transform/schedule/trace.ts";

/**
 * The documented cross-thread reduction of `block` under `outer` with `threads` threads and
 * combine levels of `fan` values: partial results per thread (accumulated in a register, stored
 * to shared memory), combine levels of `fan` on fewer threads, the last one on one thread.
 */
export function crossThreadSteps(
  sch: Schedule,
  block: BlockRV,
  outer: LoopRV,
  threads: number,
  fan: number,
): LoopRV {
  const own = (b: BlockRV) => {
    const ls = sch.getLoops(b);
    return ls.slice(ls.findIndex((l) => l.var === outer.var) + 1);
  };
  const red = own(block);
  const k = red.length === 1 ? red[0]! : sch.fuse(...red);
  const [, tx] = sch.split(k, [undefined, threads]);
  const rf = sch.rfactor(tx!, 0);
  const [k0, t] = own(rf);
  sch.reorder(t!, k0!);
  sch.bind(t!, "threadIdx.x");
  sch.setScope(rf, 0, "shared");
  sch.reverseComputeAt(sch.cacheWrite(rf, 0, "local"), t!);
  sch.decomposeReduction(rf, k0!);
  if (!sch.getLoops(block).some((l) => l.var === outer.var)) sch.reverseComputeAt(block, outer);
  for (let width = threads; width > fan; width /= fan) {
    const [w] = own(block).slice(-1);
    const [, w1] = sch.split(w!, [fan, undefined]);
    const level = sch.rfactor(w1!, 0);
    const [u, v] = own(level);
    sch.reorder(v!, u!);
    sch.bind(v!, "threadIdx.x");
    sch.setScope(level, 0, "shared");
  }
  const unit = sch.addUnitLoop(own(block)[0]!);
  sch.bind(unit, "threadIdx.x");
  return unit;
}

/** The thread-bound loops of `f` as `tag:extent` (constant extents), in program order. */
export function threadLoops(f: PrimFunc): string[] {
  const out: string[] = [];
  visitStmt(f.body, {
    stmt: (s) => {
      if (s.kind === "For" && s.threadTag) {
        out.push(`${s.threadTag}:${s.extent.kind === "IntImm" ? s.extent.value : "?"}`);
      }
    },
  });
  return out;
}

/** The allocations of a lowered function as `name:scope:size`. */
export function allocations(f: PrimFunc): string[] {
  const out: string[] = [];
  visitStmt(f.body, {
    stmt: (s) => {
      if (s.kind !== "AllocBuffer") return;
      const size = s.buffer.shape.length === 1 && s.buffer.shape[0]!.kind === "IntImm"
        ? s.buffer.shape[0]!.value
        : "?";
      out.push(`${s.buffer.name}:${s.buffer.scope}:${size}`);
    },
  });
  return out;
}

/** How many `tvm_storage_sync` barriers a function has. */
export function barrierCount(f: PrimFunc): number {
  let n = 0;
  visitStmt(f.body, {
    stmt: (s) => {
      if (
        s.kind === "Evaluate" && s.value.kind === "Call" && s.value.op === "tir.tvm_storage_sync"
      ) {
        n++;
      }
    },
  });
  return n;
}

/** The top-level loop of a function's root block (its first statement). */
export function topLoop(f: PrimFunc): For {
  let s: Stmt = f.body.kind === "SBlockRealize" ? f.body.block.body : f.body;
  while (s.kind === "AllocBuffer" || s.kind === "DeclBuffer") s = s.body;
  if (s.kind === "SeqStmt") s = s.seq[0]!;
  if (s.kind !== "For") throw new Error(`expected a loop at the top, got ${s.kind}`);
  return s;
}
