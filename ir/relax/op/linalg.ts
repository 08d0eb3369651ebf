/**
 * Linear algebra (`matmul`, `linear`) and statistical reductions (`sum`, `mean`, `max`, ...,
 * `argmax`, `cumsum`).
 *
 * @module
 */

import type { DType } from "../../dtype.ts";
import { type PrimExpr, toExpr } from "../../expr.ts";
import type { AttrValue } from "../../tir/stmt.ts";
import type { Expr, RCall } from "../expr.ts";
import { type StructInfo, tensorSInfo } from "../struct_info.ts";
import {
  broadcastShapes,
  commonDType,
  dimDiffers,
  intAttr,
  intListAttr,
  normAxis,
  tensorArg,
} from "./_infer.ts";
import {
  fmtDim,
  fmtShape,
  type LegalizeFn,
  makeOpCall,
  registerOp,
  shortName,
} from "./registry.ts";
import { add } from "./elementwise.ts";
import { permuteDims } from "./manipulate.ts";
import { matmul as teMatmul } from "./legalize/topi_linalg.ts";
import {
  argReduce,
  cumsum as teCumsum,
  mean as teMean,
  reduce as teReduce,
  type ReduceKind,
  std as teStd,
  variance as teVariance,
} from "./legalize/topi_reduce.ts";

registerOp({
  name: "relax.matmul",
  args: ["x1", "x2"],
  optionalArgs: 0,
  attrs: { out_dtype: "void" },
  pattern: "out-elemwise-fusable",
  legalize: (call, ctx) => {
    const od = call.attrs.out_dtype as DType;
    const t = od !== "void" ? od : (call.structInfo as { dtype: DType }).dtype;
    return ctx.callTe((a, b) => teMatmul(a, b, t), [call.args[0]!, call.args[1]!], {
      name: "matmul",
    });
  },
  infer: (args, attrs) => {
    const op = "relax.matmul";
    const a = tensorArg(op, args, 0, "x1");
    const b = tensorArg(op, args, 1, "x2");
    const od = attrs.out_dtype as DType;
    const dtype = od !== "void" ? od : commonDType(op, a, b);
    if (a.ndim === 0 || b.ndim === 0) {
      throw new Error(`matmul: operands must have at least one dimension`);
    }
    if (!a.shape || !b.shape) {
      const nd = a.ndim < 0 || b.ndim < 0
        ? -1
        : Math.max(a.ndim, b.ndim) - (a.ndim === 1 ? 1 : 0) - (b.ndim === 1 ? 1 : 0);
      return tensorSInfo(undefined, dtype, nd);
    }
    const x = a.shape.length === 1 ? [toExpr(1, a.shape[0]), a.shape[0]!] : a.shape;
    const y = b.shape.length === 1 ? [b.shape[0]!, toExpr(1, b.shape[0])] : b.shape;
    const k1 = x[x.length - 1]!, k2 = y[y.length - 2]!;
    if (dimDiffers(k1, k2)) {
      throw new Error(
        `matmul: cannot contract ${fmtShape(a.shape)} with ${fmtShape(b.shape)}: ${fmtDim(k1)} != ${
          fmtDim(k2)
        }`,
      );
    }
    const batch = broadcastShapes(op, x.slice(0, -2), y.slice(0, -2));
    if (!batch) {
      return tensorSInfo(
        undefined,
        dtype,
        Math.max(x.length, y.length) - (a.ndim === 1 ? 1 : 0) - (b.ndim === 1 ? 1 : 0),
      );
    }
    const out: PrimExpr[] = [...batch];
    if (a.shape.length !== 1) out.push(x[x.length - 2]!);
    if (b.shape.length !== 1) out.push(y[y.length - 1]!);
    return tensorSInfo(out, dtype);
  },
});

/** Matrix product with numpy semantics (batched, broadcasting, 1-D promotion). */
export function matmul(x1: Expr, x2: Expr, options: { outDtype?: DType } = {}): RCall {
  return makeOpCall("relax.matmul", [x1, x2], { out_dtype: options.outDtype ?? "void" });
}

/** `x @ weight^T + bias`, as TVM's `linear`: a `permute_dims`, a `matmul` and an `add`. */
export function linear(x: Expr, weight: Expr, bias?: Expr): RCall {
  const w = tensorArg("relax.linear", [weight], 0, "weight");
  const axes = w.ndim === 2 ? [1, 0] : null;
  const y = matmul(x, permuteDims(weight, axes === null ? undefined : axes));
  return bias ? add(y, bias) : y;
}

function reduceAxes(
  op: string,
  attrs: { readonly [k: string]: AttrValue },
  ndim: number,
): number[] {
  const ax = intListAttr(op, "axis", attrs.axis === null ? undefined : attrs.axis);
  if (!ax) return [...Array(ndim).keys()];
  const norm = ax.map((a) => normAxis(op, a, ndim));
  if (new Set(norm).size !== norm.length) {
    throw new Error(`${shortName(op)}: axis ${JSON.stringify(ax)} repeats an axis`);
  }
  return norm;
}

function reducedSInfo(
  op: string,
  args: readonly Expr[],
  attrs: { readonly [k: string]: AttrValue },
  dtype?: DType,
): StructInfo {
  const x = tensorArg(op, args, 0, "x");
  const keep = attrs.keepdims === true;
  const t = dtype ?? x.dtype;
  if (!x.shape) {
    if (x.ndim < 0) return tensorSInfo(undefined, t, -1);
    const axes = reduceAxes(op, attrs, x.ndim);
    return tensorSInfo(undefined, t, keep ? x.ndim : x.ndim - axes.length);
  }
  const axes = new Set(reduceAxes(op, attrs, x.shape.length));
  const out: PrimExpr[] = [];
  x.shape.forEach((d, i) => {
    if (!axes.has(i)) out.push(d);
    else if (keep) out.push(toExpr(1, d));
  });
  return tensorSInfo(out, t);
}

function legalizeReduce(n: string): LegalizeFn {
  const full = `relax.${n}`;
  return (call, ctx) => {
    const x = tensorArg(full, call.args, 0, "x");
    const axes = reduceAxes(full, call.attrs, x.ndim);
    const o = { keepdims: call.attrs.keepdims === true };
    return ctx.callTe(
      (t) => {
        if (n === "mean") return teMean(t, axes, o);
        if (n === "variance") return teVariance(t, axes, o);
        if (n === "std") return teStd(t, axes, o);
        return teReduce(t, n as ReduceKind, axes, o);
      },
      [call.args[0]!],
      { name: n },
    );
  };
}

for (const n of ["sum", "mean", "max", "min", "prod", "variance", "std"]) {
  const full = `relax.${n}`;
  registerOp({
    name: full,
    args: ["x"],
    optionalArgs: 0,
    attrs: { axis: null, keepdims: false },
    pattern: "reduction",
    legalize: legalizeReduce(n),
    infer: (args, attrs) => reducedSInfo(full, args, attrs),
  });
}
for (const n of ["argmax", "argmin"]) {
  const full = `relax.${n}`;
  registerOp({
    name: full,
    args: ["x"],
    optionalArgs: 0,
    attrs: { axis: null, keepdims: false },
    pattern: "reduction",
    legalize: (call, ctx) => {
      const x = tensorArg(full, call.args, 0, "x");
      const axis = call.attrs.axis === null
        ? undefined
        : normAxis(full, intAttr(full, "axis", call.attrs.axis), x.ndim);
      return ctx.callTe(
        (t) =>
          argReduce(t, n as "argmax" | "argmin", axis, { keepdims: call.attrs.keepdims === true }),
        [call.args[0]!],
        { name: n },
      );
    },
    infer: (args, attrs) => {
      if (attrs.axis !== null) intAttr(full, "axis", attrs.axis);
      return reducedSInfo(full, args, attrs, "int64");
    },
  });
}

registerOp({
  name: "relax.cumsum",
  args: ["x"],
  optionalArgs: 0,
  attrs: { axis: null, dtype: null, exclusive: false },
  pattern: "opaque",
  legalize: (call, ctx) => {
    const op = "relax.cumsum";
    const x = tensorArg(op, call.args, 0, "x");
    const axis = call.attrs.axis === null
      ? undefined
      : normAxis(op, intAttr(op, "axis", call.attrs.axis), x.ndim);
    const dtype = (call.structInfo as { dtype: DType }).dtype;
    const exclusive = call.attrs.exclusive === true;
    return ctx.callTe((t) => teCumsum(t, axis, { dtype, exclusive }), [call.args[0]!], {
      name: "cumsum",
    });
  },
  infer: (args, attrs) => {
    const x = tensorArg("relax.cumsum", args, 0, "x");
    const t = (attrs.dtype ?? x.dtype) as DType;
    if (attrs.axis === null) {
      const n = x.shape?.reduce((a: PrimExpr, b) => a.mul(b));
      return n ? tensorSInfo([n], t) : tensorSInfo(undefined, t, 1);
    }
    normAxis("relax.cumsum", intAttr("relax.cumsum", "axis", attrs.axis), x.ndim);
    return x.shape ? tensorSInfo(x.shape, t) : tensorSInfo(undefined, t, x.ndim);
  },
});

/** Options of the reductions. */
export interface ReduceOptions {
  /** Axes to reduce (all when omitted); negative axes count from the end. */
  readonly axis?: number | readonly number[];
  /** Keep reduced axes as size 1 (default false). */
  readonly keepdims?: boolean;
}

function reduce(n: string) {
  return (x: Expr, options: ReduceOptions = {}): RCall =>
    makeOpCall(`relax.${n}`, [x], {
      axis: options.axis === undefined
        ? null
        : typeof options.axis === "number"
        ? [options.axis]
        : [...options.axis],
      keepdims: options.keepdims ?? false,
    });
}

/** Sum over axes. */
export const sum: (x: Expr, options?: ReduceOptions) => RCall = reduce("sum");
/** Mean over axes. */
export const mean: (x: Expr, options?: ReduceOptions) => RCall = reduce("mean");
/** Maximum over axes. */
export const max: (x: Expr, options?: ReduceOptions) => RCall = reduce("max");
/** Minimum over axes. */
export const min: (x: Expr, options?: ReduceOptions) => RCall = reduce("min");
/** Product over axes. */
export const prod: (x: Expr, options?: ReduceOptions) => RCall = reduce("prod");
/** Population variance over axes. */
export const variance: (x: Expr, options?: ReduceOptions) => RCall = reduce("variance");
/** Population standard deviation over axes. */
export const std: (x: Expr, options?: ReduceOptions) => RCall = reduce("std");

/** Options of argmax/argmin. */
export interface ArgReduceOptions {
  /** The axis (the flattened tensor when omitted). */
  readonly axis?: number;
  /** Keep the reduced axis as size 1. */
  readonly keepdims?: boolean;
}

/** Index of the maximum along an axis (int64). */
export function argmax(x: Expr, options: ArgReduceOptions = {}): RCall {
  return makeOpCall("relax.argmax", [x], {
    axis: options.axis ?? null,
    keepdims: options.keepdims ?? false,
  });
}

/** Index of the minimum along an axis (int64). */
export function argmin(x: Expr, options: ArgReduceOptions = {}): RCall {
  return makeOpCall("relax.argmin", [x], {
    axis: options.axis ?? null,
    keepdims: options.keepdims ?? false,
  });
}

/** Cumulative sum along an axis (of the flattened tensor when omitted). */
export function cumsum(
  x: Expr,
  options: { readonly axis?: number; readonly dtype?: DType; readonly exclusive?: boolean } = {},
): RCall {
  return makeOpCall("relax.cumsum", [x], {
    axis: options.axis ?? null,
    dtype: options.dtype ?? null,
    exclusive: options.exclusive ?? false,
  });
}
