/**
 * Neural-network operators (`relax.nn.*`): activations, softmax, normalizations, convolution,
 * pooling, padding and attention.
 *
 * @module
 */

import type { DType } from "../../dtype.ts";
import { add, floordiv, mul, type PrimExpr, sub } from "../../expr.ts";
import type { Attrs } from "../../tir/stmt.ts";
import type { Expr, RCall } from "../expr.ts";
import { type StructInfo, tensorSInfo, type TensorStructInfo, tupleSInfo } from "../struct_info.ts";
import {
  commonDType,
  dim,
  dimDiffers,
  dimValue,
  intAttr,
  intListAttr,
  normAxis,
  tensorArg,
} from "./_infer.ts";
import { fmtDim, fmtShape, makeOpCall, type OpPattern, registerOp } from "./registry.ts";
import { layoutPermutation } from "./manipulate.ts";

function reg(
  name: string,
  args: readonly string[],
  attrs: Attrs,
  pattern: OpPattern,
  infer: (args: readonly Expr[], attrs: Attrs, op: string) => StructInfo,
  optionalArgs = 0,
): void {
  const full = `relax.nn.${name}`;
  registerOp({
    name: full,
    args,
    optionalArgs,
    attrs,
    pattern,
    infer: (a, at) => infer(a, at, full),
  });
}

const keep = (x: TensorStructInfo, dtype = x.dtype) =>
  x.shape ? tensorSInfo(x.shape, dtype) : tensorSInfo(undefined, dtype, x.ndim);

function floatArg(op: string, args: readonly Expr[], i: number, name: string): TensorStructInfo {
  const x = tensorArg(op, args, i, name);
  if (x.dtype !== "void" && !x.dtype.startsWith("float")) {
    throw new Error(`${op.slice(6)}: argument "${name}" must be a float tensor, got ${x.dtype}`);
  }
  return x;
}

for (const n of ["relu", "gelu", "gelu_tanh", "silu"]) {
  reg(n, ["x"], {}, "elemwise", (args, _a, op) => keep(floatArg(op, args, 0, "x")));
}
for (const n of ["softmax", "log_softmax"]) {
  reg(n, ["x"], { axis: -1 }, "reduction", (args, attrs, op) => {
    const x = floatArg(op, args, 0, "x");
    normAxis(op, intAttr(op, "axis", attrs.axis), x.ndim);
    return keep(x);
  });
}

function checkParam(
  op: string,
  x: TensorStructInfo,
  p: TensorStructInfo,
  name: string,
  axes: number[],
): void {
  if (!x.shape || !p.shape) return;
  const want = axes.map((a) => x.shape![a]!);
  if (p.shape.length !== want.length || p.shape.some((d, i) => dimDiffers(d, want[i]!))) {
    throw new Error(
      `${op.slice(6)}: "${name}" has shape ${fmtShape(p.shape)}, expected ${fmtShape(want)}`,
    );
  }
}

reg(
  "layer_norm",
  ["x", "gamma", "beta"],
  { axes: [-1], epsilon: 1e-5, center: true, scale: true },
  "out-elemwise-fusable",
  (args, attrs, op) => {
    const x = floatArg(op, args, 0, "x");
    const axes = (intListAttr(op, "axes", attrs.axes) ?? []).map((a) => normAxis(op, a, x.ndim));
    checkParam(op, x, tensorArg(op, args, 1, "gamma"), "gamma", axes);
    checkParam(op, x, tensorArg(op, args, 2, "beta"), "beta", axes);
    return keep(x);
  },
);

reg(
  "rms_norm",
  ["x", "weight"],
  { axes: [-1], epsilon: 1e-5 },
  "out-elemwise-fusable",
  (args, attrs, op) => {
    const x = floatArg(op, args, 0, "x");
    const axes = (intListAttr(op, "axes", attrs.axes) ?? []).map((a) => normAxis(op, a, x.ndim));
    checkParam(op, x, tensorArg(op, args, 1, "weight"), "weight", axes);
    return keep(x);
  },
);

reg(
  "group_norm",
  ["x", "gamma", "beta"],
  { num_groups: 1, channel_axis: 1, axes: [2, 3], epsilon: 1e-5, center: true, scale: true },
  "out-elemwise-fusable",
  (args, attrs, op) => {
    const x = floatArg(op, args, 0, "x");
    const c = normAxis(op, intAttr(op, "channel_axis", attrs.channel_axis), x.ndim);
    const g = intAttr(op, "num_groups", attrs.num_groups);
    const cd = x.shape && dimValue(x.shape[c]!);
    if (cd !== undefined && cd !== null && cd % g !== 0) {
      throw new Error(`group_norm: ${cd} channels cannot be split into ${g} groups`);
    }
    checkParam(op, x, tensorArg(op, args, 1, "gamma"), "gamma", [c]);
    checkParam(op, x, tensorArg(op, args, 2, "beta"), "beta", [c]);
    return keep(x);
  },
);

reg(
  "batch_norm",
  ["x", "gamma", "beta", "moving_mean", "moving_var"],
  { axis: 1, epsilon: 1e-5, center: true, scale: true, momentum: 0.1, training: false },
  "out-elemwise-fusable",
  (args, attrs, op) => {
    const x = floatArg(op, args, 0, "x");
    const axis = normAxis(op, intAttr(op, "axis", attrs.axis), x.ndim);
    const names = ["gamma", "beta", "moving_mean", "moving_var"];
    names.forEach((n, i) => checkParam(op, x, tensorArg(op, args, i + 1, n), n, [axis]));
    const c = tensorArg(op, args, 3, "moving_mean");
    return tupleSInfo([keep(x), keep(c), keep(tensorArg(op, args, 4, "moving_var"))]);
  },
);

reg("dropout", ["x"], { rate: 0.5 }, "opaque", (args, attrs, op) => {
  const x = floatArg(op, args, 0, "x");
  const r = attrs.rate;
  if (typeof r !== "number" || r < 0 || r >= 1) {
    throw new Error(`nn.dropout: rate must be in [0, 1), got ${JSON.stringify(r)}`);
  }
  return tupleSInfo([keep(x), keep(x)]);
});

function pair(op: string, name: string, v: Attrs[string] | undefined, n: number): number[] {
  const xs = intListAttr(op, name, v) ?? [];
  if (xs.length === 1) return Array(n).fill(xs[0]);
  if (xs.length !== n) {
    throw new Error(
      `${op.slice(6)}: attribute "${name}" must have 1 or ${n} values, got ${xs.length}`,
    );
  }
  return xs;
}

function padding4(op: string, v: Attrs[string] | undefined): number[] {
  const p = intListAttr(op, "padding", v) ?? [0];
  if (p.length === 1) return [p[0]!, p[0]!, p[0]!, p[0]!];
  if (p.length === 2) return [p[0]!, p[1]!, p[0]!, p[1]!];
  if (p.length === 4) return p;
  throw new Error(
    `${op.slice(6)}: attribute "padding" must have 1, 2 or 4 values, got ${p.length}`,
  );
}

/** Output size of a window: floor((in + pads - dilation*(k-1) - 1) / stride) + 1. */
function windowOut(
  inp: PrimExpr,
  k: PrimExpr,
  pads: number,
  stride: number,
  dil: number,
  ceilMode = false,
): PrimExpr {
  const eff = add(mul(sub(k, 1), dil), 1);
  const num = sub(add(inp, pads), eff);
  return add(floordiv(ceilMode ? add(num, stride - 1) : num, stride), 1);
}

const CONV_ATTRS: Attrs = {
  strides: [1, 1],
  padding: [0, 0, 0, 0],
  dilation: [1, 1],
  groups: 1,
  data_layout: "NCHW",
  kernel_layout: "OIHW",
  out_layout: "NCHW",
  out_dtype: "void",
};

reg("conv2d", ["data", "weight"], CONV_ATTRS, "out-elemwise-fusable", (args, attrs, op) => {
  const x = floatArg(op, args, 0, "data");
  const w = tensorArg(op, args, 1, "weight");
  const od = attrs.out_dtype as DType;
  const dtype = od !== "void" ? od : commonDType(op, x, w);
  const dl = String(attrs.data_layout),
    kl = String(attrs.kernel_layout),
    ol = String(attrs.out_layout);
  if (x.ndim >= 0 && x.ndim !== 4) {
    throw new Error(`nn.conv2d: data must be 4-D (${dl}), got rank ${x.ndim}`);
  }
  if (w.ndim >= 0 && w.ndim !== 4) {
    throw new Error(`nn.conv2d: weight must be 4-D (${kl}), got rank ${w.ndim}`);
  }
  if (!x.shape || !w.shape) return tensorSInfo(undefined, dtype, 4);
  const xs = layoutPermutation(dl, "NCHW").map((p) => x.shape![p]!);
  const ws = layoutPermutation(kl, "OIHW").map((p) => w.shape![p]!);
  const [N, C, H, W] = xs as [PrimExpr, PrimExpr, PrimExpr, PrimExpr];
  const [O, I, KH, KW] = ws as [PrimExpr, PrimExpr, PrimExpr, PrimExpr];
  const groups = intAttr(op, "groups", attrs.groups);
  const cv = dimValue(C), iv = dimValue(I);
  if (cv !== undefined && iv !== undefined && cv !== iv * groups) {
    throw new Error(
      `nn.conv2d: data has ${cv} channels but weight expects ${iv} x ${groups} groups = ${
        iv * groups
      }`,
    );
  }
  const s = pair(op, "strides", attrs.strides, 2), d = pair(op, "dilation", attrs.dilation, 2);
  const p = padding4(op, attrs.padding);
  const oh = windowOut(H, KH, p[0]! + p[2]!, s[0]!, d[0]!);
  const ow = windowOut(W, KW, p[1]! + p[3]!, s[1]!, d[1]!);
  const nchw = [N, O, oh, ow];
  return tensorSInfo(layoutPermutation("NCHW", ol).map((q) => nchw[q]!), dtype);
});

reg(
  "conv2d_transpose",
  ["data", "weight"],
  { ...CONV_ATTRS, output_padding: [0, 0], kernel_layout: "IOHW" },
  "out-elemwise-fusable",
  (args, attrs, op) => {
    const x = floatArg(op, args, 0, "data");
    const w = tensorArg(op, args, 1, "weight");
    const od = attrs.out_dtype as DType;
    const dtype = od !== "void" ? od : commonDType(op, x, w);
    if (!x.shape || !w.shape) return tensorSInfo(undefined, dtype, 4);
    const xs = layoutPermutation(String(attrs.data_layout), "NCHW").map((p) => x.shape![p]!);
    const ws = layoutPermutation(String(attrs.kernel_layout), "IOHW").map((p) => w.shape![p]!);
    const groups = intAttr(op, "groups", attrs.groups);
    const s = pair(op, "strides", attrs.strides, 2), d = pair(op, "dilation", attrs.dilation, 2);
    const op2 = pair(op, "output_padding", attrs.output_padding, 2);
    const p = padding4(op, attrs.padding);
    const size = (inp: PrimExpr, k: PrimExpr, i: number, pads: number) =>
      add(add(sub(mul(sub(inp, 1), s[i]!), pads), add(mul(sub(k, 1), d[i]!), 1)), op2[i]!);
    const nchw = [
      xs[0]!,
      mul(ws[1]!, groups),
      size(xs[2]!, ws[2]!, 0, p[0]! + p[2]!),
      size(xs[3]!, ws[3]!, 1, p[1]! + p[3]!),
    ];
    return tensorSInfo(
      layoutPermutation("NCHW", String(attrs.out_layout)).map((q) => nchw[q]!),
      dtype,
    );
  },
);

const POOL_ATTRS: Attrs = {
  pool_size: [1, 1],
  strides: [1, 1],
  padding: [0, 0, 0, 0],
  dilation: [1, 1],
  ceil_mode: false,
  count_include_pad: false,
  layout: "NCHW",
  out_layout: "NCHW",
};

for (const n of ["max_pool2d", "avg_pool2d"]) {
  reg(n, ["data"], POOL_ATTRS, "out-elemwise-fusable", (args, attrs, op) => {
    const x = floatArg(op, args, 0, "data");
    if (x.ndim >= 0 && x.ndim !== 4) {
      throw new Error(`${op.slice(6)}: data must be 4-D, got rank ${x.ndim}`);
    }
    if (!x.shape) return tensorSInfo(undefined, x.dtype, 4);
    const xs = layoutPermutation(String(attrs.layout), "NCHW").map((p) => x.shape![p]!);
    const k = pair(op, "pool_size", attrs.pool_size, 2), s = pair(op, "strides", attrs.strides, 2);
    const d = pair(op, "dilation", attrs.dilation, 2), p = padding4(op, attrs.padding);
    const cm = attrs.ceil_mode === true;
    const nchw = [
      xs[0]!,
      xs[1]!,
      windowOut(xs[2]!, dim(k[0]!), p[0]! + p[2]!, s[0]!, d[0]!, cm),
      windowOut(xs[3]!, dim(k[1]!), p[1]! + p[3]!, s[1]!, d[1]!, cm),
    ];
    return tensorSInfo(
      layoutPermutation("NCHW", String(attrs.out_layout)).map((q) => nchw[q]!),
      x.dtype,
    );
  });
}

reg(
  "adaptive_avg_pool2d",
  ["data"],
  { output_size: null, layout: "NCHW", out_layout: "NCHW" },
  "out-elemwise-fusable",
  (args, attrs, op) => {
    const x = floatArg(op, args, 0, "data");
    if (!x.shape) return tensorSInfo(undefined, x.dtype, 4);
    const xs = layoutPermutation(String(attrs.layout), "NCHW").map((p) => x.shape![p]!);
    const o = attrs.output_size === null
      ? undefined
      : pair(op, "output_size", attrs.output_size, 2);
    const nchw = [xs[0]!, xs[1]!, o ? dim(o[0]!) : xs[2]!, o ? dim(o[1]!) : xs[3]!];
    return tensorSInfo(
      layoutPermutation("NCHW", String(attrs.out_layout)).map((q) => nchw[q]!),
      x.dtype,
    );
  },
);

reg(
  "pad",
  ["data"],
  { pad_width: [], pad_value: 0, pad_mode: "constant" },
  "injective",
  (args, attrs, op) => {
    const x = tensorArg(op, args, 0, "data");
    const pw = intListAttr(op, "pad_width", attrs.pad_width) ?? [];
    if (x.ndim >= 0 && pw.length !== 2 * x.ndim) {
      throw new Error(
        `nn.pad: pad_width must have ${
          2 * x.ndim
        } values (before and after each axis), got ${pw.length}`,
      );
    }
    if (!x.shape) return keep(x);
    return tensorSInfo(x.shape.map((d, i) => add(d, pw[2 * i]! + pw[2 * i + 1]!)), x.dtype);
  },
);

reg(
  "attention",
  ["query", "key", "value", "bias"],
  { scale: null, causal_mask: null, window_size: null },
  "opaque",
  (args, attrs, op) => {
    const q = floatArg(op, args, 0, "query");
    const k = floatArg(op, args, 1, "key");
    const v = floatArg(op, args, 2, "value");
    for (const [t, n] of [[q, "query"], [k, "key"], [v, "value"]] as const) {
      if (t.ndim >= 0 && t.ndim !== 4) {
        throw new Error(
          `nn.attention: ${n} must be 4-D (batch, seq, heads, dim), got rank ${t.ndim}`,
        );
      }
    }
    const cm = attrs.causal_mask;
    if (cm !== null && cm !== "TopLeft" && cm !== "BottomRight") {
      throw new Error(
        `nn.attention: causal_mask must be "TopLeft", "BottomRight" or None, got ${
          JSON.stringify(cm)
        }`,
      );
    }
    if (!q.shape || !k.shape || !v.shape) return tensorSInfo(undefined, q.dtype, 4);
    if (dimDiffers(q.shape[3]!, k.shape[3]!)) {
      throw new Error(
        `nn.attention: query head dim ${fmtDim(q.shape[3]!)} != key head dim ${
          fmtDim(k.shape[3]!)
        }`,
      );
    }
    if (dimDiffers(k.shape[1]!, v.shape[1]!)) {
      throw new Error(
        `nn.attention: key length ${fmtDim(k.shape[1]!)} != value length ${fmtDim(v.shape[1]!)}`,
      );
    }
    return tensorSInfo([q.shape[0]!, q.shape[1]!, q.shape[2]!, v.shape[3]!], q.dtype);
  },
  1,
);

const un = (n: string) => (x: Expr): RCall => makeOpCall(`relax.nn.${n}`, [x]);
/** `max(x, 0)` */
export const relu: (x: Expr) => RCall = un("relu");
/** GELU with the exact erf form. */
export const gelu: (x: Expr) => RCall = un("gelu");
/** GELU with the tanh approximation. */
export const geluTanh: (x: Expr) => RCall = un("gelu_tanh");
/** `x * sigmoid(x)` */
export const silu: (x: Expr) => RCall = un("silu");

/** Softmax along `axis` (default -1). */
export function softmax(x: Expr, options: { readonly axis?: number } = {}): RCall {
  return makeOpCall("relax.nn.softmax", [x], { axis: options.axis ?? -1 });
}

/** Log-softmax along `axis` (default -1). */
export function logSoftmax(x: Expr, options: { readonly axis?: number } = {}): RCall {
  return makeOpCall("relax.nn.log_softmax", [x], { axis: options.axis ?? -1 });
}

/** Options of the normalizations. */
export interface NormOptions {
  /** Normalized axes (default `[-1]`). */
  readonly axes?: readonly number[];
  /** Added to the variance (default 1e-5). */
  readonly epsilon?: number;
}

/** Layer normalization over `axes` with scale `gamma` and shift `beta`. */
export function layerNorm(x: Expr, gamma: Expr, beta: Expr, options: NormOptions = {}): RCall {
  return makeOpCall("relax.nn.layer_norm", [x, gamma, beta], {
    axes: [...(options.axes ?? [-1])],
    epsilon: options.epsilon ?? 1e-5,
    center: true,
    scale: true,
  });
}

/** RMS normalization over `axes` with scale `weight`. */
export function rmsNorm(x: Expr, weight: Expr, options: NormOptions = {}): RCall {
  return makeOpCall("relax.nn.rms_norm", [x, weight], {
    axes: [...(options.axes ?? [-1])],
    epsilon: options.epsilon ?? 1e-5,
  });
}

/** Group normalization of NCHW-like data. */
export function groupNorm(
  x: Expr,
  gamma: Expr,
  beta: Expr,
  numGroups: number,
  options: {
    readonly channelAxis?: number;
    readonly axes?: readonly number[];
    readonly epsilon?: number;
  } = {},
): RCall {
  return makeOpCall("relax.nn.group_norm", [x, gamma, beta], {
    num_groups: numGroups,
    channel_axis: options.channelAxis ?? 1,
    axes: [...(options.axes ?? [2, 3])],
    epsilon: options.epsilon ?? 1e-5,
    center: true,
    scale: true,
  });
}

/** Inference batch normalization; returns a tuple (output, mean, var) as TVM does. */
export function batchNorm(
  x: Expr,
  gamma: Expr,
  beta: Expr,
  movingMean: Expr,
  movingVar: Expr,
  options: { readonly axis?: number; readonly epsilon?: number } = {},
): RCall {
  return makeOpCall("relax.nn.batch_norm", [x, gamma, beta, movingMean, movingVar], {
    axis: options.axis ?? 1,
    epsilon: options.epsilon ?? 1e-5,
  });
}

/** Dropout (the identity at inference); returns a tuple (output, mask). */
export function dropout(x: Expr, options: { readonly rate?: number } = {}): RCall {
  return makeOpCall("relax.nn.dropout", [x], { rate: options.rate ?? 0.5 });
}

/** Options of {@link conv2d}. */
export interface Conv2dOptions {
  /** Strides (1 or 2 values). */
  readonly strides?: readonly number[];
  /** Padding (1, 2 or 4 values: top, left, bottom, right). */
  readonly padding?: readonly number[];
  /** Dilation (1 or 2 values). */
  readonly dilation?: readonly number[];
  /** Channel groups. */
  readonly groups?: number;
  /** Data layout, `"NCHW"` or `"NHWC"`. */
  readonly dataLayout?: string;
  /** Kernel layout, `"OIHW"` or `"HWIO"`/`"OHWI"`. */
  readonly kernelLayout?: string;
  /** Output layout (the data layout by default). */
  readonly outLayout?: string;
  /** Output dtype (the input's by default). */
  readonly outDtype?: DType;
}

function convAttrs(o: Conv2dOptions, defKernel: string): Attrs {
  return {
    strides: [...(o.strides ?? [1, 1])],
    padding: [...(o.padding ?? [0, 0, 0, 0])],
    dilation: [...(o.dilation ?? [1, 1])],
    groups: o.groups ?? 1,
    data_layout: o.dataLayout ?? "NCHW",
    kernel_layout: o.kernelLayout ?? defKernel,
    out_layout: o.outLayout ?? o.dataLayout ?? "NCHW",
    out_dtype: o.outDtype ?? "void",
  };
}

/** 2-D convolution. */
export function conv2d(data: Expr, weight: Expr, options: Conv2dOptions = {}): RCall {
  return makeOpCall("relax.nn.conv2d", [data, weight], convAttrs(options, "OIHW"));
}

/** 2-D transposed convolution. */
export function conv2dTranspose(
  data: Expr,
  weight: Expr,
  options: Conv2dOptions & { readonly outputPadding?: readonly number[] } = {},
): RCall {
  return makeOpCall("relax.nn.conv2d_transpose", [data, weight], {
    ...convAttrs(options, "IOHW"),
    output_padding: [...(options.outputPadding ?? [0, 0])],
  });
}

/** Options of the pools. */
export interface Pool2dOptions {
  /** Strides. */
  readonly strides?: readonly number[];
  /** Padding (1, 2 or 4 values). */
  readonly padding?: readonly number[];
  /** Dilation. */
  readonly dilation?: readonly number[];
  /** Round output sizes up. */
  readonly ceilMode?: boolean;
  /** Average pooling counts padded elements. */
  readonly countIncludePad?: boolean;
  /** Data layout. */
  readonly layout?: string;
}

function poolAttrs(size: readonly number[], o: Pool2dOptions): Attrs {
  return {
    pool_size: [...size],
    strides: [...(o.strides ?? [1, 1])],
    padding: [...(o.padding ?? [0, 0, 0, 0])],
    dilation: [...(o.dilation ?? [1, 1])],
    ceil_mode: o.ceilMode ?? false,
    count_include_pad: o.countIncludePad ?? false,
    layout: o.layout ?? "NCHW",
    out_layout: o.layout ?? "NCHW",
  };
}

/** 2-D max pooling with window `poolSize`. */
export function maxPool2d(
  data: Expr,
  poolSize: readonly number[],
  options: Pool2dOptions = {},
): RCall {
  return makeOpCall("relax.nn.max_pool2d", [data], poolAttrs(poolSize, options));
}

/** 2-D average pooling with window `poolSize`. */
export function avgPool2d(
  data: Expr,
  poolSize: readonly number[],
  options: Pool2dOptions = {},
): RCall {
  return makeOpCall("relax.nn.avg_pool2d", [data], poolAttrs(poolSize, options));
}

/** Adaptive average pooling to `outputSize` (the input size when omitted). */
export function adaptiveAvgPool2d(
  data: Expr,
  outputSize?: readonly number[],
  options: { readonly layout?: string } = {},
): RCall {
  return makeOpCall("relax.nn.adaptive_avg_pool2d", [data], {
    output_size: outputSize ? [...outputSize] : null,
    layout: options.layout ?? "NCHW",
    out_layout: options.layout ?? "NCHW",
  });
}

/** Constant padding: `padWidth` holds (before, after) per axis, flattened. */
export function pad(
  data: Expr,
  padWidth: readonly number[],
  options: { readonly value?: number } = {},
): RCall {
  return makeOpCall("relax.nn.pad", [data], {
    pad_width: [...padWidth],
    pad_value: options.value ?? 0,
    pad_mode: "constant",
  });
}

/** Scaled dot-product attention over (batch, seq, heads, dim) tensors. */
export function attention(
  query: Expr,
  key: Expr,
  value: Expr,
  options: {
    readonly bias?: Expr;
    readonly scale?: number;
    readonly causalMask?: "TopLeft" | "BottomRight";
  } = {},
): RCall {
  const args = options.bias ? [query, key, value, options.bias] : [query, key, value];
  return makeOpCall("relax.nn.attention", args, {
    scale: options.scale ?? null,
    causal_mask: options.causalMask ?? null,
    window_size: null,
  });
}
