import assert from "node:assert/strict";
import { f16Value } from "../../../ir/dtype.ts";
import { floatImm, intImm, primVar } from "../../../ir/expr.ts";
import {
  fitsInt,
  foldBinary,
  foldCast,
  foldIntOp,
  isSignedInt,
  roundFloat,
} from "../../../ir/arith/fold.ts";
import { show } from "./_helpers.ts";

const fold = (...args: Parameters<typeof foldBinary>) => {
  const r = foldBinary(...args);
  return r && show(r);
};

Deno.test("foldIntOp() follows floor and truncating semantics", () => {
  assert.equal(foldIntOp("FloorDiv", -7, 2), -4);
  assert.equal(foldIntOp("FloorMod", -7, 2), 1);
  assert.equal(foldIntOp("FloorMod", 7, -2), -1);
  assert.equal(foldIntOp("Div", -7, 2), -3);
  assert.equal(foldIntOp("Mod", -7, 2), -1);
  assert.ok(Object.is(foldIntOp("Mod", -4, 2), 0));
  assert.equal(foldIntOp("FloorDiv", 1, 0), undefined);
  assert.equal(foldIntOp("Mod", 1, 0), undefined);
  assert.equal(foldIntOp("And", 2, 0), 0);
  assert.equal(foldIntOp("Or", 2, 0), 1);
});

Deno.test("foldBinary() folds integer constants that fit their dtype", () => {
  assert.equal(fold("Mul", intImm(6), intImm(7)), "42");
  assert.equal(fold("Add", intImm(100, "int8"), intImm(27, "int8")), "int8(127)");
  assert.equal(fold("Add", intImm(100, "int8"), intImm(28, "int8")), undefined);
  assert.equal(fold("Sub", intImm(0, "uint8"), intImm(1, "uint8")), undefined);
  assert.equal(fold("GE", intImm(3), intImm(3)), "True");
  assert.equal(fold("FloorDiv", intImm(3), intImm(0)), undefined);
  assert.equal(fold("Add", intImm(3), primVar("x")), undefined);
});

Deno.test("foldBinary() folds floats with the dtype's rounding", () => {
  const third = Math.fround(Math.fround(1) / Math.fround(3));
  assert.equal(fold("Div", floatImm(1), floatImm(3)), `float32(${third})`);
  assert.equal(fold("Div", floatImm(1, "float64"), floatImm(3, "float64")), `float64(${1 / 3})`);
  assert.equal(
    fold("Add", floatImm(0.1, "float16"), floatImm(0.2, "float16")),
    `float16(${roundFloat(0.1 + 0.2, "float16")})`,
  );
  assert.equal(fold("Div", floatImm(1), floatImm(0)), undefined);
  assert.equal(fold("FloorMod", floatImm(-7), floatImm(2)), "float32(1)");
  assert.equal(fold("LT", floatImm(1), floatImm(2)), "True");
  assert.equal(fold("Min", floatImm(1), floatImm(2)), "float32(1)");
});

Deno.test("foldCast() wraps integers and truncates floats", () => {
  const c = (
    v: ReturnType<typeof intImm> | ReturnType<typeof floatImm>,
    t: Parameters<typeof foldCast>[1],
  ) => {
    const r = foldCast(v, t);
    return r && show(r);
  };
  assert.equal(c(intImm(300), "int8"), "int8(44)");
  assert.equal(c(intImm(-1), "uint8"), "uint8(255)");
  assert.equal(c(intImm(-1), "uint32"), `uint32(${2 ** 32 - 1})`);
  assert.equal(c(floatImm(-2.7), "int32"), "-2");
  assert.equal(c(floatImm(1e10), "int32"), undefined);
  assert.equal(c(floatImm(NaN), "int32"), undefined);
  assert.equal(c(intImm(0), "bool"), "False");
  assert.equal(c(floatImm(0.5), "bool"), "True");
  assert.equal(c(intImm(3), "float16"), "float16(3)");
  assert.equal(c(floatImm(0.1, "float64"), "float32"), `float32(${Math.fround(0.1)})`);
  assert.equal(foldCast(primVar("x"), "int64"), undefined);
});

Deno.test("roundFloat(), fitsInt() and isSignedInt()", () => {
  assert.equal(roundFloat(0.1, "float32"), Math.fround(0.1));
  assert.equal(roundFloat(0.1, "float64"), 0.1);
  assert.equal(roundFloat(1 / 3, "float16"), f16Value(0x3555));
  assert.ok(fitsInt(255, "uint8"));
  assert.ok(!fitsInt(256, "uint8"));
  assert.ok(!fitsInt(-1, "uint32"));
  assert.ok(fitsInt(2 ** 40, "int64"));
  assert.ok(!fitsInt(2 ** 60, "int64"));
  assert.ok(isSignedInt("int64"));
  assert.ok(!isSignedInt("uint8"));
  assert.ok(!isSignedInt("int32x4"));
});
