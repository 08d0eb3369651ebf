/**
 * Before-functions shared by the schedule tests, built fresh on each call.
 *
 * @module
 */

import { bufferLoad, declBuffer, type PrimExprLike, primVar } from "../../../ir/expr.ts";
import type { PrimFunc } from "../../../ir/tir/prim_func.ts";
import { bufferStore } from "../../../ir/tir/stmt.ts";
import { block, nest, reg, rootFunc } from "./_build.ts";

/** `B[i, j] = A[i, j] * 2` over `m x n`. */
export function elementwise(m: PrimExprLike = 128, n: PrimExprLike = 128): PrimFunc {
  const A = declBuffer([m, n], "float32", "A"), B = declBuffer([m, n], "float32", "B");
  const i = primVar("i"), j = primVar("j"), vi = primVar("vi"), vj = primVar("vj");
  const body = nest(
    [[i, m], [j, n]],
    block("B", {
      iters: [[vi, m, "spatial", i], [vj, n, "spatial", j]],
      reads: [reg(A, vi, vj)],
      writes: [reg(B, vi, vj)],
      body: bufferStore(B, bufferLoad(A, [vi, vj]).mul(2), [vi, vj]),
    }),
  );
  return rootFunc([A, B], [], [body]);
}

/** `C[i, j] += A[i, k] * B[k, j]` over `m x n x k`. */
export function matmul(m = 16, n = 16, kk = 16): PrimFunc {
  const A = declBuffer([m, kk], "float32", "A"), B = declBuffer([kk, n], "float32", "B");
  const C = declBuffer([m, n], "float32", "C");
  const i = primVar("i"), j = primVar("j"), k = primVar("k");
  const vi = primVar("vi"), vj = primVar("vj"), vk = primVar("vk");
  const body = nest(
    [[i, m], [j, n], [k, kk]],
    block("C", {
      iters: [[vi, m, "spatial", i], [vj, n, "spatial", j], [vk, kk, "reduce", k]],
      reads: [reg(A, vi, vk), reg(B, vk, vj)],
      writes: [reg(C, vi, vj)],
      init: bufferStore(C, 0, [vi, vj]),
      body: bufferStore(
        C,
        bufferLoad(C, [vi, vj]).add(bufferLoad(A, [vi, vk]).mul(bufferLoad(B, [vk, vj]))),
        [vi, vj],
      ),
    }),
  );
  return rootFunc([A, B, C], [], [body]);
}

/** `B = A * 2` (intermediate), `C = B + 1` over 128 x 128 (two nests). */
export function twoStage(m = 128, n = 128): PrimFunc {
  const A = declBuffer([m, n], "float32", "A"), B = declBuffer([m, n], "float32", "B");
  const C = declBuffer([m, n], "float32", "C");
  const i = primVar("i"), j = primVar("j"), i2 = primVar("i"), j2 = primVar("j");
  const vi = primVar("vi"), vj = primVar("vj"), wi = primVar("vi"), wj = primVar("vj");
  const b = nest(
    [[i, m], [j, n]],
    block("B", {
      iters: [[vi, m, "spatial", i], [vj, n, "spatial", j]],
      reads: [reg(A, vi, vj)],
      writes: [reg(B, vi, vj)],
      body: bufferStore(B, bufferLoad(A, [vi, vj]).mul(2), [vi, vj]),
    }),
  );
  const c = nest(
    [[i2, m], [j2, n]],
    block("C", {
      iters: [[wi, m, "spatial", i2], [wj, n, "spatial", j2]],
      reads: [reg(B, wi, wj)],
      writes: [reg(C, wi, wj)],
      body: bufferStore(C, bufferLoad(B, [wi, wj]).add(1), [wi, wj]),
    }),
  );
  return rootFunc([A, C], [B], [b, c]);
}
