/**
 * Printing of Relax bindings, binding blocks (`with R.dataflow():` ... `R.output(...)`),
 * sequences, `if`/`else` and functions (`@R.function`).
 *
 * A binding prints its variable with its StructInfo (`lv: R.Tensor((n, 4), dtype="float32") =
 * R.add(x, y)`), except where TVM leaves it out: after `R.call_tir`/`R.call_dps_packed`, whose
 * `out_sinfo` already says it, and for calls with no value (`R.print(...)`).
 *
 * @module
 */

import type { Binding, BindingBlock, Expr, Function, If } from "../../ir/relax/expr.ts";
import type { StructInfo } from "../../ir/relax/struct_info.ts";
import type { AttrValue } from "../../ir/tir/stmt.ts";
import {
  assign,
  type AssignDoc,
  bool,
  call,
  type ExprDoc,
  exprStmt,
  scope,
  type StmtDoc,
} from "./doc.ts";
import type { Docsifier } from "./docsifier.ts";
import { structInfoEqual } from "./equal.ts";
import { structInfoDoc } from "./relax_expr.ts";
import { attrsDoc } from "./tir_expr.ts";
import { functionName } from "./tir_func.ts";

function isVoid(s: StructInfo): boolean {
  return s.kind === "TupleStructInfo" && s.fields.length === 0;
}

/** The annotation of a bound variable, or `undefined` when TVM leaves it out. */
function annotation(v: Binding["var"], value: Expr, d: Docsifier): ExprDoc | undefined {
  if (
    value.kind === "relax.Call" && value.op.kind === "relax.Op" &&
    (value.op.name === "relax.call_tir" || value.op.name === "relax.call_dps_packed") &&
    value.sinfoArgs.length === 1 && structInfoEqual(value.sinfoArgs[0]!, v.structInfo)
  ) return undefined;
  return structInfoDoc(v.structInfo, d);
}

/** Prints a sequence's blocks and result (`return` it when `useRet`). */
export function seqExprStmts(e: Expr, d: Docsifier, useRet: boolean): StmtDoc[] {
  const f = d.newFrame("relax");
  return d.withFrame(f, () => {
    if (e.kind === "relax.SeqExpr") {
      for (const b of e.blocks) pushDoc(f.stmts, bindingBlockDoc(b, d));
    }
    const ret = d.expr(e.kind === "relax.SeqExpr" ? e.body : e);
    f.stmts.push(useRet ? { k: "return", value: ret } : exprStmt(ret));
    return f.stmts;
  });
}

function pushDoc(stmts: StmtDoc[], doc: StmtDoc): void {
  if (doc.k === "block") stmts.push(...doc.stmts);
  else stmts.push(doc);
}

/** `if cond:` ... `else:` ...; with `lhs`, each branch ends by assigning its result to it. */
export function ifDoc(n: If, d: Docsifier, lhs?: ExprDoc, ann?: ExprDoc): StmtDoc {
  const cond = d.expr(n.cond);
  const branches = [seqExprStmts(n.thenBranch, d, false), seqExprStmts(n.elseBranch, d, false)];
  if (lhs) {
    for (const stmts of branches) {
      const last = stmts[stmts.length - 1]!;
      if (last.k === "expr") stmts[stmts.length - 1] = assign(lhs, last.expr, ann);
    }
  }
  return { k: "if", cond, then: branches[0]!, else: branches[1]! };
}

/** Prints a binding. */
export function bindingDoc(b: Binding, d: Docsifier): StmtDoc {
  if (b.kind === "MatchCast") {
    const ann = annotation(b.var, b.value, d);
    const rhs = call(d.R("match_cast"), [d.expr(b.value), structInfoDoc(b.structInfo, d)]);
    return assign(d.define(b.var, d.top(), b.var.name || "v"), rhs, ann);
  }
  const value = b.value;
  if (value.kind === "relax.If") {
    const ann = annotation(b.var, value, d);
    const lhs = d.define(b.var, d.top(), b.var.name || "v");
    return ifDoc(value, d, lhs, ann);
  }
  if (value.kind === "relax.Function") {
    const lhs = d.define(b.var, d.top(), b.var.name || "v");
    d.bindingNames.push(lhs.k === "id" ? lhs.name : b.var.name);
    try {
      return relaxFunctionDoc(value, d);
    } finally {
      d.bindingNames.pop();
    }
  }
  if (isVoid(value.structInfo) && isVoid(b.var.structInfo)) return exprStmt(d.expr(value));
  const rhs = d.expr(value);
  const ann = annotation(b.var, value, d);
  return assign(d.define(b.var, d.top(), b.var.name || "v"), rhs, ann);
}

/** Prints a binding block; a dataflow block as `with R.dataflow():` ending in `R.output(...)`. */
export function bindingBlockDoc(b: BindingBlock, d: Docsifier): StmtDoc {
  const stmts: StmtDoc[] = [];
  const outputs: ExprDoc[] = [];
  for (const binding of b.bindings) {
    pushDoc(stmts, bindingDoc(binding, d));
    if (b.kind === "DataflowBlock" && binding.var.kind === "relax.Var") {
      outputs.push(d.expr(binding.var));
    }
  }
  if (b.kind === "BindingBlock") return { k: "block", stmts };
  stmts.push(exprStmt(call(d.R("output"), outputs)));
  return scope(undefined, call(d.R("dataflow")), stmts);
}

/** Whether the function being printed is a module's (or a lone) function, not a nested one. */
function atTopLevel(d: Docsifier): boolean {
  return d.frames[0]?.kind === "relax" ? d.frames.length === 2 : d.frames.length === 3;
}

/** Prints a Relax function (with the header lines of the prefixes used so far). */
export function relaxFunctionDoc(fn: Function, d: Docsifier): StmtDoc {
  const f = d.newFrame("relax");
  f.isFunc = true;
  f.funcVars = new Set();
  return d.withFrame(f, () => {
    const name = functionName(fn.attrs, d);
    const topLevel = atTopLevel(d);
    // The return StructInfo prints first, so its symbolic variables are declared first.
    const ret = structInfoDoc(fn.retStructInfo, d);
    const params: AssignDoc[] = fn.params.map((p) => {
      const ann = structInfoDoc(p.structInfo, d);
      return assign(d.define(p, f, p.name || "v"), undefined, ann);
    });
    f.funcVars = undefined;
    const attrs: { [key: string]: AttrValue } = { ...fn.attrs };
    if (topLevel && attrs["global_symbol"] === name) delete attrs["global_symbol"];
    if (Object.keys(attrs).length > 0) {
      f.stmts.push(exprStmt(call(d.R("func_attr"), [attrsDoc(attrs, d)])));
    }
    const kwargs: [string, ExprDoc][] = [];
    if (!fn.isPure) kwargs.push(["pure", bool(false)]);
    if (topLevel && fn.isPrivate) kwargs.push(["private", bool(true)]);
    const decorator = kwargs.length ? call(d.R("function"), [], kwargs) : d.R("function");
    f.stmts.push(...seqExprStmts(fn.body, d, true));
    return d.withHeader({
      k: "function",
      name,
      args: params,
      decorators: [decorator],
      ret,
      body: f.stmts,
    });
  }, "relax");
}
