import assert from "node:assert/strict";
import { type PrimExpr, primVar } from "../../../ir/expr.ts";
import * as op from "../../../ir/relax/op/mod.ts";
import { constant } from "../../../ir/expr.ts";
import { type Expr, primValue, rvar, tuple } from "../../../ir/relax/expr.ts";
import { type StructInfo, tensorSInfo } from "../../../ir/relax/struct_info.ts";
import { listOps } from "../../../ir/relax/op/registry.ts";

const n = primVar("n", "int64");
const m = primVar("m", "int64");
const T = (shape: readonly (number | PrimExpr)[], dtype = "float32" as const) =>
  rvar("t", tensorSInfo(shape, dtype));

/** Shape of a call's tensor StructInfo as strings (`n`, `4`). */
function shapeOf(s: StructInfo): string[] | undefined {
  assert.equal(s.kind, "TensorStructInfo");
  if (s.kind !== "TensorStructInfo" || !s.shape) return undefined;
  return s.shape.map((
    d,
  ) => (d.kind === "IntImm" ? String(d.value) : d.kind === "Var" ? d.name : d.kind));
}

Deno.test("the registry holds the ~80 operators of the issue", () => {
  const ops = listOps();
  for (
    const name of [
      "add",
      "power",
      "logical_or",
      "exp",
      "clip",
      "nn.softmax",
      "nn.conv2d",
      "nn.attention",
      "reshape",
      "layout_transform",
      "matmul",
      "cumsum",
      "arange",
      "triu",
      "where",
      "astype",
      "image.resize2d",
      "call_tir",
    ]
  ) {
    assert.ok(ops.includes(`relax.${name}`), name);
  }
  assert.ok(ops.length >= 75, `only ${ops.length} ops`);
});

Deno.test("binary ops broadcast static and symbolic shapes", () => {
  assert.deepEqual(shapeOf(op.add(T([n, 1, 4]), T([3, 1])).structInfo), ["n", "3", "4"]);
  assert.deepEqual(shapeOf(op.multiply(T([n, 4]), T([n, 4])).structInfo), ["n", "4"]);
  assert.deepEqual(shapeOf(op.less(T([2]), T([2])).structInfo), ["2"]);
  assert.equal((op.less(T([2]), T([2])).structInfo as { dtype: string }).dtype, "bool");
  // unrelated symbolic dims: rank known, shape unknown
  const s = op.add(T([n]), T([m])).structInfo;
  assert.equal(s.kind === "TensorStructInfo" && s.ndim, 1);
  assert.equal(s.kind === "TensorStructInfo" && s.shape, undefined);
});

Deno.test("binary and unary ops reject bad operands", () => {
  assert.throws(() => op.add(T([3]), T([4])), {
    message: "add: cannot broadcast (3,) with (4,): 3 != 4",
  });
  assert.throws(() => op.add(T([3]), rvar("i", tensorSInfo([3], "int32"))), {
    message: "add: operand dtypes differ: float32 and int32",
  });
  assert.throws(() => op.logicalAnd(T([3]), T([3])), {
    message: "logical_and: expected bool operands, got float32",
  });
  assert.throws(() => op.exp(rvar("i", tensorSInfo([3], "int32"))), {
    message: "exp: expected a float tensor, got int32",
  });
  assert.throws(() => op.add(T([3]), tuple([])), {
    message: 'add: argument "x2" must be a tensor, got R.Tuple',
  });
  assert.throws(() => op.makeOpCall("relax.add", [T([3])]), {
    message: "add: expected 2 arguments, got 1",
  });
  assert.throws(() => op.makeOpCall("relax.nn.softmax", [T([3])], { axes: 1 }), {
    message: 'nn.softmax: unknown attribute "axes" (expected one of: axis)',
  });
  assert.throws(() => op.makeOpCall("relax.nope", []), {
    message: 'Unknown Relax operator "relax.nope"',
  });
});

Deno.test("matmul contracts, batches and reports mismatches", () => {
  assert.deepEqual(shapeOf(op.matmul(T([n, 3]), T([3, 5])).structInfo), ["n", "5"]);
  assert.deepEqual(shapeOf(op.matmul(T([2, 1, n, 3]), T([4, 3, 5])).structInfo), [
    "2",
    "4",
    "n",
    "5",
  ]);
  assert.deepEqual(shapeOf(op.matmul(T([3]), T([3, 5])).structInfo), ["5"]);
  assert.deepEqual(shapeOf(op.matmul(T([n, 3]), T([3])).structInfo), ["n"]);
  assert.throws(() => op.matmul(T([n, 3]), T([4, 5])), {
    message: "matmul: cannot contract (n, 3) with (4, 5): 3 != 4",
  });
  assert.deepEqual(shapeOf(op.linear(T([n, 8]), T([16, 8]), T([16])).structInfo), ["n", "16"]);
});

Deno.test("reductions and statistics", () => {
  assert.deepEqual(shapeOf(op.sum(T([n, 4, 5]), { axis: [1] }).structInfo), ["n", "5"]);
  assert.deepEqual(shapeOf(op.mean(T([n, 4, 5]), { axis: -1, keepdims: true }).structInfo), [
    "n",
    "4",
    "1",
  ]);
  assert.deepEqual(shapeOf(op.max(T([n, 4])).structInfo), []);
  assert.deepEqual(shapeOf(op.argmax(T([n, 4]), { axis: 1 }).structInfo), ["n"]);
  assert.equal((op.argmax(T([n, 4]), { axis: 1 }).structInfo as { dtype: string }).dtype, "int64");
  assert.deepEqual(shapeOf(op.cumsum(T([n, 4]), { axis: 1 }).structInfo), ["n", "4"]);
  assert.throws(() => op.sum(T([4]), { axis: 2 }), {
    message: "sum: axis 2 is out of range for a tensor of rank 1",
  });
  assert.throws(() => op.sum(T([4, 4]), { axis: [0, -2] }), {
    message: "sum: axis [0,-2] repeats an axis",
  });
});

Deno.test("manipulation ops", () => {
  assert.deepEqual(shapeOf(op.reshape(T([2, 6]), [3, 4]).structInfo), ["3", "4"]);
  assert.throws(() => op.reshape(T([2, 6]), [5, 2]), {
    message: "reshape: cannot reshape (2, 6) (12 elements) to (5, 2) (10 elements)",
  });
  assert.deepEqual(shapeOf(op.permuteDims(T([n, 3, 4]), [2, 0, 1]).structInfo), ["4", "n", "3"]);
  assert.deepEqual(shapeOf(op.permuteDims(T([n, 3])).structInfo), ["3", "n"]);
  assert.throws(() => op.permuteDims(T([2, 3]), [0, 0]), {
    message: "permute_dims: axes [0,0] is not a permutation of 2 axes",
  });
  assert.deepEqual(shapeOf(op.concat(tuple([T([2, 3]), T([4, 3])])).structInfo), ["6", "3"]);
  assert.throws(() => op.concat(tuple([T([2, 3]), T([4, 2])])), {
    message: "concat: cannot concatenate (2, 3) with (4, 2) along axis 0",
  });
  const sp = op.split(T([6, 2]), 3).structInfo;
  assert.equal(sp.kind === "TupleStructInfo" && sp.fields.length, 3);
  assert.throws(() => op.split(T([7]), 3), {
    message: "split: dimension 7 of axis 0 is not divisible into 3 sections",
  });
  assert.deepEqual(shapeOf(op.squeeze(T([1, 3, 1])).structInfo), ["3"]);
  assert.throws(() => op.squeeze(T([2, 3]), { axis: [0] }), {
    message: "squeeze: axis 0 of (2, 3) has size 2, not 1",
  });
  assert.deepEqual(shapeOf(op.expandDims(T([3, 4]), [0, -1]).structInfo), ["1", "3", "4", "1"]);
  assert.deepEqual(shapeOf(op.broadcastTo(T([1, 4]), [3, 4]).structInfo), ["3", "4"]);
  assert.deepEqual(shapeOf(op.flatten(T([3, 4])).structInfo), ["12"]);
  assert.deepEqual(
    shapeOf(
      op.stridedSlice(T([10, 4]), { axes: [0], begin: [1], end: [8] }, { strides: [2] }).structInfo,
    ),
    ["4", "4"],
  );
  assert.deepEqual(
    shapeOf(op.take(T([10, 4]), rvar("i", tensorSInfo([n], "int32")), { axis: 0 }).structInfo),
    ["n", "4"],
  );
  assert.deepEqual(shapeOf(op.stack(tuple([T([2]), T([2])]), { axis: 1 }).structInfo), ["2", "2"]);
  assert.deepEqual(shapeOf(op.repeat(T([2, 3]), 2, { axis: 1 }).structInfo), ["2", "6"]);
  assert.deepEqual(shapeOf(op.tile(T([2, 3]), [2, 1]).structInfo), ["4", "3"]);
  assert.deepEqual(shapeOf(op.flip(T([2, 3]), 1).structInfo), ["2", "3"]);
  const on = primValue(constant(1, "float32")), off = primValue(constant(0, "float32"));
  assert.deepEqual(
    shapeOf(op.oneHot(rvar("i", tensorSInfo([n], "int32")), on, off, 5).structInfo),
    ["n", "5"],
  );
  assert.deepEqual(shapeOf(op.layoutTransform(T([1, 3, 8, 8]), "NCHW", "NHWC").structInfo), [
    "1",
    "8",
    "8",
    "3",
  ]);
  assert.throws(() => op.layoutTransform(T([1, 3, 8, 8]), "NCHW", "NHWD"), {
    message:
      'layout_transform: cannot transform layout "NCHW" to "NHWD": expected a permutation of the same axes',
  });
});

Deno.test("nn ops infer shapes and check parameters", () => {
  const x = T([1, 3, 32, 32]);
  const s = op.nn.conv2d(x, T([8, 3, 3, 3]), { padding: [1, 1, 1, 1], strides: [2, 2] }).structInfo;
  assert.equal(s.kind === "TensorStructInfo" && s.shape!.length, 4);
  assert.throws(() => op.nn.conv2d(x, T([8, 4, 3, 3])), {
    message: "nn.conv2d: data has 3 channels but weight expects 4 x 1 groups = 4",
  });
  const mp = op.nn.maxPool2d(x, [2, 2], { strides: [2, 2] }).structInfo;
  assert.equal(mp.kind === "TensorStructInfo" && mp.shape!.length, 4);
  assert.deepEqual(shapeOf(op.nn.adaptiveAvgPool2d(x, [1, 1]).structInfo), ["1", "3", "1", "1"]);
  assert.deepEqual(shapeOf(op.nn.softmax(T([n, 4])).structInfo), ["n", "4"]);
  assert.throws(() => op.nn.softmax(T([4]), { axis: 1 }), {
    message: "nn.softmax: axis 1 is out of range for a tensor of rank 1",
  });
  assert.deepEqual(shapeOf(op.nn.layerNorm(T([n, 4]), T([4]), T([4])).structInfo), ["n", "4"]);
  assert.throws(() => op.nn.layerNorm(T([n, 4]), T([5]), T([4])), {
    message: 'nn.layer_norm: "gamma" has shape (5,), expected (4,)',
  });
  assert.deepEqual(shapeOf(op.nn.rmsNorm(T([n, 4]), T([4])).structInfo), ["n", "4"]);
  assert.throws(() => op.nn.groupNorm(x, T([3]), T([3]), 2), {
    message: "group_norm: 3 channels cannot be split into 2 groups",
  });
  const bn = op.nn.batchNorm(x, T([3]), T([3]), T([3]), T([3])).structInfo;
  assert.equal(bn.kind === "TupleStructInfo" && bn.fields.length, 3);
  assert.deepEqual(shapeOf(op.nn.pad(T([2, 3]), [1, 1, 0, 2]).structInfo), ["4", "5"]);
  const att = op.nn.attention(T([1, n, 2, 8]), T([1, m, 2, 8]), T([1, m, 2, 16]), {
    causalMask: "TopLeft",
  });
  assert.deepEqual(shapeOf(att.structInfo), ["1", "n", "2", "16"]);
  assert.throws(() => op.nn.attention(T([1, 4, 2, 8]), T([1, 4, 2, 4]), T([1, 4, 2, 8])), {
    message: "nn.attention: query head dim 8 != key head dim 4",
  });
  assert.throws(() => op.nn.relu(rvar("i", tensorSInfo([3], "int32"))), {
    message: 'nn.relu: argument "x" must be a float tensor, got int32',
  });
});

Deno.test("creation, search, datatype and image ops", () => {
  assert.deepEqual(shapeOf(op.zeros([n, 4]).structInfo), ["n", "4"]);
  assert.deepEqual(shapeOf(op.full([2], 3).structInfo), ["2"]);
  assert.equal((op.onesLike(T([2]), "int32").structInfo as { dtype: string }).dtype, "int32");
  assert.deepEqual(shapeOf(op.arange(0, 10, 3).structInfo), ["4"]);
  assert.deepEqual(shapeOf(op.tril(T([3, 3])).structInfo), ["3", "3"]);
  assert.throws(() => op.tril(T([3])), {
    message: "tril: expected a tensor of rank >= 2, got rank 1",
  });
  const c = rvar("c", tensorSInfo([n, 1], "bool"));
  assert.deepEqual(shapeOf(op.where(c, T([1, 4]), T([n, 4])).structInfo), ["n", "4"]);
  assert.throws(() => op.where(T([2]), T([2]), T([2])), {
    message: "where: condition must be bool, got float32",
  });
  assert.equal((op.astype(T([2]), "float16").structInfo as { dtype: string }).dtype, "float16");
  assert.deepEqual(shapeOf(op.image.resize2d(T([1, 3, 8, 8]), [16, 16]).structInfo), [
    "1",
    "3",
    "16",
    "16",
  ]);
});

Deno.test("call_tir takes its output StructInfo from out_sinfo", () => {
  const out = tensorSInfo([n, 4], "float32");
  const gv = { kind: "GlobalVar", name: "f", structInfo: out } as unknown as Expr;
  const c = op.callTIR(gv, [T([n, 4])], out, { tirVars: [n] });
  assert.equal(c.structInfo, out);
  assert.equal(c.args.length, 3);
  assert.throws(() => op.callTIR(T([2]), [], out), {
    message: "call_tir: the callee must be a module function (GlobalVar)",
  });
  const multi = op.callTIR(gv, [], [out, out]).structInfo;
  assert.equal(multi.kind, "TupleStructInfo");
  assert.equal(op.callDPSPacked("my.fn", [T([2])], out).structInfo, out);
  assert.equal(op.callPacked("my.print", []).structInfo.kind, "ObjectStructInfo");
});
