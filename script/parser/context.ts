/**
 * Shared machinery of the TVMScript parser's semantic stage: located errors, lexical scopes,
 * argument checking and attribute values.
 *
 * @module
 */

import type { Attrs, AttrValue } from "../../ir/tir/stmt.ts";
import {
  type CallNode,
  describeExpr,
  dottedName,
  type ExprNode,
  type Keyword,
  type Located,
} from "./ast.ts";
import { type SourceText, TVMScriptParseError } from "./errors.ts";

/** Where errors are reported and how text locations are shown. */
export class ParseContext {
  /** The innermost node being handled, for errors that escape without a location. */
  last: Located = { line: 1, col: 1 };

  /** Makes a context over `src`. */
  constructor(readonly src: SourceText) {}

  /** A located error. */
  error(reason: string, at: Located): TVMScriptParseError {
    return this.src.error(reason, at);
  }

  /** Throws a located error. */
  fail(reason: string, at: Located): never {
    throw this.src.error(reason, at);
  }

  /**
   * Runs `fn`, turning a plain `Error` thrown inside (e.g. by an IR constructor) into a parse
   * error located at `at`.
   */
  guard<T>(at: Located, fn: () => T): T {
    const prev = this.last;
    this.last = at;
    try {
      const r = fn();
      this.last = prev;
      return r;
    } catch (e) {
      if (e instanceof TVMScriptParseError) throw e;
      if (e instanceof RangeError && /call stack/i.test(e.message)) {
        throw this.error("Program is nested too deeply", at);
      }
      const msg = e instanceof Error ? e.message : String(e);
      throw this.error(msg.replace(/\.$/, ""), at);
    }
  }
}

/** A chain of name tables: lookups walk outwards, definitions go into the innermost table. */
export class Scope<V> {
  private readonly table = new Map<string, V>();

  /** A scope nested in `parent` (or a root scope). */
  constructor(readonly parent?: Scope<V>) {}

  /** The value bound to `name` here or in an enclosing scope. */
  lookup(name: string): V | undefined {
    const v = this.table.get(name);
    return v !== undefined ? v : this.parent?.lookup(name);
  }

  /** Whether `name` is bound in this very scope. */
  hasOwn(name: string): boolean {
    return this.table.has(name);
  }

  /** Binds `name` in this scope (shadowing outer bindings). */
  define(name: string, value: V): void {
    this.table.set(name, value);
  }

  /** A child scope. */
  child(): Scope<V> {
    return new Scope(this);
  }
}

/** The arguments of a call, checked against the names a function accepts. */
export interface CallArgs {
  /** Positional and keyword arguments, resolved to parameter names in order. */
  readonly byName: ReadonlyMap<string, ExprNode>;
  /** The callee's dotted name. */
  readonly name: string;
  readonly node: CallNode;
}

/**
 * Matches a call's arguments to parameter names (Python style: positional first, then by
 * keyword). `required` is how many leading parameters must be given. Reports unknown or repeated
 * keywords and too many or too few arguments.
 */
export function bindArgs(
  ctx: ParseContext,
  node: CallNode,
  params: readonly string[],
  required = params.length,
): CallArgs {
  const name = dottedName(node.func) ?? "function";
  if (node.args.length > params.length) {
    const range = required === params.length
      ? `${params.length}`
      : `${required} to ${params.length}`;
    ctx.fail(
      `Cannot call "${name}": expected ${range} argument${
        params.length === 1 ? "" : "s"
      }, got ${node.args.length}`,
      node.args[params.length]!,
    );
  }
  const byName = new Map<string, ExprNode>();
  node.args.forEach((a, i) => byName.set(params[i]!, a));
  for (const k of node.keywords) {
    if (!params.includes(k.name)) {
      ctx.fail(`Cannot call "${name}": unexpected keyword argument "${k.name}"`, k);
    }
    if (byName.has(k.name)) ctx.fail(`Cannot call "${name}": argument "${k.name}" given twice`, k);
    byName.set(k.name, k.value);
  }
  for (let i = 0; i < required; i++) {
    if (!byName.has(params[i]!)) {
      const got = node.args.length + node.keywords.length;
      ctx.fail(
        `Cannot call "${name}": missing argument "${params[i]}" (expected ${
          required === params.length ? "" : "at least "
        }${required} argument${required === 1 ? "" : "s"}, got ${got})`,
        node,
      );
    }
  }
  return { byName, name, node };
}

/** Requires a string literal. */
export function expectString(ctx: ParseContext, e: ExprNode, what: string): string {
  if (e.kind !== "Constant" || typeof e.value !== "string") {
    ctx.fail(`Expected a string for ${what}, got ${describeExpr(e)}`, e);
  }
  return e.value;
}

/** Requires an integer literal (a leading minus sign is allowed). */
export function expectInt(ctx: ParseContext, e: ExprNode, what: string): number {
  if (e.kind === "UnaryOp" && e.op === "-" && e.operand.kind === "Constant") {
    return -expectInt(ctx, e.operand, what);
  }
  if (e.kind !== "Constant" || typeof e.value !== "number" || e.isFloat) {
    ctx.fail(`Expected an integer for ${what}, got ${describeExpr(e)}`, e);
  }
  return e.value;
}

/** Requires `True` or `False`. */
export function expectBool(ctx: ParseContext, e: ExprNode, what: string): boolean {
  if (e.kind !== "Constant" || typeof e.value !== "boolean") {
    ctx.fail(`Expected True or False for ${what}, got ${describeExpr(e)}`, e);
  }
  return e.value;
}

/** The keyword argument named `name`, if present. */
export function keyword(node: CallNode, name: string): Keyword | undefined {
  return node.keywords.find((k) => k.name === name);
}

/**
 * Converts an attribute literal (numbers, strings, booleans, lists, tuples, dicts with string
 * keys) to an attribute value. Other expressions go through `other` (e.g. PrimExprs), which
 * returns `undefined` when it cannot convert them.
 */
export function toAttrValue(
  ctx: ParseContext,
  e: ExprNode,
  other: (e: ExprNode) => AttrValue | undefined = () => undefined,
): AttrValue {
  switch (e.kind) {
    case "Constant":
      return e.value;
    case "UnaryOp":
      if (e.op === "-" && e.operand.kind === "Constant" && typeof e.operand.value === "number") {
        return -e.operand.value;
      }
      break;
    case "List":
    case "Tuple":
      return e.elts.map((x) => toAttrValue(ctx, x, other));
    case "Dict":
      return toAttrDict(ctx, e, other);
    default:
      break;
  }
  const v = other(e);
  if (v === undefined) ctx.fail(`Expected an attribute value, got ${describeExpr(e)}`, e);
  return v;
}

/** Converts a dict literal with string keys to attributes. */
export function toAttrDict(
  ctx: ParseContext,
  e: ExprNode,
  other: (e: ExprNode) => AttrValue | undefined = () => undefined,
): Attrs {
  if (e.kind !== "Dict") ctx.fail(`Expected a dict of attributes, got ${describeExpr(e)}`, e);
  const out: { [k: string]: AttrValue } = {};
  e.keys.forEach((k, i) => {
    const key = expectString(ctx, k, "an attribute name");
    if (Object.hasOwn(out, key)) ctx.fail(`Attribute "${key}" repeated`, k);
    out[key] = toAttrValue(ctx, e.values[i]!, other);
  });
  return out;
}

/**
 * A public function gets `global_symbol` = its name unless it names one itself, as TVM's parser
 * does (the printer leaves it out when it equals the name); a private one keeps what it has.
 */
export function withGlobalSymbol(attrs: Attrs, name: string, isPrivate: boolean): Attrs {
  if (isPrivate || Object.hasOwn(attrs, "global_symbol")) return attrs;
  return { ...attrs, global_symbol: name };
}
