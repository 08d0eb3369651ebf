import assert from "node:assert/strict";
import { boolImm, floatImm, intImm, type PrimExprLike, primVar } from "../../../ir/expr.ts";
import * as te from "../../../ir/te/mod.ts";
import { runPrimFunc } from "../../_tir_interp.ts";

Deno.test("math intrinsics are tir calls", () => {
  const x = primVar("x", "float32");
  const unary: [(v: PrimExprLike) => { op: string }, string][] = [
    [te.exp, "tir.exp"],
    [te.exp2, "tir.exp2"],
    [te.log, "tir.log"],
    [te.log2, "tir.log2"],
    [te.log10, "tir.log10"],
    [te.sqrt, "tir.sqrt"],
    [te.rsqrt, "tir.rsqrt"],
    [te.tanh, "tir.tanh"],
    [te.sigmoid, "tir.sigmoid"],
    [te.erf, "tir.erf"],
    [te.sin, "tir.sin"],
    [te.cos, "tir.cos"],
    [te.tan, "tir.tan"],
    [te.atan, "tir.atan"],
    [te.floor, "tir.floor"],
    [te.ceil, "tir.ceil"],
    [te.round, "tir.round"],
    [te.nearbyint, "tir.nearbyint"],
    [te.trunc, "tir.trunc"],
    [te.fabs, "tir.fabs"],
    [te.isnan, "tir.isnan"],
    [te.isinf, "tir.isinf"],
  ];
  for (const [f, op] of unary) assert.equal(f(x).op, op);
  const e = te.exp(x);
  assert.equal(e.kind, "Call");
  assert.deepEqual(e.args, [x]);
  assert.equal(e.dtype, "float32");
  assert.equal(te.isnan(x).dtype, "bool");
  assert.deepEqual(te.exp(2).args, [floatImm(2)]);
  assert.throws(() => te.exp(primVar("i")), {
    message: 'Intrinsic "tir.exp" expects a float argument, got int32',
  });
});

Deno.test("pow() matches its exponent to the base", () => {
  const x = primVar("x", "float16");
  const p = te.pow(x, 2);
  assert.equal(p.op, "tir.pow");
  assert.deepEqual(p.args, [x, floatImm(2, "float16")]);
  assert.deepEqual(te.pow(2, x).args, [floatImm(2, "float16"), x]);
});

Deno.test("abs() is fabs for floats, a select for signed ints, identity for unsigned", () => {
  const f = primVar("f", "float32"), i = primVar("i"), u = primVar("u", "uint8");
  const af = te.abs(f);
  assert.ok(af.kind === "Call" && af.op === "tir.fabs");
  assert.equal(te.abs(i).kind, "Select");
  assert.equal(te.abs(u), u);
  assert.deepEqual(te.abs(-3), intImm(3));
});

Deno.test("ifThenElse() is the tir.if_then_else call and select() the Select node", () => {
  const c = primVar("c", "bool"), x = primVar("x", "float32");
  const e = te.ifThenElse(c, x, 0);
  assert.equal(e.op, "tir.if_then_else");
  assert.deepEqual(e.args, [c, x, floatImm(0)]);
  assert.equal(e.dtype, "float32");
  assert.equal(te.select(c, x, 1).kind, "Select");
  assert.throws(() => te.ifThenElse(x, 1, 2), {
    message: "if_then_else condition must be bool, got float32",
  });
});

Deno.test("const(), cast() and the integer helpers", () => {
  assert.deepEqual(te.const(1), intImm(1));
  assert.deepEqual(te.const(1.5), floatImm(1.5));
  assert.deepEqual(te.const(2, "float16"), floatImm(2, "float16"));
  assert.deepEqual(te.const(true), boolImm(true));
  const i = primVar("i");
  assert.equal(te.cast(i, "float32").kind, "Cast");
  assert.equal(te.cast(i, "int32"), i);
  assert.equal(te.floordiv(i, 4).kind, "FloorDiv");
  assert.equal(te.floormod(i, 4).kind, "FloorMod");
  assert.equal(te.truncdiv(i, 4).kind, "Div");
  assert.equal(te.truncmod(i, 4).kind, "Mod");
  assert.equal(te.maximum(i, 4).kind, "Max");
  assert.equal(te.minimum(i, 4).kind, "Min");
  assert.deepEqual(te.all(), boolImm(true));
  assert.deepEqual(te.any(), boolImm(false));
  assert.equal(te.all(i.gt(0), i.lt(4)).kind, "And");
  assert.equal(te.any(i.gt(0), i.lt(4)).kind, "Or");
  assert.equal(te.reinterpret(primVar("f", "float32"), "int32").dtype, "int32");
  assert.equal(te.likely(i.gt(0)).op, "tir.likely");
});

Deno.test("a padded copy with ifThenElse evaluates as expected", () => {
  const A = te.placeholder([3], "float32", "A");
  const P = te.compute(
    [5],
    ([i]) => te.ifThenElse(te.all(i.ge(1), i.lt(4)), A.at(te.maximum(i.sub(1), 0)), 0),
    { name: "pad" },
  );
  const out = new Array(5).fill(NaN);
  runPrimFunc(te.createPrimFunc([A, P]), [{ shape: [3], data: [7, 8, 9] }, {
    shape: [5],
    data: out,
  }]);
  assert.deepEqual(out, [0, 7, 8, 9, 0]);
});

Deno.test("elementwise math evaluates through createPrimFunc", () => {
  const A = te.placeholder([4], "float32", "A");
  const B = te.compute([4], ([i]) => te.sigmoid(A.at(i)).add(te.sqrt(te.abs(A.at(i)))), {
    name: "B",
  });
  const a = [-2, -0.5, 0.25, 3];
  const out = new Array(4).fill(NaN);
  runPrimFunc(te.createPrimFunc([A, B]), [{ shape: [4], data: a }, { shape: [4], data: out }]);
  a.forEach((v, i) => {
    const ref = 1 / (1 + Math.exp(-v)) + Math.sqrt(Math.abs(v));
    assert.ok(Math.abs(out[i]! - ref) < 1e-6);
  });
});
