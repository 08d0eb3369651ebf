/**
 * `PlanAndUpdateBufferAllocationLocation`: moves each buffer a block allocates down to the
 * lowest loop or block that encloses all of its accesses, so that later passes can shrink it
 * (a per-thread accumulator ends up under the thread loops).
 *
 * @module
 */

import type { Buffer, PrimExpr, Var } from "../../ir/expr.ts";
import type { PrimFunc } from "../../ir/tir/prim_func.ts";
import {
  type BufferRegion,
  bufferRegion,
  type For,
  type SBlock,
  sblock,
  sblockRealize,
  type Stmt,
} from "../../ir/tir/stmt.ts";
import { rewriteStmt, type TirRewriter, visitPrimExpr } from "../../ir/visit.ts";
import { type Pass, primFuncPass } from "../pass.ts";
import { stmtChildren, stmtExprs } from "./_util.ts";

/** A loop or block that can hold allocations, with its place in the tree. */
interface Scope {
  readonly node: For | SBlock;
  readonly parent: Scope | undefined;
  readonly depth: number;
}

function lca(a: Scope | undefined, b: Scope | undefined): Scope | undefined {
  let x = a, y = b;
  while (x !== undefined && y !== undefined && x.depth > y.depth) x = x.parent;
  while (x !== undefined && y !== undefined && y.depth > x.depth) y = y.parent;
  while (x !== y) {
    x = x?.parent;
    y = y?.parent;
  }
  return x;
}

/** Where each allocated buffer is accessed: the lowest common scope of its accesses. */
interface Analysis {
  /** Allocated buffers in the order their blocks list them (pre-order). */
  readonly buffers: Buffer[];
  /** The block that allocates each buffer now. */
  readonly owner: Map<Buffer, SBlock>;
  /** The lowest scope enclosing every access (`undefined` when there is no enclosing scope). */
  readonly lca: Map<Buffer, Scope | undefined>;
  /** Loops bound to `blockIdx.*`. */
  readonly blockIdx: Scope[];
}

function analyze(body: Stmt): Analysis {
  const a: Analysis = { buffers: [], owner: new Map(), lca: new Map(), blockIdx: [] };
  const byData = new Map<Var, Buffer>();
  const touch = (b: Buffer | undefined, scope: Scope | undefined) => {
    if (b === undefined) return;
    a.lca.set(b, a.lca.has(b) ? lca(a.lca.get(b), scope) : scope);
  };
  const scanExpr = (e: PrimExpr, scope: Scope | undefined) =>
    visitPrimExpr(e, (x) => {
      if (x.kind === "BufferLoad") touch(byData.get(x.buffer.data), scope);
      else if (x.kind === "Var") touch(byData.get(x), scope);
    });
  const walk = (s: Stmt, scope: Scope | undefined) => {
    let inner = scope;
    if (s.kind === "For" || s.kind === "SBlock") {
      inner = { node: s, parent: scope, depth: scope === undefined ? 0 : scope.depth + 1 };
      if (s.kind === "For" && s.threadTag?.startsWith("blockIdx")) a.blockIdx.push(inner);
    }
    if (s.kind === "SBlock") {
      for (const b of s.allocBuffers) {
        a.buffers.push(b);
        a.owner.set(b, s);
        byData.set(b.data, b);
      }
      for (const m of s.matchBuffers) touch(byData.get(m.source.buffer.data), inner);
    }
    if (s.kind === "BufferStore") touch(byData.get(s.buffer.data), scope);
    // Loop bounds are evaluated outside the loop; block regions describe the block itself.
    for (const e of stmtExprs(s)) scanExpr(e, s.kind === "For" ? scope : inner);
    for (const c of stmtChildren(s)) walk(c, inner);
  };
  walk(body, undefined);
  return a;
}

/** Full-buffer regions of the buffers read and written under `s`, except those in `skip`. */
function accessRegions(s: Stmt, skip: ReadonlySet<Var>): [BufferRegion[], BufferRegion[]] {
  const reads: Buffer[] = [], writes: Buffer[] = [];
  const note = (list: Buffer[], b: Buffer) => {
    if (!skip.has(b.data) && !list.includes(b)) list.push(b);
  };
  const walk = (x: Stmt, local: ReadonlySet<Var>) => {
    let inner = local;
    if (x.kind === "SBlock" && x.allocBuffers.length > 0) {
      inner = new Set([...local, ...x.allocBuffers.map((b) => b.data)]);
    }
    if (x.kind === "AllocBuffer") inner = new Set([...local, x.buffer.data]);
    for (const e of stmtExprs(x)) {
      visitPrimExpr(e, (y) => {
        if (y.kind === "BufferLoad" && !inner.has(y.buffer.data)) note(reads, y.buffer);
      });
    }
    if (x.kind === "BufferStore" && !inner.has(x.buffer.data)) note(writes, x.buffer);
    for (const c of stmtChildren(x)) walk(c, inner);
  };
  walk(s, skip);
  return [reads.map((b) => bufferRegion(b)), writes.map((b) => bufferRegion(b))];
}

/** An opaque block allocating `buffers` around `body`. */
function allocBlock(body: Stmt, buffers: readonly Buffer[], name: string): Stmt {
  const [reads, writes] = accessRegions(body, new Set(buffers.map((b) => b.data)));
  return sblockRealize([], sblock(name, body, { reads, writes, allocBuffers: buffers }));
}

function plan(f: PrimFunc): PrimFunc {
  const a = analyze(f.body);
  if (a.buffers.length === 0) return f;
  // Where each buffer goes: a loop (its body gets an opaque block) or a block.
  const target = new Map<Buffer, For | SBlock | undefined>();
  for (const b of a.buffers) {
    if (!a.lca.has(b)) {
      target.set(b, a.owner.get(b)); // never accessed: stays where it is
      continue;
    }
    let scope = a.lca.get(b);
    if (b.scope === "global") {
      // A global buffer is shared by all thread blocks: allocate it outside every blockIdx loop.
      for (const bx of a.blockIdx) scope = lca(scope, bx.parent);
    }
    target.set(b, scope?.node);
  }
  if (a.buffers.every((b) => target.get(b) === a.owner.get(b))) return f;

  const at = new Map<For | SBlock | undefined, Buffer[]>();
  for (const b of a.buffers) {
    const t = target.get(b);
    at.set(t, [...(at.get(t) ?? []), b]);
  }
  // Work on the original nodes (pre-order) so that scopes are found by identity.
  const rw: TirRewriter = {
    preStmt: (s) => {
      if (s.kind === "For" && at.has(s)) {
        return { ...s, body: allocBlock(rewriteStmt(s.body, rw), at.get(s)!, "") };
      }
      if (s.kind === "SBlockRealize") {
        const blk = rewriteBlock(s.block);
        return blk === s.block ? s : { ...s, block: blk };
      }
      return s.kind === "SBlock" ? rewriteBlock(s) : undefined;
    },
  };
  const rewriteBlock = (blk: SBlock): SBlock => {
    const init = blk.init && rewriteStmt(blk.init, rw);
    const body = rewriteStmt(blk.body, rw);
    const want = at.get(blk) ?? [];
    const same = want.length === blk.allocBuffers.length &&
      want.every((b, i) => b === blk.allocBuffers[i]);
    if (same && init === blk.init && body === blk.body) return blk;
    return { ...blk, init, body, allocBuffers: same ? blk.allocBuffers : want };
  };
  let body = rewriteStmt(f.body, rw);
  const rootBuffers = at.get(undefined);
  if (rootBuffers !== undefined) body = allocBlock(body, rootBuffers, "root");
  return body === f.body ? f : { ...f, body };
}

/**
 * Moves buffer allocations to where they are used (TVM's
 * `PlanAndUpdateBufferAllocationLocation`): each buffer that a block allocates goes to the lowest
 * loop or block enclosing all its accesses. A loop gets a new opaque block around its body to
 * hold the allocation. A `"global"` buffer stays outside every `blockIdx` loop, since all thread
 * blocks share it. Buffers that are never accessed stay where they are.
 *
 * ```
 * with T.sblock("root"):                  with T.sblock("root"):
 *   acc = T.sblock_alloc_buffer((64,))      for i in range(64):
 *   for i in range(64):              =>       with T.sblock(""):
 *     ... acc[i] ...                            acc = T.sblock_alloc_buffer((64,))
 *                                               ... acc[i] ...
 * ```
 *
 * Returns the module itself when every buffer is already at its place.
 */
export const planAndUpdateBufferAllocationLocation: Pass = primFuncPass(
  "PlanAndUpdateBufferAllocationLocation",
  (f) => plan(f),
);
