/**
 * Layout rules for `ConvertLayout` (TVM's `FRelaxInferLayout`): for an operator call and the
 * current layouts of its arguments, the layouts the arguments must have, the layout of the result
 * and the call's new attributes.
 *
 * A layout is a permutation relative to the tensor's own original axes: `perm[i]` is the original
 * axis stored at position `i` (NCHW data stored as NHWC has perm `[0, 2, 3, 1]`). `names` names
 * the original axes (`"NCHW"`) where an operator told us, for readable `layout_transform`s.
 *
 * @module
 */

import { layoutPermutation } from "../../ir/relax/op/manipulate.ts";
import type { Expr, RCall } from "../../ir/relax/expr.ts";
import type { Attrs } from "../../ir/tir/stmt.ts";

/** A tensor's layout: the permutation of its original axes, and their names when known. */
export interface Layout {
  /** `perm[i]` is the original axis at position `i`. */
  readonly perm: readonly number[];
  /** Names of the original axes, e.g. `"NCHW"`. */
  readonly names: string | undefined;
}

/** The layout of a value: a tensor's, a tuple's (per field), or none (other values). */
export type NLayout = Layout | readonly NLayout[] | undefined;

/** What a rule decides for one call. */
export interface LayoutDecision {
  /** The layout each argument must have; `null` leaves the argument as it is. */
  readonly inputs: readonly (NLayout | null)[];
  /** The layout of the result. */
  readonly output: NLayout;
  /** The call's attributes in the new layout. */
  readonly attrs: Attrs;
}

/** A layout rule: the current argument layouts, and the desired layouts when the user gave some. */
export type LayoutRule = (
  call: RCall,
  args: readonly NLayout[],
  desired: readonly string[] | undefined,
) => LayoutDecision;

/** A rule and, for rules that take desired layouts, how many. */
export interface RuleEntry {
  /** The rule. */
  readonly rule: LayoutRule;
  /** The desired layouts the operator accepts (`undefined`: it follows its input). */
  readonly desired?: { readonly min: number; readonly max: number; readonly what: string };
}

/** The identity layout of rank `n`. */
export function initialLayout(n: number, names?: string): Layout {
  return { perm: [...Array(n).keys()], names };
}

/** Whether a layout is the identity. */
export function isInitial(l: Layout): boolean {
  return l.perm.every((p, i) => p === i);
}

/** The layout's axes as a string over `names` (`"NHWC"`). */
export function render(perm: readonly number[], names: string): string {
  return perm.map((i) => names[i]).join("");
}

/** The default axis names `ABCD...`. */
export function defaultNames(n: number): string {
  return "ABCDEFGHIJKLMNOPQRSTUVWXYZ".slice(0, n);
}

function asLayout(l: NLayout): Layout | undefined {
  return l !== undefined && !Array.isArray(l) ? l as Layout : undefined;
}

/** TVM's FollowDecision: a rank-`n` layout broadcast to rank `to` (new leading axes first). */
function follow(l: Layout, to: number): Layout {
  const n = l.perm.length;
  if (n === to) return l;
  const lead = [...Array(to - n).keys()];
  return { perm: [...lead, ...l.perm.map((p) => p + to - n)], names: undefined };
}

function convert(op: string, what: string, from: string, to: string): number[] {
  try {
    return layoutPermutation(from, to);
  } catch {
    throw new Error(
      `ConvertLayout: cannot convert the ${what} layout "${from}" of "${op}" to "${to}" (only permutations of the same axes are supported)`,
    );
  }
}

const str = (a: Attrs, k: string) => String(a[k]);

/** conv2d / conv2d_transpose: desired [data, kernel, output?], else the data's layout. */
const convRule: LayoutRule = (call, args, desired) => {
  const op = (call.op as { name: string }).name;
  const dl = str(call.attrs, "data_layout"), kl = str(call.attrs, "kernel_layout");
  const ol = str(call.attrs, "out_layout");
  if (desired) {
    const [d, k, o = d] = desired as [string, string, string?];
    const data = { perm: convert(op, "data", dl, d), names: dl };
    const weight = { perm: convert(op, "kernel", kl, k), names: kl };
    const out = { perm: convert(op, "output", ol, o!), names: ol };
    return {
      inputs: [data, weight],
      output: out,
      attrs: { ...call.attrs, data_layout: d, kernel_layout: k, out_layout: o! },
    };
  }
  const data = asLayout(args[0])!, weight = asLayout(args[1])!;
  return {
    inputs: [data, weight],
    output: { perm: data.perm, names: ol },
    attrs: {
      ...call.attrs,
      data_layout: render(data.perm, dl),
      kernel_layout: render(weight.perm, kl),
      out_layout: render(data.perm, ol),
    },
  };
};

/** 2-D pools: desired [layout, output?], else the input's layout. */
const poolRule: LayoutRule = (call, args, desired) => {
  const op = (call.op as { name: string }).name;
  const l = str(call.attrs, "layout"), ol = str(call.attrs, "out_layout");
  if (desired) {
    const [d, o = d] = desired as [string, string?];
    return {
      inputs: [{ perm: convert(op, "data", l, d), names: l }],
      output: { perm: convert(op, "output", ol, o!), names: ol },
      attrs: { ...call.attrs, layout: d, out_layout: o! },
    };
  }
  const data = asLayout(args[0])!;
  return {
    inputs: [data],
    output: { perm: data.perm, names: ol },
    attrs: { ...call.attrs, layout: render(data.perm, l), out_layout: render(data.perm, ol) },
  };
};

/** Elementwise with one tensor: the result keeps the input's layout. */
const unaryRule: LayoutRule = (call, args) => ({
  inputs: call.args.map((_, i) => (i === 0 ? args[0]! : null)),
  output: args[0],
  attrs: call.attrs,
});

function rank(e: Expr): number {
  const s = e.structInfo;
  return s.kind === "TensorStructInfo" ? s.ndim : -1;
}

/** Binary elementwise (TVM's InferLayoutBinaryEwise): the first operand's layout leads. */
const binaryRule: LayoutRule = (call, args) => {
  const l1 = asLayout(args[0])!, l2 = asLayout(args[1])!;
  const n1 = rank(call.args[0]!), n2 = rank(call.args[1]!);
  if (n1 <= n2) {
    if (n1 === 0) return { inputs: [null, l2], output: l2, attrs: call.attrs };
    const out = follow(l1, n2);
    return {
      inputs: [l1, { ...out, names: out.names ?? l1.names }],
      output: out,
      attrs: call.attrs,
    };
  }
  if (n2 === 0) return { inputs: [l1, null], output: l1, attrs: call.attrs };
  const out = follow(l2, n1);
  return { inputs: [out, l2], output: out, attrs: call.attrs };
};

/** Where original axis `a` (possibly negative) of a rank-`n` tensor now is. */
function moved(l: Layout, a: number): number {
  const n = l.perm.length;
  return l.perm.indexOf(a < 0 ? a + n : a);
}

function axesAttr(call: RCall, key: string): number[] {
  const v = call.attrs[key];
  return Array.isArray(v) ? v.map(Number) : [Number(v)];
}

/** Normalizations and softmax: the data keeps its layout; axis attributes follow it. */
function axisRule(keys: readonly string[], params: number): LayoutRule {
  return (call, args) => {
    const data = asLayout(args[0])!;
    const attrs: { [k: string]: Attrs[string] } = { ...call.attrs };
    for (const k of keys) {
      const v = call.attrs[k];
      const axes = axesAttr(call, k).map((a) => moved(data, a));
      attrs[k] = Array.isArray(v) ? axes : axes[0]!;
    }
    const init = (i: number): NLayout | null => {
      const r = rank(call.args[i]!);
      return r >= 0 ? initialLayout(r) : null;
    };
    const inputs = call.args.map((_, i) => (i === 0 ? data : i <= params ? init(i) : null));
    return { inputs, output: data, attrs };
  };
}

/** batch_norm: the output keeps the data's layout; the statistics stay as they are. */
const batchNormRule: LayoutRule = (call, args) => {
  const inner = axisRule(["axis"], 4)(call, args, undefined);
  const stat = (i: number) => initialLayout(Math.max(rank(call.args[i]!), 0));
  return { ...inner, output: [args[0], stat(3), stat(4)] };
};

const UNARY = [
  "exp",
  "log",
  "sqrt",
  "rsqrt",
  "tanh",
  "sigmoid",
  "erf",
  "sin",
  "cos",
  "negative",
  "abs",
  "floor",
  "ceil",
  "round",
  "square",
  "logical_not",
  "clip",
  "astype",
  "nn.relu",
  "nn.gelu",
  "nn.gelu_tanh",
  "nn.silu",
];
const BINARY = [
  "add",
  "subtract",
  "multiply",
  "divide",
  "floor_divide",
  "power",
  "maximum",
  "minimum",
  "equal",
  "not_equal",
  "less",
  "less_equal",
  "greater",
  "greater_equal",
  "logical_and",
  "logical_or",
];

/** The layout rules, by operator name. */
export const LAYOUT_RULES: ReadonlyMap<string, RuleEntry> = new Map<string, RuleEntry>([
  ...["conv2d", "conv2d_transpose"].map((n): [string, RuleEntry] => [
    `relax.nn.${n}`,
    { rule: convRule, desired: { min: 2, max: 3, what: "data, kernel[, output]" } },
  ]),
  ...["max_pool2d", "avg_pool2d", "adaptive_avg_pool2d"].map((n): [string, RuleEntry] => [
    `relax.nn.${n}`,
    { rule: poolRule, desired: { min: 1, max: 2, what: "data[, output]" } },
  ]),
  ...UNARY.map((n): [string, RuleEntry] => [`relax.${n}`, { rule: unaryRule }]),
  ...BINARY.map((n): [string, RuleEntry] => [`relax.${n}`, { rule: binaryRule }]),
  ["relax.nn.softmax", { rule: axisRule(["axis"], 0) }],
  ["relax.nn.log_softmax", { rule: axisRule(["axis"], 0) }],
  ["relax.nn.layer_norm", { rule: axisRule(["axes"], 2) }],
  ["relax.nn.rms_norm", { rule: axisRule(["axes"], 1) }],
  ["relax.nn.group_norm", { rule: axisRule(["channel_axis", "axes"], 2) }],
  ["relax.nn.batch_norm", { rule: batchNormRule }],
]);
