/**
 * Relax expressions of the TVMScript parser: variables, tuples, `cls.f` references, constants,
 * `R.call_tir` and the other call forms, and generic operator calls.
 *
 * @module
 */

import { allocTypedArray, type DType, f16Bits, isBool, isFloat } from "../../ir/dtype.ts";
import { boolImm, floatImm, intImm, isPrimExpr } from "../../ir/expr.ts";
import {
  constantTensor,
  dataTypeImm,
  type Expr,
  externFunc,
  type GlobalVar,
  type NDArray,
  opRef,
  primValue,
  type RCall,
  rcall,
  shapeExpr,
  stringImmR,
  tuple,
  tupleGetItem,
} from "../../ir/relax/expr.ts";
import { objectSInfo, type StructInfo, tupleSInfo } from "../../ir/relax/struct_info.ts";
import type { AttrValue } from "../../ir/tir/stmt.ts";
import { type CallNode, describeExpr, dottedName, type ExprNode } from "./ast.ts";
import { bindArgs, expectInt, expectString, type ParseContext, toAttrValue } from "./context.ts";
import { dtypeArg, isLit } from "./prim_eval.ts";
import { parseSInfo } from "./relax_sinfo.ts";
import { RELAX_OP_NAMES, VOID_OPS } from "./relax_ops.ts";
import { lookupOp, makeOpCall } from "../../ir/relax/op/mod.ts";
import type { RelaxParser } from "./relax.ts";

/** The void struct info (an empty tuple). */
export const VOID: StructInfo = tupleSInfo([]);

/**
 * Evaluates a Relax expression. `hint` is the binding's annotation, used as the StructInfo of a
 * call whose result cannot be inferred here (generic operators, until the registry exists).
 */
export function evalRelax(p: RelaxParser, e: ExprNode, hint?: StructInfo): Expr {
  const ctx: ParseContext = p.ctx;
  return ctx.guard(e, () => evalInner(p, e, hint));
}

function evalInner(p: RelaxParser, e: ExprNode, hint: StructInfo | undefined): Expr {
  const ctx: ParseContext = p.ctx;
  switch (e.kind) {
    case "Name": {
      const v = p.scope.lookup(e.id);
      if (v === undefined) {
        if (e.id === "metadata") return ctx.fail('Expected metadata["relax.expr.Constant"][i]', e);
        return ctx.fail(`Undefined name "${e.id}"`, e);
      }
      if (v.kind === "ModuleAlias") {
        return ctx.fail(`Expected a Relax expression, got the module "${e.id}"`, e);
      }
      if (v.kind === "Var") return primValue(v);
      return v;
    }
    case "Constant":
      if (typeof e.value === "number") {
        return primValue(e.isFloat ? floatImm(e.value, "float64") : intImm(e.value, "int64"));
      }
      if (typeof e.value === "boolean") return primValue(boolImm(e.value));
      if (typeof e.value === "string") return stringImmR(e.value);
      return ctx.fail("None is not a Relax expression", e);
    case "UnaryOp":
      if (e.op === "-" && e.operand.kind === "Constant" && typeof e.operand.value === "number") {
        const v = -e.operand.value;
        return primValue(e.operand.isFloat ? floatImm(v, "float64") : intImm(v, "int64"));
      }
      break;
    case "Tuple":
    case "List":
      return tuple(e.elts.map((x) => evalRelax(p, x)));
    case "Subscript": {
      const meta = metadataRef(p, e);
      if (meta) return meta;
      if (e.indices.length !== 1 || e.indices[0]!.kind === "Slice") {
        return ctx.fail("Expected a single tuple index, as in t[0]", e);
      }
      const t = evalRelax(p, e.value);
      const i = expectInt(ctx, e.indices[0] as ExprNode, "a tuple index");
      return tupleGetItem(t, i);
    }
    case "Attribute": {
      const gv = globalRef(p, e);
      if (gv) return gv;
      return ctx.fail(`Expected a Relax expression, got ${describeExpr(e)}`, e);
    }
    case "Call":
      return evalCall(p, e, hint);
    default:
      break;
  }
  return ctx.fail(
    `Expected a Relax expression, got ${
      describeExpr(e)
    } (Relax has no operators: call them, as in R.add(a, b))`,
    e,
  );
}

/** `cls.f` or `Module.f` as a GlobalVar, if `e` has that form. */
function globalRef(p: RelaxParser, e: ExprNode): GlobalVar | undefined {
  if (e.kind !== "Attribute" || e.value.kind !== "Name") return undefined;
  const base = p.scope.lookup(e.value.id);
  const isModule = base?.kind === "ModuleAlias" ||
    (base === undefined && e.value.id === p.mod.name);
  if (!isModule) return undefined;
  if (!p.mod.functionNames.has(e.attr)) {
    return p.ctx.fail(`Module has no function "${e.attr}"`, e);
  }
  return p.mod.globalVar(e.attr);
}

/** `metadata["relax.expr.Constant"][i]` */
function metadataRef(p: RelaxParser, e: ExprNode): Expr | undefined {
  if (e.kind !== "Subscript" || e.value.kind !== "Subscript") return undefined;
  const inner = e.value;
  if (inner.value.kind !== "Name" || inner.value.id !== "metadata" || p.scope.lookup("metadata")) {
    return undefined;
  }
  const ctx: ParseContext = p.ctx;
  if (inner.indices.length !== 1 || e.indices.length !== 1) {
    return ctx.fail('Expected metadata["kind"][index]', e);
  }
  const kind = expectString(ctx, inner.indices[0] as ExprNode, "a metadata kind");
  const index = expectInt(ctx, e.indices[0] as ExprNode, "a metadata index");
  return p.mod.metadata(kind, index, e);
}

function evalCall(p: RelaxParser, e: CallNode, hint: StructInfo | undefined): Expr {
  const ctx: ParseContext = p.ctx;
  const gv = globalRef(p, e.func);
  if (gv) {
    noKeywords(ctx, e);
    const ret = p.mod.returnInfo(gv.name);
    return rcall(gv, e.args.map((a) => evalRelax(p, a)), {
      structInfo: ret ?? hint ?? objectSInfo(),
    });
  }
  const name = dottedName(e.func);
  if (e.func.kind === "Name") {
    const v = p.scope.lookup(e.func.id);
    if (v && (v.kind === "relax.Var" || v.kind === "relax.DataflowVar")) {
      noKeywords(ctx, e);
      const s = v.structInfo;
      const ret = s.kind === "FuncStructInfo" ? s.ret : hint ?? objectSInfo();
      return rcall(v, e.args.map((a) => evalRelax(p, a)), { structInfo: ret });
    }
  }
  if (!name && e.func.kind === "Call") {
    // calling a value, e.g. R.ExternFunc("f")(x)
    const f = evalRelax(p, e.func);
    if (f.kind === "relax.ExternFunc" || f.kind === "GlobalVar") {
      noKeywords(ctx, e);
      return rcall(f, e.args.map((a) => evalRelax(p, a)), { structInfo: hint ?? objectSInfo() });
    }
  }
  if (!name || !name.startsWith("R.")) {
    return ctx.fail(
      name ? `Unknown function "${name}"` : `Cannot call ${describeExpr(e.func)}`,
      e.func,
    );
  }
  const fn = name.slice(2);
  switch (fn) {
    case "call_tir":
    case "call_tir_inplace":
      return callTir(p, e, fn);
    case "call_dps_packed": {
      const a = bindArgs(ctx, e, ["func", "args", "out_sinfo"]);
      const f = packedCallee(p, a.byName.get("func")!);
      const args = argsTuple(p, a.byName.get("args")!);
      const out = outSInfo(p, a.byName.get("out_sinfo")!);
      return ctx.guard(e, () => makeOpCall("relax.call_dps_packed", [f, args], {}, [out]));
    }
    case "call_packed":
    case "call_pure_packed":
    case "call_inplace_packed":
      return callPacked(p, e, fn);
    case "const":
      return constant(p, e);
    case "shape": {
      const a = bindArgs(ctx, e, ["value"]);
      const v = a.byName.get("value")!;
      if (v.kind !== "List" && v.kind !== "Tuple") {
        return ctx.fail(`Expected a list of dimensions, got ${describeExpr(v)}`, v);
      }
      return shapeExpr(v.elts.map((d) => p.ev.expr(d, "int64")));
    }
    case "prim_value": {
      const a = bindArgs(ctx, e, ["value"]);
      return primValue(p.ev.expr(a.byName.get("value")!));
    }
    case "str": {
      const a = bindArgs(ctx, e, ["value"]);
      return stringImmR(expectString(ctx, a.byName.get("value")!, "R.str"));
    }
    case "dtype": {
      const a = bindArgs(ctx, e, ["value"]);
      return dataTypeImm(dtypeArg(ctx, a.byName.get("value")!));
    }
    case "tuple":
      noKeywords(ctx, e);
      return tuple(e.args.map((x) => evalRelax(p, x)));
    case "ExternFunc": {
      const a = bindArgs(ctx, e, ["global_symbol"]);
      return externFunc(expectString(ctx, a.byName.get("global_symbol")!, "the function symbol"));
    }
    case "match_cast":
      return ctx.fail(
        "R.match_cast must be the whole value of a binding, as in y = R.match_cast(x, R.Tensor(...))",
        e,
      );
    case "output":
      return ctx.fail("R.output must be the last statement of a dataflow block", e);
    case "func_attr":
    case "dataflow":
    case "function":
      return ctx.fail(`R.${fn} cannot be used as a value`, e);
    case "print":
    case "assert_op":
      return formatOp(p, e, fn);
    default:
      return opCall(p, e, fn, hint);
  }
}

function noKeywords(ctx: ParseContext, e: CallNode): void {
  const k = e.keywords[0];
  if (k) {
    ctx.fail(
      `Cannot call "${dottedName(e.func) ?? "function"}": unexpected keyword argument "${k.name}"`,
      k,
    );
  }
}

/** The inputs of a call_tir-like call: a tuple (a single value is wrapped). */
function argsTuple(p: RelaxParser, e: ExprNode): Expr {
  const v = evalRelax(p, e);
  if (v.kind === "relax.Tuple") return v;
  if (
    v.structInfo.kind === "TupleStructInfo" &&
    (v.kind === "relax.Var" || v.kind === "relax.DataflowVar")
  ) return v;
  return tuple([v]);
}

/** `out_sinfo=`: one struct info, or a list of them (a tuple of outputs). */
function outSInfo(p: RelaxParser, e: ExprNode): StructInfo {
  if (e.kind === "List") return tupleSInfo(e.elts.map((x) => parseSInfo(p, x)));
  return parseSInfo(p, e);
}

function callTir(p: RelaxParser, e: CallNode, fn: "call_tir" | "call_tir_inplace"): RCall {
  const ctx: ParseContext = p.ctx;
  const params = fn === "call_tir"
    ? ["gvar", "args", "out_sinfo", "tir_vars"]
    : ["gvar", "args", "inplace_indices", "out_sinfo", "tir_vars"];
  const a = bindArgs(ctx, e, params, params.length - 1);
  const fNode = a.byName.get("gvar")!;
  const f = evalRelax(p, fNode);
  if (f.kind !== "GlobalVar") {
    return ctx.fail(
      `R.${fn} expects a module function such as cls.f, got ${describeExpr(fNode)}`,
      fNode,
    );
  }
  const args = argsTuple(p, a.byName.get("args")!);
  const out = outSInfo(p, a.byName.get("out_sinfo")!);
  const callArgs: Expr[] = [f, args];
  const tv = a.byName.get("tir_vars");
  if (tv && !(tv.kind === "Constant" && tv.value === null)) {
    const s = tv.kind === "List" || tv.kind === "Tuple"
      ? shapeExpr(tv.elts.map((d) => p.ev.expr(d, "int64")))
      : evalRelax(p, tv);
    if (s.kind !== "relax.ShapeExpr") {
      return ctx.fail(`Expected tir_vars to be R.shape([...]), got ${describeExpr(tv)}`, tv);
    }
    callArgs.push(s);
  }
  const attrs: { [k: string]: AttrValue } = {};
  if (fn === "call_tir_inplace") {
    const ix = a.byName.get("inplace_indices")!;
    const items = ix.kind === "List" || ix.kind === "Tuple" ? ix.elts : [ix];
    attrs.inplace_indices = items.map((x) => expectInt(ctx, x, "an in-place index"));
  }
  if (fn === "call_tir") {
    return ctx.guard(e, () => makeOpCall("relax.call_tir", callArgs, {}, [out]));
  }
  return rcall(opRef(`relax.${fn}`), callArgs, { attrs, sinfoArgs: [out], structInfo: out });
}

function packedCallee(p: RelaxParser, e: ExprNode): Expr {
  if (e.kind === "Constant" && typeof e.value === "string") return externFunc(e.value);
  const f = evalRelax(p, e);
  if (f.kind !== "relax.ExternFunc") {
    return p.ctx.fail(
      `Expected the name of a packed function as a string, got ${describeExpr(e)}`,
      e,
    );
  }
  return f;
}

function sinfoArgs(p: RelaxParser, e: ExprNode | undefined): StructInfo[] {
  if (!e || (e.kind === "Constant" && e.value === null)) return [];
  if (e.kind === "Tuple" || e.kind === "List") return e.elts.map((x) => parseSInfo(p, x));
  return [parseSInfo(p, e)];
}

function callPacked(p: RelaxParser, e: CallNode, fn: string): RCall {
  const ctx: ParseContext = p.ctx;
  if (e.args.length === 0) return ctx.fail(`Cannot call "R.${fn}": missing the function name`, e);
  const f = packedCallee(p, e.args[0]!);
  const args = e.args.slice(1).map((x) => evalRelax(p, x));
  const sargs = sinfoArgs(p, e.keywords.find((k) => k.name === "sinfo_args")?.value);
  const attrs: { [k: string]: AttrValue } = {};
  for (const k of e.keywords) {
    if (k.name === "sinfo_args") continue;
    if (fn !== "call_packed" && !(fn === "call_inplace_packed" && k.name === "inplace_indices")) {
      ctx.fail(`Cannot call "R.${fn}": unexpected keyword argument "${k.name}"`, k);
    }
    attrs[k.name] = toAttrValue(ctx, k.value, (x) => p.ev.expr(x));
  }
  const structInfo = sargs.length === 1
    ? sargs[0]!
    : sargs.length === 0
    ? objectSInfo()
    : tupleSInfo(sargs);
  if (fn === "call_packed") return rcall(f, args, { attrs, sinfoArgs: sargs, structInfo });
  return rcall(opRef(`relax.${fn}`), [f, ...args], { attrs, sinfoArgs: sargs, structInfo });
}

/** `R.print(*args, format=...)` and `R.assert_op(cond, *args, format=...)`: the format goes first. */
function formatOp(p: RelaxParser, e: CallNode, fn: "print" | "assert_op"): RCall {
  const ctx: ParseContext = p.ctx;
  let format: Expr = stringImmR("");
  for (const k of e.keywords) {
    if (k.name !== "format") {
      ctx.fail(`Cannot call "R.${fn}": unexpected keyword argument "${k.name}"`, k);
    }
    format = evalRelax(p, k.value);
  }
  const args = e.args.map((x) => evalRelax(p, x));
  if (fn === "assert_op") {
    if (args.length === 0) return ctx.fail('Cannot call "R.assert_op": missing the condition', e);
    return rcall(opRef("relax.assert_op"), [args[0]!, format, ...args.slice(1)], {
      structInfo: VOID,
    });
  }
  return rcall(opRef("relax.print"), [format, ...args], { structInfo: VOID });
}

/** Operator arguments that take a shape, where a literal tuple means `R.shape([...])`. */
const SHAPE_ARGS: ReadonlySet<string> = new Set(["shape", "size"]);

function opCall(p: RelaxParser, e: CallNode, fn: string, hint: StructInfo | undefined): RCall {
  const ctx: ParseContext = p.ctx;
  const def = lookupOp(`relax.${fn}`);
  if (!def && !RELAX_OP_NAMES.has(fn)) return ctx.fail(`Unknown Relax operator "R.${fn}"`, e.func);
  // positional arguments; keywords that name an argument of a registered op count as positional
  const argNodes: (ExprNode | undefined)[] = [...e.args];
  const attrs: { [k: string]: AttrValue } = {};
  let sargs: StructInfo[] = [];
  for (const k of e.keywords) {
    if (k.name === "sinfo_args") {
      sargs = sinfoArgs(p, k.value);
      continue;
    }
    const ai = def && !Object.hasOwn(def.attrs, k.name) ? def.args.indexOf(k.name) : -1;
    if (ai >= 0) {
      if (argNodes[ai]) ctx.fail(`Cannot call "R.${fn}": argument "${k.name}" given twice`, k);
      argNodes[ai] = k.value;
      continue;
    }
    attrs[k.name] = toAttrValue(ctx, k.value, (x) => attrExpr(p, x));
  }
  const missing = argNodes.findIndex((x) => x === undefined);
  if (missing >= 0 && missing < argNodes.length) {
    ctx.fail(`Cannot call "R.${fn}": missing argument "${def?.args[missing] ?? missing}"`, e);
  }
  const args = (argNodes as ExprNode[]).map((x, i) =>
    // a literal tuple for a shape argument is a shape, as TVM's Python API makes it
    def && SHAPE_ARGS.has(def.args[i] ?? "") && (x.kind === "Tuple" || x.kind === "List")
      ? shapeExpr(x.elts.map((d) => p.ev.expr(d, "int64")))
      : evalRelax(p, x)
  );
  // a registered operator checks its arguments and infers its StructInfo
  if (def) {
    const min = def.args.length - def.optionalArgs;
    if (args.length < min || args.length > def.args.length) {
      const want = min === def.args.length ? `${min}` : `${min} to ${def.args.length}`;
      ctx.fail(
        `Cannot call "R.${fn}": expected ${want} argument${
          want === "1" ? "" : "s"
        }, got ${args.length}`,
        e,
      );
    }
    for (const k of Object.keys(attrs)) {
      if (!Object.hasOwn(def.attrs, k)) {
        const known = Object.keys(def.attrs);
        const at = e.keywords.find((x) => x.name === k) ?? e;
        ctx.fail(
          `Cannot call "R.${fn}": unexpected keyword argument "${k}"` +
            (known.length ? ` (expected one of: ${known.join(", ")})` : ""),
          at,
        );
      }
    }
    return ctx.guard(e, () => makeOpCall(def.name, args, attrs, sargs));
  }
  const structInfo = VOID_OPS.has(fn)
    ? VOID
    : hint ?? (sargs.length === 1 ? sargs[0]! : objectSInfo());
  return rcall(opRef(`relax.${fn}`), args, { attrs, sinfoArgs: sargs, structInfo });
}

/** An attribute value that is not a plain literal: a PrimExpr or `R.str`/`R.dtype`. */
function attrExpr(p: RelaxParser, x: ExprNode): AttrValue | undefined {
  if (x.kind === "Call") {
    const n = dottedName(x.func);
    if (n === "R.str" || n === "R.dtype") {
      const v = evalRelax(p, x);
      return v.kind === "relax.StringImm" || v.kind === "relax.DataTypeImm" ? v.value : undefined;
    }
  }
  const v = p.ev.expr(x);
  return isPrimExpr(v) ? v : undefined;
}

// ---------------------------------------------------------------------------------- constants

type Nested = number | boolean | Nested[];

function literal(p: RelaxParser, e: ExprNode): { value: Nested; float: boolean } {
  const ctx: ParseContext = p.ctx;
  let float = false;
  const walk = (x: ExprNode): Nested => {
    if (x.kind === "Constant" && (typeof x.value === "number" || typeof x.value === "boolean")) {
      if (x.isFloat) float = true;
      return x.value;
    }
    if (
      x.kind === "UnaryOp" && x.op === "-" && x.operand.kind === "Constant" &&
      typeof x.operand.value === "number"
    ) {
      if (x.operand.isFloat) float = true;
      return -x.operand.value;
    }
    if (x.kind === "Constant" && typeof x.value === "string") {
      const s = x.value.toLowerCase();
      if (s === "inf" || s === "-inf" || s === "nan") {
        float = true;
        return s === "inf" ? Infinity : s === "-inf" ? -Infinity : NaN;
      }
    }
    if (x.kind === "List" || x.kind === "Tuple") return x.elts.map(walk);
    if (x.kind === "BinOp" || x.kind === "UnaryOp") {
      // literal arithmetic such as 15.0 / 14.0
      const v = p.ev.tval(x);
      if (isLit(v)) {
        if (v.lit === "float") float = true;
        return v.lit === "bool" ? v.value !== 0 : v.value;
      }
    }
    return ctx.fail(`Expected a number or a nested list of numbers, got ${describeExpr(x)}`, x);
  };
  return { value: walk(e), float };
}

function constant(p: RelaxParser, e: CallNode): Expr {
  const ctx: ParseContext = p.ctx;
  const a = bindArgs(ctx, e, ["value", "dtype"], 1);
  const valueNode = a.byName.get("value")!;
  const { value, float } = literal(p, valueNode);
  const shape: number[] = [];
  for (let v: Nested = value; Array.isArray(v); v = v[0]!) {
    shape.push(v.length);
    if (v.length === 0) break;
  }
  const flat: (number | boolean)[] = [];
  const flatten = (v: Nested, d: number): void => {
    if (Array.isArray(v)) {
      if (d >= shape.length || v.length !== shape[d]) {
        ctx.fail("R.const: the nested lists are ragged", valueNode);
      }
      v.forEach((x) => flatten(x, d + 1));
    } else {
      if (d !== shape.length) ctx.fail("R.const: the nested lists are ragged", valueNode);
      flat.push(v);
    }
  };
  flatten(value, 0);
  const dNode = a.byName.get("dtype");
  const allBool = flat.length > 0 && flat.every((x) => typeof x === "boolean");
  const dtype: DType = dNode && !(dNode.kind === "Constant" && dNode.value === null)
    ? dtypeArg(ctx, dNode)
    : allBool
    ? "bool"
    : float
    ? "float32"
    : "int32";
  const data = allocTypedArray(dtype, flat.length);
  flat.forEach((x, i) => {
    const n = typeof x === "boolean" ? (x ? 1 : 0) : x;
    if (!isFloat(dtype) && !Number.isInteger(n)) {
      ctx.fail(`R.const: ${n} is not a valid ${dtype} value`, valueNode);
    }
    if (data instanceof BigInt64Array) data[i] = BigInt(n);
    else if (dtype === "float16") data[i] = f16Bits(n);
    else if (isBool(dtype)) data[i] = n ? 1 : 0;
    else data[i] = n;
  });
  const nd: NDArray = { dtype, shape, data };
  return constantTensor(nd);
}
