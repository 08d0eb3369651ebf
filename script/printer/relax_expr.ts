/**
 * Printing of Relax StructInfo (`R.Tensor((n, 4), dtype="float32")`, ...) and of the leaf Relax
 * expressions: variables, constants (`R.const(1.0, "float32")` for scalars, a metadata
 * reference otherwise), tuples, shapes and immediate values.
 *
 * In a function signature, a dimension that uses a symbolic variable first met in the signature
 * prints as a string (`R.Tensor(("n", 4))`), and the variable is declared in the body
 * (`n = T.int64()`), as TVM prints it.
 *
 * @module
 */

import { f16Value } from "../../ir/dtype.ts";
import type { PrimExpr } from "../../ir/expr.ts";
import type { AnyVar, Constant } from "../../ir/relax/expr.ts";
import type { StructInfo } from "../../ir/relax/struct_info.ts";
import { assign, bool, call, type ExprDoc, float, id, int, list, str, tuple } from "./doc.ts";
import { docToPython } from "./doc_printer.ts";
import { type Docsifier, MODULE_ALIAS } from "./docsifier.ts";
import { forEachVar } from "./tir_buffer.ts";

/** A shape dimension; a string when it uses a variable of the signature being printed. */
export function shapeVarDoc(e: PrimExpr, d: Docsifier): ExprDoc {
  const doc = d.expr(e);
  const f = d.frames.find((fr) => fr.kind === "relax" && fr.funcVars !== undefined);
  let inSignature = false;
  if (f) forEachVar(e, (v) => (inSignature ||= f.funcVars!.has(v)));
  return inSignature ? str(docToPython(doc)) : doc;
}

/** Prints a StructInfo. */
export function structInfoDoc(s: StructInfo, d: Docsifier): ExprDoc {
  switch (s.kind) {
    case "ObjectStructInfo":
      return d.R("Object");
    case "PrimStructInfo":
      return s.value
        ? call(d.R("Prim"), [], [["value", shapeVarDoc(s.value, d)]])
        : call(d.R("Prim"), [str(s.dtype)]);
    case "ShapeStructInfo":
      return s.values
        ? call(d.R("Shape"), [list(s.values.map((v) => shapeVarDoc(v, d)))])
        : call(d.R("Shape"), [], [["ndim", int(s.ndim)]]);
    case "TensorStructInfo": {
      const args = s.shape ? [tuple(s.shape.map((v) => shapeVarDoc(v, d)))] : [];
      const kwargs: [string, ExprDoc][] = [];
      if (s.dtype !== "void") kwargs.push(["dtype", str(s.dtype)]);
      if (!s.shape && s.ndim !== -1) kwargs.push(["ndim", int(s.ndim)]);
      const prefix = d.R("Tensor");
      return args.length === 0 && kwargs.length === 0 ? prefix : call(prefix, args, kwargs);
    }
    case "TupleStructInfo":
      return s.fields.length === 0
        ? d.R("Tuple")
        : call(d.R("Tuple"), s.fields.map((x) => structInfoDoc(x, d)));
    case "FuncStructInfo": {
      const ret = structInfoDoc(s.ret, d);
      if (s.params === undefined) {
        const kwargs: [string, ExprDoc][] = [];
        if (s.ret.kind !== "ObjectStructInfo") kwargs.push(["ret", ret]);
        if (s.purity) kwargs.push(["purity", bool(true)]);
        return kwargs.length ? call(d.R("Callable"), [], kwargs) : d.R("Callable");
      }
      const params = tuple(s.params.map((p) => structInfoDoc(p, d)));
      return call(d.R("Callable"), [params, ret, bool(s.purity)]);
    }
    default:
      return s satisfies never;
  }
}

/** A Relax variable; a free one is declared where first met (`x: R.Tensor(...)`). */
export function relaxVarDoc(v: AnyVar, d: Docsifier): ExprDoc {
  const known = d.varDoc(v);
  if (known) return known;
  const ann = structInfoDoc(v.structInfo, d);
  const f = d.top();
  const lhs = d.define(v, f, v.name || "v");
  f.stmts.push(assign(lhs, undefined, ann));
  return lhs;
}

/** The value of a 0-d constant as a literal, for the dtypes TVM prints inline. */
function scalarLiteral(c: Constant): ExprDoc | undefined {
  const { dtype, shape, data } = c.data;
  if (shape.length !== 0 || data.length !== 1) return undefined;
  const x = data[0]!;
  switch (dtype) {
    case "int8":
    case "int16":
    case "int32":
    case "int64":
      return int(Number(x));
    case "float16":
      return float(f16Value(Number(x)));
    case "float32":
    case "float64":
      return float(Number(x));
    case "bool":
      return bool(Number(x) !== 0);
    default:
      return undefined;
  }
}

/** `R.const(1.0, "float32")` for a scalar, else `metadata["relax.expr.Constant"][i]`. */
export function constantDoc(c: Constant, d: Docsifier): ExprDoc {
  const lit = scalarLiteral(c);
  if (lit) return call(d.R("const"), [lit, str(c.data.dtype)]);
  return d.addMetadata("relax.expr.Constant", c);
}

/** `cls`, declaring `cls = Module` at the top of the current Relax function on first use. */
export function moduleAliasDoc(d: Docsifier, moduleName: string): ExprDoc {
  const f = d.relaxFrame();
  if (!f?.isFunc) return id(moduleName);
  if (!f.moduleAliasPrinted) {
    f.stmts.push(assign(id(MODULE_ALIAS), id(moduleName)));
    f.moduleAliasPrinted = true;
  }
  return id(MODULE_ALIAS);
}
