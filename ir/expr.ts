/**
 * TIR scalar expressions (`PrimExpr`), buffers and ranges.
 *
 * Nodes are immutable data with a literal `kind` tag. Every node also carries the fluent
 * helpers of {@link PrimExprOps} (`a.add(b)`, `i.mul(4).add(j)`), which fold constants the way
 * TVM's Python operators do; the raw constructors (`binary`, `notExpr`, ...) build exactly the
 * node asked for.
 *
 * Variables have identity: two `Var`s with the same name are different variables.
 *
 * Size: this file is longer than the ~600-line guideline on purpose. The closed `PrimExpr` union
 * and every constructor share one private prototype (the fluent helpers), and the helpers call
 * the folding constructors; splitting them apart would create an import cycle.
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
  lanes,
  parseDType,
  withLanes,
} from "./dtype.ts";

/** A value accepted where a `PrimExpr` is expected: numbers and booleans become constants. */
export type PrimExprLike = PrimExpr | number | boolean;

/** Fluent arithmetic available on every `PrimExpr`. Each returns a new expression. */
export interface PrimExprOps {
  /** `this + o` */
  add(o: PrimExprLike): PrimExpr;
  /** `this - o` */
  sub(o: PrimExprLike): PrimExpr;
  /** `this * o` */
  mul(o: PrimExprLike): PrimExpr;
  /** `this / o` (true division for floats, truncating division for integers) */
  div(o: PrimExprLike): PrimExpr;
  /** Truncating remainder `this % o` as in C. */
  mod(o: PrimExprLike): PrimExpr;
  /** Floor division (TVMScript `//`). */
  floordiv(o: PrimExprLike): PrimExpr;
  /** Floor modulo (TVMScript `%`). */
  floormod(o: PrimExprLike): PrimExpr;
  /** `min(this, o)` */
  min(o: PrimExprLike): PrimExpr;
  /** `max(this, o)` */
  max(o: PrimExprLike): PrimExpr;
  /** `this == o` */
  eq(o: PrimExprLike): PrimExpr;
  /** `this != o` */
  ne(o: PrimExprLike): PrimExpr;
  /** `this < o` */
  lt(o: PrimExprLike): PrimExpr;
  /** `this <= o` */
  le(o: PrimExprLike): PrimExpr;
  /** `this > o` */
  gt(o: PrimExprLike): PrimExpr;
  /** `this >= o` */
  ge(o: PrimExprLike): PrimExpr;
  /** Logical and of two booleans. */
  and(o: PrimExprLike): PrimExpr;
  /** Logical or of two booleans. */
  or(o: PrimExprLike): PrimExpr;
  /** Logical not of a boolean. */
  not(): PrimExpr;
  /** `-this` */
  neg(): PrimExpr;
  /** Converts to another dtype (no node when the dtype is already `t`). */
  cast(t: DType): PrimExpr;
}

/** A scalar variable (loop variable, symbolic shape, function scalar parameter). */
export interface Var extends PrimExprOps {
  /** The node kind. */
  readonly kind: "Var";
  /** A display name; names do not make two variables equal. */
  readonly name: string;
  /** The scalar type of the variable. */
  readonly dtype: DType;
  /** True for a `SizeVar`: a variable known to be non-negative (a size). */
  readonly isSize: boolean;
}

/** An integer (or bool) constant. */
export interface IntImm extends PrimExprOps {
  /** The node kind. */
  readonly kind: "IntImm";
  /** The integer value (0 or 1 for a bool). */
  readonly value: number;
  /** An integer or bool dtype. */
  readonly dtype: DType;
}

/** A floating-point constant. */
export interface FloatImm extends PrimExprOps {
  /** The node kind. */
  readonly kind: "FloatImm";
  /** The floating-point value. */
  readonly value: number;
  /** A float dtype. */
  readonly dtype: DType;
}

/** A string constant (used as an argument of intrinsics and in attributes). */
export interface StringImm extends PrimExprOps {
  /** The node kind. */
  readonly kind: "StringImm";
  /** The string. */
  readonly value: string;
  /** Always `"handle"`. */
  readonly dtype: "handle";
}

/** Arithmetic binary operators. */
export type ArithKind =
  | "Add"
  | "Sub"
  | "Mul"
  | "Div"
  | "Mod"
  | "FloorDiv"
  | "FloorMod"
  | "Min"
  | "Max";
/** Comparison operators (result is bool). */
export type CmpKind = "EQ" | "NE" | "LT" | "LE" | "GT" | "GE";
/** Logical operators on bools. */
export type LogicKind = "And" | "Or";
/** All binary operator kinds. */
export type BinaryKind = ArithKind | CmpKind | LogicKind;

/** A binary operation `a op b`. */
export interface Binary extends PrimExprOps {
  /** The operator. */
  readonly kind: BinaryKind;
  /** The left operand. */
  readonly a: PrimExpr;
  /** The right operand. */
  readonly b: PrimExpr;
  /** The result dtype (bool for comparisons, else the operands'). */
  readonly dtype: DType;
}

/** Logical negation. */
export interface Not extends PrimExprOps {
  /** The node kind. */
  readonly kind: "Not";
  /** The negated boolean. */
  readonly a: PrimExpr;
  /** The bool result dtype. */
  readonly dtype: DType;
}

/** `cond ? t : f`, both sides evaluated. */
export interface Select extends PrimExprOps {
  /** The node kind. */
  readonly kind: "Select";
  /** The boolean condition. */
  readonly cond: PrimExpr;
  /** The value when `cond` holds. */
  readonly t: PrimExpr;
  /** The value when `cond` does not hold. */
  readonly f: PrimExpr;
  /** The dtype of `t` and `f`. */
  readonly dtype: DType;
}

/** A type conversion. */
export interface Cast extends PrimExprOps {
  /** The node kind. */
  readonly kind: "Cast";
  /** The converted expression. */
  readonly value: PrimExpr;
  /** The target dtype. */
  readonly dtype: DType;
}

/** `let v = value in body`. */
export interface Let extends PrimExprOps {
  /** The node kind. */
  readonly kind: "Let";
  /** The variable bound in `body`. */
  readonly var: Var;
  /** The value bound to `var`. */
  readonly value: PrimExpr;
  /** The expression evaluated with `var` bound. */
  readonly body: PrimExpr;
  /** The dtype of `body`. */
  readonly dtype: DType;
}

/** A call of a named intrinsic (`tir.exp`, `tir.if_then_else`, ...). */
export interface Call extends PrimExprOps {
  /** The node kind. */
  readonly kind: "Call";
  /** The intrinsic's name, e.g. `"tir.exp"`. */
  readonly op: string;
  /** The arguments. */
  readonly args: readonly PrimExpr[];
  /** The result dtype. */
  readonly dtype: DType;
}

/** A read of one element of a buffer. */
export interface BufferLoad extends PrimExprOps {
  /** The node kind. */
  readonly kind: "BufferLoad";
  /** The buffer read. */
  readonly buffer: Buffer;
  /** One index per buffer dimension. */
  readonly indices: readonly PrimExpr[];
  /** The loaded dtype (the buffer's, with lanes for a vector load). */
  readonly dtype: DType;
}

/** A vector of `lanes` values `base, base + stride, ...`. */
export interface Ramp extends PrimExprOps {
  /** The node kind. */
  readonly kind: "Ramp";
  /** The first value. */
  readonly base: PrimExpr;
  /** The step between consecutive lanes. */
  readonly stride: PrimExpr;
  /** The number of lanes. */
  readonly lanes: number;
  /** The vector dtype. */
  readonly dtype: DType;
}

/** A vector of `lanes` copies of a scalar. */
export interface Broadcast extends PrimExprOps {
  /** The node kind. */
  readonly kind: "Broadcast";
  /** The scalar repeated. */
  readonly value: PrimExpr;
  /** The number of lanes. */
  readonly lanes: number;
  /** The vector dtype. */
  readonly dtype: DType;
}

/** A TIR scalar (or vector) expression. */
export type PrimExpr =
  | Var
  | IntImm
  | FloatImm
  | StringImm
  | Binary
  | Not
  | Select
  | Cast
  | Let
  | Call
  | BufferLoad
  | Ramp
  | Broadcast;

/** The memory scope of a buffer. */
export type StorageScope = "global" | "shared" | "local" | "shared.dyn" | "uniform";

/**
 * A multi-dimensional view of memory. A buffer is a definition: it has identity like a variable,
 * and structural equality maps buffers at their definition points.
 */
export interface Buffer {
  /** The node kind. */
  readonly kind: "Buffer";
  /** A display name. */
  readonly name: string;
  /** The data pointer; buffers that share it alias the same memory. */
  readonly data: Var;
  /** The element dtype. */
  readonly dtype: DType;
  /** The extent of each dimension. */
  readonly shape: readonly PrimExpr[];
  /** Strides in elements; empty for a compact row-major buffer. */
  readonly strides: readonly PrimExpr[];
  /** Offset in elements of the first element from `data`. */
  readonly elemOffset: PrimExpr;
  /** Where the memory lives. */
  readonly scope: StorageScope;
  /** Alignment in bytes of the data pointer (0: default). */
  readonly alignment: number;
}

/** A half-open interval `[min, min + extent)`. */
export interface Range {
  /** The node kind. */
  readonly kind: "Range";
  /** The first value. */
  readonly min: PrimExpr;
  /** The number of values. */
  readonly extent: PrimExpr;
}

// ---------------------------------------------------------------------------------------------
// construction

const ops: PrimExprOps = {
  add(this: PrimExpr, o) {
    return add(this, o);
  },
  sub(this: PrimExpr, o) {
    return sub(this, o);
  },
  mul(this: PrimExpr, o) {
    return mul(this, o);
  },
  div(this: PrimExpr, o) {
    return div(this, o);
  },
  mod(this: PrimExpr, o) {
    return truncmod(this, o);
  },
  floordiv(this: PrimExpr, o) {
    return floordiv(this, o);
  },
  floormod(this: PrimExpr, o) {
    return floormod(this, o);
  },
  min(this: PrimExpr, o) {
    return min(this, o);
  },
  max(this: PrimExpr, o) {
    return max(this, o);
  },
  eq(this: PrimExpr, o) {
    return eq(this, o);
  },
  ne(this: PrimExpr, o) {
    return ne(this, o);
  },
  lt(this: PrimExpr, o) {
    return lt(this, o);
  },
  le(this: PrimExpr, o) {
    return le(this, o);
  },
  gt(this: PrimExpr, o) {
    return gt(this, o);
  },
  ge(this: PrimExpr, o) {
    return ge(this, o);
  },
  and(this: PrimExpr, o) {
    return and(this, o);
  },
  or(this: PrimExpr, o) {
    return or(this, o);
  },
  not(this: PrimExpr) {
    return not(this);
  },
  neg(this: PrimExpr) {
    return neg(this);
  },
  cast(this: PrimExpr, t: DType) {
    return cast(this, t);
  },
};

/** Creates a node carrying the fluent helpers. */
function node<T extends PrimExpr>(fields: Omit<T, keyof PrimExprOps>): T {
  return Object.assign(Object.create(ops), fields) as T;
}

/** A new scalar variable. Two calls with the same name give two different variables. */
export function primVar(name: string, dtype: DType = "int32"): Var {
  return node<Var>({ kind: "Var", name, dtype: parseDType(dtype), isSize: false });
}

/** A new non-negative variable, for sizes (TVM's `SizeVar`). */
export function sizeVar(name: string, dtype: DType = "int32"): Var {
  return node<Var>({ kind: "Var", name, dtype: parseDType(dtype), isSize: true });
}

/** An integer or bool constant; throws when the value is not an integer or does not fit. */
export function intImm(value: number, dtype: DType = "int32"): IntImm {
  if (!Number.isInteger(value)) {
    throw new Error(`Cannot make an ${dtype} constant from ${value}: not an integer`);
  }
  if (!isInt(dtype) && !isBool(dtype)) {
    throw new Error(`Cannot make an integer constant of dtype ${dtype}`);
  }
  if (isBool(dtype) && value !== 0 && value !== 1) {
    throw new Error(`Cannot make a bool constant from ${value}`);
  }
  return node<IntImm>({ kind: "IntImm", value, dtype });
}

/** A floating-point constant. */
export function floatImm(value: number, dtype: DType = "float32"): FloatImm {
  if (!isFloat(dtype)) throw new Error(`Cannot make a float constant of dtype ${dtype}`);
  return node<FloatImm>({ kind: "FloatImm", value, dtype });
}

/** A constant of any numeric dtype. */
export function constant(value: number | boolean, dtype: DType): IntImm | FloatImm {
  if (typeof value === "boolean") return intImm(value ? 1 : 0, dtype);
  return isFloat(dtype) ? floatImm(value, dtype) : intImm(value, dtype);
}

/** A string constant. */
export function stringImm(value: string): StringImm {
  return node<StringImm>({ kind: "StringImm", value, dtype: "handle" });
}

/** The bool constant `true` or `false`. */
export function boolImm(value: boolean): IntImm {
  return intImm(value ? 1 : 0, "bool");
}

const opNames: { readonly [K in BinaryKind]: string } = {
  Add: "add",
  Sub: "subtract",
  Mul: "multiply",
  Div: "divide",
  Mod: "take the remainder of",
  FloorDiv: "floor-divide",
  FloorMod: "floor-mod",
  Min: "take min of",
  Max: "take max of",
  EQ: "compare",
  NE: "compare",
  LT: "compare",
  LE: "compare",
  GT: "compare",
  GE: "compare",
  And: "and",
  Or: "or",
};

/** Whether a binary kind is a comparison. */
export function isCmpKind(k: string): k is CmpKind {
  return k === "EQ" || k === "NE" || k === "LT" || k === "LE" || k === "GT" || k === "GE";
}

/** Whether a node kind is one of the binary kinds. */
export function isBinaryKind(k: string): k is BinaryKind {
  return Object.hasOwn(opNames, k);
}

/** Whether an expression is a binary node. */
export function isBinary(e: PrimExpr): e is Binary {
  return isBinaryKind(e.kind);
}

/**
 * The raw binary node, with no folding or promotion. Operand dtypes must match (bool for And/Or).
 */
export function binary(kind: BinaryKind, a: PrimExpr, b: PrimExpr): Binary {
  if (a.dtype !== b.dtype) {
    throw new Error(`Cannot ${opNames[kind]} ${a.dtype} and ${b.dtype}: insert an explicit cast`);
  }
  if ((kind === "And" || kind === "Or") && !isBool(a.dtype)) {
    throw new Error(`Cannot ${opNames[kind]} ${a.dtype} values: expected bool`);
  }
  if (a.dtype === "handle" || b.dtype === "handle") {
    throw new Error(`Cannot ${opNames[kind]} handle values`);
  }
  const dtype = isCmpKind(kind) ? withLanes("bool", lanes(a.dtype)) : a.dtype;
  return node<Binary>({ kind, a, b, dtype });
}

/** Converts a number or boolean to a constant whose dtype suits `other`. */
export function toExpr(x: PrimExprLike, other?: PrimExpr): PrimExpr {
  if (typeof x === "boolean") return boolImm(x);
  if (typeof x !== "number") return x;
  const t = other
    ? elementDType(other.dtype) as DType
    : (Number.isInteger(x) ? "int32" : "float32");
  if (t === "bool" || t === "handle" || t === "void") {
    return Number.isInteger(x) ? intImm(x, "int32") : floatImm(x, "float32");
  }
  if (isInt(t) && !Number.isInteger(x)) {
    throw new Error(`Cannot combine ${t} with the non-integer ${x}: insert an explicit cast`);
  }
  return constant(x, t);
}

function isConst(e: PrimExpr): e is IntImm | FloatImm {
  return e.kind === "IntImm" || e.kind === "FloatImm";
}

/** Matches the dtypes of two operands: numbers adopt the other side; narrower ints widen. */
function matchTypes(aa: PrimExprLike, bb: PrimExprLike, kind: BinaryKind): [PrimExpr, PrimExpr] {
  let a = typeof aa === "object" ? aa : toExpr(aa, typeof bb === "object" ? bb : undefined);
  let b = typeof bb === "object" ? bb : toExpr(bb, a);
  if (a.dtype === b.dtype) return [a, b];
  const ca = dtypeCode(a.dtype), cb = dtypeCode(b.dtype);
  if (isInt(a.dtype) && isInt(b.dtype) && ca === cb && lanes(a.dtype) === lanes(b.dtype)) {
    if (a.dtype < b.dtype || a.dtype.length < b.dtype.length) a = cast(a, b.dtype);
    else b = cast(b, a.dtype);
    if (a.dtype === b.dtype) return [a, b];
  }
  throw new Error(`Cannot ${opNames[kind]} ${a.dtype} and ${b.dtype}: insert an explicit cast`);
}

/**
 * Integer `x kind y` in exact arithmetic; `undefined` for a division by zero. Results are never
 * `-0`.
 */
export function foldInt(kind: BinaryKind, x: number, y: number): number | undefined {
  switch (kind) {
    case "Add":
      return x + y;
    case "Sub":
      return x - y;
    case "Mul":
      return x * y;
    case "Div":
      return y === 0 ? undefined : Math.trunc(x / y) || 0;
    case "Mod":
      return y === 0 ? undefined : x % y || 0;
    case "FloorDiv":
      return y === 0 ? undefined : Math.floor(x / y) || 0;
    case "FloorMod":
      return y === 0 ? undefined : x - Math.floor(x / y) * y || 0;
    case "Min":
      return Math.min(x, y);
    case "Max":
      return Math.max(x, y);
    case "EQ":
      return +(x === y);
    case "NE":
      return +(x !== y);
    case "LT":
      return +(x < y);
    case "LE":
      return +(x <= y);
    case "GT":
      return +(x > y);
    case "GE":
      return +(x >= y);
    case "And":
      return +(x !== 0 && y !== 0);
    case "Or":
      return +(x !== 0 || y !== 0);
  }
}

/** Builds `a kind b` after type matching, folding constants and trivial identities. */
function build(kind: BinaryKind, a0: PrimExprLike, b0: PrimExprLike): PrimExpr {
  const [a, b] = matchTypes(a0, b0, kind);
  if (isConst(a) && isConst(b)) {
    const float = isFloat(a.dtype);
    if (float) {
      const x = a.value, y = b.value;
      const r = kind === "Add"
        ? x + y
        : kind === "Sub"
        ? x - y
        : kind === "Mul"
        ? x * y
        : kind === "Div" && y !== 0
        ? x / y
        : kind === "Min"
        ? Math.min(x, y)
        : kind === "Max"
        ? Math.max(x, y)
        : undefined;
      if (r !== undefined) return floatImm(a.dtype === "float32" ? Math.fround(r) : r, a.dtype);
    } else {
      const r = foldInt(kind, a.value, b.value);
      if (r !== undefined && Number.isSafeInteger(r)) {
        return isCmpKind(kind) ? boolImm(r !== 0) : intImm(r, a.dtype);
      }
    }
  }
  const zero = (e: PrimExpr) => isConst(e) && e.value === 0;
  const one = (e: PrimExpr) => isConst(e) && e.value === 1;
  switch (kind) {
    case "Add":
      if (zero(b)) return a; // x + 0 -> x
      if (zero(a)) return b; // 0 + x -> x
      break;
    case "Sub":
      if (zero(b)) return a; // x - 0 -> x
      break;
    case "Mul":
      if (one(b)) return a; // x * 1 -> x
      if (one(a)) return b; // 1 * x -> x
      if (!isFloat(a.dtype) && (zero(a) || zero(b))) return intImm(0, a.dtype); // x * 0 -> 0
      break;
    case "Div":
    case "FloorDiv":
      if (one(b)) return a; // x / 1 -> x
      break;
    case "FloorMod":
    case "Mod":
      if (one(b) && !isFloat(a.dtype)) return intImm(0, a.dtype); // x % 1 -> 0
      break;
    default:
      break;
  }
  return binary(kind, a, b);
}

/** `a + b` with constant folding. */
export function add(a: PrimExprLike, b: PrimExprLike): PrimExpr {
  return build("Add", a, b);
}
/** `a - b` with constant folding. */
export function sub(a: PrimExprLike, b: PrimExprLike): PrimExpr {
  return build("Sub", a, b);
}
/** `a * b` with constant folding. */
export function mul(a: PrimExprLike, b: PrimExprLike): PrimExpr {
  return build("Mul", a, b);
}
/** `a / b`: true division for floats, truncating division for integers. */
export function div(a: PrimExprLike, b: PrimExprLike): PrimExpr {
  return build("Div", a, b);
}
/** Truncating integer division (rounds toward zero). */
export function truncdiv(a: PrimExprLike, b: PrimExprLike): PrimExpr {
  return build("Div", a, b);
}
/** Truncating remainder (sign of the dividend). */
export function truncmod(a: PrimExprLike, b: PrimExprLike): PrimExpr {
  return build("Mod", a, b);
}
/** Floor division (rounds toward negative infinity). */
export function floordiv(a: PrimExprLike, b: PrimExprLike): PrimExpr {
  return build("FloorDiv", a, b);
}
/** Floor modulo (sign of the divisor). */
export function floormod(a: PrimExprLike, b: PrimExprLike): PrimExpr {
  return build("FloorMod", a, b);
}
/** `min(a, b)` */
export function min(a: PrimExprLike, b: PrimExprLike): PrimExpr {
  return build("Min", a, b);
}
/** `max(a, b)` */
export function max(a: PrimExprLike, b: PrimExprLike): PrimExpr {
  return build("Max", a, b);
}
/** `a == b` */
export function eq(a: PrimExprLike, b: PrimExprLike): PrimExpr {
  return build("EQ", a, b);
}
/** `a != b` */
export function ne(a: PrimExprLike, b: PrimExprLike): PrimExpr {
  return build("NE", a, b);
}
/** `a < b` */
export function lt(a: PrimExprLike, b: PrimExprLike): PrimExpr {
  return build("LT", a, b);
}
/** `a <= b` */
export function le(a: PrimExprLike, b: PrimExprLike): PrimExpr {
  return build("LE", a, b);
}
/** `a > b` */
export function gt(a: PrimExprLike, b: PrimExprLike): PrimExpr {
  return build("GT", a, b);
}
/** `a >= b` */
export function ge(a: PrimExprLike, b: PrimExprLike): PrimExpr {
  return build("GE", a, b);
}
/** Logical and (folds `true and x` to `x`). */
export function and(a: PrimExprLike, b: PrimExprLike): PrimExpr {
  const [x, y] = [toExpr(a), toExpr(b)];
  if (x.kind === "IntImm" && isBool(x.dtype)) return x.value ? y : x; // true && y -> y
  if (y.kind === "IntImm" && isBool(y.dtype)) return y.value ? x : y; // x && true -> x
  return build("And", x, y);
}
/** Logical or (folds `false or x` to `x`). */
export function or(a: PrimExprLike, b: PrimExprLike): PrimExpr {
  const [x, y] = [toExpr(a), toExpr(b)];
  if (x.kind === "IntImm" && isBool(x.dtype)) return x.value ? x : y; // false || y -> y
  if (y.kind === "IntImm" && isBool(y.dtype)) return y.value ? y : x; // x || false -> x
  return build("Or", x, y);
}

/** The raw logical negation node. */
export function notExpr(a: PrimExpr): Not {
  if (!isBool(a.dtype)) throw new Error(`Cannot negate ${a.dtype} logically: expected bool`);
  return node<Not>({ kind: "Not", a, dtype: a.dtype });
}

/** Logical not, folding constants. */
export function not(a: PrimExprLike): PrimExpr {
  const x = toExpr(a);
  if (x.kind === "IntImm" && isBool(x.dtype)) return boolImm(!x.value);
  return notExpr(x);
}

/** Arithmetic negation `-a` (as `0 - a`, as TVM does). */
export function neg(a: PrimExprLike): PrimExpr {
  const x = toExpr(a);
  if (x.kind === "IntImm") return intImm(-x.value, x.dtype);
  if (x.kind === "FloatImm") return floatImm(-x.value, x.dtype);
  return binary("Sub", constant(0, x.dtype), x);
}

/** The raw select node: both branches are evaluated. */
export function select(cond: PrimExprLike, t: PrimExprLike, f: PrimExprLike): Select {
  const c = toExpr(cond);
  const [tt, ff] = matchTypes(t, f, "Add");
  if (!isBool(c.dtype)) throw new Error(`Select condition must be bool, got ${c.dtype}`);
  return node<Select>({ kind: "Select", cond: c, t: tt, f: ff, dtype: tt.dtype });
}

/** The raw cast node (always builds a node). */
export function castExpr(t: DType, value: PrimExpr): Cast {
  if (lanes(t) !== lanes(value.dtype)) {
    throw new Error(`Cannot cast ${value.dtype} to ${t}: lane counts differ`);
  }
  return node<Cast>({ kind: "Cast", value, dtype: parseDType(t) });
}

/** Converts `value` to `t`: no node when it already has that dtype; constants fold. */
export function cast(value: PrimExprLike, t: DType): PrimExpr {
  const v = toExpr(value);
  if (v.dtype === t) return v;
  if (v.kind === "IntImm" || v.kind === "FloatImm") {
    if (isFloat(t)) return floatImm(t === "float32" ? Math.fround(v.value) : v.value, t);
    if (isBool(t)) return boolImm(v.value !== 0);
    if (isInt(t)) return intImm(Math.trunc(v.value), t);
  }
  return castExpr(t, v);
}

/** `let v = value in body`. */
export function letExpr(v: Var, value: PrimExpr, body: PrimExpr): Let {
  if (v.dtype !== value.dtype) {
    throw new Error(`Cannot bind ${value.dtype} value to ${v.dtype} variable "${v.name}"`);
  }
  return node<Let>({ kind: "Let", var: v, value, body, dtype: body.dtype });
}

/** How an intrinsic types its result. */
type IntrinType = "same" | "bool" | "float" | "given";

/** Known intrinsics: arity and result typing. */
export const INTRINSICS: {
  readonly [name: string]: { readonly arity: number; readonly type: IntrinType };
} = {
  "tir.exp": { arity: 1, type: "float" },
  "tir.exp2": { arity: 1, type: "float" },
  "tir.log": { arity: 1, type: "float" },
  "tir.log2": { arity: 1, type: "float" },
  "tir.log10": { arity: 1, type: "float" },
  "tir.sqrt": { arity: 1, type: "float" },
  "tir.rsqrt": { arity: 1, type: "float" },
  "tir.tanh": { arity: 1, type: "float" },
  "tir.sigmoid": { arity: 1, type: "float" },
  "tir.erf": { arity: 1, type: "float" },
  "tir.sin": { arity: 1, type: "float" },
  "tir.cos": { arity: 1, type: "float" },
  "tir.tan": { arity: 1, type: "float" },
  "tir.atan": { arity: 1, type: "float" },
  "tir.pow": { arity: 2, type: "float" },
  "tir.fabs": { arity: 1, type: "same" },
  "tir.floor": { arity: 1, type: "float" },
  "tir.ceil": { arity: 1, type: "float" },
  "tir.round": { arity: 1, type: "float" },
  "tir.nearbyint": { arity: 1, type: "float" },
  "tir.trunc": { arity: 1, type: "float" },
  "tir.isnan": { arity: 1, type: "bool" },
  "tir.isinf": { arity: 1, type: "bool" },
  "tir.if_then_else": { arity: 3, type: "given" },
  "tir.reinterpret": { arity: 1, type: "given" },
  "tir.likely": { arity: 1, type: "bool" },
  "tir.tvm_storage_sync": { arity: 1, type: "given" },
};

/**
 * A call of an intrinsic. `dtype` is required for intrinsics whose result type is not implied
 * by their arguments (`tir.if_then_else`, `tir.reinterpret`).
 */
export function callIntrin(op: string, args: readonly PrimExprLike[], dtype?: DType): Call {
  const info = INTRINSICS[op];
  if (!info) throw new Error(`Unknown intrinsic "${op}"`);
  if (args.length !== info.arity) {
    throw new Error(`Intrinsic "${op}" takes ${info.arity} arguments, got ${args.length}`);
  }
  const xs = args.map((a, i) =>
    toExpr(a, i > 0 && typeof args[0] === "object" ? args[0] : undefined)
  );
  let t: DType;
  switch (info.type) {
    case "bool":
      t = "bool";
      break;
    case "same":
      t = xs[0]!.dtype;
      break;
    case "float":
      t = xs[0]!.dtype;
      if (!isFloat(t)) throw new Error(`Intrinsic "${op}" expects a float argument, got ${t}`);
      if (xs.length === 2 && xs[1]!.dtype !== t) {
        throw new Error(`Intrinsic "${op}": argument dtypes ${t} and ${xs[1]!.dtype} differ`);
      }
      break;
    case "given":
      if (op === "tir.if_then_else") {
        if (!isBool(xs[0]!.dtype)) {
          throw new Error(`if_then_else condition must be bool, got ${xs[0]!.dtype}`);
        }
        const [tt, ff] = matchTypes(args[1]!, args[2]!, "Add");
        xs[1] = tt;
        xs[2] = ff;
        t = dtype ?? tt.dtype;
      } else {
        if (!dtype) throw new Error(`Intrinsic "${op}" needs an explicit result dtype`);
        t = dtype;
      }
      break;
  }
  return node<Call>({ kind: "Call", op, args: xs, dtype: dtype ?? t });
}

/** A read of `buffer[indices]`; the index count must equal the buffer's rank (or 1 when flat). */
export function bufferLoad(buffer: Buffer, indices: readonly PrimExprLike[]): BufferLoad {
  if (indices.length !== buffer.shape.length) {
    throw new Error(
      `Buffer "${buffer.name}" has ${buffer.shape.length} dimensions, got ${indices.length} indices`,
    );
  }
  const idx = indices.map((i) => toExpr(i));
  for (const i of idx) {
    if (!isInt(i.dtype) || lanes(i.dtype) > 1 && i.kind !== "Ramp" && i.kind !== "Broadcast") {
      if (!isInt(i.dtype)) {
        throw new Error(`Buffer "${buffer.name}" index must be an integer, got ${i.dtype}`);
      }
    }
  }
  const l = idx.reduce((acc, i) => Math.max(acc, lanes(i.dtype)), 1);
  return node<BufferLoad>({
    kind: "BufferLoad",
    buffer,
    indices: idx,
    dtype: withLanes(buffer.dtype, l),
  });
}

/** The vector `base + i * stride` for `i < lanes`. */
export function ramp(base: PrimExpr, stride: PrimExprLike, n: number): Ramp {
  const s = toExpr(stride, base);
  if (s.dtype !== base.dtype) {
    throw new Error(`Ramp stride ${s.dtype} differs from base ${base.dtype}`);
  }
  return node<Ramp>({ kind: "Ramp", base, stride: s, lanes: n, dtype: withLanes(base.dtype, n) });
}

/** A vector of `n` copies of `value`. */
export function broadcast(value: PrimExpr, n: number): Broadcast {
  return node<Broadcast>({ kind: "Broadcast", value, lanes: n, dtype: withLanes(value.dtype, n) });
}

/** Options of {@link declBuffer}. */
export interface BufferOptions {
  /** The data pointer variable; a fresh one by default. */
  readonly data?: Var;
  /** Strides in elements; empty (compact) by default. */
  readonly strides?: readonly PrimExprLike[];
  /** Element offset; 0 by default. */
  readonly elemOffset?: PrimExprLike;
  /** Memory scope; `"global"` by default. */
  readonly scope?: StorageScope;
  /** Alignment in bytes; 0 (default) by default. */
  readonly alignment?: number;
}

/** Declares a new buffer (a definition with identity). */
export function declBuffer(
  shape: readonly PrimExprLike[],
  dtype: DType,
  name: string,
  options: BufferOptions = {},
): Buffer {
  const t = parseDType(dtype);
  const shp = shape.map((s) => toExpr(s));
  for (const s of shp) {
    if (!isInt(s.dtype)) throw new Error(`Buffer "${name}" shape must be integers, got ${s.dtype}`);
  }
  return {
    kind: "Buffer",
    name,
    data: options.data ?? primVar(name, "handle"),
    dtype: t,
    shape: shp,
    strides: (options.strides ?? []).map((s) => toExpr(s)),
    elemOffset: toExpr(options.elemOffset ?? 0),
    scope: options.scope ?? "global",
    alignment: options.alignment ?? 0,
  };
}

/** A range `[min, min + extent)`; a single argument means `[0, extent)`. */
export function range(min: PrimExprLike, extent?: PrimExprLike): Range {
  if (extent === undefined) {
    const e = toExpr(min);
    return { kind: "Range", min: constant(0, isInt(e.dtype) ? e.dtype : "int32"), extent: e };
  }
  const m = toExpr(min, typeof extent === "object" ? extent : undefined);
  return { kind: "Range", min: m, extent: toExpr(extent, m) };
}

/** A range given by its bounds `[begin, end)`. */
export function rangeFromBounds(begin: PrimExprLike, end: PrimExprLike): Range {
  const b = toExpr(begin, typeof end === "object" ? end : undefined);
  return { kind: "Range", min: b, extent: sub(end, b) };
}

/** Whether the value is a PrimExpr node. */
export function isPrimExpr(x: unknown): x is PrimExpr {
  return typeof x === "object" && x !== null && Object.getPrototypeOf(x) === ops;
}

/** If `e` is an integer constant, its value; else `undefined`. */
export function constIntValue(e: PrimExpr): number | undefined {
  return e.kind === "IntImm" ? e.value : undefined;
}

/** A copy of `e` with some fields replaced (keeps the fluent helpers). */
export function copyExpr<T extends PrimExpr>(e: T, changes: Partial<Omit<T, "kind">>): T {
  return Object.assign(Object.create(ops), e, changes) as T;
}
