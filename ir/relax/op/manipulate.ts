/**
 * Tensor manipulation operators: reshape, permute_dims, concat, split, squeeze, expand_dims,
 * broadcast_to, flatten, stack, repeat, tile, flip and layout_transform (the indexing ones,
 * strided_slice, take and one_hot, are in `indexing.ts`).
 *
 * @module
 */

import { add, floordiv, intImm, mul, type PrimExpr, sub } from "../../expr.ts";
import type { Attrs } from "../../tir/stmt.ts";
import type { Expr, RCall } from "../expr.ts";
import { shapeExpr } from "../expr.ts";
import { type StructInfo, tensorSInfo, type TensorStructInfo, tupleSInfo } from "../struct_info.ts";
import type { Tensor as TeTensor } from "../../te/tensor.ts";
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
  type LegalizeFn,
  makeOpCall,
  type OpPattern,
  registerOp,
  shortName,
} from "./registry.ts";
import { outTensor, tupleFields } from "./_legalize.ts";
import * as topi from "./legalize/topi_transform.ts";

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

/** `call_tir` of `f` over the first argument, named `name`. */
const unaryTe = (
  name: string,
  f: (x: TeTensor, call: RCall) => TeTensor,
): LegalizeFn =>
(call, ctx) => ctx.callTe((x) => f(x, call), [call.args[0]!], { name });

/** A reshape to the call's inferred shape (`reshape`, `flatten`). */
const legalizeReshape = unaryTe("reshape", (x, call) => topi.reshape(x, outTensor(call).shape));

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

function argNdim(e: Expr | undefined): number {
  const s = e?.structInfo;
  return s && s.kind === "TensorStructInfo" ? s.ndim : -1;
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
}, legalizeReshape);

reg(
  "permute_dims",
  ["x"],
  { axes: null },
  "injective",
  (args, attrs, op) => {
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
  },
  unaryTe("transpose", (x, call) => {
    const axes = intListAttr("relax.permute_dims", "axes", call.attrs.axes ?? undefined);
    const perm = axes
      ? axes.map((a) => normAxis("relax.permute_dims", a, x.ndim))
      : [...Array(x.ndim).keys()].reverse();
    return topi.transpose(x, perm);
  }),
);

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
}, (call, ctx) => {
  const fields = tupleFields(call.args[0]!, ctx);
  const axis = normAxis(
    "relax.concat",
    intAttr("relax.concat", "axis", call.attrs.axis),
    argNdim(fields[0]),
  );
  return ctx.callTe((...ts) => topi.concatenate(ts, axis), fields, { name: "concatenate" });
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
}, (call, ctx) => {
  const op = "relax.split";
  const x = tensorArg(op, call.args, 0, "x");
  const axis = normAxis(op, intAttr(op, "axis", call.attrs.axis), x.ndim);
  const parts = (call.structInfo as { fields: readonly StructInfo[] }).fields.map((f) =>
    (f as TensorStructInfo).shape![axis]!
  );
  const ios = call.attrs.indices_or_sections;
  const starts = typeof ios === "number"
    ? parts.map((_, i) => mul(parts[0]!, i))
    : [0, ...(intListAttr(op, "indices_or_sections", ios) ?? [])].map((b) => dim(b));
  const name = typeof ios === "number" ? "T_split_sections" : "T_split";
  return ctx.callTe((t) => topi.split(t, axis, starts, parts, name), [call.args[0]!], {
    name: "split",
  });
});

reg(
  "squeeze",
  ["x"],
  { axis: null },
  "injective",
  (args, attrs, op) => {
    const x = tensorArg(op, args, 0, "x");
    const ax = intListAttr(op, "axis", attrs.axis ?? undefined)?.map((a) =>
      normAxis(op, a, x.ndim)
    );
    if (!x.shape) {
      return tensorSInfo(undefined, x.dtype, ax && x.ndim >= 0 ? x.ndim - ax.length : -1);
    }
    for (const a of ax ?? []) {
      if (dimDiffers(x.shape[a]!, intImm(1, "int64"))) {
        throw new Error(
          `squeeze: axis ${a} of ${fmtShape(x.shape)} has size ${fmtDim(x.shape[a]!)}, not 1`,
        );
      }
    }
    return tensorSInfo(
      x.shape.filter((d, i) => (ax ? !ax.includes(i) : dimValue(d) !== 1)),
      x.dtype,
    );
  },
  unaryTe("squeeze", (x, call) => {
    const ax = intListAttr("relax.squeeze", "axis", call.attrs.axis ?? undefined)?.map((a) =>
      normAxis("relax.squeeze", a, x.ndim)
    );
    return topi.squeeze(x, ax ?? [...x.shape.keys()].filter((i) => dimValue(x.shape[i]!) === 1));
  }),
);

reg(
  "expand_dims",
  ["x"],
  { axis: [0] },
  "injective",
  (args, attrs, op) => {
    const x = tensorArg(op, args, 0, "x");
    const raw = intListAttr(op, "axis", attrs.axis) ?? [];
    const nd = x.ndim + raw.length;
    const ax = raw.map((a) => normAxis(op, a, nd));
    if (!x.shape) return tensorSInfo(undefined, x.dtype, x.ndim < 0 ? -1 : nd);
    const out: PrimExpr[] = [];
    let k = 0;
    for (let i = 0; i < nd; i++) out.push(ax.includes(i) ? dim(1) : x.shape[k++]!);
    return tensorSInfo(out, x.dtype);
  },
  unaryTe("expand_dims", (x, call) => {
    const raw = intListAttr("relax.expand_dims", "axis", call.attrs.axis) ?? [];
    const nd = x.ndim + raw.length;
    return topi.expandDims(x, raw.map((a) => normAxis("relax.expand_dims", a, nd)));
  }),
);

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
}, unaryTe("broadcast_to", (x, call) => topi.broadcastTo(x, outTensor(call).shape)));

reg("flatten", ["x"], {}, "injective", (args, _a, op) => {
  const x = tensorArg(op, args, 0, "x");
  return x.shape ? tensorSInfo([product(x.shape)], x.dtype) : tensorSInfo(undefined, x.dtype, 1);
}, legalizeReshape);

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
}, (call, ctx) => {
  const fields = tupleFields(call.args[0]!, ctx);
  const op = "relax.stack";
  const axis = normAxis(op, intAttr(op, "axis", call.attrs.axis), argNdim(fields[0]) + 1);
  return ctx.callTe((...ts) => topi.stack(ts, axis), fields, { name: "stack" });
});

reg(
  "repeat",
  ["x"],
  { repeats: 1, axis: null },
  "injective",
  (args, attrs, op) => {
    const x = tensorArg(op, args, 0, "x");
    const r = intAttr(op, "repeats", attrs.repeats);
    if (r < 1) throw new Error(`repeat: repeats must be positive, got ${r}`);
    if (!x.shape) return tensorSInfo(undefined, x.dtype, attrs.axis === null ? 1 : x.ndim);
    if (attrs.axis === null) return tensorSInfo([mul(product(x.shape), r)], x.dtype);
    const axis = normAxis(op, intAttr(op, "axis", attrs.axis), x.ndim);
    return tensorSInfo(x.shape.map((d, i) => (i === axis ? mul(d, r) : d)), x.dtype);
  },
  unaryTe("repeat", (x, call) => {
    const op = "relax.repeat";
    const axis = call.attrs.axis === null
      ? undefined
      : normAxis(op, intAttr(op, "axis", call.attrs.axis), x.ndim);
    return topi.repeat(x, intAttr(op, "repeats", call.attrs.repeats), axis);
  }),
);

reg(
  "tile",
  ["x"],
  { repeats: [] },
  "injective",
  (args, attrs, op) => {
    const x = tensorArg(op, args, 0, "x");
    const reps = intListAttr(op, "repeats", attrs.repeats) ?? [];
    if (!x.shape) {
      return tensorSInfo(undefined, x.dtype, x.ndim < 0 ? -1 : Math.max(x.ndim, reps.length));
    }
    const n = Math.max(x.shape.length, reps.length);
    const s = [...Array(n - x.shape.length).fill(dim(1)), ...x.shape] as PrimExpr[];
    const r = [...Array(n - reps.length).fill(1), ...reps] as number[];
    return tensorSInfo(s.map((d, i) => mul(d, r[i]!)), x.dtype);
  },
  unaryTe(
    "tile",
    (x, call) => topi.tile(x, intListAttr("relax.tile", "repeats", call.attrs.repeats) ?? []),
  ),
);

reg(
  "flip",
  ["x"],
  { axis: 0 },
  "injective",
  (args, attrs, op) => {
    const x = tensorArg(op, args, 0, "x");
    normAxis(op, intAttr(op, "axis", attrs.axis), x.ndim);
    return same(x, x.shape);
  },
  unaryTe(
    "flip",
    (x, call) =>
      topi.flip(x, normAxis("relax.flip", intAttr("relax.flip", "axis", call.attrs.axis), x.ndim)),
  ),
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
  unaryTe("te_layout_transform", (x, call) =>
    topi.transpose(
      x,
      layoutPermutation(String(call.attrs.src_layout), String(call.attrs.dst_layout)),
      "te_layout_transform",
    )),
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

/** Permutes a tensor from one layout string to another (`"NCHW"` -> `"NHWC"`). */
export function layoutTransform(x: Expr, srcLayout: string, dstLayout: string): RCall {
  return makeOpCall("relax.layout_transform", [x], {
    src_layout: srcLayout,
    dst_layout: dstLayout,
  });
}
