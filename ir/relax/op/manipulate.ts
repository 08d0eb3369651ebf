/**
 * Tensor manipulation operators: reshape, permute_dims, concat, split, squeeze, expand_dims,
 * broadcast_to, flatten, strided_slice, take, stack, repeat, tile, flip, one_hot,
 * layout_transform.
 *
 * @module
 */

import { add, floordiv, intImm, mul, type PrimExpr, sub } from "../../expr.ts";
import type { Attrs } from "../../tir/stmt.ts";
import type { Expr, RCall } from "../expr.ts";
import { shapeExpr } from "../expr.ts";
import { type StructInfo, tensorSInfo, type TensorStructInfo, tupleSInfo } from "../struct_info.ts";
import {
  broadcastShapes,
  dim,
  dimDiffers,
  dimEqual,
  dimValue,
  intAttr,
  intListAttr,
  normAxis,
  tensorArg,
} from "./_infer.ts";
import {
  fmtDim,
  fmtShape,
  fmtSInfo,
  makeOpCall,
  type OpPattern,
  registerOp,
  shortName,
} from "./registry.ts";

function reg(
  name: string,
  args: readonly string[],
  attrs: Attrs,
  pattern: OpPattern,
  infer: (args: readonly Expr[], attrs: Attrs, op: string) => StructInfo,
): void {
  const full = `relax.${name}`;
  registerOp({
    name: full,
    args,
    optionalArgs: 0,
    attrs,
    pattern,
    infer: (a, at) => infer(a, at, full),
  });
}

const same = (
  x: TensorStructInfo,
  shape: readonly PrimExpr[] | undefined,
  ndim = x.ndim,
  dtype = x.dtype,
) => shape ? tensorSInfo(shape, dtype) : tensorSInfo(undefined, dtype, ndim);

function shapeArg(
  op: string,
  args: readonly Expr[],
  i: number,
  name: string,
): readonly PrimExpr[] | undefined {
  const s = args[i]?.structInfo;
  if (!s || s.kind !== "ShapeStructInfo") {
    throw new Error(
      `${shortName(op)}: argument "${name}" must be a shape (R.shape), got ${
        s ? fmtSInfo(s) : "nothing"
      }`,
    );
  }
  return s.values;
}

function product(xs: readonly PrimExpr[]): PrimExpr {
  return xs.reduce((a: PrimExpr, b) => mul(a, b), intImm(1, "int64"));
}

reg("reshape", ["x", "shape"], {}, "injective", (args, _a, op) => {
  const x = tensorArg(op, args, 0, "x");
  const s = shapeArg(op, args, 1, "shape");
  if (!s) {
    return tensorSInfo(
      undefined,
      x.dtype,
      args[1]!.structInfo.kind === "ShapeStructInfo"
        ? (args[1]!.structInfo as { ndim: number }).ndim
        : -1,
    );
  }
  if (x.shape) {
    const a = product(x.shape), b = product(s);
    if (dimDiffers(a, b)) {
      throw new Error(
        `reshape: cannot reshape ${fmtShape(x.shape)} (${fmtDim(a)} elements) to ${fmtShape(s)} (${
          fmtDim(b)
        } elements)`,
      );
    }
  }
  return tensorSInfo(s, x.dtype);
});

reg("permute_dims", ["x"], { axes: null }, "injective", (args, attrs, op) => {
  const x = tensorArg(op, args, 0, "x");
  const axes = intListAttr(op, "axes", attrs.axes ?? undefined);
  if (x.ndim < 0) return same(x, undefined);
  const perm = axes
    ? axes.map((a) => normAxis(op, a, x.ndim))
    : [...Array(x.ndim).keys()].reverse();
  if (perm.length !== x.ndim || new Set(perm).size !== perm.length) {
    throw new Error(
      `permute_dims: axes ${JSON.stringify(axes)} is not a permutation of ${x.ndim} axes`,
    );
  }
  return same(x, x.shape && perm.map((p) => x.shape![p]!));
});

function tupleTensors(op: string, e: Expr | undefined): TensorStructInfo[] {
  const s = e?.structInfo;
  if (!s || s.kind !== "TupleStructInfo") {
    throw new Error(`${shortName(op)}: expected a tuple of tensors`);
  }
  return s.fields.map((f, i) => {
    if (f.kind !== "TensorStructInfo") {
      throw new Error(`${shortName(op)}: tuple field ${i} is not a tensor`);
    }
    return f;
  });
}

reg("concat", ["tensors"], { axis: 0 }, "injective", (args, attrs, op) => {
  const ts = tupleTensors(op, args[0]);
  if (ts.length === 0) throw new Error("concat: expected at least one tensor");
  const first = ts[0]!;
  const axis = normAxis(op, intAttr(op, "axis", attrs.axis), first.ndim);
  let total: PrimExpr | undefined = first.shape?.[axis];
  for (const t of ts.slice(1)) {
    if (t.dtype !== first.dtype) {
      throw new Error(`concat: dtypes differ: ${first.dtype} and ${t.dtype}`);
    }
    if (t.ndim !== first.ndim) throw new Error(`concat: ranks differ: ${first.ndim} and ${t.ndim}`);
    if (first.shape && t.shape) {
      t.shape.forEach((d, i) => {
        if (i !== axis && dimDiffers(d, first.shape![i]!)) {
          throw new Error(
            `concat: cannot concatenate ${fmtShape(first.shape)} with ${
              fmtShape(t.shape)
            } along axis ${axis}`,
          );
        }
      });
    }
    total = total && t.shape ? add(total, t.shape[axis]!) : undefined;
  }
  if (!first.shape || total === undefined) return tensorSInfo(undefined, first.dtype, first.ndim);
  return tensorSInfo(first.shape.map((d, i) => (i === axis ? total! : d)), first.dtype);
});

reg("split", ["x"], { indices_or_sections: 1, axis: 0 }, "injective", (args, attrs, op) => {
  const x = tensorArg(op, args, 0, "x");
  const axis = normAxis(op, intAttr(op, "axis", attrs.axis), x.ndim);
  const ios = attrs.indices_or_sections;
  const d = x.shape?.[axis];
  const part = (len: PrimExpr | undefined) =>
    same(x, x.shape && len && x.shape.map((s, i) => (i === axis ? len : s)));
  if (typeof ios === "number") {
    if (ios <= 0) throw new Error(`split: sections must be positive, got ${ios}`);
    if (d && dimValue(d) !== undefined && dimValue(d)! % ios !== 0) {
      throw new Error(
        `split: dimension ${dimValue(d)} of axis ${axis} is not divisible into ${ios} sections`,
      );
    }
    return tupleSInfo(Array.from({ length: ios }, () => part(d && floordiv(d, ios))));
  }
  const idx = intListAttr(op, "indices_or_sections", ios) ?? [];
  const bounds = [0, ...idx];
  return tupleSInfo(
    bounds.map((b, i) =>
      part(i + 1 < bounds.length ? intImm(bounds[i + 1]! - b, "int64") : d && sub(d, b))
    ),
  );
});

reg("squeeze", ["x"], { axis: null }, "injective", (args, attrs, op) => {
  const x = tensorArg(op, args, 0, "x");
  const ax = intListAttr(op, "axis", attrs.axis ?? undefined)?.map((a) => normAxis(op, a, x.ndim));
  if (!x.shape) return tensorSInfo(undefined, x.dtype, ax && x.ndim >= 0 ? x.ndim - ax.length : -1);
  for (const a of ax ?? []) {
    if (dimDiffers(x.shape[a]!, intImm(1, "int64"))) {
      throw new Error(
        `squeeze: axis ${a} of ${fmtShape(x.shape)} has size ${fmtDim(x.shape[a]!)}, not 1`,
      );
    }
  }
  return tensorSInfo(x.shape.filter((d, i) => (ax ? !ax.includes(i) : dimValue(d) !== 1)), x.dtype);
});

reg("expand_dims", ["x"], { axis: [0] }, "injective", (args, attrs, op) => {
  const x = tensorArg(op, args, 0, "x");
  const raw = intListAttr(op, "axis", attrs.axis) ?? [];
  const nd = x.ndim + raw.length;
  const ax = raw.map((a) => normAxis(op, a, nd));
  if (!x.shape) return tensorSInfo(undefined, x.dtype, x.ndim < 0 ? -1 : nd);
  const out: PrimExpr[] = [];
  let k = 0;
  for (let i = 0; i < nd; i++) out.push(ax.includes(i) ? dim(1) : x.shape[k++]!);
  return tensorSInfo(out, x.dtype);
});

reg("broadcast_to", ["x", "shape"], {}, "broadcast", (args, _a, op) => {
  const x = tensorArg(op, args, 0, "x");
  const s = shapeArg(op, args, 1, "shape");
  if (s && x.shape) {
    const b = broadcastShapes(op, x.shape, s);
    if (
      b &&
      (b.length !== s.length ||
        b.some((d, i) =>
          !dimEqual(d, s[i]!) && dimValue(s[i]!) !== undefined && dimValue(d) !== undefined
        ))
    ) {
      throw new Error(`broadcast_to: cannot broadcast ${fmtShape(x.shape)} to ${fmtShape(s)}`);
    }
  }
  return s ? tensorSInfo(s, x.dtype) : tensorSInfo(undefined, x.dtype, -1);
});

reg("flatten", ["x"], {}, "injective", (args, _a, op) => {
  const x = tensorArg(op, args, 0, "x");
  return x.shape ? tensorSInfo([product(x.shape)], x.dtype) : tensorSInfo(undefined, x.dtype, 1);
});

reg(
  "strided_slice",
  ["x"],
  { axes: [], begin: [], end: [], strides: null, assume_inbound: false },
  "injective",
  (args, attrs, op) => {
    const x = tensorArg(op, args, 0, "x");
    const axes = (intListAttr(op, "axes", attrs.axes) ?? []).map((a) => normAxis(op, a, x.ndim));
    const begin = intListAttr(op, "begin", attrs.begin) ?? [];
    const end = intListAttr(op, "end", attrs.end) ?? [];
    const strides = intListAttr(op, "strides", attrs.strides ?? undefined) ?? axes.map(() => 1);
    if (
      begin.length !== axes.length || end.length !== axes.length || strides.length !== axes.length
    ) {
      throw new Error(`strided_slice: axes, begin, end and strides must have the same length`);
    }
    if (!x.shape) return same(x, undefined);
    const out = [...x.shape];
    axes.forEach((a, i) => {
      const n = dimValue(x.shape![a]!);
      const st = strides[i]!;
      if (st === 0) throw new Error(`strided_slice: stride of axis ${a} is 0`);
      if (n === undefined) {
        out[a] = intImm(Math.max(0, Math.ceil((end[i]! - begin[i]!) / st)), "int64");
        return;
      }
      const clamp = (v: number, lo: number, hi: number) =>
        Math.min(Math.max(v < 0 ? v + n : v, lo), hi);
      const b = st > 0 ? clamp(begin[i]!, 0, n) : clamp(begin[i]!, -1, n - 1);
      const e = st > 0 ? clamp(end[i]!, 0, n) : clamp(end[i]!, -1, n - 1);
      out[a] = intImm(Math.max(0, Math.ceil((e - b) / st)), "int64");
    });
    return tensorSInfo(out, x.dtype);
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
});

reg("stack", ["tensors"], { axis: 0 }, "injective", (args, attrs, op) => {
  const ts = tupleTensors(op, args[0]);
  if (ts.length === 0) throw new Error("stack: expected at least one tensor");
  const first = ts[0]!;
  const axis = normAxis(op, intAttr(op, "axis", attrs.axis), first.ndim + 1);
  for (const t of ts) {
    if (t.dtype !== first.dtype) {
      throw new Error(`stack: dtypes differ: ${first.dtype} and ${t.dtype}`);
    }
    if (first.shape && t.shape && t.shape.some((d, i) => dimDiffers(d, first.shape![i]!))) {
      throw new Error(`stack: shapes differ: ${fmtShape(first.shape)} and ${fmtShape(t.shape)}`);
    }
  }
  if (!first.shape) {
    return tensorSInfo(undefined, first.dtype, first.ndim < 0 ? -1 : first.ndim + 1);
  }
  const out = [...first.shape];
  out.splice(axis, 0, dim(ts.length));
  return tensorSInfo(out, first.dtype);
});

reg("repeat", ["x"], { repeats: 1, axis: null }, "injective", (args, attrs, op) => {
  const x = tensorArg(op, args, 0, "x");
  const r = intAttr(op, "repeats", attrs.repeats);
  if (r < 1) throw new Error(`repeat: repeats must be positive, got ${r}`);
  if (!x.shape) return tensorSInfo(undefined, x.dtype, attrs.axis === null ? 1 : x.ndim);
  if (attrs.axis === null) return tensorSInfo([mul(product(x.shape), r)], x.dtype);
  const axis = normAxis(op, intAttr(op, "axis", attrs.axis), x.ndim);
  return tensorSInfo(x.shape.map((d, i) => (i === axis ? mul(d, r) : d)), x.dtype);
});

reg("tile", ["x"], { repeats: [] }, "injective", (args, attrs, op) => {
  const x = tensorArg(op, args, 0, "x");
  const reps = intListAttr(op, "repeats", attrs.repeats) ?? [];
  if (!x.shape) {
    return tensorSInfo(undefined, x.dtype, x.ndim < 0 ? -1 : Math.max(x.ndim, reps.length));
  }
  const n = Math.max(x.shape.length, reps.length);
  const s = [...Array(n - x.shape.length).fill(dim(1)), ...x.shape] as PrimExpr[];
  const r = [...Array(n - reps.length).fill(1), ...reps] as number[];
  return tensorSInfo(s.map((d, i) => mul(d, r[i]!)), x.dtype);
});

reg("flip", ["x"], { axis: 0 }, "injective", (args, attrs, op) => {
  const x = tensorArg(op, args, 0, "x");
  normAxis(op, intAttr(op, "axis", attrs.axis), x.ndim);
  return same(x, x.shape);
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
);

reg(
  "layout_transform",
  ["x"],
  { src_layout: "", dst_layout: "" },
  "injective",
  (args, attrs, op) => {
    const x = tensorArg(op, args, 0, "x");
    const perm = layoutPermutation(String(attrs.src_layout), String(attrs.dst_layout));
    if (x.ndim >= 0 && perm.length !== x.ndim) {
      throw new Error(
        `layout_transform: layout "${attrs.src_layout}" has ${perm.length} axes but the tensor has rank ${x.ndim}`,
      );
    }
    return same(x, x.shape && perm.map((p) => x.shape![p]!));
  },
);

/** The axis permutation that turns layout `src` into `dst` (e.g. NCHW -> NHWC gives [0, 2, 3, 1]). */
export function layoutPermutation(src: string, dst: string): number[] {
  if (
    src.length !== dst.length || [...src].sort().join() !== [...dst].sort().join() ||
    new Set(src).size !== src.length
  ) {
    throw new Error(
      `layout_transform: cannot transform layout "${src}" to "${dst}": expected a permutation of the same axes`,
    );
  }
  return [...dst].map((c) => src.indexOf(c));
}

/** Reshapes to `shape` (numbers or PrimExprs). */
export function reshape(x: Expr, shape: readonly (PrimExpr | number)[]): RCall {
  return makeOpCall("relax.reshape", [x, shapeExpr(shape)]);
}

/** Permutes axes (reverses them when `axes` is omitted). */
export function permuteDims(x: Expr, axes?: readonly number[]): RCall {
  return makeOpCall("relax.permute_dims", [x], { axes: axes ? [...axes] : null });
}

/** Concatenates a tuple of tensors along `axis`. */
export function concat(tensors: Expr, options: { readonly axis?: number } = {}): RCall {
  return makeOpCall("relax.concat", [tensors], { axis: options.axis ?? 0 });
}

/** Splits into `sections` equal parts or at `indices`, returning a tuple. */
export function split(
  x: Expr,
  indicesOrSections: number | readonly number[],
  options: { readonly axis?: number } = {},
): RCall {
  return makeOpCall("relax.split", [x], {
    indices_or_sections: typeof indicesOrSections === "number"
      ? indicesOrSections
      : [...indicesOrSections],
    axis: options.axis ?? 0,
  });
}

/** Removes size-1 axes (all of them, or those given). */
export function squeeze(x: Expr, options: { readonly axis?: readonly number[] } = {}): RCall {
  return makeOpCall("relax.squeeze", [x], { axis: options.axis ? [...options.axis] : null });
}

/** Inserts size-1 axes at the given positions. */
export function expandDims(x: Expr, axis: number | readonly number[]): RCall {
  return makeOpCall("relax.expand_dims", [x], {
    axis: typeof axis === "number" ? [axis] : [...axis],
  });
}

/** Broadcasts to `shape`. */
export function broadcastTo(x: Expr, shape: readonly (PrimExpr | number)[]): RCall {
  return makeOpCall("relax.broadcast_to", [x, shapeExpr(shape)]);
}

/** Flattens to one dimension. */
export function flatten(x: Expr): RCall {
  return makeOpCall("relax.flatten", [x]);
}

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

/** Stacks a tuple of same-shaped tensors along a new axis. */
export function stack(tensors: Expr, options: { readonly axis?: number } = {}): RCall {
  return makeOpCall("relax.stack", [tensors], { axis: options.axis ?? 0 });
}

/** Repeats elements `repeats` times along `axis` (flattened when omitted). */
export function repeat(x: Expr, repeats: number, options: { readonly axis?: number } = {}): RCall {
  return makeOpCall("relax.repeat", [x], { repeats, axis: options.axis ?? null });
}

/** Tiles the tensor `repeats` times per axis. */
export function tile(x: Expr, repeats: readonly number[]): RCall {
  return makeOpCall("relax.tile", [x], { repeats: [...repeats] });
}

/** Reverses the order along `axis`. */
export function flip(x: Expr, axis: number): RCall {
  return makeOpCall("relax.flip", [x], { axis });
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

/** Permutes a tensor from one layout string to another (`"NCHW"` -> `"NHWC"`). */
export function layoutTransform(x: Expr, srcLayout: string, dstLayout: string): RCall {
  return makeOpCall("relax.layout_transform", [x], {
    src_layout: srcLayout,
    dst_layout: dstLayout,
  });
}
