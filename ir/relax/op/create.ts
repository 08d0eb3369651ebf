/**
 * Creation (`zeros`, `ones`, `full`, `*_like`, `arange`, `tril`, `triu`), search (`where`),
 * datatype (`astype`) and image (`image.resize2d`) operators.
 *
 * @module
 */

import { type DType, isBool, parseDType } from "../../dtype.ts";
import { add, cast, constant, floordiv, type PrimExpr, sub } from "../../expr.ts";
import type { Attrs } from "../../tir/stmt.ts";
import { type Expr, primValue, type RCall, shapeExpr } from "../expr.ts";
import { type StructInfo, tensorSInfo, type TensorStructInfo } from "../struct_info.ts";
import { broadcastShapes, commonDType, tensorArg } from "./_infer.ts";
import { cannotLegalize, outTensor, scalarArgValue } from "./_legalize.ts";
import { type LegalizeFn, makeOpCall, type OpPattern, registerOp, shortName } from "./registry.ts";
import { broadcastCompute, cast as teCast, full as teFull } from "./legalize/topi_common.ts";
import { resize2d as teResize2d, RESIZE_MODES, RESIZE_ROUNDING } from "./legalize/topi_image.ts";
import { arange as teArange, trilu } from "./legalize/topi_transform.ts";
import { select } from "../../te/intrin.ts";

function reg(
  name: string,
  args: readonly string[],
  attrs: Attrs,
  pattern: OpPattern,
  infer: (args: readonly Expr[], attrs: Attrs, op: string) => StructInfo,
  legalize?: LegalizeFn,
): void {
  const full = `relax.${name}`;
  registerOp({
    name: full,
    args,
    optionalArgs: 0,
    attrs,
    pattern,
    infer: (a, at) => infer(a, at, full),
    ...(legalize ? { legalize } : {}),
  });
}

/** A fill: `call_tir` of `T_full` with no tensor inputs (the `_like` ops only use the shape). */
function legalizeFull(name: string, value: number | undefined, valueArg: number): LegalizeFn {
  return (call, ctx) => {
    const out = outTensor(call);
    const v = value ?? scalarArgValue(call, valueArg, "fill_value");
    return ctx.callTe(() => teFull(out.shape, v, out.dtype), [], { name });
  };
}

function shapeOf(op: string, e: Expr | undefined): readonly PrimExpr[] | undefined {
  const s = e?.structInfo;
  if (!s || s.kind !== "ShapeStructInfo") {
    throw new Error(`${shortName(op)}: argument "shape" must be a shape (R.shape)`);
  }
  return s.values;
}

function scalarArg(op: string, e: Expr | undefined, name: string): DType {
  const s = e?.structInfo;
  if (!s || (s.kind !== "PrimStructInfo" && !(s.kind === "TensorStructInfo" && s.ndim === 0))) {
    throw new Error(`${shortName(op)}: argument "${name}" must be a scalar`);
  }
  return s.dtype;
}

const keep = (x: TensorStructInfo, dtype: DType) =>
  x.shape ? tensorSInfo(x.shape, dtype) : tensorSInfo(undefined, dtype, x.ndim);

for (const n of ["zeros", "ones"]) {
  reg(n, ["shape"], { dtype: "float32" }, "elemwise", (args, attrs, op) => {
    const s = shapeOf(op, args[0]);
    const t = parseDType(String(attrs.dtype));
    return s ? tensorSInfo(s, t) : tensorSInfo(undefined, t, -1);
  }, legalizeFull(n, n === "zeros" ? 0 : 1, -1));
}
reg("full", ["shape", "fill_value"], { dtype: null }, "elemwise", (args, attrs, op) => {
  const s = shapeOf(op, args[0]);
  const t = attrs.dtype === null
    ? scalarArg(op, args[1], "fill_value")
    : parseDType(String(attrs.dtype));
  return s ? tensorSInfo(s, t) : tensorSInfo(undefined, t, -1);
}, legalizeFull("full", undefined, 1));
for (const n of ["zeros_like", "ones_like"]) {
  reg(n, ["x"], { dtype: null }, "elemwise", (args, attrs, op) => {
    const x = tensorArg(op, args, 0, "x");
    return keep(x, attrs.dtype === null ? x.dtype : parseDType(String(attrs.dtype)));
  }, legalizeFull(n === "zeros_like" ? "zeros" : "ones", n === "zeros_like" ? 0 : 1, -1));
}
reg("full_like", ["x", "fill_value"], { dtype: null }, "elemwise", (args, attrs, op) => {
  const x = tensorArg(op, args, 0, "x");
  scalarArg(op, args[1], "fill_value");
  return keep(x, attrs.dtype === null ? x.dtype : parseDType(String(attrs.dtype)));
}, legalizeFull("full", undefined, 1));
reg("arange", ["start", "end", "step"], { dtype: "int64" }, "injective", (args, attrs) => {
  const t = parseDType(String(attrs.dtype));
  const vals = args.map((a, i) => {
    const s = a.structInfo;
    if (s.kind !== "PrimStructInfo") {
      throw new Error(
        `arange: argument "${["start", "end", "step"][i]}" must be a scalar (R.prim_value)`,
      );
    }
    return s.value;
  });
  const [b, e, st] = vals;
  if (b && e && st && b.kind === "IntImm" && e.kind === "IntImm" && st.kind === "IntImm") {
    if (st.value === 0) throw new Error("arange: step must not be 0");
    return tensorSInfo([Math.max(0, Math.ceil((e.value - b.value) / st.value))], t);
  }
  if (b && e && st && st.kind === "IntImm" && st.value > 0 && b.dtype === e.dtype) {
    return tensorSInfo([cast(floordiv(add(sub(e, b), st.value - 1), st.value), "int64")], t);
  }
  return tensorSInfo(undefined, t, 1);
}, (call, ctx) => {
  const out = outTensor(call);
  const start = scalarArgValue(call, 0, "start"), step = scalarArgValue(call, 2, "step");
  return ctx.callTe(() => teArange(start, step, out.shape[0]!, out.dtype), [], { name: "arange" });
});
for (const n of ["tril", "triu"]) {
  reg(n, ["x", "k"], {}, "injective", (args, _a, op) => {
    const x = tensorArg(op, args, 0, "x");
    if (x.ndim >= 0 && x.ndim < 2) {
      throw new Error(`${n}: expected a tensor of rank >= 2, got rank ${x.ndim}`);
    }
    scalarArg(op, args[1], "k");
    return keep(x, x.dtype);
  }, (call, ctx) => {
    const k = scalarArgValue(call, 1, "k");
    return ctx.callTe((x) => trilu(x, k, n === "triu"), [call.args[0]!], { name: n });
  });
}

reg("where", ["condition", "x1", "x2"], {}, "broadcast", (args, _a, op) => {
  const c = tensorArg(op, args, 0, "condition");
  const a = tensorArg(op, args, 1, "x1");
  const b = tensorArg(op, args, 2, "x2");
  if (c.dtype !== "void" && !isBool(c.dtype)) {
    throw new Error(`where: condition must be bool, got ${c.dtype}`);
  }
  const t = commonDType(op, a, b);
  if (c.shape && a.shape && b.shape) {
    const ab = broadcastShapes(op, a.shape, b.shape);
    const all = ab && broadcastShapes(op, c.shape, ab);
    if (all) return tensorSInfo(all, t);
  }
  return tensorSInfo(undefined, t, Math.max(c.ndim, a.ndim, b.ndim));
}, (call, ctx) =>
  ctx.callTe(
    (c, a, b) => broadcastCompute([c, a, b], ([x, y, z]) => select(x!, y!, z!), "T_where"),
    call.args,
    { name: "where" },
  ));

reg("astype", ["x"], { dtype: "float32" }, "elemwise", (args, attrs, op) => {
  return keep(tensorArg(op, args, 0, "x"), parseDType(String(attrs.dtype)));
}, (call, ctx) => {
  const t = parseDType(String(call.attrs.dtype));
  return ctx.callTe((x) => teCast(x, t), [call.args[0]!], { name: "cast" });
});

reg(
  "image.resize2d",
  ["data", "size"],
  {
    roi: [0, 0, 0, 0],
    layout: "NCHW",
    method: "linear",
    coordinate_transformation_mode: "half_pixel",
    rounding_method: "round",
    cubic_alpha: -0.5,
    cubic_exclude: 0,
    extrapolation_value: 0,
    out_dtype: "void",
  },
  "injective",
  (args, attrs, op) => {
    const x = tensorArg(op, args, 0, "data");
    const size = shapeOf(op, args[1]);
    const method = String(attrs.method);
    if (!["nearest_neighbor", "linear", "cubic"].includes(method)) {
      throw new Error(
        `image.resize2d: method must be "nearest_neighbor", "linear" or "cubic", got "${method}"`,
      );
    }
    if (size && size.length !== 2) {
      throw new Error(
        `image.resize2d: size must have 2 values, got ${size.length}`,
      );
    }
    const layout = String(attrs.layout);
    const t = attrs.out_dtype === "void" ? x.dtype : parseDType(String(attrs.out_dtype));
    if (!x.shape || !size) return tensorSInfo(undefined, t, 4);
    const h = layout.indexOf("H"), w = layout.indexOf("W");
    if (h < 0 || w < 0) throw new Error(`image.resize2d: layout "${layout}" has no H and W axes`);
    return tensorSInfo(x.shape.map((d, i) => (i === h ? size[0]! : i === w ? size[1]! : d)), t);
  },
  (call, ctx) => {
    const a = call.attrs;
    const mode = String(a.coordinate_transformation_mode), rm = String(a.rounding_method);
    if (!RESIZE_MODES.includes(mode)) {
      throw cannotLegalize(call, `coordinate_transformation_mode "${mode}" is not supported`);
    }
    if (!RESIZE_ROUNDING.includes(rm)) {
      throw cannotLegalize(call, `rounding_method "${rm}" is not supported`);
    }
    const out = outTensor(call);
    const layout = String(a.layout);
    const oh = out.shape[layout.indexOf("H")]!, ow = out.shape[layout.indexOf("W")]!;
    return ctx.callTe(
      (x) =>
        teResize2d(x, [oh, ow], {
          layout: String(a.layout),
          method: String(a.method),
          coordinateTransformationMode: mode,
          roundingMethod: rm,
          cubicAlpha: Number(a.cubic_alpha),
          cubicExclude: Number(a.cubic_exclude) !== 0,
          outDtype: out.dtype,
        }),
      [call.args[0]!],
      { name: "resize2d" },
    );
  },
);

/** A tensor of zeros. */
export function zeros(shape: readonly (PrimExpr | number)[], dtype: DType = "float32"): RCall {
  return makeOpCall("relax.zeros", [shapeExpr(shape)], { dtype });
}

/** A tensor of ones. */
export function ones(shape: readonly (PrimExpr | number)[], dtype: DType = "float32"): RCall {
  return makeOpCall("relax.ones", [shapeExpr(shape)], { dtype });
}

/** A tensor filled with `value`. */
export function full(
  shape: readonly (PrimExpr | number)[],
  value: number,
  dtype: DType = "float32",
): RCall {
  return makeOpCall("relax.full", [shapeExpr(shape), primValue(constant(value, dtype))], { dtype });
}

/** Zeros shaped like `x`. */
export function zerosLike(x: Expr, dtype?: DType): RCall {
  return makeOpCall("relax.zeros_like", [x], { dtype: dtype ?? null });
}

/** Ones shaped like `x`. */
export function onesLike(x: Expr, dtype?: DType): RCall {
  return makeOpCall("relax.ones_like", [x], { dtype: dtype ?? null });
}

/** `value` shaped like `x`. */
export function fullLike(x: Expr, value: number, dtype?: DType): RCall {
  const xs = x.structInfo;
  const t = dtype ?? (xs.kind === "TensorStructInfo" && xs.dtype !== "void" ? xs.dtype : "float32");
  return makeOpCall("relax.full_like", [x, primValue(constant(value, t))], {
    dtype: dtype ?? null,
  });
}

/** `[start, end)` by `step`. */
export function arange(
  start: number | PrimExpr,
  end: number | PrimExpr,
  step: number | PrimExpr = 1,
  dtype: DType = "int64",
): RCall {
  const pv = (v: number | PrimExpr) => primValue(typeof v === "number" ? constant(v, "int64") : v);
  return makeOpCall("relax.arange", [pv(start), pv(end), pv(step)], { dtype });
}

/** Lower triangle (diagonal offset `k`). */
export function tril(x: Expr, k = 0): RCall {
  return makeOpCall("relax.tril", [x, primValue(constant(k, "int64"))]);
}

/** Upper triangle (diagonal offset `k`). */
export function triu(x: Expr, k = 0): RCall {
  return makeOpCall("relax.triu", [x, primValue(constant(k, "int64"))]);
}

/** `condition ? x1 : x2`, with broadcasting. */
export function where(condition: Expr, x1: Expr, x2: Expr): RCall {
  return makeOpCall("relax.where", [condition, x1, x2]);
}

/** Converts to `dtype`. */
export function astype(x: Expr, dtype: DType): RCall {
  return makeOpCall("relax.astype", [x], { dtype });
}

/** Options of {@link resize2d}. */
export interface Resize2dOptions {
  /** `"nearest_neighbor"` or `"linear"` (default) or `"cubic"`. */
  readonly method?: string;
  /** Layout of `data`. */
  readonly layout?: string;
  /** `"half_pixel"` (default), `"align_corners"` or `"asymmetric"`. */
  readonly coordinateTransformationMode?: string;
}

/** Resizes the spatial axes to `size` (height, width). */
export function resize2d(
  data: Expr,
  size: readonly (PrimExpr | number)[],
  options: Resize2dOptions = {},
): RCall {
  return makeOpCall("relax.image.resize2d", [data, shapeExpr(size)], {
    roi: [0, 0, 0, 0],
    layout: options.layout ?? "NCHW",
    method: options.method ?? "linear",
    coordinate_transformation_mode: options.coordinateTransformationMode ?? "half_pixel",
    rounding_method: "round",
    cubic_alpha: -0.5,
    cubic_exclude: 0,
    extrapolation_value: 0,
    out_dtype: "void",
  });
}
