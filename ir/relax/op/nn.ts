/**
 * Neural-network operators (`relax.nn.*`): activations, softmax, normalizations, dropout and
 * attention; convolution, pooling and padding are in `nn_conv.ts` (re-exported here).
 *
 * @module
 */

import type { PrimExpr } from "../../expr.ts";
import type { Expr, RCall } from "../expr.ts";
import { tensorSInfo, type TensorStructInfo, tupleSInfo } from "../struct_info.ts";
import { dimDiffers, dimValue, intAttr, intListAttr, normAxis, tensorArg } from "./_infer.ts";
import { cannotLegalize, numberAttr } from "./_legalize.ts";
import { floatArg, keep, regNN as reg } from "./_nn.ts";
import { fmtDim, fmtShape, type LegalizeFn, makeOpCall } from "./registry.ts";
import { elemwise, full, identity } from "./legalize/topi_common.ts";
import * as act from "./legalize/topi_elemwise.ts";
import { attention as teAttention, type AttentionOptions } from "./legalize/topi_linalg.ts";
import * as norm from "./legalize/topi_norm.ts";
import { logSoftmax as teLogSoftmax, softmax as teSoftmax } from "./legalize/topi_reduce.ts";
import type { Tensor as TeTensor } from "../../te/tensor.ts";

export * from "./nn_conv.ts";

const ACTIVATIONS: { readonly [n: string]: (v: PrimExpr) => PrimExpr } = {
  relu: act.relu,
  gelu: act.gelu,
  gelu_tanh: act.geluTanh,
  silu: act.silu,
};

/** The normalized axes of a norm call's `axes` attribute. */
function normAxes(call: RCall, op: string): number[] {
  const x = tensorArg(op, call.args, 0, "x");
  return (intListAttr(op, "axes", call.attrs.axes) ?? []).map((a) => normAxis(op, a, x.ndim));
}

for (const n of ["relu", "gelu", "gelu_tanh", "silu"]) {
  reg(
    n,
    ["x"],
    {},
    "elemwise",
    (args, _a, op) => keep(floatArg(op, args, 0, "x")),
    (call, ctx) => ctx.callTe((x) => elemwise(x, ACTIVATIONS[n]!), [call.args[0]!], { name: n }),
  );
}
for (const n of ["softmax", "log_softmax"]) {
  reg(n, ["x"], { axis: -1 }, "reduction", (args, attrs, op) => {
    const x = floatArg(op, args, 0, "x");
    normAxis(op, intAttr(op, "axis", attrs.axis), x.ndim);
    return keep(x);
  }, (call, ctx) => {
    const op = `relax.nn.${n}`;
    const x = tensorArg(op, call.args, 0, "x");
    const axis = normAxis(op, intAttr(op, "axis", call.attrs.axis), x.ndim);
    const f = n === "softmax" ? teSoftmax : teLogSoftmax;
    return ctx.callTe((t) => f(t, axis), [call.args[0]!], { name: n });
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
  (call, ctx) => {
    const axes = normAxes(call, "relax.nn.layer_norm");
    const epsilon = numberAttr(call, "epsilon");
    const scale = call.attrs.scale !== false, center = call.attrs.center !== false;
    const [x, gamma, beta] = call.args as [Expr, Expr, Expr];
    const args = [x, ...(scale ? [gamma] : []), ...(center ? [beta] : [])];
    return ctx.callTe(
      (t, ...ps) => {
        const g = scale ? ps.shift() : undefined;
        return norm.layerNorm(t, g, center ? ps.shift() : undefined, axes, { epsilon });
      },
      args,
      { name: "layer_norm" },
    );
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
  (call, ctx) => {
    const axes = normAxes(call, "relax.nn.rms_norm");
    const epsilon = numberAttr(call, "epsilon");
    return ctx.callTe((x, w) => norm.rmsNorm(x, w, axes, { epsilon }), [
      call.args[0]!,
      call.args[1]!,
    ], {
      name: "rms_norm",
    });
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
  (call, ctx) => {
    const op = "relax.nn.group_norm";
    const x = tensorArg(op, call.args, 0, "x");
    const channelAxis = normAxis(op, intAttr(op, "channel_axis", call.attrs.channel_axis), x.ndim);
    const groups = intAttr(op, "num_groups", call.attrs.num_groups);
    const axes = normAxes(call, op);
    const epsilon = numberAttr(call, "epsilon");
    const scale = call.attrs.scale !== false, center = call.attrs.center !== false;
    const [d, gamma, beta] = call.args as [Expr, Expr, Expr];
    const args = [d, ...(scale ? [gamma] : []), ...(center ? [beta] : [])];
    return ctx.callTe(
      (t, ...ps) => {
        const g = scale ? ps.shift() : undefined;
        const b = center ? ps.shift() : undefined;
        return norm.groupNorm(t, g, b, { groups, channelAxis, axes, epsilon });
      },
      args,
      { name: "group_norm" },
    );
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
  (call, ctx) => {
    const op = "relax.nn.batch_norm";
    const x = tensorArg(op, call.args, 0, "x");
    const axis = normAxis(op, intAttr(op, "axis", call.attrs.axis), x.ndim);
    const scale = call.attrs.scale !== false, center = call.attrs.center !== false;
    const [d, gamma, beta, mm, mv] = call.args as [Expr, Expr, Expr, Expr, Expr];
    const args = [d, mm, mv, ...(scale ? [gamma] : []), ...(center ? [beta] : [])];
    const options = {
      axis,
      epsilon: numberAttr(call, "epsilon"),
      momentum: numberAttr(call, "momentum"),
      training: call.attrs.training === true,
    };
    return ctx.callTe(
      (t, movingMean, movingVar, ...ps) => {
        const g = scale ? ps.shift() : undefined;
        const b = center ? ps.shift() : undefined;
        return norm.batchNorm(t, {
          movingMean: movingMean!,
          movingVar: movingVar!,
          ...(g ? { gamma: g } : {}),
          ...(b ? { beta: b } : {}),
        }, options);
      },
      args,
      { name: "batch_norm" },
    );
  },
);

/** Inference dropout: the identity, and an all-ones mask (as TVM). */
const legalizeDropout: LegalizeFn = (call, ctx) =>
  ctx.callTe((x) => [identity(x), full(x.shape, 1, x.dtype, "T_full_like")], [call.args[0]!], {
    name: "dropout",
  });

reg("dropout", ["x"], { rate: 0.5 }, "opaque", (args, attrs, op) => {
  const x = floatArg(op, args, 0, "x");
  const r = attrs.rate;
  if (typeof r !== "number" || r < 0 || r >= 1) {
    throw new Error(`nn.dropout: rate must be in [0, 1), got ${JSON.stringify(r)}`);
  }
  return tupleSInfo([keep(x), keep(x)]);
}, legalizeDropout);

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
  (call, ctx) => {
    if (call.attrs.window_size !== null) {
      throw cannotLegalize(call, "sliding-window attention (window_size) is not supported");
    }
    const cm = call.attrs.causal_mask;
    const options: AttentionOptions = {
      ...(call.attrs.scale === null ? {} : { scale: numberAttr(call, "scale") }),
      ...(cm === "TopLeft" || cm === "BottomRight" ? { causalMask: cm } : {}),
    };
    return ctx.callTe(
      (q: TeTensor, k: TeTensor, v: TeTensor, bias?: TeTensor) =>
        teAttention(q, k, v, bias, options),
      call.args,
      { name: "attention" },
    );
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
