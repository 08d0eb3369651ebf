/**
 * What the `Matmul` and `GEMV` rules need to know about a function: its one reduction block,
 * once the injective blocks before it are inlined, read as `C[s...] += A[...] * B[...]`, with
 * its iteration variables sorted into batch, row, column and reduction groups.
 *
 * @module
 */

import type { Buffer, BufferLoad, PrimExpr, Var } from "../../ir/expr.ts";
import type { PrimFunc } from "../../ir/tir/prim_func.ts";
import type { SBlock, Stmt } from "../../ir/tir/stmt.ts";
import { visitPrimExpr } from "../../ir/visit.ts";
import type { Schedule } from "../schedule/schedule.ts";
import type { LoopRV } from "../schedule/trace.ts";
import { blocksUnder, rootRealize, topLevelStmts } from "./_analysis.ts";

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

function isReduction(b: SBlock): boolean {
  return b.iterVars.some((iv) => iv.iterKind !== "spatial");
}

/** The reduction block and the blocks after it, once the blocks before it are inlined. */
export interface MainBlock {
  /** The reduction block. */
  readonly main: string;
  /** The blocks after it (its elementwise epilogue), in program order. */
  readonly epilogue: readonly string[];
}

/**
 * Inlines every block before the function's only reduction block (its injective prologue) and
 * returns that block with the blocks after it; `undefined` when the function has no or several
 * reduction blocks, nested blocks, or a prologue block that cannot be inlined.
 */
export function inlinePrologue(sch: Schedule): MainBlock | undefined {
  for (const top of topLevelStmts(sch.func)) {
    const { top: blocks, nested } = blocksUnder(top);
    if (nested || blocks.length > 1) return undefined;
  }
  const names = blockNames(sch.func);
  const reductions = names.filter((n) => isReduction(sch.get(sch.getSBlock(n))));
  if (reductions.length !== 1) return undefined;
  const main = reductions[0]!;
  const at = names.indexOf(main);
  for (const name of names.slice(0, at)) {
    try {
      sch.computeInline(sch.getSBlock(name));
    } catch {
      return undefined;
    }
  }
  const epilogue = names.slice(at + 1);
  for (const name of epilogue) {
    if (isReduction(sch.get(sch.getSBlock(name)))) return undefined;
  }
  return { main, epilogue };
}

/** A reduction block read as `C[s...] += A[...] * B[...]`, its iteration variables grouped. */
export interface ContractionInfo {
  /** The output buffer `C`. */
  readonly output: Buffer;
  /** The operand indexed by the row variables (`A`). */
  readonly lhs: Buffer;
  /** The operand indexed by the column variables (`B`). */
  readonly rhs: Buffer;
  /** The indices `A` is loaded at. */
  readonly lhsIndices: readonly PrimExpr[];
  /** The indices `B` is loaded at. */
  readonly rhsIndices: readonly PrimExpr[];
  /** Spatial variables both operands use (or neither), in block order. */
  readonly batch: readonly Var[];
  /** Spatial variables only `A` uses. */
  readonly rows: readonly Var[];
  /** Spatial variables only `B` uses. */
  readonly cols: readonly Var[];
  /** Reduction variables (both operands use each). */
  readonly red: readonly Var[];
  /** The loop binding each iteration variable. */
  readonly loopOf: ReadonlyMap<Var, LoopRV>;
  /** Each iteration variable's extent. */
  readonly extentOf: ReadonlyMap<Var, PrimExpr>;
}

function loadsIn(e: PrimExpr): BufferLoad[] {
  const out: BufferLoad[] = [];
  visitPrimExpr(e, (x) => void (x.kind === "BufferLoad" && out.push(x)));
  return out;
}

function varsIn(es: readonly PrimExpr[]): Set<Var> {
  const out = new Set<Var>();
  for (const e of es) visitPrimExpr(e, (x) => void (x.kind === "Var" && out.add(x)));
  return out;
}

/**
 * Reads block `name` as a contraction `C[s...] = C[s...] + f(A[...], B[...])` with an init,
 * where `C` is indexed by distinct spatial iteration variables, `f` loads exactly two other
 * buffers once each, every reduction variable indexes both, and every iteration variable is
 * bound to its own loop of the block's loop nest. `undefined` otherwise.
 */
export function contractionInfo(sch: Schedule, name: string): ContractionInfo | undefined {
  const block = sch.getSBlock(name);
  const realize = sch.getSBlockRealize(block);
  const b = realize.block;
  const st = b.body;
  if (!b.init || st.kind !== "BufferStore" || st.value.kind !== "Add") return undefined;
  const C = st.buffer;
  const same = (e: PrimExpr) =>
    e.kind === "BufferLoad" && e.buffer === C &&
    e.indices.every((x, i) => x === st.indices[i]);
  const rest = same(st.value.a) ? st.value.b : same(st.value.b) ? st.value.a : undefined;
  if (rest === undefined) return undefined;
  const loads = loadsIn(rest);
  if (loads.length !== 2 || loads.some((l) => l.buffer === C)) return undefined;
  if (loads[0]!.buffer === loads[1]!.buffer) return undefined;
  const spatial = b.iterVars.filter((iv) => iv.iterKind === "spatial").map((iv) => iv.var);
  const red = b.iterVars.filter((iv) => iv.iterKind === "reduce").map((iv) => iv.var);
  if (red.length === 0 || red.length + spatial.length !== b.iterVars.length) return undefined;
  // C indexed by distinct spatial variables, all of them
  if (st.indices.length !== spatial.length) return undefined;
  if (!st.indices.every((x) => x.kind === "Var" && spatial.includes(x))) return undefined;
  if (new Set(st.indices).size !== spatial.length) return undefined;
  // Operands indexed by plain iteration variables only, each at most once: a convolution
  // (`x[h + rh]`) or a broadcast batch (`x[0, i, k]`) is not a matmul for this rule.
  const iterVars = new Set<Var>([...spatial, ...red]);
  for (const l of loads) {
    if (!l.indices.every((x) => x.kind === "Var" && iterVars.has(x))) return undefined;
    if (new Set(l.indices).size !== l.indices.length) return undefined;
  }
  const [u0, u1] = loads.map((l) => varsIn(l.indices)) as [Set<Var>, Set<Var>];
  if (!red.every((v) => u0.has(v) && u1.has(v))) return undefined;
  const only0: Var[] = [], only1: Var[] = [], batch: Var[] = [];
  for (const x of st.indices) {
    const v = x as Var;
    if (u0.has(v) && !u1.has(v)) only0.push(v);
    else if (u1.has(v) && !u0.has(v)) only1.push(v);
    else if (u0.has(v) && u1.has(v)) batch.push(v);
    else return undefined; // an output axis neither operand reads: a broadcast, not a matmul
  }
  // A is the operand whose own variables come first in C's indices
  const firstOf = (vs: Var[]) => (vs.length ? st.indices.indexOf(vs[0]!) : Infinity);
  const swap = firstOf(only1) < firstOf(only0);
  // every iteration variable bound to its own loop
  const loops = sch.getLoops(block);
  const loopOf = new Map<Var, LoopRV>();
  const used = new Set<Var>();
  const extentOf = new Map<Var, PrimExpr>();
  for (const [i, iv] of b.iterVars.entries()) {
    const value = realize.iterValues[i]!;
    const loop = value.kind === "Var" ? loops.find((l) => l.var === value) : undefined;
    if (!loop || used.has(loop.var)) return undefined;
    used.add(loop.var);
    loopOf.set(iv.var, loop);
    extentOf.set(iv.var, iv.dom.extent);
  }
  if (loops.length !== b.iterVars.length) return undefined;
  return {
    output: C,
    lhs: loads[swap ? 1 : 0]!.buffer,
    rhs: loads[swap ? 0 : 1]!.buffer,
    lhsIndices: loads[swap ? 1 : 0]!.indices,
    rhsIndices: loads[swap ? 0 : 1]!.indices,
    batch,
    rows: swap ? only1 : only0,
    cols: swap ? only0 : only1,
    red,
    loopOf,
    extentOf,
  };
}

/** The constant product of the extents of `vars` (1 when empty), or `undefined` if symbolic. */
export function constExtent(info: ContractionInfo, vars: readonly Var[]): number | undefined {
  let p = 1;
  for (const v of vars) {
    const e = info.extentOf.get(v)!;
    if (e.kind !== "IntImm") return undefined;
    p *= e.value;
  }
  return p;
}

/**
 * Reorders the block's loops into batch, row, column and reduction groups and fuses each
 * group into one loop (`undefined` for an empty group).
 */
export function groupLoops(sch: Schedule, info: ContractionInfo): {
  batch: LoopRV | undefined;
  rows: LoopRV | undefined;
  cols: LoopRV | undefined;
  red: LoopRV;
} {
  const groups = [info.batch, info.rows, info.cols, info.red].map((g) =>
    g.map((v) => info.loopOf.get(v)!)
  );
  const order = groups.flat();
  sch.reorder(...order);
  const fused = groups.map((g) => (g.length === 0 ? undefined : sch.fuse(...g)));
  return { batch: fused[0], rows: fused[1], cols: fused[2], red: fused[3]! };
}
