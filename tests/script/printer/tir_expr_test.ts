import assert from "node:assert/strict";
import {
  add,
  binary,
  boolImm,
  broadcast,
  bufferLoad,
  callIntrin,
  cast,
  declBuffer,
  div,
  floatImm,
  floordiv,
  floormod,
  intImm,
  letExpr,
  max,
  min,
  neg,
  not,
  notExpr,
  primVar,
  ramp,
  range,
  select,
  sizeVar,
  stringImm,
  truncdiv,
  truncmod,
} from "../../../ir/expr.ts";
import { iterVar } from "../../../ir/tir/stmt.ts";
import { printTVMScript } from "../../../script/printer.ts";

const i = primVar("i"), j = primVar("j"), k = primVar("k");
const p = (x: unknown) => printTVMScript(x);

Deno.test("printTVMScript() prints integer constants bare for int32 and typed otherwise", () => {
  assert.equal(p(intImm(4)), "4");
  assert.equal(p(intImm(-1)), "-1");
  assert.equal(p(intImm(4, "int64")), "T.int64(4)");
  assert.equal(p(intImm(-3, "int8")), "T.int8(-3)");
  assert.equal(p(intImm(3, "uint8")), "T.uint8(3)");
  assert.equal(p(boolImm(true)), "T.bool(True)");
  assert.equal(p(boolImm(false)), "T.bool(False)");
});

Deno.test("printTVMScript() prints float constants with their dtype, as TVM formats them", () => {
  assert.equal(p(floatImm(0)), "T.float32(0.0)");
  assert.equal(p(floatImm(0.5, "float16")), "T.float16(0.5)");
  assert.equal(p(floatImm(0.1, "float64")), "T.float64(0.10000000000000001)");
  assert.equal(p(floatImm(Math.fround(0.1))), "T.float32(0.10000000149011612)");
  assert.equal(p(floatImm(-Infinity)), 'T.float32("-inf")');
  assert.equal(p(stringImm('say "hi"\n')), '"say \\"hi\\"\\n"');
});

Deno.test("printTVMScript() prints arithmetic with Python operators and precedence", () => {
  assert.equal(p(i.mul(4).add(j)), "i * 4 + j");
  assert.equal(p(i.add(j).mul(4)), "(i + j) * 4");
  assert.equal(p(i.sub(j.sub(k))), "i - (j - k)");
  assert.equal(p(i.sub(j).sub(k)), "i - j - k");
  assert.equal(p(floordiv(i, j)), "i // j");
  assert.equal(p(floormod(i.add(1), 4)), "(i + 1) % 4");
  assert.equal(p(neg(i)), "0 - i");
  const n = primVar("n", "int64");
  assert.equal(p(n.add(1)), "n + T.int64(1)");
});

Deno.test("printTVMScript() prints truncating division and min/max as T calls", () => {
  assert.equal(p(truncdiv(i, j)), "T.Div(i, j)");
  assert.equal(p(truncmod(i, j)), "T.truncmod(i, j)");
  assert.equal(p(min(i, j)), "T.min(i, j)");
  assert.equal(p(max(i, 0)), "T.max(i, 0)");
  const x = primVar("x", "float32"), y = primVar("y", "float32");
  assert.equal(p(div(x, y)), "x / y");
  assert.equal(p(x.mul(y).div(x.add(y))), "x * y / (x + y)");
});

Deno.test("printTVMScript() uses node constructors where the sugar would fold", () => {
  assert.equal(p(binary("Add", intImm(1), intImm(2))), "T.Add(1, 2)");
  assert.equal(p(binary("Add", i, intImm(0))), "T.Add(i, 0)");
  assert.equal(p(binary("Mul", i, intImm(1))), "T.Mul(i, 1)");
  assert.equal(p(binary("FloorDiv", i, intImm(1))), "T.FloorDiv(i, 1)");
  assert.equal(p(binary("LT", intImm(1), intImm(2))), "T.LT(1, 2)");
  const x = primVar("x", "float32");
  assert.equal(p(binary("Div", x, floatImm(1))), "T.Div(x, T.float32(1.0))");
  const b = primVar("b", "bool");
  assert.equal(p(binary("And", b, boolImm(true))), "T.And(b, T.bool(True))");
});

Deno.test("printTVMScript() prints comparisons and logic", () => {
  assert.equal(p(i.lt(j)), "i < j");
  assert.equal(p(i.le(j)), "i <= j");
  assert.equal(p(i.gt(j)), "i > j");
  assert.equal(p(i.ge(j)), "i >= j");
  assert.equal(p(i.eq(j)), "i == j");
  assert.equal(p(i.ne(j)), "i != j");
  assert.equal(p(i.lt(j).and(j.lt(k))), "i < j and j < k");
  assert.equal(p(i.lt(j).or(j.lt(k)).and(k.eq(0))), "(i < j or j < k) and k == 0");
  assert.equal(p(not(i.lt(j))), "not i < j");
  assert.equal(p(notExpr(boolImm(true))), "not T.bool(True)");
});

Deno.test("printTVMScript() prints Select, Cast, Let and intrinsics", () => {
  assert.equal(p(select(i.lt(j), i, j)), "T.Select(i < j, i, j)");
  assert.equal(p(cast(i, "float32")), 'T.Cast("float32", i)');
  const x = primVar("x");
  assert.equal(p(letExpr(x, intImm(1), x.add(1))), "T.Let(x + 1, where={x: 1})");
  const f = primVar("f", "float32");
  assert.equal(p(callIntrin("tir.exp", [f])), "T.exp(f)");
  assert.equal(p(callIntrin("tir.pow", [f, 2])), "T.pow(f, T.float32(2.0))");
  assert.equal(p(callIntrin("tir.reinterpret", [f], "int32")), 'T.reinterpret("int32", f)');
  assert.equal(
    p(callIntrin("tir.if_then_else", [i.lt(j), f, 0])),
    "T.if_then_else(i < j, f, T.float32(0.0))",
  );
});

Deno.test("printTVMScript() prints buffer loads, ramps as slices and vectors", () => {
  const A = declBuffer([128, 128], "float32", "A");
  const B = declBuffer([64], "float32", "B");
  const S = declBuffer([], "float32", "S");
  assert.equal(p(bufferLoad(A, [i, j.add(1)])), "A[i, j + 1]");
  assert.equal(p(bufferLoad(B, [ramp(i.mul(4), 1, 4)])), "B[i * 4:i * 4 + 4]");
  assert.equal(p(bufferLoad(B, [ramp(i, 2, 4)])), "B[i:i + 8:2]");
  assert.equal(p(bufferLoad(S, [])), "S[()]");
  assert.equal(p(ramp(i, 1, 4)), "T.Ramp(i, 1, 4)");
  assert.equal(p(broadcast(floatImm(0), 4)), "T.Broadcast(T.float32(0.0), 4)");
  assert.equal(p(add(bufferLoad(A, [0, 0]), 1)), "A[0, 0] + T.float32(1.0)");
});

Deno.test("printTVMScript() prints a lone variable by name and a size variable too", () => {
  assert.equal(p(primVar("x", "float32")), "x");
  assert.equal(p(sizeVar("n")), "n");
  assert.equal(p(primVar("")), "v");
});

Deno.test("printTVMScript() prints a lone Range and IterVar", () => {
  assert.equal(p(range(0, 10)), "I.Range(0, 10)");
  assert.equal(p(range(i, 4)), "I.Range(i, i + 4)");
  assert.equal(p(iterVar(k, 8, "reduce")), 'T.iter_var(k, T.Range(0, 8), "CommReduce", "")');
});
