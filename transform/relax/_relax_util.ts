/**
 * Helpers shared by the graph-level passes of this folder: purity of calls, the Relax variables
 * an expression uses, and substitution of variables (Relax and symbolic) in a function.
 *
 * @module
 */

import type { PrimExpr, Var } from "../../ir/expr.ts";
import { simplify } from "../../ir/arith/analyzer.ts";
import type { IRModule } from "../../ir/module.ts";
import {
  type AnyVar,
  type Expr,
  type Function,
  isVar,
  type RCall,
  relaxFunction,
  type RVar,
} from "../../ir/relax/expr.ts";
import { lookupOp } from "../../ir/relax/op/registry.ts";
import type { StructInfo } from "../../ir/relax/struct_info.ts";
import {
  rewriteExpr,
  rewritePrimExpr,
  rewriteStructInfo,
  visitExpr,
  visitPrimExpr,
} from "../../ir/visit.ts";

/** Operators with side effects that may not be registered (TVM's impure builtins). */
const IMPURE_OPS: ReadonlySet<string> = new Set([
  "relax.print",
  "relax.assert_op",
  "relax.call_builtin_with_ctx",
  "relax.call_inplace_packed",
  "relax.memory.kill_storage",
  "relax.memory.kill_tensor",
  "relax.vm.kill_object",
]);

/**
 * Whether a call may have side effects: an impure operator, a call of a runtime-registered
 * function (`R.call_packed`), of an impure module function or of a PrimFunc, or of a function
 * value that is not known to be pure.
 */
export function isImpureCall(call: RCall, mod?: IRModule): boolean {
  const op = call.op;
  switch (op.kind) {
    case "relax.Op":
      return IMPURE_OPS.has(op.name) || lookupOp(op.name)?.impure === true;
    case "relax.ExternFunc":
      return true;
    case "GlobalVar": {
      const f = mod?.functions.get(op.name);
      if (f) return f.kind === "PrimFunc" || !f.isPure;
      return op.structInfo.kind !== "FuncStructInfo" || !op.structInfo.purity;
    }
    default:
      return op.structInfo.kind !== "FuncStructInfo" || !op.structInfo.purity;
  }
}

/** Whether evaluating `e` may make an impure call (function literals are not entered). */
export function containsImpureCall(e: Expr, mod?: IRModule): boolean {
  let found = false;
  visitExpr(e, (x) => {
    if (found || x.kind === "relax.Function") return false;
    if (x.kind === "relax.Call" && isImpureCall(x, mod)) found = true;
    return !found;
  });
  return found;
}

/** The Relax variables `e` uses, in order of first use (function literals included). */
export function usedVars(e: Expr): AnyVar[] {
  const out = new Set<AnyVar>();
  visitExpr(e, (x) => {
    if (isVar(x)) out.add(x);
  });
  return [...out];
}

/** The symbolic variables occurring in a StructInfo, in order of first occurrence. */
export function sinfoVars(s: StructInfo): Var[] {
  const out: Var[] = [];
  rewriteStructInfo(s, (e) => {
    visitPrimExpr(e, (x) => {
      if (x.kind === "Var" && !out.includes(x)) out.push(x);
    });
    return e;
  });
  return out;
}

/** What {@link substituteFunction} replaces. */
export interface FunctionSubstitution {
  /** Relax variables (parameters or bound variables) to replace by expressions. */
  readonly vars?: ReadonlyMap<AnyVar, Expr>;
  /** Symbolic variables to replace, in StructInfo, shapes and prim values. */
  readonly prims?: ReadonlyMap<Var, PrimExpr>;
}

/**
 * `f` with variables substituted: parameters in `vars` are dropped from the parameter list and
 * their uses replaced; symbolic variables in `prims` are replaced everywhere (a parameter or
 * bound variable whose StructInfo changes becomes a new variable of the same name). Returns `f`
 * itself when nothing changes.
 */
export function substituteFunction(f: Function, subst: FunctionSubstitution): Function {
  const prims = subst.prims ?? new Map<Var, PrimExpr>();
  const folds = [...prims.values()].some((v) => v.kind !== "Var");
  const primFn = (e: PrimExpr): PrimExpr => {
    if (prims.size === 0) return e;
    const out = rewritePrimExpr(e, { expr: (x) => (x.kind === "Var" ? prims.get(x) : undefined) });
    return out !== e && folds ? simplify(out) : out;
  };
  const sinfoFn = (s: StructInfo): StructInfo => rewriteStructInfo(s, primFn);
  const varMap = new Map<AnyVar, Expr>(subst.vars ?? []);
  const renew = <V extends AnyVar>(v: V): V => {
    const s = sinfoFn(v.structInfo);
    if (s === v.structInfo) return v;
    const nv = { ...v, structInfo: s };
    varMap.set(v, nv);
    return nv;
  };
  const params = f.params.filter((p) => !varMap.has(p)).map((p) => renew(p) as RVar);
  const body = rewriteExpr(f.body, {
    preExpr: (e) => (isVar(e) ? varMap.get(e) : undefined),
    primExpr: primFn,
    binding: (b) => {
      const nv = renew(b.var);
      return nv === b.var ? undefined : { ...b, var: nv };
    },
    expr: (e) => {
      switch (e.kind) {
        case "relax.Call":
        case "relax.If": {
          const s = sinfoFn(e.structInfo);
          return s === e.structInfo ? undefined : { ...e, structInfo: s };
        }
        case "relax.Tuple": {
          const fields = e.fields.map((x) => x.structInfo);
          const s = e.structInfo;
          const same = s.kind === "TupleStructInfo" && s.fields.every((x, i) => x === fields[i]);
          return same ? undefined : { ...e, structInfo: { kind: "TupleStructInfo", fields } };
        }
        case "relax.TupleGetItem": {
          const t = e.tuple.structInfo;
          const s = t.kind === "TupleStructInfo" ? t.fields[e.index] ?? e.structInfo : e.structInfo;
          return s === e.structInfo ? undefined : { ...e, structInfo: s };
        }
        case "relax.SeqExpr":
          return e.structInfo === e.body.structInfo
            ? undefined
            : { ...e, structInfo: e.body.structInfo };
        default:
          return undefined;
      }
    },
  });
  const ret = sinfoFn(f.retStructInfo);
  if (
    body === f.body && ret === f.retStructInfo && params.length === f.params.length &&
    params.every((p, i) => p === f.params[i])
  ) {
    return f;
  }
  return relaxFunction(params, body, {
    retStructInfo: ret,
    isPure: f.isPure,
    attrs: f.attrs,
    isPrivate: f.isPrivate,
  });
}
