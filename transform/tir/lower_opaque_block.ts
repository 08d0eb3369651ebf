/**
 * `LowerOpaqueBlock`: removes the (opaque) blocks, turning their allocations into
 * `AllocBuffer` statements and their predicates into `IfThenElse`, and removes unit loops.
 *
 * @module
 */

import type { PrimExpr, Var } from "../../ir/expr.ts";
import type { PrimFunc } from "../../ir/tir/prim_func.ts";
import { allocBuffer, ifThenElse, type SBlock, type Stmt } from "../../ir/tir/stmt.ts";
import { rewritePrimFunc } from "../../ir/visit.ts";
import { type Pass, primFuncPass } from "../pass.ts";
import { funcName, substituteExpr } from "./_util.ts";

function lower(f: PrimFunc, name: string): PrimFunc {
  // Unit loops are removed: their variable becomes the loop start.
  const unit = new Map<Var, PrimExpr>();
  const check = (b: SBlock) => {
    if (b.iterVars.length > 0) {
      throw new Error(
        `Cannot lower block "${b.name}" of "${name}": it is not opaque (run convertBlocksToOpaque first)`,
      );
    }
    if (b.init !== undefined) {
      throw new Error(
        `Cannot lower block "${b.name}" of "${name}": it still has an init statement (run lowerInitBlock first)`,
      );
    }
    if (b.matchBuffers.length > 0) {
      throw new Error(
        `Cannot lower block "${b.name}" of "${name}": match_buffer "${
          b.matchBuffers[0]!.buffer.name
        }" is not supported`,
      );
    }
  };
  const unwrap = (b: SBlock, predicate: PrimExpr | undefined): Stmt => {
    let body = b.body;
    if (predicate !== undefined && !(predicate.kind === "IntImm" && predicate.value === 1)) {
      body = ifThenElse(predicate, body);
    }
    for (let i = b.allocBuffers.length - 1; i >= 0; i--) {
      body = allocBuffer(b.allocBuffers[i]!, body);
    }
    return body;
  };
  return rewritePrimFunc(f, {
    preStmt: (s) => {
      if (s.kind === "SBlockRealize") check(s.block);
      else if (s.kind === "SBlock") check(s);
      else if (
        s.kind === "For" && s.forKind !== "thread_binding" && s.extent.kind === "IntImm" &&
        s.extent.value === 1 && Object.keys(s.annotations).length === 0
      ) {
        unit.set(s.loopVar, substituteExpr(s.min, unit));
      }
      return undefined;
    },
    expr: (e) => (e.kind === "Var" ? unit.get(e) : undefined),
    stmt: (s) => {
      switch (s.kind) {
        case "SBlockRealize":
          return unwrap(s.block, s.predicate);
        case "SBlock":
          return unwrap(s, undefined);
        case "For":
          return unit.has(s.loopVar) ? s.body : undefined;
        default:
          return undefined;
      }
    },
  });
}

/**
 * Removes blocks (TVM's `LowerOpaqueBlock`). Each opaque block is replaced by its body; its
 * allocations become `AllocBuffer` statements around the body (first buffer outermost) and a
 * realize predicate other than `true` becomes an `IfThenElse` inside them. Block annotations
 * and access regions are dropped. Serial, unrolled, vectorized or parallel loops of extent 1
 * without annotations are removed, their variable replaced by the loop start; thread-binding
 * loops stay `For` loops with their thread tag.
 *
 * ```
 * for i in range(16):                        for i in range(16):
 *   with T.sblock(""):                         tmp = T.alloc_buffer((1,))
 *     tmp = T.sblock_alloc_buffer((1,))   =>   if i < 10:
 *     T.where(i < 10)                            tmp[0] = A[i]
 *     tmp[0] = A[i]                              B[i] = tmp[0]
 *     B[i] = tmp[0]
 * ```
 *
 * Blocks must be opaque, without init and without match buffers. Returns the module itself when
 * there is nothing to lower.
 */
export const lowerOpaqueBlock: Pass = primFuncPass(
  "LowerOpaqueBlock",
  (f, name) => lower(f, funcName(f, name)),
);
