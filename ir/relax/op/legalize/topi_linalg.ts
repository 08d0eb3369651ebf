/**
 * Linear algebra for the legalizations: numpy `matmul` (batched, broadcasting, 1-D promotion)
 * and scaled dot-product attention.
 *
 * @module
 */

import type { DType } from "../../../dtype.ts";
import type { PrimExpr } from "../../../expr.ts";
import * as ti from "../../../te/intrin.ts";
import * as tr from "../../../te/reduce.ts";
import { compute, type Tensor } from "../../../te/tensor.ts";
import {
  axisNames,
  broadcastIndices,
  broadcastShape,
  castTo,
  constOf,
  i64,
  isConst,
} from "./topi_common.ts";

/**
 * `a @ b` with numpy semantics: leading axes broadcast, a 1-D operand is a row (left) or a
 * column (right) vector whose axis is dropped from the result. Products accumulate in `outDtype`.
 */
export function matmul(a: Tensor, b: Tensor, outDtype: DType): Tensor {
  const aBatch = a.ndim >= 2 ? a.shape.slice(0, -2) : [];
  const bBatch = b.ndim >= 2 ? b.shape.slice(0, -2) : [];
  const batch = broadcastShape(aBatch, bBatch);
  const K = a.shape[a.ndim - 1]!;
  const shape = [...batch];
  if (a.ndim >= 2) shape.push(a.shape[a.ndim - 2]!);
  if (b.ndim >= 2) shape.push(b.shape[b.ndim - 1]!);
  const k = tr.reduceAxis([i64(0), K], "k");
  return compute(shape, (idx) => {
    const bi = idx.slice(0, batch.length);
    const rest = idx.slice(batch.length);
    const ai = [...broadcastIndices(aBatch, bi), ...(a.ndim >= 2 ? [rest[0]!] : []), k];
    const bj = [
      ...broadcastIndices(bBatch, bi),
      k,
      ...(b.ndim >= 2 ? [rest[rest.length - 1]!] : []),
    ];
    return tr.sum(castTo(a.at(...ai), outDtype).mul(castTo(b.at(...bj), outDtype)), k);
  }, { name: "matmul", tag: "matmul", axisNames: axisNames(shape.length, "i") });
}

/** Options of {@link attention}. */
export interface AttentionOptions {
  /** The logits' scale; `1 / sqrt(head_dim)` when omitted. */
  readonly scale?: number;
  /**
   * Causal masking: `"TopLeft"` keeps key `j <= i` for query `i`, `"BottomRight"` keeps
   * `j <= i + (kv_len - q_len)`.
   */
  readonly causalMask?: "TopLeft" | "BottomRight";
}

/**
 * Scaled dot-product attention over `(batch, seq, heads, dim)` tensors:
 * `softmax(q k^T * scale + bias, masked) v`. `bias` broadcasts to `(batch, heads, seq, kv_seq)`;
 * keys and values may have fewer heads than the queries (grouped-query attention).
 */
export function attention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  bias: Tensor | undefined,
  options: AttentionOptions = {},
): Tensor {
  const [B, S, N, D] = q.shape as [PrimExpr, PrimExpr, PrimExpr, PrimExpr];
  const Skv = k.shape[1]!, Nk = k.shape[2]!, Dv = v.shape[3]!;
  const t = q.dtype;
  const sameHeads = Nk === N || (N.kind === "IntImm" && isConst(Nk, N.value));
  const headOf = (h: PrimExpr) => (sameHeads ? h : h.floordiv(N.floordiv(Nk)));
  const scale = options.scale === undefined ? ti.rsqrt(castTo(D, t)) : constOf(options.scale, t);
  const logitShape = [B, N, S, Skv] as const;
  const d = tr.reduceAxis([i64(0), D], "k");
  const score = compute(logitShape, ([b, h, i, j]) => {
    const qv = q.at(b, i, h, d), kv = k.at(b, j, headOf(h), d);
    return tr.sum(qv.mul(kv), d);
  }, { name: "T_batch_matmul_NT", axisNames: axisNames(4, "i") });
  const logit = (idx: readonly PrimExpr[]) => {
    const s = score.at(...idx).mul(scale);
    return bias ? s.add(castTo(bias.at(...broadcastIndices(bias.shape, idx)), t)) : s;
  };
  const cm = options.causalMask;
  const offset = cm === "BottomRight" ? Skv.sub(S) : i64(0);
  const valid = (i: PrimExpr, j: PrimExpr) => j.le(i.add(offset));
  const where = (i: PrimExpr, j: PrimExpr) => (cm ? { where: valid(i, j) } : {});
  const kMax = tr.reduceAxis([i64(0), Skv], "k");
  const max = compute(
    [B, N, S],
    ([b, h, i]) => tr.max(logit([b, h, i, kMax]), kMax, where(i, kMax)),
    {
      name: "T_softmax_maxelem",
      axisNames: axisNames(3, "i"),
    },
  );
  const kSum = tr.reduceAxis([i64(0), Skv], "k");
  const sum = compute(
    [B, N, S],
    ([b, h, i]) =>
      tr.sum(ti.exp(logit([b, h, i, kSum]).sub(max.at(b, h, i))), kSum, where(i, kSum)),
    { name: "T_softmax_expsum", axisNames: axisNames(3, "i") },
  );
  const prob = compute(logitShape, ([b, h, i, j]) => {
    const p = ti.exp(logit([b, h, i, j]).sub(max.at(b, h, i))).div(sum.at(b, h, i));
    return cm ? ti.select(valid(i, j), p, constOf(0, t)) : p;
  }, { name: "T_softmax_norm", axisNames: axisNames(4, "i") });
  const kv = tr.reduceAxis([i64(0), Skv], "k");
  return compute([B, S, N, Dv], ([b, i, h, e]) => {
    return tr.sum(prob.at(b, h, i, kv).mul(v.at(b, kv, headOf(h), e)), kv);
  }, { name: "T_attention", axisNames: axisNames(4, "i") });
}
