/**
 * `LowerInitBlock`: turns the `init` statement of each reduction block into an ordinary
 * statement at the start of the block body, guarded by "every reduction iteration variable is at
 * the start of its domain".
 *
 * @module
 */

import { and, eq, type PrimExpr } from "../../ir/expr.ts";
import { ifThenElse, type SBlock, seq, type Stmt } from "../../ir/tir/stmt.ts";
import { rewritePrimFunc } from "../../ir/visit.ts";
import { type Pass, primFuncPass } from "../pass.ts";

/**
 * The body of `block` with its init statement folded in: `if (r0 == min0 && ...) init; body`.
 * A block without reduction variables runs its init unconditionally.
 */
function foldInit(block: SBlock): SBlock {
  if (block.init === undefined) return block;
  let cond: PrimExpr | undefined;
  for (const iv of block.iterVars) {
    if (iv.iterKind !== "reduce") continue;
    const c = eq(iv.var, iv.dom.min);
    cond = cond === undefined ? c : and(cond, c);
  }
  const init = cond === undefined ? block.init : ifThenElse(cond, block.init);
  return { ...block, init: undefined, body: seq(init, block.body) };
}

function lowerStmt(s: Stmt): Stmt | undefined {
  if (s.kind === "SBlockRealize") {
    const b = foldInit(s.block);
    return b === s.block ? undefined : { ...s, block: b };
  }
  if (s.kind === "SBlock") {
    const b = foldInit(s);
    return b === s ? undefined : b;
  }
  return undefined;
}

/**
 * Lowers the `init` part of reduction blocks (TVM's `LowerInitBlock`):
 *
 * ```
 * with T.sblock("C"):            with T.sblock("C"):
 *   vk = T.axis.reduce(K, k)        vk = T.axis.reduce(K, k)
 *   with T.init():           =>     if vk == 0:
 *     C[vi] = 0                       C[vi] = 0
 *   C[vi] += A[vi, vk]              C[vi] += A[vi, vk]
 * ```
 *
 * Returns the module itself when no block has an init statement.
 */
export const lowerInitBlock: Pass = primFuncPass(
  "LowerInitBlock",
  (f) => rewritePrimFunc(f, { stmt: lowerStmt }),
);
