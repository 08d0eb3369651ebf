/**
 * Relax expressions: the graph-level IR (variables, calls, tuples, shapes, dataflow blocks,
 * functions). Every node carries its {@link StructInfo}.
 *
 * Relax node kinds are prefixed `relax.` (`"relax.Call"`, `"relax.Var"`) so they never collide
 * with TIR's (`"Call"`, `"Var"`); `GlobalVar` is shared by both levels.
 *
 * @module
 */

import type { DType, TypedArray } from "../dtype.ts";
import type { PrimExpr } from "../expr.ts";
import type { Attrs } from "../tir/stmt.ts";
import {
  funcSInfo,
  type FuncStructInfo,
  objectSInfo,
  primSInfo,
  shapeDim,
  shapeSInfo,
  type StructInfo,
  tensorSInfo,
  tupleSInfo,
} from "./struct_info.ts";

/** A variable bound by a function parameter or a binding. Has identity, like a TIR var. */
export interface RVar {
  /** The node kind. */
  readonly kind: "relax.Var";
  /** A display name; names do not make two variables equal. */
  readonly name: string;
  /** What is known about the value the variable holds. */
  readonly structInfo: StructInfo;
}

/** A variable local to a dataflow block. */
export interface DataflowVar {
  /** The node kind. */
  readonly kind: "relax.DataflowVar";
  /** A display name; names do not make two variables equal. */
  readonly name: string;
  /** What is known about the value the variable holds. */
  readonly structInfo: StructInfo;
}

/** A host tensor value held by a constant. */
export interface NDArray {
  /** The element dtype. */
  readonly dtype: DType;
  /** The extent of each dimension. */
  readonly shape: readonly number[];
  /** Row-major elements; float16 as Uint16 bit patterns, bool as Uint8. */
  readonly data: TypedArray;
}

/** A constant tensor. */
export interface Constant {
  /** The node kind. */
  readonly kind: "relax.Constant";
  /** The tensor value. */
  readonly data: NDArray;
  /** A tensor StructInfo with the constant's shape and dtype. */
  readonly structInfo: StructInfo;
}

/** A tuple of values. */
export interface Tuple {
  /** The node kind. */
  readonly kind: "relax.Tuple";
  /** The elements. */
  readonly fields: readonly Expr[];
  /** A tuple StructInfo of the fields' infos. */
  readonly structInfo: StructInfo;
}

/** `tuple[index]` */
export interface TupleGetItem {
  /** The node kind. */
  readonly kind: "relax.TupleGetItem";
  /** The tuple-valued expression. */
  readonly tuple: Expr;
  /** The index of the element taken. */
  readonly index: number;
  /** The StructInfo of the element taken. */
  readonly structInfo: StructInfo;
}

/** A shape value `R.shape([...])`. */
export interface ShapeExpr {
  /** The node kind. */
  readonly kind: "relax.ShapeExpr";
  /** The dimensions, as int64 expressions. */
  readonly values: readonly PrimExpr[];
  /** A shape StructInfo holding `values`. */
  readonly structInfo: StructInfo;
}

/** A scalar value `R.prim_value(...)`. */
export interface PrimValue {
  /** The node kind. */
  readonly kind: "relax.PrimValue";
  /** The scalar expression. */
  readonly value: PrimExpr;
  /** A prim StructInfo holding `value`. */
  readonly structInfo: StructInfo;
}

/** A string value `R.str(...)`. */
export interface RStringImm {
  /** The node kind. */
  readonly kind: "relax.StringImm";
  /** The string. */
  readonly value: string;
  /** Always `R.Object`. */
  readonly structInfo: StructInfo;
}

/** A dtype value `R.dtype(...)`. */
export interface DataTypeImm {
  /** The node kind. */
  readonly kind: "relax.DataTypeImm";
  /** The dtype. */
  readonly value: DType;
  /** Always `R.Object`. */
  readonly structInfo: StructInfo;
}

/** A reference to a registered operator by name (`relax.add`, `relax.call_tir`). */
export interface Op {
  /** The node kind. */
  readonly kind: "relax.Op";
  /** The operator name, e.g. `"relax.add"`. */
  readonly name: string;
  /** Always `R.Object`. */
  readonly structInfo: StructInfo;
}

/** A reference to a function of the enclosing module, by name. */
export interface GlobalVar {
  /** The node kind. */
  readonly kind: "GlobalVar";
  /** The global name of the function in the module. */
  readonly name: string;
  /** What is known about the function (`R.Object` when unknown). */
  readonly structInfo: StructInfo;
}

/** A function provided by the runtime (the function registry), by symbol. */
export interface ExternFunc {
  /** The node kind. */
  readonly kind: "relax.ExternFunc";
  /** The symbol the runtime looks the function up by. */
  readonly globalSymbol: string;
  /** Always `R.Object`. */
  readonly structInfo: StructInfo;
}

/** A call of an operator, a module function, an extern function or a function value. */
export interface RCall {
  /** The node kind. */
  readonly kind: "relax.Call";
  /** The callee: an `Op`, a `GlobalVar`, an `ExternFunc` or a function value. */
  readonly op: Expr;
  /** The arguments. */
  readonly args: readonly Expr[];
  /** Operator attributes (e.g. `axis`). */
  readonly attrs: Attrs;
  /** StructInfo arguments (e.g. `out_sinfo` of `call_tir`). */
  readonly sinfoArgs: readonly StructInfo[];
  /** The StructInfo of the result. */
  readonly structInfo: StructInfo;
}

/** `if cond: then else: else`; the branches are SeqExprs. */
export interface If {
  /** The node kind. */
  readonly kind: "relax.If";
  /** The boolean scalar condition. */
  readonly cond: Expr;
  /** The value when `cond` holds. */
  readonly thenBranch: Expr;
  /** The value when `cond` does not hold. */
  readonly elseBranch: Expr;
  /** The StructInfo of the result. */
  readonly structInfo: StructInfo;
}

/** `var = value` */
export interface VarBinding {
  /** The node kind. */
  readonly kind: "VarBinding";
  /** The variable bound. */
  readonly var: RVar | DataflowVar;
  /** The value bound to `var`. */
  readonly value: Expr;
}

/** `var = R.match_cast(value, structInfo)`: checks and refines the StructInfo. */
export interface MatchCast {
  /** The node kind. */
  readonly kind: "MatchCast";
  /** The variable bound, with the refined StructInfo. */
  readonly var: RVar | DataflowVar;
  /** The value checked. */
  readonly value: Expr;
  /** The StructInfo `value` must match. */
  readonly structInfo: StructInfo;
}

/** A binding. */
export type Binding = VarBinding | MatchCast;

/** A block of bindings; a `DataflowBlock` is pure and its `DataflowVar`s are local to it. */
export interface BindingBlock {
  /** `"DataflowBlock"` for a pure dataflow block, else `"BindingBlock"`. */
  readonly kind: "BindingBlock" | "DataflowBlock";
  /** The bindings, in order. */
  readonly bindings: readonly Binding[];
}

/** Blocks of bindings followed by a result expression. */
export interface SeqExpr {
  /** The node kind. */
  readonly kind: "relax.SeqExpr";
  /** The binding blocks, in order. */
  readonly blocks: readonly BindingBlock[];
  /** The result, evaluated after the blocks. */
  readonly body: Expr;
  /** The StructInfo of `body`. */
  readonly structInfo: StructInfo;
}

/** A Relax function. */
export interface Function {
  /** The node kind. */
  readonly kind: "relax.Function";
  /** The parameters. */
  readonly params: readonly RVar[];
  /** The body; `relaxFunction` makes it a `SeqExpr`. */
  readonly body: Expr;
  /** The StructInfo of the returned value. */
  readonly retStructInfo: StructInfo;
  /** Whether the function has no side effects. */
  readonly isPure: boolean;
  /** Function attributes (`global_symbol`, ...). */
  readonly attrs: Attrs;
  /** Printed as `@R.function(private=True)` when true. */
  readonly isPrivate: boolean;
  /** The function's StructInfo (parameter infos, return info, purity). */
  readonly structInfo: FuncStructInfo;
}

/** A Relax expression. */
export type Expr =
  | RVar
  | DataflowVar
  | Constant
  | Tuple
  | TupleGetItem
  | ShapeExpr
  | PrimValue
  | RStringImm
  | DataTypeImm
  | Op
  | GlobalVar
  | ExternFunc
  | RCall
  | If
  | SeqExpr
  | Function;

/** A variable of either kind. */
export type AnyVar = RVar | DataflowVar;

// ---------------------------------------------------------------------------------------------
// construction

/** A new Relax variable. */
export function rvar(name: string, structInfo: StructInfo): RVar {
  return { kind: "relax.Var", name, structInfo };
}

/** A new dataflow variable. */
export function dataflowVar(name: string, structInfo: StructInfo): DataflowVar {
  return { kind: "relax.DataflowVar", name, structInfo };
}

/** Whether an expression is a variable (either kind). */
export function isVar(e: Expr): e is AnyVar {
  return e.kind === "relax.Var" || e.kind === "relax.DataflowVar";
}

/** A constant tensor. Checks the element count. */
export function constantTensor(data: NDArray): Constant {
  const n = data.shape.reduce((a, b) => a * b, 1);
  if (data.data.length !== n) {
    throw new Error(
      `Constant of shape (${data.shape.join(", ")}) needs ${n} elements, got ${data.data.length}`,
    );
  }
  return { kind: "relax.Constant", data, structInfo: tensorSInfo(data.shape, data.dtype) };
}

/** A tuple; its StructInfo is the tuple of its fields'. */
export function tuple(fields: readonly Expr[]): Tuple {
  return { kind: "relax.Tuple", fields, structInfo: tupleSInfo(fields.map((f) => f.structInfo)) };
}

/** `tuple[index]`; checks the index against the tuple's StructInfo when known. */
export function tupleGetItem(t: Expr, index: number): TupleGetItem {
  const s = t.structInfo;
  let sinfo: StructInfo = objectSInfo();
  if (s.kind === "TupleStructInfo") {
    const f = s.fields[index];
    if (!f) {
      throw new Error(`Tuple index ${index} out of range for a tuple of ${s.fields.length} fields`);
    }
    sinfo = f;
  } else if (s.kind !== "ObjectStructInfo") {
    throw new Error(`Cannot index a value of ${s.kind} as a tuple`);
  }
  return { kind: "relax.TupleGetItem", tuple: t, index, structInfo: sinfo };
}

/** `R.shape([...])`; numbers become int64. */
export function shapeExpr(values: readonly (PrimExpr | number)[]): ShapeExpr {
  const vs = values.map(shapeDim);
  for (const v of vs) {
    if (v.dtype !== "int64") throw new Error(`R.shape values must be int64, got ${v.dtype}`);
  }
  return { kind: "relax.ShapeExpr", values: vs, structInfo: shapeSInfo(vs) };
}

/** `R.prim_value(value)` */
export function primValue(value: PrimExpr): PrimValue {
  return { kind: "relax.PrimValue", value, structInfo: primSInfo(value.dtype, value) };
}

/** `R.str(value)` */
export function stringImmR(value: string): RStringImm {
  return { kind: "relax.StringImm", value, structInfo: objectSInfo() };
}

/** `R.dtype(value)` */
export function dataTypeImm(value: DType): DataTypeImm {
  return { kind: "relax.DataTypeImm", value, structInfo: objectSInfo() };
}

/** A reference to operator `name` (e.g. `"relax.add"`). */
export function opRef(name: string): Op {
  return { kind: "relax.Op", name, structInfo: objectSInfo() };
}

/** A reference to module function `name`. */
export function globalVar(name: string, structInfo: StructInfo = objectSInfo()): GlobalVar {
  return { kind: "GlobalVar", name, structInfo };
}

/** A reference to a runtime-registered function. */
export function externFunc(globalSymbol: string): ExternFunc {
  return { kind: "relax.ExternFunc", globalSymbol, structInfo: objectSInfo() };
}

/** Options of {@link rcall}. */
export interface CallOptions {
  /** Call attributes (keyword arguments of an op). */
  readonly attrs?: Attrs;
  /** StructInfo arguments (`out_sinfo`). */
  readonly sinfoArgs?: readonly StructInfo[];
  /** The call's StructInfo, when already inferred; `R.Object` otherwise. */
  readonly structInfo?: StructInfo;
}

/** A call node. The StructInfo is taken as given (the BlockBuilder infers it for ops). */
export function rcall(op: Expr, args: readonly Expr[], options: CallOptions = {}): RCall {
  return {
    kind: "relax.Call",
    op,
    args,
    attrs: options.attrs ?? {},
    sinfoArgs: options.sinfoArgs ?? [],
    structInfo: options.structInfo ?? objectSInfo(),
  };
}

/** `if cond then else`; the StructInfo is given or taken from the then branch. */
export function ifExpr(
  cond: Expr,
  thenBranch: Expr,
  elseBranch: Expr,
  structInfo?: StructInfo,
): If {
  return {
    kind: "relax.If",
    cond,
    thenBranch,
    elseBranch,
    structInfo: structInfo ?? thenBranch.structInfo,
  };
}

/** `var = value` */
export function varBinding(v: AnyVar, value: Expr): VarBinding {
  return { kind: "VarBinding", var: v, value };
}

/** `var = R.match_cast(value, sinfo)` */
export function matchCast(v: AnyVar, value: Expr, structInfo: StructInfo): MatchCast {
  return { kind: "MatchCast", var: v, value, structInfo };
}

/** A plain binding block. */
export function bindingBlock(bindings: readonly Binding[]): BindingBlock {
  return { kind: "BindingBlock", bindings };
}

/** A dataflow block. */
export function dataflowBlock(bindings: readonly Binding[]): BindingBlock {
  return { kind: "DataflowBlock", bindings };
}

/** Blocks followed by a result; the StructInfo is the body's. */
export function seqExpr(blocks: readonly BindingBlock[], body: Expr): SeqExpr {
  return { kind: "relax.SeqExpr", blocks, body, structInfo: body.structInfo };
}

/** Options of {@link relaxFunction}. */
export interface FunctionOptions {
  /** The declared return StructInfo; the body's by default. */
  readonly retStructInfo?: StructInfo;
  /** Whether the function is pure (default true). */
  readonly isPure?: boolean;
  /** Function attributes. */
  readonly attrs?: Attrs;
  /** Private to the module (default false). */
  readonly isPrivate?: boolean;
}

/** A Relax function. A non-SeqExpr body is wrapped in a SeqExpr with no blocks. */
export function relaxFunction(
  params: readonly RVar[],
  body: Expr,
  options: FunctionOptions = {},
): Function {
  const b = body.kind === "relax.SeqExpr" ? body : seqExpr([], body);
  const ret = options.retStructInfo ?? b.structInfo;
  const isPure = options.isPure ?? true;
  return {
    kind: "relax.Function",
    params,
    body: b,
    retStructInfo: ret,
    isPure,
    attrs: options.attrs ?? {},
    isPrivate: options.isPrivate ?? false,
    structInfo: funcSInfo(params.map((p) => p.structInfo), ret, isPure),
  };
}
