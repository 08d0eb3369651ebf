/**
 * `ConvertBlocksToOpaque`: substitutes every block iteration variable by the value its realize
 * binds it to, leaving blocks without iteration variables ("opaque" blocks).
 *
 * @module
 */

import type { PrimExpr, Var } from "../../ir/expr.ts";
import type { PrimFunc } from "../../ir/tir/prim_func.ts";
import { rewritePrimExpr, rewritePrimFunc } from "../../ir/visit.ts";
import { type Pass, primFuncPass } from "../pass.ts";
import { funcName } from "./_util.ts";

/** Converts the blocks of one function; throws when a block still has an init statement. */
function convertFunc(f: PrimFunc, name?: string): PrimFunc {
  const map = new Map<Var, PrimExpr>();
  const subst = (e: PrimExpr) =>
    rewritePrimExpr(e, { expr: (x) => (x.kind === "Var" ? map.get(x) : undefined) });
  return rewritePrimFunc(f, {
    preStmt: (s) => {
      const block = s.kind === "SBlockRealize" ? s.block : s.kind === "SBlock" ? s : undefined;
      if (block === undefined) return undefined;
      if (block.init !== undefined) {
        throw new Error(
          `Cannot convert block "${block.name}" of "${funcName(f, name)}" to opaque: ` +
            `it still has an init statement (run lowerInitBlock first)`,
        );
      }
      if (s.kind === "SBlockRealize") {
        // Values are substituted with the bindings of enclosing blocks, which are already known.
        s.block.iterVars.forEach((iv, i) => map.set(iv.var, subst(s.iterValues[i]!)));
      } else if (block.iterVars.length > 0) {
        throw new Error(
          `Cannot convert block "${block.name}" of "${funcName(f, name)}" to opaque: ` +
            `it has iteration variables but no realize binds them`,
        );
      }
      return undefined;
    },
    expr: (x) => (x.kind === "Var" ? map.get(x) : undefined),
    stmt: (s) => {
      if (s.kind !== "SBlockRealize" || s.iterValues.length === 0) return undefined;
      return { ...s, iterValues: [], block: { ...s.block, iterVars: [] } };
    },
  });
}

/**
 * Makes every block opaque (TVM's `ConvertBlocksToOpaque`): block iteration variables are
 * replaced by their bound values in the block body, predicate and access regions, and the
 * realize binds nothing any more.
 *
 * ```
 * for i in range(16):                  for i in range(16):
 *   with T.sblock("B"):                  with T.sblock("B"):
 *     vi = T.axis.spatial(16, i)   =>      T.reads(A[i])
 *     B[vi] = A[vi] + 1                    B[i] = A[i] + 1
 * ```
 *
 * Blocks must have no `init` any more (run {@link lowerInitBlock} first). Returns the module
 * itself when every block is already opaque.
 */
export const convertBlocksToOpaque: Pass = primFuncPass(
  "ConvertBlocksToOpaque",
  (f, name) => convertFunc(f, name),
);
