/**
 * Indexing operators: strided_slice, take and one_hot.
 *
 * @module
 */

import { add, floordiv, intImm, type PrimExpr, sub } from "../../expr.ts";
import type { Attrs } from "../../tir/stmt.ts";
import type { Expr, RCall } from "../expr.ts";
import { type StructInfo, tensorSInfo, type TensorStructInfo } from "../struct_info.ts";
import { dim, dimValue, intAttr, intListAttr, normAxis, tensorArg } from "./_infer.ts";
import { cannotLegalize, outTensor, scalarArgValue } from "./_legalize.ts";
import { type LegalizeFn, makeOpCall, type OpPattern, registerOp } from "./registry.ts";
import {
  oneHot as teOneHot,
  stridedSlice as teStridedSlice,
  take as teTake,
} from "./legalize/topi_transform.ts";

function reg(
  name: string,
  args: readonly string[],
  attrs: Attrs,
  pattern: OpPattern,
  infer: (args: readonly Expr[], attrs: Attrs, op: string) => StructInfo,
  legalize: LegalizeFn,
): void {
  const full = `relax.${name}`;
  registerOp({
    name: full,
    args,
    optionalArgs: 0,
    attrs,
    pattern,
    infer: (a, at) => infer(a, at, full),
    legalize,
  });
}

/** One sliced axis: the first index read, the step and the result length. */
interface AxisSlice {
  readonly axis: number;
  readonly begin: PrimExpr;
  readonly stride: number;
  readonly length: PrimExpr;
}

/** Bounds at or beyond this magnitude mean "to the end" (numpy's open slice ends). */
const OPEN = 2 ** 31 - 1;

/**
 * The slices of a `strided_slice` call. Constant dimensions clamp the bounds as numpy does;
 * symbolic ones count negative bounds from the end, read huge bounds as open ends and otherwise
 * assume the bounds in range.
 */
function sliceSpec(op: string, x: TensorStructInfo, attrs: Attrs): AxisSlice[] {
  const axes = (intListAttr(op, "axes", attrs.axes) ?? []).map((a) => normAxis(op, a, x.ndim));
  const begin = intListAttr(op, "begin", attrs.begin) ?? [];
  const end = intListAttr(op, "end", attrs.end) ?? [];
  const strides = intListAttr(op, "strides", attrs.strides ?? undefined) ?? axes.map(() => 1);
  if (
    begin.length !== axes.length || end.length !== axes.length || strides.length !== axes.length
  ) {
    throw new Error(`strided_slice: axes, begin, end and strides must have the same length`);
  }
  return axes.map((a, i) => {
    const st = strides[i]!;
    if (st === 0) throw new Error(`strided_slice: stride of axis ${a} is 0`);
    const d = x.shape?.[a];
    const n = d && dimValue(d);
    if (n !== undefined) {
      const clamp = (v: number, lo: number, hi: number) =>
        Math.min(Math.max(v < 0 ? v + n : v, lo), hi);
      const b = st > 0 ? clamp(begin[i]!, 0, n) : clamp(begin[i]!, -1, n - 1);
      const e = st > 0 ? clamp(end[i]!, 0, n) : clamp(end[i]!, -1, n - 1);
      const len = Math.max(0, Math.ceil((e - b) / st));
      return { axis: a, begin: intImm(b, "int64"), stride: st, length: intImm(len, "int64") };
    }
    const bound = (v: number, open: PrimExpr): PrimExpr => {
      if (!d) return intImm(v, "int64");
      if (Math.abs(v) >= OPEN) return open;
      return v < 0 ? add(d, v) : intImm(v, "int64");
    };
    const last = d ? sub(d, 1) : intImm(0, "int64");
    const b = bound(begin[i]!, st > 0 ? intImm(0, "int64") : last);
    const e = bound(end[i]!, st > 0 ? (d ?? intImm(0, "int64")) : intImm(-1, "int64"));
    const span = st > 0 ? sub(e, b) : sub(b, e);
    const k = Math.abs(st);
    return { axis: a, begin: b, stride: st, length: floordiv(add(span, k - 1), k) };
  });
}

reg(
  "strided_slice",
  ["x"],
  { axes: [], begin: [], end: [], strides: null, assume_inbound: false },
  "injective",
  (args, attrs, op) => {
    const x = tensorArg(op, args, 0, "x");
    const slices = sliceSpec(op, x, attrs);
    if (!x.shape) return tensorSInfo(undefined, x.dtype, x.ndim);
    const out = [...x.shape];
    for (const s of slices) out[s.axis] = s.length;
    return tensorSInfo(out, x.dtype);
  },
  (call, ctx) => {
    const op = "relax.strided_slice";
    const slices = sliceSpec(op, tensorArg(op, call.args, 0, "x"), call.attrs);
    const out = outTensor(call);
    return ctx.callTe((t) => teStridedSlice(t, out.shape, slices), [call.args[0]!], {
      name: "strided_slice",
    });
  },
);

reg("take", ["x", "indices"], { axis: null, mode: "fast" }, "injective", (args, attrs, op) => {
  const x = tensorArg(op, args, 0, "x");
  const idx = tensorArg(op, args, 1, "indices");
  if (idx.dtype !== "void" && !idx.dtype.startsWith("int") && !idx.dtype.startsWith("uint")) {
    throw new Error(`take: indices must be integers, got ${idx.dtype}`);
  }
  if (attrs.axis === null) {
    return idx.shape ? tensorSInfo(idx.shape, x.dtype) : tensorSInfo(undefined, x.dtype, idx.ndim);
  }
  const axis = normAxis(op, intAttr(op, "axis", attrs.axis), x.ndim);
  if (!x.shape || !idx.shape) {
    return tensorSInfo(undefined, x.dtype, x.ndim < 0 || idx.ndim < 0 ? -1 : x.ndim - 1 + idx.ndim);
  }
  return tensorSInfo(
    [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)],
    x.dtype,
  );
}, (call, ctx) => {
  const op = "relax.take";
  const x = tensorArg(op, call.args, 0, "x");
  const axis = call.attrs.axis === null
    ? undefined
    : normAxis(op, intAttr(op, "axis", call.attrs.axis), x.ndim);
  const mode = String(call.attrs.mode);
  if (mode !== "fast" && mode !== "clip" && mode !== "wrap") {
    throw cannotLegalize(call, `mode "${mode}" is not supported (expected fast, clip or wrap)`);
  }
  return ctx.callTe((t, i) => teTake(t, i, axis, mode), [call.args[0]!, call.args[1]!], {
    name: "take",
  });
});

reg(
  "one_hot",
  ["indices", "on_value", "off_value"],
  { depth: 1, axis: -1 },
  "injective",
  (args, attrs, op) => {
    const idx = tensorArg(op, args, 0, "indices");
    const on = args[1]!.structInfo;
    if (on.kind !== "PrimStructInfo") {
      throw new Error(
        `one_hot: argument "on_value" must be a scalar (R.prim_value)`,
      );
    }
    const depth = intAttr(op, "depth", attrs.depth);
    if (!idx.shape) return tensorSInfo(undefined, on.dtype, idx.ndim < 0 ? -1 : idx.ndim + 1);
    const axis = normAxis(op, intAttr(op, "axis", attrs.axis), idx.ndim + 1);
    const out = [...idx.shape];
    out.splice(axis, 0, dim(depth));
    return tensorSInfo(out, on.dtype);
  },
  (call, ctx) => {
    const op = "relax.one_hot";
    const on = scalarArgValue(call, 1, "on_value"), off = scalarArgValue(call, 2, "off_value");
    const idx = tensorArg(op, call.args, 0, "indices");
    const depth = intAttr(op, "depth", call.attrs.depth);
    const axis = normAxis(op, intAttr(op, "axis", call.attrs.axis), idx.ndim + 1);
    const t = outTensor(call).dtype;
    return ctx.callTe((i) => teOneHot(i, on, off, depth, axis, t), [call.args[0]!], {
      name: "one_hot",
    });
  },
);

/** Options of {@link stridedSlice}. */
export interface StridedSliceOptions {
  /** Step per axis (1 by default). */
  readonly strides?: readonly number[];
  /** Whether the bounds are known to be in range. */
  readonly assumeInbound?: boolean;
}

/** Slices `x[begin:end:stride]` along `axes`. */
export function stridedSlice(
  x: Expr,
  slice: {
    readonly axes: readonly number[];
    readonly begin: readonly number[];
    readonly end: readonly number[];
  },
  options: StridedSliceOptions = {},
): RCall {
  return makeOpCall("relax.strided_slice", [x], {
    axes: [...slice.axes],
    begin: [...slice.begin],
    end: [...slice.end],
    strides: options.strides ? [...options.strides] : null,
    assume_inbound: options.assumeInbound ?? false,
  });
}

/** Gathers elements at `indices` along `axis` (of the flattened tensor when omitted). */
export function take(x: Expr, indices: Expr, options: { readonly axis?: number } = {}): RCall {
  return makeOpCall("relax.take", [x, indices], { axis: options.axis ?? null, mode: "fast" });
}

/** One-hot encodes integer `indices` with `depth` classes. */
export function oneHot(
  indices: Expr,
  onValue: Expr,
  offValue: Expr,
  depth: number,
  options: { readonly axis?: number } = {},
): RCall {
  return makeOpCall("relax.one_hot", [indices, onValue, offValue], {
    depth,
    axis: options.axis ?? -1,
  });
}
