/**
 * The Relax operator registry: one entry per operator holding its name, argument names,
 * attributes with defaults, StructInfo inference, fusion pattern kind and its legalization (a te
 * compute used by `LegalizeOps`). Adding an operator is one `registerOp` call.
 *
 * @module
 */

import { displayNode } from "../../display.ts";
import type { PrimExpr } from "../../expr.ts";
import type { Tensor as TeTensor } from "../../te/tensor.ts";
import type { Attrs, AttrValue } from "../../tir/stmt.ts";
import { type Expr, opRef, type RCall, rcall } from "../expr.ts";
import type { StructInfo } from "../struct_info.ts";

/** How an operator's computation fuses with its neighbours (TVM's OpPatternKind). */
export type OpPattern =
  | "elemwise"
  | "broadcast"
  | "injective"
  | "reduction"
  | "out-elemwise-fusable"
  | "opaque";

/** The ranking TVM uses when merging patterns: a larger number is "more complex". */
export const PATTERN_RANK: { readonly [K in OpPattern]: number } = {
  "elemwise": 0,
  "broadcast": 1,
  "injective": 2,
  "reduction": 3,
  "out-elemwise-fusable": 4,
  "opaque": 8,
};

/** Infers a call's StructInfo from its arguments and attributes; throws on bad input. */
export type InferFn = (
  args: readonly Expr[],
  attrs: Attrs,
  sinfoArgs: readonly StructInfo[],
) => StructInfo;

/**
 * What a legalization needs from its surroundings: turning a te computation into a `call_tir`
 * of a new PrimFunc, and binding helper values (e.g. tuple fields) before the call.
 * `BlockBuilder` provides both; the `LegalizeOps` pass provides them while it rewrites bindings.
 */
export interface LegalizeContext {
  /**
   * A `call_tir` of the PrimFunc made from `fn`: each argument (a tensor of known shape and
   * dtype) becomes a te placeholder, `fn` computes the output(s); the PrimFunc is added to the
   * module under `options.name`.
   */
  callTe(
    fn: (...inputs: TeTensor[]) => TeTensor | readonly TeTensor[],
    args: readonly Expr[],
    options?: { readonly name?: string },
  ): RCall;
  /** Binds `expr` to a new variable ahead of the call being legalized and returns the variable. */
  emit(expr: Expr, name?: string): Expr;
}

/**
 * Lowers a call of an operator to lower-level Relax (usually a `call_tir` made with
 * `ctx.callTe`). Returning `call` itself means "cannot legalize this call; keep it".
 */
export type LegalizeFn = (call: RCall, ctx: LegalizeContext) => Expr;

/** An operator definition. */
export interface OpDef {
  /** Full name, e.g. `"relax.nn.softmax"`. */
  readonly name: string;
  /** Names of positional arguments (also used in error messages). */
  readonly args: readonly string[];
  /** Number of trailing positional arguments that may be omitted. */
  readonly optionalArgs: number;
  /** Attributes with their defaults, in printing order. */
  readonly attrs: Attrs;
  /** Fusion pattern kind. */
  readonly pattern: OpPattern;
  /** StructInfo inference. */
  readonly infer: InferFn;
  /** Whether the operator has side effects (an impure call). */
  readonly impure?: boolean;
  /** The lowering used by the `LegalizeOps` pass (a te compute), when the operator has one. */
  readonly legalize?: LegalizeFn;
}

const registry = new Map<string, OpDef>();

/** Registers an operator; throws if the name is taken. */
export function registerOp(def: OpDef): OpDef {
  if (registry.has(def.name)) throw new Error(`Operator "${def.name}" is already registered`);
  registry.set(def.name, def);
  return def;
}

/** The definition of operator `name`, or `undefined`. */
export function lookupOp(name: string): OpDef | undefined {
  return registry.get(name);
}

/** The definition of operator `name`; throws when unknown. */
export function getOp(name: string): OpDef {
  const d = registry.get(name);
  if (!d) throw new Error(`Unknown Relax operator "${name}"`);
  return d;
}

/** Names of all registered operators. */
export function listOps(): string[] {
  return [...registry.keys()];
}

/** The short name used in messages: `relax.nn.softmax` -> `nn.softmax`. */
export function shortName(name: string): string {
  return name.startsWith("relax.") ? name.slice(6) : name;
}

/**
 * Completes `attrs` with the operator's defaults (in the definition's order) and checks that no
 * unknown attribute is given.
 */
export function normalizeAttrs(def: OpDef, attrs: Attrs): Attrs {
  const out: { [k: string]: AttrValue } = {};
  for (const k of Object.keys(attrs)) {
    if (!Object.hasOwn(def.attrs, k)) {
      const known = Object.keys(def.attrs);
      throw new Error(
        `${shortName(def.name)}: unknown attribute "${k}"` +
          (known.length ? ` (expected one of: ${known.join(", ")})` : " (it takes none)"),
      );
    }
  }
  for (const [k, v] of Object.entries(def.attrs)) out[k] = Object.hasOwn(attrs, k) ? attrs[k]! : v;
  return out;
}

/** Builds a call of a registered operator, normalizing attributes and inferring StructInfo. */
export function makeOpCall(
  name: string,
  args: readonly Expr[],
  attrs: Attrs = {},
  sinfoArgs: readonly StructInfo[] = [],
): RCall {
  const def = getOp(name);
  const min = def.args.length - def.optionalArgs;
  if (args.length < min || args.length > def.args.length) {
    const want = min === def.args.length ? `${min}` : `${min} to ${def.args.length}`;
    throw new Error(`${shortName(name)}: expected ${want} arguments, got ${args.length}`);
  }
  const a = normalizeAttrs(def, attrs);
  return rcall(opRef(name), args, {
    attrs: a,
    sinfoArgs,
    structInfo: def.infer(args, a, sinfoArgs),
  });
}

/** Re-infers the StructInfo of an operator call (after its arguments changed). */
export function inferCall(call: RCall): StructInfo {
  if (call.op.kind !== "relax.Op") return call.structInfo;
  const def = lookupOp(call.op.name);
  return def ? def.infer(call.args, call.attrs, call.sinfoArgs) : call.structInfo;
}

/** Formats a dimension for messages: constants by value, variables by name. */
export function fmtDim(d: PrimExpr): string {
  if (d.kind === "IntImm") return String(d.value);
  if (d.kind === "Var") return d.name;
  return displayNode(d);
}

/** Formats a shape for messages: `(n, 3)`, `(4,)`. */
export function fmtShape(shape: readonly PrimExpr[] | undefined): string {
  if (!shape) return "(?)";
  return `(${shape.map(fmtDim).join(", ")}${shape.length === 1 ? "," : ""})`;
}

/** Names a StructInfo kind for messages (`R.Tuple`, `R.Shape`, ...). */
export function fmtSInfo(s: StructInfo): string {
  switch (s.kind) {
    case "ObjectStructInfo":
      return "R.Object";
    case "PrimStructInfo":
      return `R.Prim("${s.dtype}")`;
    case "ShapeStructInfo":
      return "R.Shape";
    case "TensorStructInfo":
      return `R.Tensor(${fmtShape(s.shape)}, "${s.dtype}")`;
    case "TupleStructInfo":
      return "R.Tuple";
    case "FuncStructInfo":
      return "R.Callable";
    default:
      s satisfies never;
      return "?";
  }
}
