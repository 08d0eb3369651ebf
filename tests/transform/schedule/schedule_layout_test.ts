import assert from "node:assert/strict";
import {
  type Buffer,
  bufferLoad,
  declBuffer,
  floordiv,
  floormod,
  type PrimExpr,
  type PrimExprLike,
  primVar,
  range,
  type Var,
} from "../../../ir/expr.ts";
import { assertStructuralEqual } from "../../../ir/structural.ts";
import {
  bufferRegion,
  bufferStore,
  matchBufferRegion,
  sblock,
  sblockRealize,
  type Stmt,
} from "../../../ir/tir/stmt.ts";
import { indexMap, indexMapText, mapIndices } from "../../../transform/schedule/index_map.ts";
import { Schedule } from "../../../transform/schedule/schedule.ts";
import { block, nest, reg, rootFunc } from "./_build.ts";
import { assertSameResults } from "../../_tir_interp.ts";
import { assertReplays, lastTraceLine } from "./_stages.ts";

const f32 = "float32";

/**
 * `B = A * 2` then `C = B + 1` over 8 x 4, with B accessed as `at(vi, vj)` in a buffer
 * `B` of `shape`.
 */
function twoStageWith(
  shape: readonly number[],
  at: (vi: Var, vj: Var) => PrimExpr[],
): { A: Buffer; B: Buffer; C: Buffer; stmts: Stmt[] } {
  const A = declBuffer([8, 4], f32, "A"), C = declBuffer([8, 4], f32, "C");
  const B = declBuffer(shape, f32, "B");
  const mk = (name: string, body: (vi: Var, vj: Var) => { r: Buffer; w: Buffer; v: Stmt }) => {
    const i = primVar("i"), j = primVar("j"), vi = primVar("vi"), vj = primVar("vj");
    const { r, w, v } = body(vi, vj);
    const rAt = r === B ? at(vi, vj) : [vi, vj], wAt = w === B ? at(vi, vj) : [vi, vj];
    return nest(
      [[i, 8], [j, 4]],
      block(name, {
        iters: [[vi, 8, "spatial", i], [vj, 4, "spatial", j]],
        reads: [reg(r, ...rAt)],
        writes: [reg(w, ...wAt)],
        body: v,
      }),
    );
  };
  return {
    A,
    B,
    C,
    stmts: [
      mk("B", (vi, vj) => ({
        r: A,
        w: B,
        v: bufferStore(B, bufferLoad(A, [vi, vj]).mul(2), at(vi, vj)),
      })),
      mk("C", (vi, vj) => ({
        r: B,
        w: C,
        v: bufferStore(C, bufferLoad(B, at(vi, vj)).add(1), [vi, vj]),
      })),
    ],
  };
}

function before() {
  const { A, B, C, stmts } = twoStageWith([8, 4], (vi, vj) => [vi, vj]);
  return rootFunc([A, C], [B], stmts);
}

Deno.test("transformLayout() transposes an intermediate buffer", () => {
  const f = before();
  const sch = new Schedule(f);
  sch.transformLayout(sch.getSBlock("B"), 0, ([i, j]) => [j!, i!]);
  const { A, B, C, stmts } = twoStageWith([4, 8], (vi, vj) => [vj, vi]);
  assertStructuralEqual(sch.func, rootFunc([A, C], [B], stmts));
  assertSameResults(f, sch.func, { outputs: [1] });
  assert.equal(
    lastTraceLine(sch),
    'sch.transform_layout(block=b0, buffer_index=0, buffer_index_type="write", ' +
      "index_map=lambda i0, i1: (i1, i0))",
  );
  assertReplays(f, sch);
});

Deno.test("transformLayout() packs a dimension, given an IndexMap and a read index", () => {
  const f = before();
  const sch = new Schedule(f);
  const pack = indexMap(([i, j]) => [floordiv(i!, 4), j!, floormod(i!, 4)], 2);
  sch.transformLayout(sch.getSBlock("C"), 0, pack, { bufferIndexType: "read" });
  const { A, B, C, stmts } = twoStageWith(
    [2, 4, 4],
    (vi, vj) => [floordiv(vi, 4), vj, floormod(vi, 4)],
  );
  assertStructuralEqual(sch.func, rootFunc([A, C], [B], stmts));
  assertSameResults(f, sch.func, { outputs: [1] });
  assert.equal(indexMapText(pack), "lambda i0, i1: (i0 // 4, i1, i0 % 4)");
  assert.equal(
    lastTraceLine(sch),
    'sch.transform_layout(block=b0, buffer_index=0, buffer_index_type="read", ' +
      "index_map=lambda i0, i1: (i0 // 4, i1, i0 % 4))",
  );
  assertReplays(f, sch);
});

Deno.test("transformLayout() maps a region that is not a point to the range of its image", () => {
  // R[vi] = sum of B[vi, 0:4], with B transposed to (4, 8): the region becomes B[0:4, vi].
  const A = declBuffer([8, 4], f32, "A"), R = declBuffer([8], f32, "R");
  const mk = (B: Buffer, at: (vi: Var, k: PrimExprLike) => PrimExprLike[], rows: boolean) => {
    const [i, j, vi, vj] = ["i", "j", "vi", "vj"].map((n) => primVar(n)) as Var[];
    const prod = nest(
      [[i!, 8], [j!, 4]],
      block("B", {
        iters: [[vi!, 8, "spatial", i!], [vj!, 4, "spatial", j!]],
        reads: [reg(A, vi!, vj!)],
        writes: [reg(B, ...at(vi!, vj!))],
        body: bufferStore(B, bufferLoad(A, [vi!, vj!]), at(vi!, vj!)),
      }),
    );
    const [ri, rvi] = [primVar("i"), primVar("vi")];
    const sum = [0, 1, 2, 3].map((k): PrimExpr => bufferLoad(B, at(rvi, k))).reduce((x, y) =>
      x.add(y)
    );
    const cons = nest(
      [[ri, 8]],
      block("R", {
        iters: [[rvi, 8, "spatial", ri]],
        reads: [
          bufferRegion(B, rows ? [range(rvi, 1), range(0, 4)] : [range(0, 4), range(rvi, 1)]),
        ],
        writes: [reg(R, rvi)],
        body: bufferStore(R, sum, [rvi]),
      }),
    );
    return rootFunc([A, R], [B], [prod, cons]);
  };
  const B1 = declBuffer([8, 4], f32, "B"), B2 = declBuffer([4, 8], f32, "B");
  const f = mk(B1, (vi, k) => [vi, k], true);
  const sch = new Schedule(f);
  sch.transformLayout(sch.getSBlock("B"), 0, ([i, j]) => [j!, i!]);
  assertStructuralEqual(sch.func, mk(B2, (vi, k) => [k, vi], false));
  assertSameResults(f, sch.func, { outputs: [1] });
});

Deno.test("transformLayout() errors", () => {
  const sch = new Schedule(before());
  const b = sch.getSBlock("B");
  assert.throws(
    () => sch.transformLayout(b, 0, ([i, j]) => [j!, i!], { bufferIndexType: "read" }),
    {
      message: 'Cannot transform the layout of buffer "A": it is a parameter of the function',
    },
  );
  assert.throws(() => sch.transformLayout(b, 1, ([i]) => [i!]), {
    message:
      'Cannot transformLayout block "B": block "B" has 1 write region, index 1 is out of range',
  });
  assert.throws(() => sch.transformLayout(b, 0, indexMap(([i]) => [i!], 1)), {
    message: 'Cannot transform the layout of buffer "B": the index map takes 1 indices, ' +
      "the buffer has 2 dimensions",
  });
  assert.throws(() => sch.transformLayout(b, 0, ([i, j]) => [i!.sub(1), j!]), {
    message: 'Cannot transform the layout of buffer "B": the index map can give a negative index ' +
      "in dimension 0",
  });
  assert.throws(() => sch.transformLayout(b, 0, ([i, j]) => [i!.add(j!), j!.mul(0)]), {
    message: 'Cannot transform the layout of buffer "B": the index map sends [0, 1] and [1, 0] ' +
      "to [1, 0]",
  });
  assert.throws(() => mapIndices(indexMap(([i]) => [i!], 1), []), {
    message: "Cannot apply an index map of 1 indices to 0",
  });

  // a match buffer viewing the buffer
  const { A, B, C, stmts } = twoStageWith([8, 4], (vi, vj) => [vi, vj]);
  const V = declBuffer([8, 4], f32, "V");
  const view = sblockRealize(
    [],
    sblock("view", bufferStore(V, 0, [0, 0]), {
      writes: [bufferRegion(B)],
      matchBuffers: [matchBufferRegion(V, bufferRegion(B))],
    }),
  );
  const s2 = new Schedule(rootFunc([A, C], [B], [...stmts, view]));
  assert.throws(() => s2.transformLayout(s2.getSBlock("B"), 0, ([i, j]) => [j!, i!]), {
    message:
      'Cannot transform the layout of buffer "B": block "view" views it through a match buffer',
  });
});
