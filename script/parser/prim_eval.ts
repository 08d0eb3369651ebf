/**
 * Evaluation of TVMScript expressions to TIR `PrimExpr`s, shared by the TIR and Relax parsers.
 *
 * Python literals stay literals until they meet a typed operand (`i + 1` with `i: int64` makes
 * an int64 `1`); two literals combine with Python's arithmetic, as in TVMScript. Expressions are
 * built with the raw constructors, so the IR is exactly what was written (no folding).
 *
 * @module
 */

import {
  type DType,
  dtypeCode,
  elementDType,
  isBool,
  isFloat,
  isInt,
  isScalarDType,
  lanes,
  parseDType,
} from "../../ir/dtype.ts";
import {
  binary,
  type BinaryKind,
  boolImm,
  broadcast,
  type Buffer,
  bufferLoad,
  callIntrin,
  castExpr,
  constant,
  floatImm,
  intImm,
  INTRINSICS,
  letExpr,
  notExpr,
  type PrimExpr,
  primVar,
  ramp,
  select,
  stringImm,
  type Var,
} from "../../ir/expr.ts";
import {
  type BinOpKind,
  type CallNode,
  type CmpOpKind,
  describeExpr,
  dottedName,
  type ExprNode,
  type Located,
  type NameNode,
  type SliceNode,
} from "./ast.ts";
import { bindArgs, expectInt, expectString, type ParseContext } from "./context.ts";
import { bits, constDiff, pyArith } from "./prim_util.ts";

/** A Python literal that has not met a typed operand yet. */
export interface Lit {
  readonly lit: "int" | "float" | "bool";
  readonly value: number;
}

/** An evaluated scalar: a PrimExpr or a literal. */
export type TVal = PrimExpr | Lit;

/** What a name resolves to in a PrimExpr context. */
export type PrimName = PrimExpr | Buffer;

/** Whether a value is a literal. */
export function isLit(v: unknown): v is Lit {
  return typeof v === "object" && v !== null && "lit" in v;
}

/** Whether a value is a buffer. */
export function isBuffer(v: unknown): v is Buffer {
  return typeof v === "object" && v !== null && (v as { kind?: unknown }).kind === "Buffer";
}

const BIN_KIND: { readonly [K in BinOpKind]?: BinaryKind } = {
  "+": "Add",
  "-": "Sub",
  "*": "Mul",
  "/": "Div",
  "//": "FloorDiv",
  "%": "FloorMod",
};

const CMP_KIND: { readonly [K in CmpOpKind]?: BinaryKind } = {
  "<": "LT",
  "<=": "LE",
  ">": "GT",
  ">=": "GE",
  "==": "EQ",
  "!=": "NE",
};

/** Explicit node constructors `T.Add(a, b)`, `T.truncdiv(a, b)`, ... */
const RAW_BINARY: { readonly [name: string]: BinaryKind } = {
  Add: "Add",
  Sub: "Sub",
  Mul: "Mul",
  Div: "Div",
  Mod: "Mod",
  FloorDiv: "FloorDiv",
  FloorMod: "FloorMod",
  Min: "Min",
  Max: "Max",
  EQ: "EQ",
  NE: "NE",
  LT: "LT",
  LE: "LE",
  GT: "GT",
  GE: "GE",
  And: "And",
  Or: "Or",
  min: "Min",
  max: "Max",
  truncdiv: "Div",
  truncmod: "Mod",
  floordiv: "FloorDiv",
  floormod: "FloorMod",
};

/** Names of dtype constructors `T.int64`, `T.float32`, ... (also vectors `T.float32x4`). */
export function dtypeFromName(name: string): DType | undefined {
  if (isScalarDType(name)) return name;
  if (/^[a-z]+\d+x\d+$/.test(name)) {
    try {
      return parseDType(name);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Parses a dtype string, reporting an unknown one at `at`. */
export function dtypeArg(ctx: ParseContext, e: ExprNode): DType {
  const s = expectString(ctx, e, "a dtype");
  return ctx.guard(e, () => parseDType(s));
}

/** Evaluates expressions to PrimExprs for one function. */
export class PrimEval {
  private readonly locals: Map<string, Var>[] = [];

  /**
   * @param ctx error reporting
   * @param resolve what a name stands for (throws a located error when undefined)
   * @param defaultInt the dtype of a bare integer literal (`int32` in TIR, `int64` in Relax)
   */
  constructor(
    readonly ctx: ParseContext,
    private readonly resolve: (n: NameNode) => PrimName,
    readonly defaultInt: DType,
  ) {}

  /** Evaluates to a PrimExpr (literals take `like` when it fits, else their default dtype). */
  expr(e: ExprNode, like?: DType): PrimExpr {
    return this.finalize(this.tval(e), e, like);
  }

  /** Evaluates to a PrimExpr or a literal. */
  tval(e: ExprNode): TVal {
    const v = this.value(e);
    if (isBuffer(v)) this.ctx.fail(`Expected a scalar expression, got buffer "${v.name}"`, e);
    return v;
  }

  /** Turns a literal into a constant (`like` when given and compatible, else the default). */
  finalize(v: TVal, at: Located, like?: DType): PrimExpr {
    if (!isLit(v)) return v;
    return this.ctx.guard(at, () => {
      const t = like === undefined ? undefined : elementDType(like) as DType;
      if (v.lit === "bool") {
        if (t !== undefined && t !== "bool" && t !== "handle" && t !== "void") {
          return constant(v.value, t);
        }
        return boolImm(v.value !== 0);
      }
      if (v.lit === "float") {
        if (t !== undefined && isFloat(t)) return floatImm(v.value, t);
        if (t !== undefined && (isInt(t) || isBool(t)) && !Number.isInteger(v.value)) {
          throw new Error(`Cannot use the non-integer ${v.value} as ${t}: insert an explicit cast`);
        }
        return floatImm(v.value, "float32");
      }
      if (t !== undefined && t !== "handle" && t !== "void" && !isBool(t)) {
        return constant(v.value, t);
      }
      return intImm(v.value, this.defaultInt);
    });
  }

  /** Evaluates a value: a scalar, a literal or a buffer. */
  value(e: ExprNode): TVal | Buffer {
    return this.ctx.guard(e, () => this.valueInner(e));
  }

  private valueInner(e: ExprNode): TVal | Buffer {
    const ctx: ParseContext = this.ctx;
    switch (e.kind) {
      case "Constant":
        if (typeof e.value === "number") {
          return { lit: e.isFloat ? "float" : "int", value: e.value };
        }
        if (typeof e.value === "boolean") return { lit: "bool", value: e.value ? 1 : 0 };
        if (typeof e.value === "string") return stringImm(e.value);
        return ctx.fail("None is not a scalar expression", e);
      case "Name": {
        for (let i = this.locals.length - 1; i >= 0; i--) {
          const v = this.locals[i]!.get(e.id);
          if (v) return v;
        }
        return this.resolve(e);
      }
      case "Attribute": {
        const base = e.value.kind === "Name" ? this.value(e.value) : undefined;
        if (isBuffer(base)) {
          if (e.attr === "data") return base.data;
          if (e.attr === "elem_offset") return base.elemOffset;
          ctx.fail(`Buffer "${base.name}" has no attribute "${e.attr}" usable here`, e);
        }
        const d = dottedName(e);
        return ctx.fail(`Expected a scalar expression, got ${d ? `"${d}"` : "an attribute"}`, e);
      }
      case "Subscript":
        return this.subscript(e.value, e.indices);
      case "BinOp":
        return this.binop(e.op, this.tval(e.left), this.tval(e.right), e);
      case "UnaryOp":
        return this.unary(e.op, this.tval(e.operand), e);
      case "BoolOp": {
        let acc = this.tval(e.values[0]!);
        for (const x of e.values.slice(1)) acc = this.logic(e.op, acc, this.tval(x), e);
        return acc;
      }
      case "Compare": {
        let left = this.tval(e.left);
        let acc: TVal | undefined;
        e.ops.forEach((op, i) => {
          const rightNode = e.comparators[i]!;
          const right = this.tval(rightNode);
          const kind = CMP_KIND[op];
          if (!kind) return ctx.fail(`Operator "${op}" is not supported in scalar expressions`, e);
          const c = this.combine(kind, left, right, e);
          acc = acc === undefined ? c : this.logic("and", acc, c, e);
          left = right;
        });
        return acc!;
      }
      case "Call":
        return this.call(e);
      case "IfExp":
        return ctx.fail(
          "Conditional expressions are not supported: use T.Select or T.if_then_else",
          e,
        );
      case "Tuple":
      case "List":
      case "Dict":
        return ctx.fail(`Expected a scalar expression, got ${describeExpr(e)}`, e);
      default:
        e satisfies never;
        return ctx.fail("Expected a scalar expression", e);
    }
  }

  /** `buffer[indices]` as a load (slices become ramps). */
  private subscript(target: ExprNode, indices: readonly (ExprNode | SliceNode)[]): TVal {
    const b = this.value(target);
    if (!isBuffer(b)) {
      this.ctx.fail(`Cannot index ${describeExpr(target)}: it is not a buffer`, target);
    }
    const idx = this.indices(indices);
    return bufferLoad(b, idx);
  }

  /** Evaluates buffer indices; a slice `a:b` becomes a ramp of `b - a` lanes. */
  indices(indices: readonly (ExprNode | SliceNode)[]): PrimExpr[] {
    // `A[()]` indexes a 0-d buffer
    // `A[()]` indexes a 0-d buffer; `A[(i, j)]` is `A[i, j]`
    const only = indices.length === 1 ? indices[0]! : undefined;
    if (only?.kind === "Tuple") return only.elts.map((i) => this.expr(i));
    return indices.map((i) => {
      if (i.kind !== "Slice") return this.expr(i);
      return this.ctx.guard(i, () => {
        if (!i.lower || !i.upper) {
          this.ctx.fail("A vector index needs both bounds, as in A[i:i + 4]", i);
        }
        const lo = this.expr(i.lower);
        const hi = this.expr(i.upper, lo.dtype);
        const step = i.step ? this.expr(i.step, lo.dtype) : intImm(1, lo.dtype);
        const n = constDiff(lo, hi);
        if (n === undefined || step.kind !== "IntImm" || step.value <= 0 || n % step.value !== 0) {
          this.ctx.fail("A vector index must span a constant number of lanes", i);
        }
        return ramp(lo, step, n / step.value);
      });
    });
  }

  private unary(op: "-" | "+" | "~" | "not", v: TVal, at: ExprNode): TVal {
    if (op === "+") return v;
    if (op === "~") return this.ctx.fail('Operator "~" is not supported in scalar expressions', at);
    if (op === "not") {
      if (isLit(v)) return { lit: "bool", value: v.value === 0 ? 1 : 0 };
      return notExpr(v);
    }
    if (isLit(v)) return { lit: v.lit === "bool" ? "int" : v.lit, value: -v.value };
    if (v.kind === "IntImm" && !isBool(v.dtype)) return intImm(-v.value, v.dtype);
    if (v.kind === "FloatImm") return floatImm(-v.value, v.dtype);
    return binary("Mul", v, constant(-1, elementDType(v.dtype) as DType));
  }

  private binop(op: BinOpKind, a: TVal, b: TVal, at: ExprNode): TVal {
    const kind = BIN_KIND[op];
    if (!kind) return this.ctx.fail(`Operator "${op}" is not supported in scalar expressions`, at);
    return this.combine(kind, a, b, at);
  }

  private logic(op: "and" | "or", a: TVal, b: TVal, at: ExprNode): TVal {
    if (isLit(a) && isLit(b)) {
      const r = op === "and" ? a.value !== 0 && b.value !== 0 : a.value !== 0 || b.value !== 0;
      return { lit: "bool", value: r ? 1 : 0 };
    }
    return binary(
      op === "and" ? "And" : "Or",
      this.finalize(a, at, "bool"),
      this.finalize(b, at, "bool"),
    );
  }

  /** `a kind b`: literals combine in Python, else both sides are matched and a raw node built. */
  combine(kind: BinaryKind, a: TVal, b: TVal, at: Located): TVal {
    if (isLit(a) && isLit(b)) return pyArith(kind, a, b, this.ctx, at);
    const [x, y] = this.match(a, b, at);
    return binary(kind, x, y);
  }

  /** Gives two operands one dtype: literals adopt the other side; narrower ints widen. */
  match(a: TVal, b: TVal, at: Located): [PrimExpr, PrimExpr] {
    let x: PrimExpr;
    let y: PrimExpr;
    if (isLit(a) && isLit(b)) {
      x = this.finalize(a, at);
      y = this.finalize(b, at, x.dtype);
    } else if (isLit(a)) {
      y = b as PrimExpr;
      x = this.finalize(a, at, y.dtype);
    } else {
      x = a;
      y = this.finalize(b, at, x.dtype);
    }
    if (
      x.dtype !== y.dtype && isInt(x.dtype) && isInt(y.dtype) &&
      dtypeCode(x.dtype) === dtypeCode(y.dtype) &&
      lanes(x.dtype) === lanes(y.dtype)
    ) {
      if (bits(x.dtype) < bits(y.dtype)) x = castExpr(y.dtype, x);
      else y = castExpr(x.dtype, y);
    }
    return [x, y];
  }

  // ---------------------------------------------------------------------------- calls

  private call(e: CallNode): TVal {
    const ctx: ParseContext = this.ctx;
    const name = dottedName(e.func);
    if (!name) return ctx.fail("Expected a function name before the call", e);
    if (!name.startsWith("T.")) {
      if (name === "min" || name === "max") {
        return this.rawBinary(name === "min" ? "Min" : "Max", e);
      }
      return ctx.fail(`Unknown function "${name}" in a scalar expression`, e.func);
    }
    const fn = name.slice(2);
    const dt = dtypeFromName(fn);
    if (dt) return this.dtypeCall(dt, e);
    if (Object.hasOwn(RAW_BINARY, fn)) return this.rawBinary(RAW_BINARY[fn]!, e);
    switch (fn) {
      case "Cast": {
        const a = bindArgs(ctx, e, ["dtype", "value"]);
        const t = dtypeArg(ctx, a.byName.get("dtype")!);
        return castExpr(t, this.expr(a.byName.get("value")!));
      }
      case "Not": {
        const a = bindArgs(ctx, e, ["a"]);
        return notExpr(this.expr(a.byName.get("a")!, "bool"));
      }
      case "Select": {
        const a = bindArgs(ctx, e, ["condition", "true_value", "false_value"]);
        const c = this.expr(a.byName.get("condition")!, "bool");
        const [t, f] = this.match(
          this.tval(a.byName.get("true_value")!),
          this.tval(a.byName.get("false_value")!),
          e,
        );
        return select(c, t, f);
      }
      case "if_then_else": {
        const a = bindArgs(ctx, e, ["cond", "t", "f", "dtype"], 3);
        const c = this.expr(a.byName.get("cond")!, "bool");
        const [t, f] = this.match(this.tval(a.byName.get("t")!), this.tval(a.byName.get("f")!), e);
        const d = a.byName.get("dtype");
        return callIntrin("tir.if_then_else", [c, t, f], d ? dtypeArg(ctx, d) : undefined);
      }
      case "reinterpret": {
        const a = bindArgs(ctx, e, ["dtype", "value"]);
        return callIntrin(
          "tir.reinterpret",
          [this.expr(a.byName.get("value")!)],
          dtypeArg(ctx, a.byName.get("dtype")!),
        );
      }
      case "Ramp": {
        const a = bindArgs(ctx, e, ["base", "stride", "lanes"]);
        const base = this.expr(a.byName.get("base")!);
        return ramp(
          base,
          this.expr(a.byName.get("stride")!, base.dtype),
          expectInt(ctx, a.byName.get("lanes")!, "lanes"),
        );
      }
      case "Broadcast": {
        const a = bindArgs(ctx, e, ["value", "lanes"]);
        return broadcast(
          this.expr(a.byName.get("value")!),
          expectInt(ctx, a.byName.get("lanes")!, "lanes"),
        );
      }
      case "Let":
        return this.letCall(e);
      default:
        break;
    }
    const intrin = `tir.${fn}`;
    const info = INTRINSICS[intrin];
    if (!info) return ctx.fail(`Unknown TIR function "${name}"`, e.func);
    // older TVM printed the result dtype as a keyword: T.exp(x, dtype="float32")
    let dtypeKw: DType | undefined;
    for (const k of e.keywords) {
      if (k.name !== "dtype") {
        ctx.fail(`Cannot call "${name}": unexpected keyword argument "${k.name}"`, k);
      }
      dtypeKw = dtypeArg(ctx, k.value);
    }
    if (e.args.length !== info.arity) {
      ctx.fail(
        `Cannot call "${name}": expected ${info.arity} argument${
          info.arity === 1 ? "" : "s"
        }, got ${e.args.length}`,
        e,
      );
    }
    const vals = e.args.map((x) => this.tval(x));
    const firstTyped = vals.find((v): v is PrimExpr => !isLit(v));
    const args = vals.map((v, i) =>
      this.finalize(
        v,
        e.args[i]!,
        info.type === "float" && !firstTyped ? "float32" : firstTyped?.dtype,
      )
    );
    // intrinsics typed by their caller (e.g. `tir.tvm_storage_sync`) return int32 handles
    return callIntrin(intrin, args, dtypeKw ?? (info.type === "given" ? "int32" : undefined));
  }

  private rawBinary(kind: BinaryKind, e: CallNode): TVal {
    const a = bindArgs(this.ctx, e, ["a", "b"]);
    const x = this.tval(a.byName.get("a")!);
    const y = this.tval(a.byName.get("b")!);
    const [p, q] = this.match(x, y, e);
    return binary(kind, p, q);
  }

  private dtypeCall(t: DType, e: CallNode): TVal {
    const ctx: ParseContext = this.ctx;
    if (e.args.length === 0) {
      return ctx.fail(
        `"T.${t}()" declares a variable: assign it to a name, as in "n = T.${t}()"`,
        e,
      );
    }
    const a = bindArgs(ctx, e, ["value"]);
    const arg = a.byName.get("value")!;
    if (arg.kind === "Constant" && typeof arg.value === "string") {
      const s = arg.value.trim().toLowerCase();
      const v = s === "inf" || s === "+inf"
        ? Infinity
        : s === "-inf"
        ? -Infinity
        : s === "nan"
        ? NaN
        : undefined;
      if (v === undefined || !isFloat(t)) {
        return ctx.fail(`Cannot make a ${t} constant from the string "${arg.value}"`, arg);
      }
      return floatImm(v, t);
    }
    const v = this.tval(arg);
    if (isLit(v)) {
      if (isFloat(t)) return floatImm(v.value, t);
      if (isBool(t)) return boolImm(v.value !== 0);
      if (v.lit === "float") {
        ctx.fail(`Cannot make a ${t} constant from the non-integer ${v.value}`, arg);
      }
      return intImm(v.value, t);
    }
    return castExpr(t, v);
  }

  private letCall(e: CallNode): TVal {
    const ctx: ParseContext = this.ctx;
    const a = bindArgs(ctx, e, ["body", "where"]);
    const where = a.byName.get("where")!;
    if (where.kind !== "Dict" || where.keys.length !== 1) {
      return ctx.fail(
        'Expected "where" to be a dict with one variable, as in where={x: value}',
        where,
      );
    }
    const key = where.keys[0]!;
    if (key.kind !== "Name") {
      return ctx.fail(`Expected a variable name, got ${describeExpr(key)}`, key);
    }
    const value = this.expr(where.values[0]!);
    // a variable declared before (as the printer does: `x = T.float32()`) or a new one
    let known: PrimName | undefined;
    try {
      known = this.value(key) as PrimName;
    } catch {
      known = undefined;
    }
    const v = known && !isBuffer(known) && !isLit(known) && known.kind === "Var"
      ? known
      : primVar(key.id, value.dtype);
    this.locals.push(new Map([[key.id, v]]));
    try {
      return letExpr(v, value, this.expr(a.byName.get("body")!));
    } finally {
      this.locals.pop();
    }
  }
}
