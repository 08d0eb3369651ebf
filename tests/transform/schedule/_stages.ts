/**
 * Builders for the expected functions of the cache, compute-at and reduction tests, and a check
 * that a schedule's trace replays to the same function.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type Buffer, bufferLoad, type PrimExprLike, primVar, type Var } from "../../../ir/expr.ts";
import { assertStructuralEqual } from "../../../ir/structural.ts";
import type { PrimFunc } from "../../../ir/tir/prim_func.ts";
import { bufferStore, type SBlockRealize, type Stmt } from "../../../ir/tir/stmt.ts";
import { Schedule } from "../../../transform/schedule/schedule.ts";
import { block, type LoopSpec, nest, reg } from "./_build.ts";

/**
 * A copy stage `dst[v0, v1, ...] = src[v0, v1, ...]` (the iteration variables over the whole
 * buffer) bound to `values` of the loops `loops`.
 */
export function copyStage(
  name: string,
  src: Buffer,
  dst: Buffer,
  loops: readonly LoopSpec[],
  values: (vars: readonly Var[]) => readonly PrimExprLike[],
): Stmt {
  const vs = src.shape.map((_, d) => primVar(`v${d}`));
  const loopVars = loops.map((l) => l[0]);
  const vals = values(loopVars);
  return nest(
    loops,
    block(name, {
      iters: vs.map((v, d) => [v, src.shape[d]!, "spatial", vals[d]!] as const),
      reads: [reg(src, ...vs)],
      writes: [reg(dst, ...vs)],
      body: bufferStore(dst, bufferLoad(src, vs), vs),
    }),
  );
}

/** Options of {@link matmulBlock}. */
export interface MatmulBlockOptions {
  /** Give the block its `init` (default true). */
  readonly init?: boolean;
  /** List the output in the reads (as `decomposeReduction` does). */
  readonly readsOutput?: boolean;
  readonly predicate?: PrimExprLike;
  /** Extents of the iteration variables (default 16 each). */
  readonly extents?: readonly [PrimExprLike, PrimExprLike, PrimExprLike];
}

/** The realize of `C[vi, vj] += A[vi, vk] * B[vk, vj]` bound to `values`. */
export function matmulBlock(
  name: string,
  [A, B, C]: readonly [Buffer, Buffer, Buffer],
  values: readonly [PrimExprLike, PrimExprLike, PrimExprLike],
  options: MatmulBlockOptions = {},
): SBlockRealize {
  const vi = primVar("vi"), vj = primVar("vj"), vk = primVar("vk");
  const [m, n, k] = options.extents ?? [16, 16, 16];
  const out = reg(C, vi, vj);
  return block(name, {
    iters: [[vi, m, "spatial", values[0]], [vj, n, "spatial", values[1]], [
      vk,
      k,
      "reduce",
      values[2],
    ]],
    reads: [...(options.readsOutput ? [out] : []), reg(A, vi, vk), reg(B, vk, vj)],
    writes: [out],
    ...(options.init === false ? {} : { init: bufferStore(C, 0, [vi, vj]) }),
    body: bufferStore(
      C,
      bufferLoad(C, [vi, vj]).add(bufferLoad(A, [vi, vk]).mul(bufferLoad(B, [vk, vj]))),
      [vi, vj],
    ),
    ...(options.predicate === undefined ? {} : { predicate: options.predicate }),
  });
}

/** Asserts that replaying `sch`'s trace on a fresh schedule of `before` gives the same result. */
export function assertReplays(before: PrimFunc, sch: Schedule): void {
  const again = new Schedule(before);
  again.replay(sch.trace);
  assertStructuralEqual(again.func, sch.func);
  assert.equal(String(again.trace), String(sch.trace));
}

/** The last record of a schedule's trace, printed. */
export function lastTraceLine(sch: Schedule): string {
  return String(sch.trace).split("\n").at(-1)!;
}
