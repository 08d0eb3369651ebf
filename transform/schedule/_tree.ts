/**
 * Navigating and editing TIR statement trees by node identity: paths to loops and blocks,
 * replacing and removing a node.
 *
 * @module
 */

import type { Var } from "../../ir/expr.ts";
import { rewriteStmt } from "../../ir/visit.ts";
import { type For, noOp, type SBlock, type SBlockRealize, type Stmt } from "../../ir/tir/stmt.ts";

/** The direct child statements of `s`, in program order (a realize's child is its block). */
export function childStmts(s: Stmt): readonly Stmt[] {
  switch (s.kind) {
    case "For":
    case "LetStmt":
    case "AllocBuffer":
    case "DeclBuffer":
    case "AssertStmt":
    case "While":
      return [s.body];
    case "SBlock":
      return s.init ? [s.init, s.body] : [s.body];
    case "SBlockRealize":
      return [s.block];
    case "SeqStmt":
      return s.seq;
    case "IfThenElse":
      return s.else ? [s.then, s.else] : [s.then];
    case "BufferStore":
    case "Evaluate":
      return [];
    default:
      s satisfies never;
      return [];
  }
}

/** The path from `root` to the first node (pre-order) satisfying `pred`, both ends included. */
export function findPath(root: Stmt, pred: (s: Stmt) => boolean): Stmt[] | undefined {
  const path: Stmt[] = [];
  const go = (s: Stmt): boolean => {
    path.push(s);
    if (pred(s)) return true;
    for (const c of childStmts(s)) if (go(c)) return true;
    path.pop();
    return false;
  };
  return go(root) ? path : undefined;
}

/** Calls `fn` on every statement under `root` (pre-order) with its path (ending at it). */
export function walkWithPath(root: Stmt, fn: (s: Stmt, path: readonly Stmt[]) => void): void {
  const path: Stmt[] = [];
  const go = (s: Stmt): void => {
    path.push(s);
    fn(s, path);
    for (const c of childStmts(s)) go(c);
    path.pop();
  };
  go(root);
}

/** The path to the loop whose variable is `v`. */
export function loopPath(root: Stmt, v: Var): Stmt[] | undefined {
  return findPath(root, (s) => s.kind === "For" && s.loopVar === v);
}

/** The path to the realize of the block named `name`. */
export function blockPath(root: Stmt, name: string): Stmt[] | undefined {
  return findPath(root, (s) => s.kind === "SBlockRealize" && s.block.name === name);
}

/** The loops on `path` (which ends at a node) between the node and its nearest enclosing block. */
export function loopsAbove(path: readonly Stmt[]): For[] {
  const loops: For[] = [];
  for (let i = path.length - 2; i >= 0; i--) {
    const s = path[i]!;
    if (s.kind === "SBlock" || s.kind === "SBlockRealize") break;
    if (s.kind === "For") loops.unshift(s);
  }
  return loops;
}

/**
 * The block realizes at or under `s` that are not nested inside another block under `s`
 * (`s` itself when it is a realize).
 */
export function topRealizes(s: Stmt): SBlockRealize[] {
  const out: SBlockRealize[] = [];
  const go = (x: Stmt): void => {
    if (x.kind === "SBlockRealize") {
      out.push(x);
      return;
    }
    for (const c of childStmts(x)) go(c);
  };
  go(s);
  return out;
}

/** The realizes directly inside a block (its child blocks), not crossing nested blocks. */
export function childRealizes(block: SBlock): SBlockRealize[] {
  return childStmts(block).flatMap(topRealizes);
}

/** Every block realize under `s` (nested ones included), in program order. */
export function allRealizes(s: Stmt): SBlockRealize[] {
  const out: SBlockRealize[] = [];
  walkWithPath(s, (x) => {
    if (x.kind === "SBlockRealize") out.push(x);
  });
  return out;
}

/** Replaces the node `target` (by identity) under `root` with `repl`. */
export function replaceNode(root: Stmt, target: Stmt, repl: Stmt): Stmt {
  if (root === target) return repl;
  return rewriteStmt(root, { preStmt: (s) => (s === target ? repl : undefined) });
}

const REMOVED: Stmt = noOp();

/**
 * Removes `target` from under `root`. Loops, lets and allocations whose body disappears vanish
 * with it; a block whose body disappears gets an empty body.
 */
export function removeNode(root: Stmt, target: Stmt): Stmt {
  const out = rewriteStmt(root, {
    preStmt: (s) => (s === target ? REMOVED : undefined),
    stmt: (s) => {
      switch (s.kind) {
        case "SeqStmt": {
          if (!s.seq.includes(REMOVED)) return undefined;
          const rest = s.seq.filter((x) => x !== REMOVED);
          if (rest.length === 0) return REMOVED;
          if (rest.length === 1) return rest[0]!;
          return { ...s, seq: rest };
        }
        case "For":
        case "LetStmt":
        case "AllocBuffer":
        case "DeclBuffer":
        case "AssertStmt":
        case "While":
          return s.body === REMOVED ? REMOVED : undefined;
        case "IfThenElse":
          if (s.then === REMOVED && (!s.else || s.else === REMOVED)) return REMOVED;
          if (s.then === REMOVED) return { ...s, then: noOp() };
          if (s.else === REMOVED) return { ...s, else: undefined };
          return undefined;
        case "SBlockRealize":
          return s.block.body === REMOVED
            ? { ...s, block: { ...s.block, body: noOp() } }
            : undefined;
        case "SBlock":
          return s.body === REMOVED ? { ...s, body: noOp() } : undefined;
        default:
          return undefined;
      }
    },
  });
  return out === REMOVED ? noOp() : out;
}

/**
 * The highest node of the loop nest that holds only the realize at the end of `path`: walks up
 * while the parent is a loop whose body is exactly the current node.
 */
export function exclusiveTop(path: readonly Stmt[]): Stmt {
  let i = path.length - 1;
  while (i > 0) {
    const p = path[i - 1]!;
    if (p.kind !== "For" || p.body !== path[i]) break;
    i--;
  }
  return path[i]!;
}
