import assert from "node:assert/strict";
import {
  add,
  binary,
  boolImm,
  broadcast,
  bufferLoad,
  callIntrin,
  cast,
  castExpr,
  constant,
  declBuffer,
  floatImm,
  floordiv,
  floormod,
  intImm,
  isPrimExpr,
  letExpr,
  mul,
  neg,
  not,
  notExpr,
  primVar,
  ramp,
  range,
  select,
  sizeVar,
  toExpr,
} from "../../ir/expr.ts";

Deno.test("variables have identity, not names", () => {
  const a = primVar("x");
  const b = primVar("x");
  assert.notEqual(a, b);
  assert.equal(a.dtype, "int32");
  assert.equal(sizeVar("n", "int64").isSize, true);
  assert.ok(isPrimExpr(a));
  assert.ok(!isPrimExpr({ kind: "Var" }));
});

Deno.test("fluent helpers build typed nodes", () => {
  const i = primVar("i");
  const j = primVar("j");
  const e = i.mul(4).add(j);
  assert.equal(e.kind, "Add");
  assert.equal(e.dtype, "int32");
  const c = i.lt(j);
  assert.equal(c.dtype, "bool");
  assert.equal(i.floordiv(2).kind, "FloorDiv");
  assert.equal(i.floormod(2).kind, "FloorMod");
  assert.equal(i.div(2).kind, "Div");
  assert.equal(i.mod(2).kind, "Mod");
  assert.equal(i.min(j).kind, "Min");
  assert.equal(i.max(j).kind, "Max");
  assert.equal(i.eq(j).and(i.ne(j)).kind, "And");
  assert.equal(i.le(j).or(i.ge(j)).kind, "Or");
  assert.equal(i.gt(j).not().kind, "Not");
  assert.equal(i.neg().kind, "Sub");
  assert.equal(i.cast("float32").kind, "Cast");
  assert.equal(i.cast("int32"), i);
});

Deno.test("operators fold constants and identities like TVM's", () => {
  const x = primVar("x");
  assert.equal((add(2, 3) as { value: number }).value, 5);
  assert.equal(x.add(0), x);
  assert.equal(x.mul(1), x);
  assert.equal((x.mul(0) as { value: number }).value, 0);
  assert.equal((floordiv(-7, 2) as { value: number }).value, -4);
  assert.equal((floormod(-7, 2) as { value: number }).value, 1);
  assert.equal((mul(floatImm(1.5), 2) as { value: number }).value, 3);
  assert.equal((intImm(7).div(2) as { value: number }).value, 3);
  assert.equal((intImm(-7).mod(2) as { value: number }).value, -1);
  assert.equal((neg(intImm(3)) as { value: number }).value, -3);
  assert.equal(not(true).kind, "IntImm");
  assert.equal(boolImm(true).and(x.lt(1)).kind, "LT");
  assert.equal(boolImm(false).or(x.lt(1)).kind, "LT");
  assert.equal((cast(intImm(3), "float32") as { value: number }).value, 3);
  assert.equal((cast(floatImm(3.7), "int32") as { value: number }).value, 3);
});

Deno.test("numbers adopt the other operand's dtype; narrow ints widen", () => {
  const n = primVar("n", "int64");
  assert.equal(n.add(1).dtype, "int64");
  const f = primVar("f", "float16");
  assert.equal(f.mul(0.5).dtype, "float16");
  const i = primVar("i");
  const w = i.add(n);
  assert.equal(w.dtype, "int64");
  assert.equal(toExpr(2.5).dtype, "float32");
  assert.equal(toExpr(true).dtype, "bool");
});

Deno.test("mixing int and float without a cast is an error", () => {
  const i = primVar("i");
  const f = primVar("f", "float32");
  assert.throws(() => i.add(f), {
    message: "Cannot add int32 and float32: insert an explicit cast",
  });
  assert.throws(() => i.mul(f), {
    message: "Cannot multiply int32 and float32: insert an explicit cast",
  });
  assert.throws(() => i.lt(f), {
    message: "Cannot compare int32 and float32: insert an explicit cast",
  });
  assert.throws(() => i.add(1.5), {
    message: "Cannot combine int32 with the non-integer 1.5: insert an explicit cast",
  });
  assert.throws(() => binary("Add", i, primVar("j", "int64")), {
    message: "Cannot add int32 and int64: insert an explicit cast",
  });
  assert.throws(() => binary("And", i, i), { message: "Cannot and int32 values: expected bool" });
});

Deno.test("constant constructors validate their values", () => {
  assert.throws(() => intImm(1.5), {
    message: "Cannot make an int32 constant from 1.5: not an integer",
  });
  assert.throws(() => intImm(1, "float32"), {
    message: "Cannot make an integer constant of dtype float32",
  });
  assert.throws(() => intImm(2, "bool"), { message: "Cannot make a bool constant from 2" });
  assert.throws(() => floatImm(1, "int32"), {
    message: "Cannot make a float constant of dtype int32",
  });
  assert.equal(constant(true, "bool").value, 1);
  assert.equal(constant(2, "float32").kind, "FloatImm");
});

Deno.test("select, cast, let, not and intrinsics check their operands", () => {
  const i = primVar("i");
  const f = primVar("f", "float32");
  assert.throws(() => select(i, f, f), { message: "Select condition must be bool, got int32" });
  assert.equal(select(i.lt(1), f, 0).dtype, "float32");
  assert.throws(() => castExpr("float32x4", i), {
    message: "Cannot cast int32 to float32x4: lane counts differ",
  });
  assert.throws(() => letExpr(primVar("v"), f, i), {
    message: 'Cannot bind float32 value to int32 variable "v"',
  });
  assert.throws(() => notExpr(i), { message: "Cannot negate int32 logically: expected bool" });
  assert.throws(() => callIntrin("tir.nope", [f]), { message: 'Unknown intrinsic "tir.nope"' });
  assert.throws(() => callIntrin("tir.exp", [f, f]), {
    message: 'Intrinsic "tir.exp" takes 1 arguments, got 2',
  });
  assert.throws(() => callIntrin("tir.exp", [i]), {
    message: 'Intrinsic "tir.exp" expects a float argument, got int32',
  });
  assert.throws(() => callIntrin("tir.if_then_else", [i, f, f]), {
    message: "if_then_else condition must be bool, got int32",
  });
  assert.throws(() => callIntrin("tir.reinterpret", [f]), {
    message: 'Intrinsic "tir.reinterpret" needs an explicit result dtype',
  });
  assert.equal(callIntrin("tir.if_then_else", [i.lt(2), f, 1]).dtype, "float32");
  assert.equal(callIntrin("tir.isnan", [f]).dtype, "bool");
  assert.equal(callIntrin("tir.pow", [f, 2]).dtype, "float32");
});

Deno.test("buffers check index counts and shapes", () => {
  const A = declBuffer([4, 8], "float32", "A");
  const i = primVar("i");
  assert.equal(bufferLoad(A, [i, 0]).dtype, "float32");
  assert.throws(() => bufferLoad(A, [i]), {
    message: 'Buffer "A" has 2 dimensions, got 1 indices',
  });
  assert.throws(() => bufferLoad(A, [i, primVar("f", "float32")]), {
    message: 'Buffer "A" index must be an integer, got float32',
  });
  assert.throws(() => declBuffer([primVar("f", "float32")], "float32", "B"), {
    message: 'Buffer "B" shape must be integers, got float32',
  });
  assert.equal(A.data.dtype, "handle");
  assert.equal(A.scope, "global");
});

Deno.test("ramp, broadcast and range", () => {
  const i = primVar("i");
  const r = ramp(i, 1, 4);
  assert.equal(r.dtype, "int32x4");
  assert.equal(broadcast(floatImm(1), 4).dtype, "float32x4");
  const A = declBuffer([16], "float32", "A");
  assert.equal(bufferLoad(A, [r]).dtype, "float32x4");
  assert.equal(range(8).min.kind, "IntImm");
  const n = primVar("n", "int64");
  assert.equal(range(n).min.dtype, "int64");
  assert.equal(range(0, n).min.dtype, "int64");
});

Deno.test("ramp stride must match the base dtype", () => {
  const i = primVar("i", "int64");
  assert.throws(() => ramp(i, primVar("s", "int32"), 4), {
    message: "Ramp stride int32 differs from base int64",
  });
});

Deno.test("folded integer division never yields -0", () => {
  assert.ok(Object.is((intImm(-1).div(2) as { value: number }).value, 0));
  assert.ok(Object.is((intImm(-4).mod(2) as { value: number }).value, 0));
  assert.ok(Object.is((floormod(-4, 2) as { value: number }).value, 0));
});
