/**
 * Checks that every block of a function runs under a blockIdx and a threadIdx binding.
 *
 * @module
 */

import type { PrimFunc } from "../../../ir/tir/prim_func.ts";
import type { Stmt } from "../../../ir/tir/stmt.ts";

/** Throws unless every non-root block (and every store outside blocks) is under both bindings. */
export function assertAllBound(func: PrimFunc): void {
  const go = (s: Stmt, bx: boolean, tx: boolean, root: boolean): void => {
    switch (s.kind) {
      case "For": {
        const t = s.threadTag ?? "";
        go(s.body, bx || t.startsWith("blockIdx"), tx || t.startsWith("threadIdx"), root);
        return;
      }
      case "SBlockRealize": {
        const isRoot = root && s.block.iterVars.length === 0 && s.block.name === "root";
        if (!isRoot && !(bx && tx)) {
          throw new Error(`block "${s.block.name}" is not bound to blockIdx and threadIdx`);
        }
        go(s.block.body, bx, tx, false);
        return;
      }
      case "BufferStore":
        if (!(bx && tx)) throw new Error(`a store into "${s.buffer.name}" is not bound to threads`);
        return;
      case "SeqStmt":
        for (const x of s.seq) go(x, bx, tx, root);
        return;
      case "IfThenElse":
        go(s.then, bx, tx, root);
        if (s.else) go(s.else, bx, tx, root);
        return;
      case "LetStmt":
      case "AllocBuffer":
      case "DeclBuffer":
      case "AssertStmt":
      case "While":
        go(s.body, bx, tx, root);
        return;
      case "SBlock":
        go(s.body, bx, tx, false);
        return;
      case "Evaluate":
        return;
      default:
        s satisfies never;
    }
  };
  go(func.body, false, false, true);
}
