/**
 * Block-form PrimFuncs as `te.createPrimFunc` and schedules produce them, built by hand, for the
 * lowering tests.
 *
 * @module
 */

import {
  add,
  type Buffer,
  bufferLoad,
  callIntrin,
  declBuffer,
  floatImm,
  lt,
  max,
  mul,
  type PrimExpr,
  primVar,
  range,
  sizeVar,
  type Var,
} from "../../../ir/expr.ts";
import { type PrimFunc, primFunc } from "../../../ir/tir/prim_func.ts";
import {
  bufferRegion,
  bufferStore,
  forLoop,
  iterVar,
  sblock,
  sblockRealize,
  seq,
  type Stmt,
} from "../../../ir/tir/stmt.ts";

/** Wraps a body in the root block, which allocates `allocBuffers`. */
function root(body: Stmt, allocBuffers: readonly Buffer[] = []): Stmt {
  return sblockRealize([], sblock("root", body, { allocBuffers }));
}

/** `C[i, j] = sum_k A[i, k] * B[k, j]` for (4, 3) x (3, 5). */
export function matmul(): PrimFunc {
  const A = declBuffer([4, 3], "float32", "A"), B = declBuffer([3, 5], "float32", "B");
  const C = declBuffer([4, 5], "float32", "C");
  const i = primVar("i"), j = primVar("j"), k = primVar("k");
  const vi = primVar("vi"), vj = primVar("vj"), vk = primVar("vk");
  const blk = sblock(
    "C",
    bufferStore(
      C,
      bufferLoad(C, [vi, vj]).add(bufferLoad(A, [vi, vk]).mul(bufferLoad(B, [vk, vj]))),
      [vi, vj],
    ),
    {
      iterVars: [iterVar(vi, 4), iterVar(vj, 5), iterVar(vk, 3, "reduce")],
      reads: [
        bufferRegion(A, [range(vi, 1), range(vk, 1)]),
        bufferRegion(B, [range(vk, 1), range(vj, 1)]),
      ],
      writes: [bufferRegion(C, [range(vi, 1), range(vj, 1)])],
      init: bufferStore(C, 0, [vi, vj]),
    },
  );
  const loops = forLoop(
    i,
    range(0, 4),
    forLoop(j, range(0, 5), forLoop(k, range(0, 3), sblockRealize([i, j, k], blk))),
  );
  return primFunc([A, B, C], root(loops), { attrs: { global_symbol: "matmul" } });
}

/** Row softmax of a (4, 8) matrix through global intermediates `maxelem`, `E` and `expsum`. */
export function softmax(): PrimFunc {
  const A = declBuffer([4, 8], "float32", "A"), B = declBuffer([4, 8], "float32", "B");
  const M = declBuffer([4], "float32", "maxelem"), S = declBuffer([4], "float32", "expsum");
  const E = declBuffer([4, 8], "float32", "E");
  const rowReduce = (
    name: string,
    out: Buffer,
    init: number,
    combine: (acc: PrimExpr, x: PrimExpr) => PrimExpr,
    src: Buffer,
  ) => {
    const i = primVar("i"), k = primVar("k"), vi = primVar("vi"), vk = primVar("vk");
    const blk = sblock(
      name,
      bufferStore(out, combine(bufferLoad(out, [vi]), bufferLoad(src, [vi, vk])), [vi]),
      {
        iterVars: [iterVar(vi, 4), iterVar(vk, 8, "reduce")],
        reads: [bufferRegion(src, [range(vi, 1), range(0, 8)])],
        writes: [bufferRegion(out, [range(vi, 1)])],
        init: bufferStore(out, floatImm(init), [vi]),
      },
    );
    return forLoop(i, range(0, 4), forLoop(k, range(0, 8), sblockRealize([i, k], blk)));
  };
  const elementwise = (name: string, out: Buffer, value: (vi: Var, vj: Var) => PrimExpr) => {
    const i = primVar("i"), j = primVar("j"), vi = primVar("vi"), vj = primVar("vj");
    const blk = sblock(name, bufferStore(out, value(vi, vj), [vi, vj]), {
      iterVars: [iterVar(vi, 4), iterVar(vj, 8)],
      writes: [bufferRegion(out, [range(vi, 1), range(vj, 1)])],
    });
    return forLoop(i, range(0, 4), forLoop(j, range(0, 8), sblockRealize([i, j], blk)));
  };
  const body = seq(
    rowReduce("maxelem", M, -3.4e38, (a, x) => max(a, x), A),
    elementwise(
      "exp",
      E,
      (vi, vj) => callIntrin("tir.exp", [bufferLoad(A, [vi, vj]).sub(bufferLoad(M, [vi]))]),
    ),
    rowReduce("expsum", S, 0, (a, x) => a.add(x), E),
    elementwise("norm", B, (vi, vj) => bufferLoad(E, [vi, vj]).div(bufferLoad(S, [vi]))),
  );
  return primFunc([A, B], root(body, [M, E, S]), { attrs: { global_symbol: "softmax" } });
}

/**
 * `B[r] = sum_k A[r, k]` for 64 rows as a schedule binds it: `r = bx * 16 + tx` with `bx` on
 * `blockIdx.x` and `tx` on `threadIdx.x`, through a `"local"` accumulator of the full (64,)
 * shape allocated at the root.
 */
export function threadRowSum(): PrimFunc {
  const A = declBuffer([64, 8], "float32", "A"), B = declBuffer([64], "float32", "B");
  const acc = declBuffer([64], "float32", "acc", { scope: "local" });
  const bx = primVar("bx"), tx = primVar("tx"), k = primVar("k");
  const v1 = primVar("v1"), vk = primVar("vk"), v2 = primVar("v2");
  const update = sblock(
    "acc",
    bufferStore(acc, bufferLoad(acc, [v1]).add(bufferLoad(A, [v1, vk])), [v1]),
    {
      iterVars: [iterVar(v1, 64), iterVar(vk, 8, "reduce")],
      reads: [bufferRegion(A, [range(v1, 1), range(vk, 1)])],
      writes: [bufferRegion(acc, [range(v1, 1)])],
      init: bufferStore(acc, 0, [v1]),
    },
  );
  const write = sblock("B", bufferStore(B, bufferLoad(acc, [v2]), [v2]), {
    iterVars: [iterVar(v2, 64)],
    reads: [bufferRegion(acc, [range(v2, 1)])],
    writes: [bufferRegion(B, [range(v2, 1)])],
  });
  const row = add(mul(bx, 16), tx);
  const loops = forLoop(
    bx,
    range(0, 4),
    forLoop(
      tx,
      range(0, 16),
      seq(
        forLoop(k, range(0, 8), sblockRealize([row, k], update)),
        sblockRealize([row], write),
      ),
      { threadTag: "threadIdx.x" },
    ),
    { threadTag: "blockIdx.x" },
  );
  return primFunc([A, B], root(loops, [acc]), { attrs: { global_symbol: "row_sum" } });
}

/** `B = A * 2 + 1` on (n, 4) matrices with a symbolic `n`. */
export function symbolicElementwise(): PrimFunc {
  const n = sizeVar("n");
  const A = declBuffer([n, 4], "float32", "A"), B = declBuffer([n, 4], "float32", "B");
  const i = primVar("i"), j = primVar("j"), vi = primVar("vi"), vj = primVar("vj");
  const blk = sblock("B", bufferStore(B, bufferLoad(A, [vi, vj]).mul(2).add(1), [vi, vj]), {
    iterVars: [iterVar(vi, n), iterVar(vj, 4)],
    reads: [bufferRegion(A, [range(vi, 1), range(vj, 1)])],
    writes: [bufferRegion(B, [range(vi, 1), range(vj, 1)])],
  });
  const loops = forLoop(i, range(0, n), forLoop(j, range(0, 4), sblockRealize([i, j], blk)));
  return primFunc([A, B], root(loops), { attrs: { global_symbol: "scale" } });
}

/**
 * `B = A + 1` on `size` elements, the loop split by 4 into `ceil(size / 4)` outer iterations
 * under the predicate `io * 4 + ii < size` (`T.where`).
 */
export function splitWithPredicate(size: number): PrimFunc {
  const A = declBuffer([size], "float32", "A"), B = declBuffer([size], "float32", "B");
  const io = primVar("io"), ii = primVar("ii"), vi = primVar("vi");
  const idx = add(mul(io, 4), ii);
  const blk = sblock("B", bufferStore(B, bufferLoad(A, [vi]).add(1), [vi]), {
    iterVars: [iterVar(vi, size)],
    reads: [bufferRegion(A, [range(vi, 1)])],
    writes: [bufferRegion(B, [range(vi, 1)])],
  });
  const loops = forLoop(
    io,
    range(0, Math.ceil(size / 4)),
    forLoop(ii, range(0, 4), sblockRealize([idx], blk, lt(idx, size))),
  );
  return primFunc([A, B], root(loops), { attrs: { global_symbol: "add_one" } });
}
