/**
 * `ToNonDataflow`: turns every dataflow block into a plain binding block and every dataflow
 * variable into an ordinary variable (TVM's `relax.transform.ToNonDataflow`). The VM does not
 * distinguish the two; later passes then see one kind of block.
 *
 * @module
 */

import {
  type AnyVar,
  type Binding,
  type DataflowVar,
  type Expr,
  type Function,
  type RVar,
  rvar,
} from "../../ir/relax/expr.ts";
import { rewriteFunction } from "../../ir/visit.ts";
import { type Pass, relaxFunctionPass } from "../pass.ts";

/** `f` with its dataflow blocks and variables made ordinary (`f` itself when it has none). */
export function toNonDataflowFunction(f: Function): Function {
  const map = new Map<DataflowVar, RVar>();
  const plain = (v: AnyVar): RVar => {
    if (v.kind === "relax.Var") return v;
    let r = map.get(v);
    if (!r) map.set(v, r = rvar(v.name, v.structInfo));
    return r;
  };
  return rewriteFunction(f, {
    // Binding variables are renamed before the uses that follow them are visited.
    binding: (b): Binding | undefined => {
      const v = plain(b.var);
      return v === b.var ? undefined : { ...b, var: v };
    },
    expr: (e): Expr | undefined => {
      if (e.kind === "relax.DataflowVar") return plain(e);
      if (e.kind === "relax.SeqExpr" && e.blocks.some((b) => b.kind === "DataflowBlock")) {
        return {
          ...e,
          blocks: e.blocks.map((b) =>
            b.kind === "DataflowBlock" ? { ...b, kind: "BindingBlock" } : b
          ),
        };
      }
      return undefined;
    },
  });
}

/** The `ToNonDataflow` pass over every Relax function of the module. */
export const toNonDataflow: Pass = relaxFunctionPass(
  "ToNonDataflow",
  (f) => toNonDataflowFunction(f),
);
