import assert from "node:assert/strict";
import { sizeVar } from "../../../ir/expr.ts";
import {
  constantTensor,
  dataflowBlock,
  opRef,
  rcall,
  relaxFunction,
  rvar,
  seqExpr,
  shapeExpr,
  tuple,
  tupleGetItem,
  varBinding,
} from "../../../ir/relax/expr.ts";
import { shapeSInfo, tensorSInfo, tupleSInfo } from "../../../ir/relax/struct_info.ts";

Deno.test("tensor StructInfo uses int64 dims and keeps symbolic ones", () => {
  const n = sizeVar("n", "int64");
  const s = tensorSInfo([n, 4], "float32");
  assert.equal(s.ndim, 2);
  assert.equal(s.shape![1]!.dtype, "int64");
  assert.equal(s.shape![0], n);
  assert.equal(tensorSInfo(undefined, "float32", 3).ndim, 3);
  assert.throws(() => tensorSInfo([1.5], "float32"), {
    message: "Shape dimension must be a non-negative integer, got 1.5",
  });
  assert.throws(() => tensorSInfo([2], "float32", 3), {
    message: "R.Tensor: shape has 1 dimensions but ndim is 3",
  });
  assert.equal(shapeSInfo([1, 2]).ndim, 2);
});

Deno.test("tuples derive StructInfo; indexing checks bounds", () => {
  const x = rvar("x", tensorSInfo([2], "float32"));
  const t = tuple([x, x]);
  assert.deepEqual(t.structInfo, tupleSInfo([x.structInfo, x.structInfo]));
  assert.equal(tupleGetItem(t, 1).structInfo, x.structInfo);
  assert.throws(() => tupleGetItem(t, 2), {
    message: "Tuple index 2 out of range for a tuple of 2 fields",
  });
  assert.throws(() => tupleGetItem(x, 0), {
    message: "Cannot index a value of TensorStructInfo as a tuple",
  });
});

Deno.test("constants check their element count; shapes are int64", () => {
  assert.throws(
    () => constantTensor({ dtype: "float32", shape: [2, 2], data: new Float32Array(3) }),
    {
      message: "Constant of shape (2, 2) needs 4 elements, got 3",
    },
  );
  const c = constantTensor({ dtype: "float32", shape: [2], data: new Float32Array([1, 2]) });
  assert.equal(c.structInfo.kind, "TensorStructInfo");
  assert.equal(shapeExpr([2, 3]).values[0]!.dtype, "int64");
});

Deno.test("a function wraps its body and records its signature", () => {
  const x = rvar("x", tensorSInfo([2], "float32"));
  const y = rvar("y", tensorSInfo([2], "float32"));
  const body = seqExpr([
    dataflowBlock([varBinding(y, rcall(opRef("relax.exp"), [x], { structInfo: x.structInfo }))]),
  ], y);
  const f = relaxFunction([x], body);
  assert.equal(f.structInfo.params!.length, 1);
  assert.equal(f.retStructInfo, y.structInfo);
  assert.equal(f.isPure, true);
  const g = relaxFunction([x], x);
  assert.equal(g.body.kind, "relax.SeqExpr");
});

Deno.test("shape and prim StructInfo constructors check dtypes", async () => {
  const { primVar } = await import("../../../ir/expr.ts");
  const { primSInfo } = await import("../../../ir/relax/struct_info.ts");
  assert.throws(() => shapeExpr([primVar("m", "int32")]), {
    message: "R.shape values must be int64, got int32",
  });
  assert.throws(() => primSInfo("int64", primVar("k", "int32")), {
    message: "R.Prim: value of dtype int32 does not match int64",
  });
  assert.throws(() => tensorSInfo([primVar("f", "float32")], "float32"), {
    message: "Shape dimension must be an integer, got float32",
  });
});
