import assert from "node:assert/strict";
import { declBuffer, primVar, sizeVar } from "../../ir/expr.ts";
import { flatIndex, isNonNegative, NameTable } from "../../runtime/codegen_util.ts";
import { toKernelExpr } from "../../runtime/kernel_analysis.ts";

Deno.test("flatIndex linearizes row-major, with strides and offsets", () => {
  const n = sizeVar("n");
  const [i, j, k] = [primVar("i"), primVar("j"), primVar("k")];
  const names = new Map([[i, "i"], [j, "j"], [k, "k"], [n, "n"]]);
  const A = declBuffer([n, 4, 3], "float32", "A");
  assert.deepEqual(toKernelExpr(flatIndex(A, [i, j, k]), names), [
    "add",
    ["mul", ["add", ["mul", "i", 4], "j"], 3],
    "k",
  ]);
  const S = declBuffer([4, 4], "float32", "S", { strides: [8, 1], elemOffset: 5 });
  assert.deepEqual(toKernelExpr(flatIndex(S, [i, j]), names), ["add", 5, [
    "add",
    ["mul", "i", 8],
    "j",
  ]]);
});

Deno.test("isNonNegative knows sizes, sums, products and divisions by positive constants", () => {
  const n = sizeVar("n"), m = primVar("m");
  const nonNeg = new Set([n]);
  assert.equal(isNonNegative(n.add(3).floordiv(4), nonNeg), true);
  assert.equal(isNonNegative(n.mul(2).floormod(5).max(0), nonNeg), true);
  assert.equal(isNonNegative(n.sub(1), nonNeg), false);
  assert.equal(isNonNegative(n.floordiv(-2), nonNeg), false);
  assert.equal(isNonNegative(m, nonNeg), false);
});

Deno.test("NameTable sanitizes and uniquifies identifiers", () => {
  const t = new NameTable(["var"]);
  assert.deepEqual(["var", "a.b", "a_b", "3x", "__x", ""].map((h) => t.fresh(h)), [
    "var_1",
    "a_b",
    "a_b_1",
    "v_3x",
    "x",
    "v",
  ]);
});
