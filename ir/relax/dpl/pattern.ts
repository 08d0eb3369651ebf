/**
 * The dataflow pattern language (TVM's `relax.dpl`): patterns that describe Relax expressions,
 * built from small constructors and composed fluently.
 *
 * ```ts
 * const x = wildcard(), w = wildcard();
 * const conv = isOp("relax.nn.conv2d")(x, w).with({ attrs: { data_layout: "NCHW" } });
 * const convRelu = isOp("relax.nn.relu")(conv);
 * const bias = isOp("relax.add")(conv, isConst()).or(conv);
 * const m = convRelu.match(expr, { bindings: varToValue(func) });
 * ```
 *
 * Every pattern is callable: `p(a, b)` is a pattern of a call whose callee matches `p` and whose
 * arguments match `a` and `b` (as in TVM). A pattern that can never match (an unknown operator,
 * the wrong number of arguments, an attribute the operator does not have) is rejected when it is
 * built.
 *
 * @module
 */

import { type DType, parseDType } from "../../dtype.ts";
import type { PrimExpr, PrimExprLike } from "../../expr.ts";
import type { Attrs } from "../../tir/stmt.ts";
import type { AnyVar, Expr } from "../expr.ts";
import { shapeDim, type StructInfo } from "../struct_info.ts";
import { lookupOp } from "../op/registry.ts";
import "../op/mod.ts";
import { type Match, matchPattern } from "./match.ts";
import { show, showAttrs } from "./_show.ts";

/** Anything: TVM's `wildcard()`. */
export interface WildcardNode {
  /** The node kind. */
  readonly kind: "Wildcard";
}

/** A reference to the registered operator `opName`. */
export interface OpPatternNode {
  /** The node kind. */
  readonly kind: "Op";
  /** The full operator name, e.g. `"relax.nn.conv2d"`. */
  readonly opName: string;
}

/** An expression structurally equal to `expr`. */
export interface ExprPatternNode {
  /** The node kind. */
  readonly kind: "Expr";
  /** The expression to compare with. */
  readonly expr: Expr;
}

/** A variable that is not bound in the matching context (a parameter), by name when given. */
export interface VarPatternNode {
  /** The node kind. */
  readonly kind: "Var";
  /** The required name; `""` matches any. */
  readonly nameHint: string;
  /** Only dataflow variables match. */
  readonly dataflow: boolean;
}

/** A module function reference whose name contains `nameHint` (`""`: any). */
export interface GlobalVarPatternNode {
  /** The node kind. */
  readonly kind: "GlobalVar";
  /** A substring of the global name; `""` matches any. */
  readonly nameHint: string;
}

/** A runtime function reference with symbol `symbol` (`""`: any). */
export interface ExternFuncPatternNode {
  /** The node kind. */
  readonly kind: "ExternFunc";
  /** The required symbol; `""` matches any. */
  readonly symbol: string;
}

/** A constant tensor (possibly through a variable bound to it). */
export interface ConstantPatternNode {
  /** The node kind. */
  readonly kind: "Constant";
}

/** A call whose callee and arguments match. */
export interface CallPatternNode {
  /** The node kind. */
  readonly kind: "Call";
  /** The callee's pattern. */
  readonly callee: Pattern;
  /** The argument patterns. */
  readonly args: readonly Pattern[];
  /** Whether the call may have more arguments than `args` (the rest match anything). */
  readonly varArgs: boolean;
}

/** A tuple whose fields match, in order or (`unordered`) in any order. */
export interface TuplePatternNode {
  /** The node kind. */
  readonly kind: "Tuple";
  /** The field patterns. */
  readonly fields: readonly Pattern[];
  /** Whether the fields may match in any order. */
  readonly unordered: boolean;
}

/** `tuple[index]`; `index` -1 matches any index. */
export interface TupleGetItemPatternNode {
  /** The node kind. */
  readonly kind: "TupleGetItem";
  /** The tuple's pattern. */
  readonly tuple: Pattern;
  /** The index, or -1 for any. */
  readonly index: number;
}

/** Either alternative (tried left first). */
export interface OrPatternNode {
  /** The node kind. */
  readonly kind: "Or";
  /** The first alternative. */
  readonly left: Pattern;
  /** The second alternative. */
  readonly right: Pattern;
}

/** Both patterns. */
export interface AndPatternNode {
  /** The node kind. */
  readonly kind: "And";
  /** The first pattern. */
  readonly left: Pattern;
  /** The second pattern. */
  readonly right: Pattern;
}

/** Anything `reject` does not match. */
export interface NotPatternNode {
  /** The node kind. */
  readonly kind: "Not";
  /** The pattern that must not match. */
  readonly reject: Pattern;
}

/** `pattern`, with call (or function) attributes equal to `attrs`. */
export interface AttrPatternNode {
  /** The node kind. */
  readonly kind: "Attr";
  /** The inner pattern. */
  readonly pattern: Pattern;
  /** The attributes required (others may be present). */
  readonly attrs: Attrs;
}

/** `pattern`, of a tensor whose shape equals `shape`. */
export interface ShapePatternNode {
  /** The node kind. */
  readonly kind: "Shape";
  /** The inner pattern. */
  readonly pattern: Pattern;
  /** The required shape (int64 dimensions). */
  readonly shape: readonly PrimExpr[];
}

/** `pattern`, of a tensor of dtype `dtype`. */
export interface DTypePatternNode {
  /** The node kind. */
  readonly kind: "DType";
  /** The inner pattern. */
  readonly pattern: Pattern;
  /** The required dtype. */
  readonly dtype: DType;
}

/** `pattern`, whose StructInfo is structurally equal to `structInfo`. */
export interface StructInfoPatternNode {
  /** The node kind. */
  readonly kind: "StructInfo";
  /** The inner pattern. */
  readonly pattern: Pattern;
  /** The required StructInfo. */
  readonly structInfo: StructInfo;
}

/** A shape value `R.shape([...])` with these dimensions. */
export interface ShapeExprPatternNode {
  /** The node kind. */
  readonly kind: "ShapeExpr";
  /** The dimensions. */
  readonly values: readonly PrimExpr[];
}

/** The data of a pattern, one variant per kind. */
export type PatternNode =
  | WildcardNode
  | OpPatternNode
  | ExprPatternNode
  | VarPatternNode
  | GlobalVarPatternNode
  | ExternFuncPatternNode
  | ConstantPatternNode
  | CallPatternNode
  | TuplePatternNode
  | TupleGetItemPatternNode
  | OrPatternNode
  | AndPatternNode
  | NotPatternNode
  | AttrPatternNode
  | ShapePatternNode
  | DTypePatternNode
  | StructInfoPatternNode
  | ShapeExprPatternNode;

/** Extra conditions added with {@link PatternMethods.with}. */
export interface PatternConstraints {
  /** Call attributes that must be equal (e.g. `{ data_layout: "NCHW" }`). */
  readonly attrs?: Attrs;
  /** The tensor shape. */
  readonly shape?: readonly PrimExprLike[];
  /** The tensor dtype. */
  readonly dtype?: DType;
  /** The whole StructInfo. */
  readonly structInfo?: StructInfo;
}

/** Options of {@link PatternMethods.match}. */
export interface MatchOptions {
  /**
   * Variable bindings the matcher may look through (TVM's `var2val`): a variable argument matches
   * a pattern when its bound value does. {@link varToValue} makes this map for a function.
   */
  readonly bindings?: ReadonlyMap<AnyVar, Expr>;
}

/** What every pattern can do. */
export interface PatternMethods {
  /** A pattern of a call whose callee matches this pattern and whose arguments match `args`. */
  (...args: readonly Pattern[]): Pattern;
  /** This pattern, with attributes, shape, dtype or StructInfo also required. */
  with(constraints: PatternConstraints): Pattern;
  /** This pattern or any of `others` (tried in order). */
  or(...others: readonly Pattern[]): Pattern;
  /** This pattern and `other`. */
  and(other: Pattern): Pattern;
  /** Anything this pattern does not match. */
  not(): Pattern;
  /**
   * A graph pattern: this pattern's value is used by `other`'s (as argument `index`, any when
   * -1). Match it against a dataflow block with `matchDataflow`.
   */
  usedBy(other: Pattern | PatternSeq, index?: number): PatternSeq;
  /** Like {@link PatternMethods.usedBy}, and `other` is its only user. */
  onlyUsedBy(other: Pattern | PatternSeq, index?: number): PatternSeq;
  /** Matches `expr`; the captures, or `undefined` when it does not match. */
  match(expr: Expr, options?: MatchOptions): Match | undefined;
  /** The pattern in constructor syntax, e.g. `isOp("relax.nn.relu")(wildcard())`. */
  toString(): string;
}

/** A dataflow pattern. Callable: `p(a, b)` matches calls of `p` on `a` and `b`. */
export type Pattern = PatternNode & PatternMethods;

/** A "used by" edge of a {@link PatternSeq}. */
export interface UseEdge {
  /** The producing pattern. */
  readonly producer: Pattern;
  /** The consuming pattern. */
  readonly consumer: Pattern;
  /** The argument position of the use, -1 for any. */
  readonly index: number;
  /** Whether `consumer` must be the producer's only user. */
  readonly only: boolean;
}

/** A chain of patterns linked by use edges (TVM's `PatternSeq`), for `matchDataflow`. */
export class PatternSeq {
  /** The patterns, in chain order. */
  readonly patterns: readonly Pattern[];
  /** The use edges between them. */
  readonly edges: readonly UseEdge[];

  /** A sequence of `patterns` with `edges` (usually made by `usedBy`). */
  constructor(patterns: readonly Pattern[], edges: readonly UseEdge[] = []) {
    if (patterns.length === 0) throw new Error("A pattern sequence needs at least one pattern");
    this.patterns = patterns;
    this.edges = edges;
  }

  /** Extends the chain: its last pattern is used by `other` (its first, for a sequence). */
  usedBy(other: Pattern | PatternSeq, index = -1): PatternSeq {
    return link(this, other, index, false);
  }

  /** Like {@link PatternSeq.usedBy}, and `other` is the only user. */
  onlyUsedBy(other: Pattern | PatternSeq, index = -1): PatternSeq {
    return link(this, other, index, true);
  }

  /** The chain in constructor syntax. */
  toString(): string {
    let s = this.patterns[0]!.toString();
    for (let i = 1; i < this.patterns.length; i++) {
      const e = this.edges.find((x) => x.consumer === this.patterns[i]);
      const m = e?.only ? "onlyUsedBy" : "usedBy";
      s += `.${m}(${this.patterns[i]}${e && e.index >= 0 ? `, ${e.index}` : ""})`;
    }
    return s;
  }
}

function asSeq(x: Pattern | PatternSeq): PatternSeq {
  return x instanceof PatternSeq ? x : new PatternSeq([x]);
}

function link(a: Pattern | PatternSeq, b: Pattern | PatternSeq, index: number, only: boolean) {
  const l = asSeq(a), r = asSeq(b);
  const producer = l.patterns[l.patterns.length - 1]!, consumer = r.patterns[0]!;
  if (!Number.isInteger(index) || index < -1) {
    throw new Error(
      `Pattern ${producer}: use index must be -1 or a non-negative integer, got ${index}`,
    );
  }
  return new PatternSeq([...l.patterns, ...r.patterns], [
    ...l.edges,
    { producer, consumer, index, only },
    ...r.edges,
  ]);
}

// ---------------------------------------------------------------------------------------------
// construction

const methods = {
  with(this: Pattern, c: PatternConstraints): Pattern {
    return constrain(this, c);
  },
  or(this: Pattern, ...others: readonly Pattern[]): Pattern {
    return others.reduce<Pattern>((l, r) => make({ kind: "Or", left: l, right: r }), this);
  },
  and(this: Pattern, other: Pattern): Pattern {
    const a = opName(this), b = opName(other);
    if (a !== undefined && b !== undefined && a !== b) {
      throw new Error(
        `Pattern ${this}.and(${other}) can never match: a call cannot be of both "${a}" and "${b}"`,
      );
    }
    return make({ kind: "And", left: this, right: other });
  },
  not(this: Pattern): Pattern {
    return make({ kind: "Not", reject: this });
  },
  usedBy(this: Pattern, other: Pattern | PatternSeq, index = -1): PatternSeq {
    return link(this, other, index, false);
  },
  onlyUsedBy(this: Pattern, other: Pattern | PatternSeq, index = -1): PatternSeq {
    return link(this, other, index, true);
  },
  match(this: Pattern, expr: Expr, options: MatchOptions = {}): Match | undefined {
    return matchPattern(this, expr, options.bindings);
  },
  toString(this: Pattern): string {
    return show(this);
  },
  [Symbol.for("Deno.customInspect")](this: Pattern): string {
    return show(this);
  },
};

Object.setPrototypeOf(methods, Function.prototype);

function constrain(inner: Pattern, c: PatternConstraints): Pattern {
  let p = inner;
  if (c.attrs) {
    checkAttrs(p, c.attrs);
    p = make({ kind: "Attr", pattern: p, attrs: c.attrs });
  }
  if (c.shape) p = make({ kind: "Shape", pattern: p, shape: c.shape.map(shapeDim) });
  if (c.dtype !== undefined) p = make({ kind: "DType", pattern: p, dtype: parseDType(c.dtype) });
  if (c.structInfo) p = make({ kind: "StructInfo", pattern: p, structInfo: c.structInfo });
  return p;
}

function make(node: PatternNode): Pattern {
  const f = function (...args: readonly Pattern[]): Pattern {
    return callPattern(f as unknown as Pattern, args, false);
  };
  Object.setPrototypeOf(f, methods);
  Object.assign(f, node);
  return Object.freeze(f) as unknown as Pattern;
}

/** The operator a pattern requires a call's callee (or itself) to be, when it names exactly one. */
function opName(p: Pattern): string | undefined {
  switch (p.kind) {
    case "Op":
      return p.opName;
    case "Call":
      return p.callee.kind === "Op" ? p.callee.opName : undefined;
    case "Attr":
    case "Shape":
    case "DType":
    case "StructInfo":
      return opName(p.pattern);
    default:
      return undefined;
  }
}

function checkAttrs(p: Pattern, attrs: Attrs): void {
  const name = p.kind === "Call" && p.callee.kind === "Op" ? p.callee.opName : undefined;
  const def = name === undefined ? undefined : lookupOp(name);
  if (!def || name === undefined) return;
  for (const k of Object.keys(attrs)) {
    if (!Object.hasOwn(def.attrs, k)) {
      throw new Error(
        `Pattern ${p}.with({ attrs: ${
          showAttrs(attrs)
        } }) can never match: "${name}" has no attribute "${k}"`,
      );
    }
  }
}

function callPattern(callee: Pattern, args: readonly Pattern[], varArgs: boolean): Pattern {
  const p = make({ kind: "Call", callee, args, varArgs });
  if (callee.kind === "Op") {
    const def = lookupOp(callee.opName)!;
    const max = def.args.length, min = max - def.optionalArgs;
    const n = args.length;
    if (n > max || (!varArgs && n < min)) {
      const want = min === max ? `${min}` : `${min} to ${max}`;
      throw new Error(
        `Pattern ${p} can never match: "${callee.opName}" takes ${want} argument${
          want === "1" ? "" : "s"
        }, got ${n}`,
      );
    }
  }
  return p;
}

/** A pattern matching anything. */
export function wildcard(): Pattern {
  return make({ kind: "Wildcard" });
}

/** A pattern of the registered operator `name`; call it to match calls: `isOp(name)(x, y)`. */
export function isOp(name: string): Pattern {
  if (!lookupOp(name)) {
    throw new Error(`Pattern isOp("${name}") can never match: unknown operator "${name}"`);
  }
  return make({ kind: "Op", opName: name });
}

/** A pattern of expressions structurally equal to `expr`. */
export function isExpr(expr: Expr): Pattern {
  return make({ kind: "Expr", expr });
}

/** A pattern of a free variable (a parameter), named `name` when given. */
export function isVar(name = ""): Pattern {
  return make({ kind: "Var", nameHint: name, dataflow: false });
}

/** A pattern of a dataflow variable, named `name` when given. */
export function isDFVar(name = ""): Pattern {
  return make({ kind: "Var", nameHint: name, dataflow: true });
}

/** A pattern of a module function reference whose name contains `name` (any when empty). */
export function isGV(name = ""): Pattern {
  return make({ kind: "GlobalVar", nameHint: name });
}

/** A pattern of a runtime function reference with symbol `symbol` (any when empty). */
export function isExternFunc(symbol = ""): Pattern {
  return make({ kind: "ExternFunc", symbol });
}

/** A pattern of a constant tensor. */
export function isConst(): Pattern {
  return make({ kind: "Constant" });
}

/**
 * A pattern of a call of `callee` on `args`; with `varArgs`, calls with more arguments match too
 * (the extra ones match anything).
 */
export function isCall(
  callee: Pattern,
  args: readonly Pattern[],
  options: { readonly varArgs?: boolean } = {},
): Pattern {
  return callPattern(callee, args, options.varArgs ?? false);
}

/** A pattern of a tuple of `fields`; `unordered` lets the fields match in any order. */
export function isTuple(
  fields: readonly Pattern[],
  options: { readonly unordered?: boolean } = {},
): Pattern {
  return make({ kind: "Tuple", fields, unordered: options.unordered ?? false });
}

/** A pattern of `tuple[index]` (any index when omitted). */
export function isTupleGetItem(tuple: Pattern, index?: number): Pattern {
  if (index !== undefined && (!Number.isInteger(index) || index < 0)) {
    throw new Error(
      `Pattern isTupleGetItem(${tuple}, ${index}) can never match: a tuple index must be a non-negative integer`,
    );
  }
  return make({ kind: "TupleGetItem", tuple, index: index ?? -1 });
}

/** A pattern of a shape value `R.shape(values)`. */
export function isShape(values: readonly PrimExprLike[]): Pattern {
  return make({ kind: "ShapeExpr", values: values.map(shapeDim) });
}

/**
 * A pattern of `R.call_tir(func, args, ...)` where `func` is a module function whose name contains
 * `funcName`; `args` is a pattern of the argument tuple, or a list of argument patterns.
 */
export function isCallTIR(
  funcName: string,
  args?: Pattern | readonly Pattern[],
  tirVars?: Pattern,
): Pattern {
  const a = args === undefined ? wildcard() : Array.isArray(args) ? isTuple(args) : args as Pattern;
  const callee = isOp("relax.call_tir");
  return tirVars
    ? callPattern(callee, [isGV(funcName), a, tirVars], false)
    : callPattern(callee, [isGV(funcName), a], true);
}

/** Anything `p` does not match (TVM's `reject`). */
export function reject(p: Pattern): Pattern {
  return p.not();
}
