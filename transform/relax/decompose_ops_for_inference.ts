/**
 * `DecomposeOpsForInference`: rewrites composite operators into simpler ones for inference, as
 * TVM does. `nn.batch_norm` (whatever its `training` flag) becomes, with the moving statistics and
 * the parameters reshaped by `expand_dims` to broadcast along the channel axis,
 *
 * ```
 * out = (x - mean) / sqrt(var + epsilon) * gamma + beta
 * bn  = (out, moving_mean, moving_var)
 * ```
 *
 * (the `* gamma` only with `scale`, the `+ beta` only with `center`), keeping the call's tuple
 * result so that `bn[0]` still reads the output. Other operators are left alone (TVM decomposes
 * `layer_norm` only for training).
 *
 * @module
 */

import { allocTypedArray, type DType, f16Bits } from "../../ir/dtype.ts";
import {
  constantTensor,
  type Expr,
  type Function,
  type RCall,
  type SeqExpr,
  tuple,
} from "../../ir/relax/expr.ts";
import { BindingEmitter } from "../../ir/relax/dpl/emitter.ts";
import * as op from "../../ir/relax/op/mod.ts";
import { fmtSInfo } from "../../ir/relax/op/registry.ts";
import { rewriteFunction } from "../../ir/visit.ts";
import { type IRModule, withFunction } from "../../ir/module.ts";
import { modulePass, type Pass } from "../pass.ts";

const WHO = "DecomposeOpsForInference";

/** A scalar constant `R.const(value, dtype)`. */
function scalar(value: number, dtype: DType): Expr {
  const data = allocTypedArray(dtype, 1);
  data[0] = dtype === "float16" ? f16Bits(value) : value;
  return constantTensor({ dtype, shape: [], data });
}

/** `e` with size-1 axes inserted everywhere but `axis`, to broadcast against rank `ndim`. */
function expandToMatch(e: Expr, ndim: number, axis: number): Expr {
  const axes = [...Array(ndim).keys()].filter((i) => i !== axis);
  return axes.length ? op.expandDims(e, axes) : e;
}

/** The inference decomposition of a `batch_norm` call (its tuple result, not yet normalized). */
export function decomposeBatchNorm(call: RCall): Expr {
  const [x, gamma, beta, mean, variance] = call.args as [Expr, Expr, Expr, Expr, Expr];
  const s = x.structInfo;
  if (s.kind !== "TensorStructInfo" || s.ndim < 0) {
    throw new Error(`${WHO}: batch_norm needs an input tensor of known rank, got ${fmtSInfo(s)}`);
  }
  const raw = Number(call.attrs["axis"] ?? 1);
  const axis = raw < 0 ? raw + s.ndim : raw;
  const eps = scalar(Number(call.attrs["epsilon"] ?? 1e-5), s.dtype);
  const sqrtVar = op.sqrt(op.add(expandToMatch(variance, s.ndim, axis), eps));
  let out: Expr = op.divide(op.subtract(x, expandToMatch(mean, s.ndim, axis)), sqrtVar);
  if (call.attrs["scale"] !== false) out = op.multiply(out, expandToMatch(gamma, s.ndim, axis));
  if (call.attrs["center"] !== false) out = op.add(out, expandToMatch(beta, s.ndim, axis));
  return tuple([out, mean, variance]);
}

function isBatchNorm(e: Expr): e is RCall {
  return e.kind === "relax.Call" && e.op.kind === "relax.Op" && e.op.name === "relax.nn.batch_norm";
}

function decomposeSeq(seq: SeqExpr): SeqExpr {
  let changed = false;
  const blocks = seq.blocks.map((block) => {
    if (!block.bindings.some((b) => isBatchNorm(b.value))) return block;
    changed = true;
    const em = new BindingEmitter(block.kind === "DataflowBlock");
    for (const b of block.bindings) {
      if (!isBatchNorm(b.value)) em.push(b);
      else if (b.kind === "VarBinding") em.bind(b.var, decomposeBatchNorm(b.value));
      else em.matchCast(b.var, decomposeBatchNorm(b.value), b.structInfo);
    }
    return { ...block, bindings: em.bindings };
  });
  return changed ? { ...seq, blocks } : seq;
}

/** `f` with its batch norms decomposed (`f` itself when it has none). */
export function decomposeOpsForInferenceFunction(f: Function): Function {
  return rewriteFunction(f, {
    expr: (e) => (e.kind === "relax.SeqExpr" ? decomposeSeq(e) : undefined),
  });
}

/**
 * The `DecomposeOpsForInference` pass, over every Relax function or only `funcName`. Returns the
 * module itself when there is nothing to decompose.
 */
export function decomposeOpsForInference(options: { readonly funcName?: string } = {}): Pass {
  return modulePass(WHO, (mod: IRModule) => {
    const name = options.funcName;
    if (name !== undefined && mod.functions.get(name)?.kind !== "relax.Function") {
      throw new Error(`${WHO}: the module has no Relax function "${name}"`);
    }
    let out = mod;
    for (const [n, f] of mod.functions) {
      if (f.kind !== "relax.Function" || (name !== undefined && n !== name)) continue;
      const g = decomposeOpsForInferenceFunction(f);
      if (g !== f) out = withFunction(out, n, g);
    }
    return out;
  });
}
