import assert from "node:assert/strict";
import { add, bufferLoad, declBuffer, mul, primVar, range } from "../../../ir/expr.ts";
import { irModule } from "../../../ir/module.ts";
import { assertStructuralEqual } from "../../../ir/structural.ts";
import { primFunc } from "../../../ir/tir/prim_func.ts";
import {
  allocBuffer,
  bufferStore,
  declBufferStmt,
  forLoop,
  sblock,
  sblockRealize,
} from "../../../ir/tir/stmt.ts";
import { flatIndex, flattenBuffer } from "../../../transform/tir/flatten_buffer.ts";

Deno.test("flattenBuffer() declares flat aliases of N-D parameters and indexes row-major", () => {
  const make = (flat: boolean) => {
    const A = declBuffer([4, 8], "float32", "A"), B = declBuffer([4, 8], "float32", "B");
    const A1 = declBuffer([32], "float32", "A", { data: A.data });
    const B1 = declBuffer([32], "float32", "B", { data: B.data });
    const i = primVar("i"), j = primVar("j");
    const at = add(mul(i, 8), j);
    const store = flat
      ? bufferStore(B1, bufferLoad(A1, [at]).add(1), [at])
      : bufferStore(B, bufferLoad(A, [i, j]).add(1), [i, j]);
    const loops = forLoop(i, range(0, 4), forLoop(j, range(0, 8), store));
    return irModule({
      main: primFunc([A, B], flat ? declBufferStmt(A1, declBufferStmt(B1, loops)) : loops),
    });
  };
  assertStructuralEqual(flattenBuffer(make(false)), make(true));
});

Deno.test("flattenBuffer() flattens allocations, with symbolic and 0-d shapes", () => {
  const make = (flat: boolean) => {
    const n = primVar("n");
    const X = declBuffer([n], "float32", "X");
    const T = declBuffer([n, 3], "float32", "T"), S = declBuffer([], "float32", "S");
    const T1 = declBuffer([mul(n, 3)], "float32", "T", { data: T.data });
    const S1 = declBuffer([1], "float32", "S", { data: S.data });
    const i = primVar("i");
    const body = flat
      ? allocBuffer(
        T1,
        allocBuffer(
          S1,
          forLoop(
            i,
            range(0, n),
            bufferStore(X, bufferLoad(T1, [add(mul(i, 3), 2)]).add(bufferLoad(S1, [0])), [i]),
          ),
        ),
      )
      : allocBuffer(
        T,
        allocBuffer(
          S,
          forLoop(
            i,
            range(0, n),
            bufferStore(X, bufferLoad(T, [i, 2]).add(bufferLoad(S, [])), [i]),
          ),
        ),
      );
    return irModule({ main: primFunc([X], body) });
  };
  assertStructuralEqual(flattenBuffer(make(false)), make(true));
});

Deno.test("flattenBuffer() uses strides and the element offset", () => {
  const make = (flat: boolean) => {
    const A = declBuffer([4, 8], "float32", "A", { strides: [16, 1], elemOffset: 3 });
    // Storage spans 3 + (4 - 1) * 16 + (8 - 1) * 1 + 1 elements.
    const A1 = declBuffer([59], "float32", "A", { data: A.data });
    const i = primVar("i"), j = primVar("j");
    const store = flat
      ? bufferStore(A1, 0, [add(add(mul(i, 16), j), 3)])
      : bufferStore(A, 0, [i, j]);
    const loops = forLoop(i, range(0, 4), forLoop(j, range(0, 8), store));
    return irModule({ main: primFunc([A], flat ? declBufferStmt(A1, loops) : loops) });
  };
  assertStructuralEqual(flattenBuffer(make(false)), make(true));
});

Deno.test("flattenBuffer() returns the module itself when every access is flat", () => {
  const A = declBuffer([8], "float32", "A"),
    T = declBuffer([8], "float32", "T", { scope: "local" });
  const i = primVar("i");
  const body = allocBuffer(T, forLoop(i, range(0, 8), bufferStore(A, bufferLoad(T, [i]), [i])));
  const mod = irModule({ main: primFunc([A], body) });
  assert.equal(flattenBuffer(mod), mod);
});

Deno.test("flattenBuffer() rejects functions that still have blocks", () => {
  const A = declBuffer([2, 2], "float32", "A");
  const mod = irModule({
    f: primFunc([A], sblockRealize([], sblock("root", bufferStore(A, 0, [0, 0])))),
  });
  assert.throws(() => flattenBuffer(mod), {
    message: 'Cannot flatten "f": block "root" must be lowered first (run lowerOpaqueBlock)',
  });
});

Deno.test("flatIndex() checks the number of indices", () => {
  const A = declBuffer([2, 2], "float32", "A");
  assert.throws(() => flatIndex(A, [primVar("i")]), {
    message: 'Buffer "A" has 2 dimensions, got 1 indices',
  });
});
