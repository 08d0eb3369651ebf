/**
 * Printing of Relax calls. An operator call prints as `R.<name without "relax.">(args...,
 * key=value...)` with its attributes in insertion order (the order the op registry defines);
 * calls of module functions as `cls.f(...)`; calls of runtime functions as
 * `R.call_packed("name", ...)`. Operators with a special spelling (`R.call_tir`, ...) have an
 * entry in {@link CALL_PRINTERS}, which {@link registerCallPrinter} extends.
 *
 * @module
 */

import type { Expr, RCall } from "../../ir/relax/expr.ts";
import type { StructInfo } from "../../ir/relax/struct_info.ts";
import type { AttrValue } from "../../ir/tir/stmt.ts";
import { call, type ExprDoc, id, int, list, str, tuple } from "./doc.ts";
import type { Docsifier } from "./docsifier.ts";
import { structInfoDoc } from "./relax_expr.ts";
import { attrValueDoc } from "./tir_expr.ts";

/** Prints a call of one operator, or returns `undefined` to use the generic spelling. */
export type CallPrinter = (c: RCall, d: Docsifier) => ExprDoc | undefined;

/** A callee argument: an extern function prints as its name string. */
function calleeDoc(e: Expr, d: Docsifier): ExprDoc {
  return e.kind === "relax.ExternFunc" ? str(e.globalSymbol) : d.expr(e);
}

/** `out_sinfo=`: one StructInfo, or a list for a tuple of outputs. */
function outSinfoDoc(sinfo: readonly StructInfo[], d: Docsifier): ExprDoc {
  const only = sinfo.length === 1 ? sinfo[0]! : undefined;
  if (only && only.kind !== "TupleStructInfo") return structInfoDoc(only, d);
  const fields = only?.kind === "TupleStructInfo" ? only.fields : sinfo;
  return list(fields.map((s) => structInfoDoc(s, d)));
}

/** `R.call_tir(cls.f, (x,), out_sinfo=..., tir_vars=R.shape([n]))` and its variants. */
function dpsCall(name: "call_tir" | "call_tir_inplace" | "call_dps_packed"): CallPrinter {
  return (c, d) => {
    if ((c.args.length !== 2 && c.args.length !== 3) || c.sinfoArgs.length === 0) return undefined;
    const args = [calleeDoc(c.args[0]!, d), d.expr(c.args[1]!)];
    const kwargs: [string, ExprDoc][] = [["out_sinfo", outSinfoDoc(c.sinfoArgs, d)]];
    if (name === "call_tir_inplace") {
      const idx = c.attrs["inplace_indices"];
      const xs = Array.isArray(idx) ? (idx as readonly AttrValue[]) : [];
      kwargs.push(["inplace_indices", list(xs.map((x) => int(Number(x))))]);
    }
    if (name !== "call_dps_packed" && c.args.length === 3) {
      kwargs.push(["tir_vars", d.expr(c.args[2]!)]);
    }
    return call(d.R(name), args, kwargs);
  };
}

/** `R.assert_op(cond, args..., format=...)` and `R.print(args..., format=...)`. */
function formatCall(name: "assert_op" | "print", formatIndex: number): CallPrinter {
  return (c, d) => {
    if (c.args.length <= formatIndex) return undefined;
    const args = c.args.filter((_, i) => i !== formatIndex).map((a) => d.expr(a));
    return call(d.R(name), args, [["format", d.expr(c.args[formatIndex]!)]]);
  };
}

/** Operators with a spelling of their own, by full name. */
export const CALL_PRINTERS: Map<string, CallPrinter> = new Map([
  ["relax.call_tir", dpsCall("call_tir")],
  ["relax.call_tir_inplace", dpsCall("call_tir_inplace")],
  ["relax.call_dps_packed", dpsCall("call_dps_packed")],
  ["relax.assert_op", formatCall("assert_op", 1)],
  ["relax.print", formatCall("print", 0)],
]);

/** Gives operator `name` a spelling of its own (replacing any previous one). */
export function registerCallPrinter(name: string, printer: CallPrinter): void {
  CALL_PRINTERS.set(name, printer);
}

/** The `R.` name of an operator: `relax.nn.softmax` -> `R.nn.softmax`. */
export function opCallee(name: string, d: Docsifier): ExprDoc {
  return name.startsWith("relax.") ? d.R(name.slice(6)) : id(name);
}

/** Prints a Relax call. */
export function relaxCallDoc(c: RCall, d: Docsifier): ExprDoc {
  if (c.op.kind === "relax.Op") {
    const special = CALL_PRINTERS.get(c.op.name)?.(c, d);
    if (special) return special;
  }
  const args: ExprDoc[] = [];
  let callee: ExprDoc;
  if (c.op.kind === "relax.ExternFunc") {
    callee = d.R("call_packed");
    args.push(str(c.op.globalSymbol));
  } else if (c.op.kind === "relax.Op") {
    callee = opCallee(c.op.name, d);
  } else {
    callee = d.expr(c.op);
  }
  c.args.forEach((a, i) => args.push(i === 0 ? calleeDoc(a, d) : d.expr(a)));
  const kwargs: [string, ExprDoc][] = Object.entries(c.attrs).map((
    [k, v],
  ) => [k, attrValueDoc(v, d)]);
  if (c.sinfoArgs.length > 0) {
    kwargs.push(["sinfo_args", tuple(c.sinfoArgs.map((s) => structInfoDoc(s, d)))]);
  }
  return call(callee, args, kwargs);
}
