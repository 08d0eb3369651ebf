import assert from "node:assert/strict";
import { boolImm, floatImm, intImm, primVar } from "../../../ir/expr.ts";
import * as te from "../../../ir/te/mod.ts";
import { runPrimFunc } from "../../_tir_interp.ts";

Deno.test("reduceAxis() makes a Var with a remembered domain", () => {
  const k = te.reduceAxis([2, 10], "k");
  assert.equal(k.kind, "Var");
  assert.equal(k.name, "k");
  assert.equal(k.dtype, "int32");
  const dom = te.reduceAxisDom(k)!;
  assert.deepEqual([dom.min, dom.extent], [intImm(2), intImm(8)]);
  assert.equal(te.isReduceAxis(k), true);
  assert.equal(te.isReduceAxis(primVar("k")), false);
  assert.equal(te.reduceAxisDom(primVar("k")), undefined);
  const r = te.reduceAxis(5, "r");
  assert.deepEqual(te.reduceAxisDom(r)!.extent, intImm(5));
});

Deno.test("reduceAxis() takes int64 from its bounds or from options", () => {
  const n = te.var("n", "int64");
  const k = te.reduceAxis([0, n], "k");
  assert.equal(k.dtype, "int64");
  assert.deepEqual(te.reduceAxisDom(k)!.min, intImm(0, "int64"));
  assert.equal(te.reduceAxisDom(k)!.extent, n);
  const j = te.reduceAxis([0, 4], "j", { dtype: "int64" });
  assert.deepEqual(te.reduceAxisDom(j)!.extent, intImm(4, "int64"));
  assert.throws(() => te.reduceAxis([0, primVar("x", "float32")], "bad"), {
    message: 'Reduce axis "bad" bounds must be integers, got float32',
  });
});

Deno.test("sum/prod/max/min build reductions with the right identities", () => {
  const A = te.placeholder([4, 4], "float32", "A");
  const k = te.reduceAxis([0, 4], "k");
  const cases: [te.Reducer, number][] = [
    [te.sum, 0],
    [te.prod, 1],
    [te.max, -3.4028234663852886e38],
    [te.min, 3.4028234663852886e38],
  ];
  for (const [reducer, identity] of cases) {
    const r = reducer(A.at(0, k), k);
    assert.equal(r.kind, "te.Reduce");
    assert.deepEqual(r.axes, [k]);
    assert.deepEqual(r.combiner.identity, [floatImm(identity)]);
    assert.equal(r.dtype, "float32");
    assert.deepEqual(r.condition, boolImm(true));
    assert.equal(r.init, undefined);
  }
  const kinds = [te.sum, te.prod, te.max, te.min].map((f) =>
    f(A.at(0, k), [k]).combiner.result[0]!.kind
  );
  assert.deepEqual(kinds, ["Add", "Mul", "Max", "Min"]);
});

Deno.test("minValue() and maxValue() give the dtype's finite extremes", () => {
  assert.deepEqual(te.minValue("int8"), intImm(-128, "int8"));
  assert.deepEqual(te.maxValue("uint8"), intImm(255, "uint8"));
  assert.deepEqual(te.minValue("int32"), intImm(-2147483648));
  assert.deepEqual(te.maxValue("float16"), floatImm(65504, "float16"));
  assert.deepEqual(te.minValue("float64"), floatImm(-Number.MAX_VALUE, "float64"));
  assert.deepEqual(te.minValue("bool"), boolImm(false));
  assert.deepEqual(te.minValue("int64"), intImm(-(2 ** 63), "int64"));
  assert.ok((te.maxValue("int64") as { value: number }).value < 2 ** 63);
  assert.throws(() => te.maxValue("handle"), {
    message: 'Cannot take the largest value of dtype "handle"',
  });
  assert.throws(() => te.minValue("void"), {
    message: 'Cannot take the smallest value of dtype "void"',
  });
});

Deno.test("max and min reductions compute on int tensors", () => {
  const A = te.placeholder([2, 3], "int32", "A");
  const k = te.reduceAxis([0, 3], "k");
  const M = te.compute([2], ([i]) => te.max(A.at(i, k), k), { name: "M" });
  const m = te.compute([2], ([i]) => te.min(A.at(i, k), k), { name: "m" });
  const outM = [NaN, NaN], outm = [NaN, NaN];
  runPrimFunc(te.createPrimFunc([A, M, m]), [
    { shape: [2, 3], data: [-5, -9, -7, 4, 8, 1] },
    { shape: [2], data: outM },
    { shape: [2], data: outm },
  ]);
  assert.deepEqual(outM, [-5, 8]);
  assert.deepEqual(outm, [-9, 1]);
});

Deno.test("commReducer() makes a custom reducer", () => {
  const sumSq = te.commReducer((x, y) => x.add(y.mul(y)), (t) => te.const(0, t), {
    name: "sum_sq",
  });
  const A = te.placeholder([2, 3], "float32", "A");
  const k = te.reduceAxis([0, 3], "k");
  const S = te.compute([2], ([i]) => sumSq(A.at(i, k), [k]), { name: "S" });
  const out = [NaN, NaN];
  runPrimFunc(te.createPrimFunc([A, S]), [
    { shape: [2, 3], data: [1, 2, 3, -1, 0, 2] },
    { shape: [2], data: out },
  ]);
  assert.deepEqual(out, [14, 5]);
});

Deno.test("commReducer() checks its combiner and identity", () => {
  const A = te.placeholder([3], "float32", "A");
  const k = te.reduceAxis([0, 3], "k");
  const badIdentity = te.commReducer((x, y) => x.add(y), () => te.const(0, "int32"), {
    name: "bad",
  });
  assert.throws(() => badIdentity(A.at(k), k), {
    message: 'Reduction "bad": the identity value 0 is int32, expected float32',
  });
  const badCombine = te.commReducer((x, y) => x.gt(y), (t) => te.const(0, t), { name: "bad" });
  assert.throws(() => badCombine(A.at(k), k), {
    message: 'Reduction "bad": the combiner value 0 is bool, expected float32',
  });
  const pair = te.multiCommReducer((x) => [x[0]!], (ts) => ts.map((t) => te.const(0, t)), {
    name: "pair",
  });
  assert.throws(() => pair([A.at(k), A.at(k)], k), {
    message: 'Reduction "pair": the combiner gave 1 values for 2 sources',
  });
  assert.throws(() => te.sum(A.at(k), k, { where: 1 }), {
    message: 'Reduction "sum": the where condition must be bool, got int32',
  });
});

Deno.test("reductions check their axes", () => {
  const A = te.placeholder([3], "float32", "A");
  const k = te.reduceAxis([0, 3], "k");
  assert.throws(() => te.sum(A.at(k), [k, k]), {
    message: 'Reduction "sum": reduce axis "k" is listed twice',
  });
  const i = primVar("i");
  assert.throws(() => te.sum(A.at(i), [i]), {
    message: 'Reduction "sum": "i" is not a reduce axis (make one with te.reduceAxis)',
  });
  assert.throws(() => te.sum(A.at(k), []), {
    message: 'Reduction "sum" needs at least one reduce axis',
  });
  assert.throws(() => te.sum(te.sum(A.at(k), k) as unknown as number, k), {
    message: 'Reduction "sum": cannot reduce a reduction',
  });
});

Deno.test("a reduction over two axes sums a whole matrix", () => {
  const A = te.placeholder([2, 3], "float32", "A");
  const r = te.reduceAxis([0, 2], "r");
  const c = te.reduceAxis([0, 3], "c");
  const S = te.compute([], () => te.sum(A.at(r, c), [r, c]), { name: "S" });
  assert.ok(S.op.kind === "te.ComputeOp");
  assert.deepEqual(S.op.reduceAxes.map((a) => [a.var, a.iterKind]), [[r, "reduce"], [c, "reduce"]]);
  const out = [NaN];
  runPrimFunc(te.createPrimFunc([A, S]), [
    { shape: [2, 3], data: [1, 2, 3, 4, 5, 6] },
    { shape: [], data: out },
  ]);
  assert.deepEqual(out, [21]);
});

Deno.test("argmax() returns two reductions sharing a combiner", () => {
  const A = te.placeholder([4, 4], "float32", "A");
  const k = te.reduceAxis([0, 4], "k");
  const [idx, val] = te.argmax(A.at(0, k), k, { indexDtype: "int64" });
  assert.equal(idx!.combiner, val!.combiner);
  assert.deepEqual([idx!.valueIndex, val!.valueIndex], [0, 1]);
  assert.deepEqual([idx!.dtype, val!.dtype], ["int64", "float32"]);
  assert.deepEqual(idx!.combiner.identity, [intImm(-1, "int64"), floatImm(-3.4028234663852886e38)]);
  assert.throws(() => te.argmax(A.at(0, 0), primVar("j")), {
    message: 'Reduction "argmax": "j" is not a reduce axis (make one with te.reduceAxis)',
  });
});

Deno.test("argmax() honours where", () => {
  const A = te.placeholder([5], "float32", "A");
  const k = te.reduceAxis([0, 5], "k");
  const [i, v] = te.compute([], () => te.argmax(A.at(k), k, { where: k.ge(2) }), { name: "am" });
  const oi = [NaN], ov = [NaN];
  runPrimFunc(te.createPrimFunc([A, i!, v!]), [
    { shape: [5], data: [9, 8, 1, 3, 2] },
    { shape: [], data: oi },
    { shape: [], data: ov },
  ]);
  assert.deepEqual([oi[0], ov[0]], [3, 3]);
});
