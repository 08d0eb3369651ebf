/**
 * Printing of TIR expressions (`PrimExpr`), variables, constants and attribute values.
 *
 * Binary operators print with Python sugar (`a + b`) only when the sugar parses back to the
 * very same node, i.e. when building `a + b` folds nothing; otherwise they print as the node's
 * constructor (`T.Add(1, 2)`), as TVM does.
 *
 * @module
 */

import { type DType, isInt } from "../../ir/dtype.ts";
import {
  add,
  and,
  type Binary,
  type BinaryKind,
  div,
  eq,
  floordiv,
  floormod,
  ge,
  gt,
  isPrimExpr,
  le,
  lt,
  mul,
  ne,
  or,
  type PrimExpr,
  sub,
  type Var,
} from "../../ir/expr.ts";
import type { AttrValue } from "../../ir/tir/stmt.ts";
import {
  assign,
  bool,
  call,
  dict,
  type ExprDoc,
  float,
  index,
  int,
  list,
  NONE,
  op,
  type OpKind,
  slice,
  type SliceDoc,
  str,
} from "./doc.ts";
import type { Docsifier } from "./docsifier.ts";

/** `T.int32()`, `T.float32(is_size_var=True)`, `T.handle()`: the creation of a new variable. */
export function varCreation(v: Var, d: Docsifier): ExprDoc {
  const kwargs: [string, ExprDoc][] = v.isSize ? [["is_size_var", bool(true)]] : [];
  return call(d.T(v.dtype), [], kwargs);
}

/** A TIR variable: defined on first use where no binding construct defined it. */
function varDoc(v: Var, d: Docsifier): ExprDoc {
  const known = d.varDoc(v);
  if (known) return known;
  if (d.token() === "relax") {
    // Symbolic shape variables of Relax: declared in the outermost function as `n = T.int64()`.
    const f = d.relaxFrame() ?? d.top();
    f.funcVars?.add(v);
    const lhs = d.define(v, f, v.name || "v");
    f.stmts.push(assign(lhs, varCreation(v, d)));
    return lhs;
  }
  const f = d.lowestVarDefFrame(v);
  const lhs = d.define(v, f, v.name || "v");
  f.stmts.push(assign(lhs, varCreation(v, d)));
  return lhs;
}

type Builder = (a: PrimExpr, b: PrimExpr) => PrimExpr;

const SUGAR: { readonly [K in BinaryKind]?: readonly [Builder, OpKind] } = {
  Add: [add, "Add"],
  Sub: [sub, "Sub"],
  Mul: [mul, "Mult"],
  FloorDiv: [floordiv, "FloorDiv"],
  FloorMod: [floormod, "Mod"],
  LT: [lt, "Lt"],
  LE: [le, "LtE"],
  EQ: [eq, "Eq"],
  NE: [ne, "NotEq"],
  GT: [gt, "Gt"],
  GE: [ge, "GtE"],
  And: [and, "And"],
  Or: [or, "Or"],
};

/** Whether rebuilding `e` with the fluent builder gives back exactly `e`'s shape. */
function rebuildsSame(e: Binary, build: Builder): boolean {
  try {
    const r = build(e.a, e.b);
    return r.kind === e.kind && (r as Binary).a === e.a && (r as Binary).b === e.b;
  } catch {
    return false;
  }
}

function binaryDoc(e: Binary, d: Docsifier): ExprDoc {
  const a = d.expr(e.a);
  const b = d.expr(e.b);
  switch (e.kind) {
    case "Div": {
      let r: PrimExpr | undefined;
      try {
        r = div(e.a, e.b);
      } catch {
        r = undefined;
      }
      if (r?.kind !== "Div" || (isInt(e.a.dtype) && isInt(e.b.dtype))) {
        return call(d.T("Div"), [a, b]);
      }
      return op("Div", a, b);
    }
    case "Mod":
      return call(d.T("truncmod"), [a, b]);
    case "Min":
      return call(d.T("min"), [a, b]);
    case "Max":
      return call(d.T("max"), [a, b]);
    default: {
      const sugar = SUGAR[e.kind]!;
      if (rebuildsSame(e, sugar[0])) return op(sugar[1], a, b);
      return call(d.T(e.kind), [a, b]);
    }
  }
}

/** The dtype position of intrinsics that print their result dtype as an argument. */
const DTYPE_FIRST: ReadonlySet<string> = new Set(["tir.reinterpret"]);

/** The `T.` name of an intrinsic: `tir.exp` -> `exp`. */
function intrinName(opName: string): string {
  return opName.startsWith("tir.") ? opName.slice(4) : opName;
}

/** Prints a TIR expression. */
export function primExprDoc(e: PrimExpr, d: Docsifier): ExprDoc {
  switch (e.kind) {
    case "Var":
      return varDoc(e, d);
    case "IntImm":
      return intImmDoc(e.value, e.dtype, d);
    case "FloatImm":
      return call(d.T(e.dtype), [float(e.value)]);
    case "StringImm":
      return str(e.value);
    case "Add":
    case "Sub":
    case "Mul":
    case "Div":
    case "Mod":
    case "FloorDiv":
    case "FloorMod":
    case "Min":
    case "Max":
    case "EQ":
    case "NE":
    case "LT":
    case "LE":
    case "GT":
    case "GE":
    case "And":
    case "Or":
      return binaryDoc(e, d);
    case "Not": {
      const a = d.expr(e.a);
      return a.k === "lit" ? call(d.T("Not"), [a]) : op("Not", a);
    }
    case "Select":
      return call(d.T("Select"), [d.expr(e.cond), d.expr(e.t), d.expr(e.f)]);
    case "Cast":
      return call(d.T("Cast"), [str(e.dtype), d.expr(e.value)]);
    case "Let": {
      const v = d.expr(e.var);
      const value = d.expr(e.value);
      return call(d.T("Let"), [d.expr(e.body)], [["where", dict([v], [value])]]);
    }
    case "Call": {
      const args = e.args.map((a) => d.expr(a));
      if (DTYPE_FIRST.has(e.op)) args.unshift(str(e.dtype));
      return call(d.T(intrinName(e.op)), args);
    }
    case "BufferLoad":
      return index(d.expr(e.buffer), bufferIndices(e.indices, d));
    case "Ramp":
      return call(d.T("Ramp"), [d.expr(e.base), d.expr(e.stride), int(e.lanes)]);
    case "Broadcast":
      return call(d.T("Broadcast"), [d.expr(e.value), int(e.lanes)]);
    default:
      return e satisfies never;
  }
}

/** An integer constant: bare for int32 (and anywhere in Relax), else `T.int64(3)`, `T.bool(True)`. */
export function intImmDoc(value: number, dtype: DType, d: Docsifier): ExprDoc {
  if (d.token() === "relax") return dtype === "bool" ? bool(value !== 0) : int(value);
  if (dtype === "int32") return int(value);
  if (dtype === "bool") return call(d.T("bool"), [bool(value !== 0)]);
  return call(d.T(dtype), [int(value)]);
}

/** Prints an attribute value: literals, PrimExprs, lists and (key-sorted) dicts. */
export function attrValueDoc(v: AttrValue, d: Docsifier): ExprDoc {
  if (v === null) return NONE;
  switch (typeof v) {
    case "string":
      return str(v);
    case "number":
      return Number.isInteger(v) ? int(v) : float(v);
    case "boolean":
      return bool(v);
  }
  if (isPrimExpr(v)) return d.expr(v);
  if (Array.isArray(v)) return list((v as readonly AttrValue[]).map((x) => attrValueDoc(x, d)));
  return attrsDoc(v as { readonly [key: string]: AttrValue }, d);
}

/** Prints a dictionary of attributes with its keys sorted, as TVM prints string-keyed maps. */
export function attrsDoc(attrs: { readonly [key: string]: AttrValue }, d: Docsifier): ExprDoc {
  const keys = Object.keys(attrs).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  return dict(keys.map(str), keys.map((k) => attrValueDoc(attrs[k]!, d)));
}

/** Whether `e` is the integer constant `v`. */
export function isConstInt(e: PrimExpr, v: number): boolean {
  return e.kind === "IntImm" && e.value === v;
}

/** Buffer indices; a ramp with a constant stride prints as a slice `i:i + 4`. */
export function bufferIndices(indices: readonly PrimExpr[], d: Docsifier): (ExprDoc | SliceDoc)[] {
  return indices.map((ix) => {
    if (ix.kind === "Ramp" && ix.stride.kind === "IntImm") {
      const start = d.expr(ix.base);
      const stop = d.expr(add(ix.base, mul(ix.stride, ix.lanes)));
      return slice(start, stop, ix.stride.value !== 1 ? d.expr(ix.stride) : undefined);
    }
    return d.expr(ix);
  });
}
