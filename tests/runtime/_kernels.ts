/**
 * Lowered TIR kernels built by hand with the ir/ constructors, shared by the runtime tests.
 *
 * @module
 */

import type { DType } from "../../ir/dtype.ts";
import {
  type Buffer,
  bufferLoad,
  callIntrin,
  declBuffer,
  type PrimExpr,
  primVar,
  sizeVar,
  stringImm,
  type Var,
} from "../../ir/expr.ts";
import { type PrimFunc, primFunc } from "../../ir/tir/prim_func.ts";
import {
  allocBuffer,
  bufferStore,
  declBufferStmt,
  evaluate,
  forLoop,
  ifThenElse,
  letStmt,
  seq,
  type Stmt,
  type ThreadTag,
} from "../../ir/tir/stmt.ts";

/** A thread-binding loop. */
export function bind(v: Var, extent: PrimExpr | number, tag: ThreadTag, body: Stmt): Stmt {
  return forLoop(v, { min: 0, extent }, body, { threadTag: tag });
}

/** A serial loop. */
export function loop(v: Var, extent: PrimExpr | number, body: Stmt): Stmt {
  return forLoop(v, { min: 0, extent }, body);
}

/** A 1-D view of a parameter buffer's memory, as flattening produces. */
export function flat(b: Buffer, size: PrimExpr | number): Buffer {
  return declBuffer([size], b.dtype, b.name, { data: b.data });
}

/** The barrier `T.tvm_storage_sync("shared")`. */
export function barrier(): Stmt {
  return evaluate(callIntrin("tir.tvm_storage_sync", [stringImm("shared")], "int32"));
}

/** `C[i] = A[i] + B[i]` for `A, B, C: (n, 64)`, 64 threads per block, guarded. */
export function addKernel(dtype: "float32" | "int32" = "float32"): PrimFunc {
  const n = sizeVar("n");
  const A = declBuffer([n, 64], dtype, "A");
  const B = declBuffer([n, 64], dtype, "B");
  const C = declBuffer([n, 64], dtype, "C");
  const total = n.mul(64);
  const [a, b, c] = [flat(A, total), flat(B, total), flat(C, total)];
  const bx = primVar("bx"), tx = primVar("tx");
  const i = bx.mul(64).add(tx);
  const body = bind(
    bx,
    n,
    "blockIdx.x",
    bind(tx, 64, "threadIdx.x", bufferStore(c, bufferLoad(a, [i]).add(bufferLoad(b, [i])), [i])),
  );
  return primFunc([A, B, C], body, { attrs: { global_symbol: "add" } });
}

/** `y[i] = x[i] * alpha + 1` over `x, y: (m,)` with a scalar `alpha` and a ragged last block. */
export function axpyKernel(): PrimFunc {
  const m = sizeVar("m");
  const alpha = primVar("alpha", "float32");
  const X = declBuffer([m], "float32", "x");
  const Y = declBuffer([m], "float32", "y");
  const bx = primVar("bx"), tx = primVar("tx");
  const i = bx.mul(32).add(tx);
  const body = bind(
    bx,
    m.add(31).floordiv(32),
    "blockIdx.x",
    bind(
      tx,
      32,
      "threadIdx.x",
      ifThenElse(i.lt(m), bufferStore(Y, bufferLoad(X, [i]).mul(alpha).add(1), [i])),
    ),
  );
  return primFunc([X, Y, alpha], body, { attrs: { global_symbol: "axpy" } });
}

/**
 * `C = A @ B` for `A: (M, K)`, `B: (K, N)` with 8x8 threads per block, a serial k loop and a
 * local accumulator.
 */
export function matmulKernel(M: number, N: number, K: number): PrimFunc {
  const A = declBuffer([M, K], "float32", "A");
  const B = declBuffer([K, N], "float32", "B");
  const C = declBuffer([M, N], "float32", "C");
  const [a, b, c] = [flat(A, M * K), flat(B, K * N), flat(C, M * N)];
  const acc = declBuffer([1], "float32", "acc", { scope: "local" });
  const by = primVar("by"), bx = primVar("bx"), ty = primVar("ty"), tx = primVar("tx");
  const k = primVar("k");
  const i = by.mul(8).add(ty), j = bx.mul(8).add(tx);
  const inner = ifThenElse(
    i.lt(M).and(j.lt(N)),
    allocBuffer(
      acc,
      seq(
        bufferStore(acc, 0, [0]),
        loop(
          k,
          K,
          bufferStore(
            acc,
            bufferLoad(acc, [0]).add(
              bufferLoad(a, [i.mul(K).add(k)]).mul(bufferLoad(b, [k.mul(N).add(j)])),
            ),
            [0],
          ),
        ),
        bufferStore(c, bufferLoad(acc, [0]), [i.mul(N).add(j)]),
      ),
    ),
  );
  const body = bind(
    by,
    Math.ceil(M / 8),
    "blockIdx.y",
    bind(
      bx,
      Math.ceil(N / 8),
      "blockIdx.x",
      bind(ty, 8, "threadIdx.y", bind(tx, 8, "threadIdx.x", inner)),
    ),
  );
  return primFunc([A, B, C], body, { attrs: { global_symbol: "matmul" } });
}

/**
 * Row sums of `A: (rows, n)` into `S: (rows,)`: one block per row, 64 threads each summing a
 * strided slice into shared memory, then a tree reduction with barriers in a serial loop.
 */
export function rowSumKernel(): PrimFunc {
  const rows = sizeVar("rows"), n = sizeVar("n");
  const A = declBuffer([rows, n], "float32", "A");
  const S = declBuffer([rows], "float32", "S");
  const a = flat(A, rows.mul(n));
  const sh = declBuffer([64], "float32", "red_buf", { scope: "shared" });
  const acc = declBuffer([1], "float32", "partial", { scope: "local" });
  const r = primVar("r"), tx = primVar("tx"), k = primVar("k"), s = primVar("s");
  const w = primVar("w");
  // w = 32 >> s, as a chain of if_then_else.
  const stride = [16, 8, 4, 2, 1].reduce<PrimExpr>(
    (e, width, i) => callIntrin("tir.if_then_else", [s.eq(i + 1), width, e], "int32"),
    callIntrin("tir.if_then_else", [s.eq(0), 32, 0], "int32"),
  );
  const body = bind(
    r,
    rows,
    "blockIdx.x",
    allocBuffer(
      sh,
      bind(
        tx,
        64,
        "threadIdx.x",
        allocBuffer(
          acc,
          seq(
            bufferStore(acc, 0, [0]),
            loop(
              k,
              n.add(63).floordiv(64),
              ifThenElse(
                k.mul(64).add(tx).lt(n),
                bufferStore(
                  acc,
                  bufferLoad(acc, [0]).add(bufferLoad(a, [r.mul(n).add(k.mul(64)).add(tx)])),
                  [0],
                ),
              ),
            ),
            bufferStore(sh, bufferLoad(acc, [0]), [tx]),
            barrier(),
            loop(
              s,
              6,
              letStmt(
                w,
                stride,
                seq(
                  ifThenElse(
                    tx.lt(w),
                    bufferStore(sh, bufferLoad(sh, [tx]).add(bufferLoad(sh, [tx.add(w)])), [tx]),
                  ),
                  barrier(),
                ),
              ),
            ),
            ifThenElse(tx.eq(0), bufferStore(S, bufferLoad(sh, [0]), [r])),
          ),
        ),
      ),
    ),
  );
  return primFunc([A, S], body, { attrs: { global_symbol: "row_sum" } });
}

/** `B[i] = fn(A[i])` over `A, B: (n,)`, 32 threads per block, guarded. */
export function mapKernel(
  name: string,
  inDtype: DType,
  outDtype: DType,
  fn: (x: PrimExpr, i: PrimExpr) => PrimExpr,
): PrimFunc {
  const n = sizeVar("n");
  const A = declBuffer([n], inDtype, "A");
  const B = declBuffer([n], outDtype, "B");
  const bx = primVar("bx"), tx = primVar("tx");
  const i = bx.mul(32).add(tx);
  const body = bind(
    bx,
    n.add(31).floordiv(32),
    "blockIdx.x",
    bind(
      tx,
      32,
      "threadIdx.x",
      ifThenElse(i.lt(n), bufferStore(B, fn(bufferLoad(A, [i]), i), [i])),
    ),
  );
  return primFunc([A, B], body, { attrs: { global_symbol: name } });
}

/**
 * `C = A @ B` for symbolic `A: (M, K)`, `B: (K, N)`: 8x8 tiles staged through shared memory,
 * with two barriers per step of the k loop.
 */
export function tiledMatmulKernel(): PrimFunc {
  const M = sizeVar("M"), N = sizeVar("N"), K = sizeVar("K");
  const A = declBuffer([M, K], "float32", "A");
  const B = declBuffer([K, N], "float32", "B");
  const C = declBuffer([M, N], "float32", "C");
  const [a, b, c] = [flat(A, M.mul(K)), flat(B, K.mul(N)), flat(C, M.mul(N))];
  const As = declBuffer([64], "float32", "A_shared", { scope: "shared" });
  const Bs = declBuffer([64], "float32", "B_shared", { scope: "shared" });
  const acc = declBuffer([1], "float32", "acc", { scope: "local" });
  const by = primVar("by"), bx = primVar("bx"), ty = primVar("ty"), tx = primVar("tx");
  const ko = primVar("ko"), ki = primVar("ki");
  const i = by.mul(8).add(ty), j = bx.mul(8).add(tx);
  const ka = ko.mul(8).add(tx), kb = ko.mul(8).add(ty);
  const zero = (cond: PrimExpr, v: PrimExpr) =>
    callIntrin("tir.if_then_else", [cond, v, 0], "float32");
  const body = bind(
    by,
    M.add(7).floordiv(8),
    "blockIdx.y",
    bind(
      bx,
      N.add(7).floordiv(8),
      "blockIdx.x",
      allocBuffer(
        As,
        allocBuffer(
          Bs,
          bind(
            ty,
            8,
            "threadIdx.y",
            bind(
              tx,
              8,
              "threadIdx.x",
              allocBuffer(
                acc,
                seq(
                  bufferStore(acc, 0, [0]),
                  loop(
                    ko,
                    K.add(7).floordiv(8),
                    seq(
                      bufferStore(
                        As,
                        zero(i.lt(M).and(ka.lt(K)), bufferLoad(a, [i.mul(K).add(ka)])),
                        [ty.mul(8).add(tx)],
                      ),
                      bufferStore(
                        Bs,
                        zero(kb.lt(K).and(j.lt(N)), bufferLoad(b, [kb.mul(N).add(j)])),
                        [ty.mul(8).add(tx)],
                      ),
                      barrier(),
                      loop(
                        ki,
                        8,
                        bufferStore(
                          acc,
                          bufferLoad(acc, [0]).add(
                            bufferLoad(As, [ty.mul(8).add(ki)]).mul(
                              bufferLoad(Bs, [ki.mul(8).add(tx)]),
                            ),
                          ),
                          [0],
                        ),
                      ),
                      barrier(),
                    ),
                  ),
                  ifThenElse(
                    i.lt(M).and(j.lt(N)),
                    bufferStore(c, bufferLoad(acc, [0]), [i.mul(N).add(j)]),
                  ),
                ),
              ),
            ),
          ),
        ),
      ),
    ),
  );
  return primFunc([A, B, C], body, { attrs: { global_symbol: "tiled_matmul" } });
}

/**
 * Two loop nests through a global intermediate, as the Fallback rule leaves a reduction feeding
 * an elementwise op: `tmp[i] = sum_k A[i, k]`, then `out[i, j] = exp(A[i, j]) + tmp[i]`.
 */
export function twoStageKernel(): PrimFunc {
  const n = sizeVar("n");
  const A = declBuffer([n, 64], "float32", "A");
  const Out = declBuffer([n, 64], "float32", "out");
  const a = flat(A, n.mul(64)), out = flat(Out, n.mul(64));
  const tmp = declBuffer([n], "float32", "tmp", { scope: "global" });
  const bx = primVar("bx"),
    tx = primVar("tx"),
    k = primVar("k"),
    by = primVar("by"),
    ty = primVar("ty");
  const i = bx.mul(32).add(tx);
  const reduce = bind(
    bx,
    n.add(31).floordiv(32),
    "blockIdx.x",
    bind(
      tx,
      32,
      "threadIdx.x",
      ifThenElse(
        i.lt(n),
        seq(
          bufferStore(tmp, 0, [i]),
          loop(
            k,
            64,
            bufferStore(tmp, bufferLoad(tmp, [i]).add(bufferLoad(a, [i.mul(64).add(k)])), [i]),
          ),
        ),
      ),
    ),
  );
  const j = by.mul(64).add(ty);
  const map = bind(
    by,
    n,
    "blockIdx.x",
    bind(
      ty,
      64,
      "threadIdx.x",
      bufferStore(out, callIntrin("tir.exp", [bufferLoad(a, [j])]).add(bufferLoad(tmp, [by])), [j]),
    ),
  );
  const body = declBufferStmt(a, declBufferStmt(out, allocBuffer(tmp, seq(reduce, map))));
  return primFunc([A, Out], body, { attrs: { global_symbol: "two_stage" } });
}
