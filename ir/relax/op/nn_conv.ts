/**
 * Convolution, pooling and padding operators (`relax.nn.conv2d`, `conv2d_transpose`,
 * `max_pool2d`, `avg_pool2d`, `adaptive_avg_pool2d`, `pad`).
 *
 * @module
 */

import type { DType } from "../../dtype.ts";
import { add, floordiv, mul, type PrimExpr, sub } from "../../expr.ts";
import type { Attrs } from "../../tir/stmt.ts";
import type { Expr, RCall } from "../expr.ts";
import { tensorSInfo } from "../struct_info.ts";
import { commonDType, dim, dimValue, intAttr, intListAttr, tensorArg } from "./_infer.ts";
import { cannotLegalize, numberAttr, outTensor } from "./_legalize.ts";
import { floatArg, keep, regNN as reg } from "./_nn.ts";
import { makeOpCall } from "./registry.ts";
import { layoutPermutation } from "./manipulate.ts";
import * as topi from "./legalize/topi_conv.ts";

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

const two = (xs: readonly number[]): [number, number] => [xs[0]!, xs[1]!];

/** The te options of a conv2d / conv2d_transpose call. */
function convOptions(call: RCall, op: string): topi.ConvOptions {
  const a = call.attrs;
  return {
    strides: two(pair(op, "strides", a.strides, 2)),
    padding: padding4(op, a.padding) as [number, number, number, number],
    dilation: two(pair(op, "dilation", a.dilation, 2)),
    groups: intAttr(op, "groups", a.groups),
    dataLayout: String(a.data_layout),
    kernelLayout: String(a.kernel_layout),
    outLayout: String(a.out_layout),
    outDtype: outTensor(call).dtype,
  };
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
}, (call, ctx) => {
  const o = convOptions(call, "relax.nn.conv2d");
  return ctx.callTe((x, w) => topi.conv2d(x, w, o), [call.args[0]!, call.args[1]!], {
    name: "conv2d",
  });
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
  (call, ctx) => {
    const o = {
      ...convOptions(call, "relax.nn.conv2d_transpose"),
      outputPadding: two(
        pair("relax.nn.conv2d_transpose", "output_padding", call.attrs.output_padding, 2),
      ),
    };
    return ctx.callTe((x, w) => topi.conv2dTranspose(x, w, o), [call.args[0]!, call.args[1]!], {
      name: "conv2d_transpose",
    });
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
  }, (call, ctx) => {
    const op = `relax.nn.${n}`, a = call.attrs;
    const o: topi.PoolOptions = {
      poolSize: two(pair(op, "pool_size", a.pool_size, 2)),
      strides: two(pair(op, "strides", a.strides, 2)),
      padding: padding4(op, a.padding) as [number, number, number, number],
      dilation: two(pair(op, "dilation", a.dilation, 2)),
      ceilMode: a.ceil_mode === true,
      countIncludePad: a.count_include_pad === true,
      layout: String(a.layout),
      outLayout: String(a.out_layout),
    };
    const kind = n === "max_pool2d" ? "max" : "avg";
    return ctx.callTe((x) => topi.pool2d(x, kind, o), [call.args[0]!], { name: n });
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
  (call, ctx) => {
    const out = outTensor(call);
    const ol = String(call.attrs.out_layout);
    const size = [out.shape[ol.indexOf("H")]!, out.shape[ol.indexOf("W")]!] as const;
    const o = { layout: String(call.attrs.layout), outLayout: ol };
    return ctx.callTe((x) => topi.adaptiveAvgPool2d(x, size, o), [call.args[0]!], {
      name: "adaptive_avg_pool2d",
    });
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
  (call, ctx) => {
    if (call.attrs.pad_mode !== "constant") {
      throw cannotLegalize(call, `pad_mode "${call.attrs.pad_mode}" is not supported`);
    }
    const pw = intListAttr("relax.nn.pad", "pad_width", call.attrs.pad_width) ?? [];
    const pairs = Array.from(
      { length: pw.length / 2 },
      (_, i) => [pw[2 * i]!, pw[2 * i + 1]!] as const,
    );
    const value = numberAttr(call, "pad_value");
    return ctx.callTe((x) => topi.pad(x, pairs, value), [call.args[0]!], { name: "pad" });
  },
);

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
