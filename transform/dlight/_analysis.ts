/**
 * What the dlight rules need to know about a PrimFunc: its top-level statements, thread
 * bindings, and how each loop feeds a block's iteration variables.
 *
 * @module
 */

import { LinearSum } from "../../ir/arith/linear.ts";
import type { PrimExpr, Var } from "../../ir/expr.ts";
import type { PrimFunc } from "../../ir/tir/prim_func.ts";
import type { For, SBlockRealize, Stmt } from "../../ir/tir/stmt.ts";
import { visitPrimExpr, visitStmt } from "../../ir/visit.ts";
import type { Schedule } from "../schedule/schedule.ts";
import type { LoopRV } from "../schedule/trace.ts";

/** Whether any loop in the function is bound to a thread. */
export function hasThreadBinding(s: Stmt): boolean {
  let found = false;
  visitStmt(s, {
    stmt: (x) => {
      if (found) return false;
      if (x.kind === "For" && x.forKind === "thread_binding") found = true;
      return !found;
    },
  });
  return found;
}

/** The root block's realize, when the body is one (a block with no iteration variables). */
export function rootRealize(func: PrimFunc): SBlockRealize | undefined {
  const b = func.body;
  return b.kind === "SBlockRealize" && b.block.iterVars.length === 0 ? b : undefined;
}

/**
 * The statements at the top of the function's root scope (inside the root block and any
 * allocations or declarations around the body), in order.
 */
export function topLevelStmts(func: PrimFunc): readonly Stmt[] {
  let s: Stmt = rootRealize(func)?.block.body ?? func.body;
  while (s.kind === "AllocBuffer" || s.kind === "DeclBuffer") s = s.body;
  return s.kind === "SeqStmt" ? s.seq : [s];
}

/** The block realizes under `s` that are not nested in other blocks, and whether any are. */
export function blocksUnder(s: Stmt): { top: SBlockRealize[]; nested: boolean } {
  const top: SBlockRealize[] = [];
  let nested = false;
  const go = (x: Stmt, depth: number): void => {
    if (x.kind === "SBlockRealize") {
      if (depth === 0) top.push(x);
      else nested = true;
      go(x.block.body, depth + 1);
      if (x.block.init) go(x.block.init, depth + 1);
      return;
    }
    switch (x.kind) {
      case "For":
      case "LetStmt":
      case "AllocBuffer":
      case "DeclBuffer":
      case "AssertStmt":
      case "While":
        go(x.body, depth);
        return;
      case "SeqStmt":
        for (const y of x.seq) go(y, depth);
        return;
      case "IfThenElse":
        go(x.then, depth);
        if (x.else) go(x.else, depth);
        return;
      default:
        return;
    }
  };
  go(s, 0);
  return { top, nested };
}

/** The chain of loops from `s` down to a single block realize, if `s` is exactly that. */
export function loopChain(s: Stmt): { loops: For[]; realize: SBlockRealize } | undefined {
  const loops: For[] = [];
  let x = s;
  while (x.kind === "For") {
    loops.push(x);
    x = x.body;
  }
  return x.kind === "SBlockRealize" ? { loops, realize: x } : undefined;
}

/** How a loop feeds a block: only spatial iter vars, only reduction ones, both/other, or none. */
export type LoopRole = "spatial" | "reduce" | "mixed" | "unused";

function uses(e: PrimExpr, v: Var): boolean {
  let found = false;
  visitPrimExpr(e, (x) => {
    if (x === v) found = true;
    return !found;
  });
  return found;
}

/** The role of loop variable `v` in a block realize. */
export function loopRole(v: Var, realize: SBlockRealize): LoopRole {
  const kinds = new Set<string>();
  realize.block.iterVars.forEach((iv, i) => {
    if (uses(realize.iterValues[i]!, v)) kinds.add(iv.iterKind);
  });
  if (kinds.size === 0) return "unused";
  if (kinds.size === 1 && kinds.has("spatial")) return "spatial";
  if (kinds.size === 1 && kinds.has("reduce")) return "reduce";
  return "mixed";
}

/** The vector width rules use for contiguous accesses: WGSL's widest vector. */
export const VECTOR_LANES = 4;

/**
 * Whether consecutive values of the innermost spatial loop `inner` touch consecutive elements of
 * every buffer the block accesses (or the same element): then each thread can handle
 * {@link VECTOR_LANES} of them as one vector. Requires a constant extent divisible by the lanes.
 */
export function contiguousInner(sch: Schedule, inner: LoopRV, realize: SBlockRealize): boolean {
  const loop = sch.get(inner);
  if (loop.extent.kind !== "IntImm" || loop.extent.value % VECTOR_LANES !== 0) return false;
  const k = realize.iterValues.findIndex((v) => v === inner.var);
  if (k < 0) return false;
  const iv = realize.block.iterVars[k]!.var;
  if (realize.iterValues.some((v, i) => i !== k && uses(v, inner.var))) {
    return false;
  }
  return [...realize.block.reads, ...realize.block.writes].every(({ region }) =>
    region.every((r, d) => {
      const coef = LinearSum.of(r.min).coefOf(iv);
      const used = uses(r.min, iv) || uses(r.extent, iv);
      if (!used) return true;
      return d === region.length - 1 && coef === 1 &&
        !LinearSum.of(r.min).terms.some((t) => t.term !== iv && uses(t.term, iv));
    })
  );
}

/**
 * Vectorizes `loop` (a constant multiple of {@link VECTOR_LANES}): as it is when it has exactly
 * the lanes, else split into unrolled runs of vectorized lanes.
 */
export function vectorizeRuns(sch: Schedule, loop: LoopRV): void {
  if ((sch.get(loop).extent as { value: number }).value === VECTOR_LANES) {
    sch.vectorize(loop);
    return;
  }
  const [runs, lanes] = sch.split(loop, [undefined, VECTOR_LANES]);
  sch.unroll(runs!);
  sch.vectorize(lanes!);
}
