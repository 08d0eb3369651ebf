/**
 * `CallTIRRewrite`: makes output allocation explicit (TVM's `relax.transform.CallTIRRewrite`).
 *
 * ```
 * y = R.call_tir(cls.f, (x,), out_sinfo=R.Tensor((n, 4), "float32"), tir_vars=R.shape([m]))
 * ```
 * becomes
 * ```
 * alloc = R.builtin.alloc_tensor(R.shape([n, 4]), R.dtype("float32"), R.prim_value(0))
 * _ = cls.f(x, alloc, R.shape([m]))
 * y = alloc
 * ```
 * and `R.call_dps_packed("g", (x,), out_sinfo=...)` becomes `R.call_packed("g", x, alloc)`
 * likewise. Several outputs give several allocations and `y = (alloc, alloc1)`.
 *
 * @module
 */

import {
  type AnyVar,
  type Binding,
  type BindingBlock,
  dataflowVar,
  type Expr,
  type Function,
  rcall,
  rvar,
  shapeExpr,
  tuple,
  varBinding,
} from "../../ir/relax/expr.ts";
import { fmtSInfo } from "../../ir/relax/op/registry.ts";
import type { StructInfo } from "../../ir/relax/struct_info.ts";
import { rewriteFunction } from "../../ir/visit.ts";
import { type Pass, relaxFunctionPass } from "../pass.ts";
import { allocTensor, VOID_SINFO } from "./builtin_ops.ts";

function calleeName(e: Expr): string {
  return e.kind === "GlobalVar" ? e.name : e.kind === "relax.ExternFunc" ? e.globalSymbol : e.kind;
}

/** The bindings that replace `b` (a call_tir / call_dps_packed binding), or `undefined`. */
function rewriteBinding(b: Binding, dataflow: boolean, fname: string): Binding[] | undefined {
  const call = b.value;
  if (b.kind !== "VarBinding" || call.kind !== "relax.Call" || call.op.kind !== "relax.Op") {
    return undefined;
  }
  const opName = call.op.name;
  if (opName !== "relax.call_tir" && opName !== "relax.call_dps_packed") return undefined;
  const short = opName.slice(6);
  const [callee, args, tirVars] = call.args;
  const where = `${fname}: ${short} of "${callee ? calleeName(callee) : "?"}"`;
  if (!callee || !args || args.kind !== "relax.Tuple") {
    throw new Error(`${where}: the arguments must be an explicit tuple`);
  }
  const out = call.sinfoArgs[0];
  if (!out) throw new Error(`${where}: missing out_sinfo`);
  const outs: readonly StructInfo[] = out.kind === "TupleStructInfo" ? out.fields : [out];
  const mk = (name: string, s: StructInfo): AnyVar =>
    dataflow ? dataflowVar(name, s) : rvar(name, s);
  const bindings: Binding[] = [];
  const allocs = outs.map((s, i) => {
    if (s.kind !== "TensorStructInfo" || !s.shape || s.dtype === "void") {
      throw new Error(
        `${where}: output ${i} must have a known shape and dtype, got ${fmtSInfo(s)}`,
      );
    }
    const a = allocTensor(shapeExpr(s.shape), s.dtype);
    const v = mk("alloc", a.structInfo);
    bindings.push(varBinding(v, a));
    return v;
  });
  const callArgs: Expr[] = [...args.fields, ...allocs];
  if (tirVars) callArgs.push(tirVars);
  // A packed call names its result's StructInfo (`sinfo_args`); a PrimFunc call does not.
  const sinfoArgs = callee.kind === "relax.ExternFunc" ? [VOID_SINFO] : [];
  const invoke = rcall(callee, callArgs, { structInfo: VOID_SINFO, sinfoArgs });
  bindings.push(varBinding(mk("_", VOID_SINFO), invoke));
  const result = out.kind === "TupleStructInfo" ? tuple(allocs) : allocs[0]!;
  bindings.push(varBinding(b.var, result));
  return bindings;
}

/** `f` with its `call_tir` and `call_dps_packed` calls rewritten (`f` itself when it has none). */
export function callTIRRewriteFunction(f: Function, name = "function"): Function {
  return rewriteFunction(f, {
    expr: (e) => {
      if (e.kind !== "relax.SeqExpr") return undefined;
      let changed = false;
      const blocks = e.blocks.map((blk): BindingBlock => {
        let out: Binding[] | undefined;
        blk.bindings.forEach((b, i) => {
          const r = rewriteBinding(b, blk.kind === "DataflowBlock", name);
          if (r && !out) out = blk.bindings.slice(0, i) as Binding[];
          if (out) out.push(...(r ?? [b]));
        });
        if (!out) return blk;
        changed = true;
        return { ...blk, bindings: out };
      });
      return changed ? { ...e, blocks } : undefined;
    },
  });
}

/** The `CallTIRRewrite` pass over every Relax function of the module. */
export const callTIRRewrite: Pass = relaxFunctionPass(
  "CallTIRRewrite",
  (f, name) => callTIRRewriteFunction(f, name),
);
