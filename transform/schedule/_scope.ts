/**
 * Block scopes for the primitives that add blocks and buffers: the enclosing scope block of a
 * block, its children, buffer lookups by access index, allocation, insertion into sequences.
 *
 * @module
 */

import type { Buffer, StorageScope } from "../../ir/expr.ts";
import type { PrimFunc } from "../../ir/tir/prim_func.ts";
import {
  type SBlock,
  type SBlockRealize,
  seq,
  type SeqStmt,
  type Stmt,
} from "../../ir/tir/stmt.ts";
import { allRealizes, childRealizes, findPath, replaceNode } from "./_tree.ts";

/** The storage scopes a cache or `setScope` accepts. */
const SCOPES: readonly StorageScope[] = ["global", "shared", "shared.dyn", "local"];

/** Throws unless `scope` is a storage scope a schedule can allocate in. */
export function checkScope(head: string, scope: string): StorageScope {
  if (!(SCOPES as readonly string[]).includes(scope)) {
    throw new Error(
      `${head}: "${scope}" is not a storage scope (expected one of ${SCOPES.join(", ")})`,
    );
  }
  return scope as StorageScope;
}

/** The scope block of a block: the nearest block realize above the end of `path`. */
export interface BlockScope {
  /** The realize of the scope block. */
  readonly realize: SBlockRealize;
  /** Its position in `path`. */
  readonly depth: number;
}

/** The scope enclosing the node at the end of `path`, or `undefined` at the top. */
export function scopeOf(path: readonly Stmt[]): BlockScope | undefined {
  for (let i = path.length - 2; i >= 0; i--) {
    const s = path[i]!;
    if (s.kind === "SBlockRealize") return { realize: s, depth: i };
  }
  return undefined;
}

/** The statements of a scope block's body (its sequence, or the body alone). */
export function scopeChildren(block: SBlock): readonly Stmt[] {
  return block.body.kind === "SeqStmt" ? block.body.seq : [block.body];
}

/** The index among `children` of the child that is on `path` (or -1). */
export function childIndexOn(children: readonly Stmt[], path: readonly Stmt[]): number {
  return children.findIndex((c) => path.includes(c));
}

/** The index among `children` of the child holding the realize `r` (or -1). */
export function childIndexOf(children: readonly Stmt[], r: SBlockRealize): number {
  return children.findIndex((c) => c === r || allRealizes(c).includes(r));
}

/** The blocks of a scope (its child blocks, not nested ones). */
export function scopeBlocks(scope: BlockScope): SBlockRealize[] {
  return childRealizes(scope.realize.block);
}

/** Whether `b` is the buffer of a function parameter. */
export function isParamBuffer(func: PrimFunc, b: Buffer): boolean {
  for (const x of func.bufferMap.values()) if (x === b) return true;
  return false;
}

/** The buffer of the `index`-th read or write region of a block (with a clear error). */
export function accessBuffer(
  block: SBlock,
  index: number,
  type: "read" | "write",
  head: string,
): Buffer {
  const regions = type === "read" ? block.reads : block.writes;
  const r = Number.isInteger(index) ? regions.at(index) : undefined;
  if (!r || index < 0) {
    throw new Error(
      `${head}: block "${block.name}" has ${regions.length} ${type} region${
        regions.length === 1 ? "" : "s"
      }, index ${index} is out of range`,
    );
  }
  return r.buffer;
}

/** Whether a block reads `b` according to its signature. */
export function readsBuffer(block: SBlock, b: Buffer): boolean {
  return block.reads.some((r) => r.buffer === b);
}

/** Whether a block writes `b` according to its signature. */
export function writesBuffer(block: SBlock, b: Buffer): boolean {
  return block.writes.some((r) => r.buffer === b);
}

/** `base`, or `base_1`, `base_2`, ... : a block name not used in the function yet. */
export function uniqueBlockName(func: PrimFunc, base: string): string {
  const names = new Set(allRealizes(func.body).map((r) => r.block.name));
  if (!names.has(base)) return base;
  for (let i = 1;; i++) if (!names.has(`${base}_${i}`)) return `${base}_${i}`;
}

/** The scope block with `stmt` inserted at `pos` of its body and `alloc` allocated in it. */
export function insertIntoScope(
  func: PrimFunc,
  scope: BlockScope,
  pos: number,
  stmt: Stmt | undefined,
  alloc: Buffer | undefined,
  rewriteBody: (s: Stmt) => Stmt = (s) => s,
): PrimFunc {
  const b = scope.realize.block;
  const kids = [...scopeChildren(b)];
  if (stmt) kids.splice(pos, 0, stmt);
  const body = rewriteBody(seq(...kids));
  const block: SBlock = {
    ...b,
    body,
    allocBuffers: alloc ? [...b.allocBuffers, alloc] : b.allocBuffers,
  };
  return { ...func, body: replaceNode(func.body, scope.realize, { ...scope.realize, block }) };
}

/**
 * Replaces `target` under `root` by the statements `stmts`; when its parent is a sequence they
 * are spliced into it (no nested sequences).
 */
export function replaceWithSeq(root: Stmt, target: Stmt, stmts: readonly Stmt[]): Stmt {
  const path = findPath(root, (s) => s === target);
  const parent = path?.[path.length - 2];
  if (parent?.kind === "SeqStmt") {
    const spliced: SeqStmt = {
      ...parent,
      seq: parent.seq.flatMap((x) => (x === target ? stmts : [x])),
    };
    return replaceNode(root, parent, spliced);
  }
  return replaceNode(root, target, seq(...stmts));
}
