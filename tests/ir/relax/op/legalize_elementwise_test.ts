import assert from "node:assert/strict";
import { constant, primVar } from "../../../../ir/expr.ts";
import { BlockBuilder } from "../../../../ir/relax/block_builder.ts";
import { constantTensor, type Expr, primValue } from "../../../../ir/relax/expr.ts";
import * as op from "../../../../ir/relax/op/mod.ts";
import * as R from "../../../../ir/relax/r.ts";
import { legalizeOps } from "../../../../transform/relax/legalize_ops.ts";
import { binaryScalar, unaryScalar } from "../../../../ir/relax/op/legalize/topi_elemwise.ts";
import type { ArrayArg } from "../../../_tir_interp.ts";
import { assertClose, at, legalizeAndRun, rand, randInt, tabulate, testOnTargets } from "./_run.ts";

const n = primVar("n", "int64");

/** Broadcast reference of a binary function over [3, 1, 4] x [2, 1] -> [3, 2, 4]. */
function binaryRef(a: ArrayArg, b: ArrayArg, f: (x: number, y: number) => number) {
  return tabulate([3, 2, 4], ([i, j, k]) => f(at(a, [i!, 0, k!]), at(b, [j!, 0])));
}

const BINARY: [string, (x: Expr, y: Expr) => Expr, (x: number, y: number) => number][] = [
  ["add", op.add, (x, y) => x + y],
  ["subtract", op.subtract, (x, y) => x - y],
  ["multiply", op.multiply, (x, y) => x * y],
  ["divide", op.divide, (x, y) => x / y],
  ["floor_divide", op.floorDivide, (x, y) => Math.floor(x / y)],
  ["power", op.power, (x, y) => x ** y],
  ["maximum", op.maximum, Math.max],
  ["minimum", op.minimum, Math.min],
  ["equal", op.equal, (x, y) => +(x === y)],
  ["not_equal", op.notEqual, (x, y) => +(x !== y)],
  ["less", op.less, (x, y) => +(x < y)],
  ["less_equal", op.lessEqual, (x, y) => +(x <= y)],
  ["greater", op.greater, (x, y) => +(x > y)],
  ["greater_equal", op.greaterEqual, (x, y) => +(x >= y)],
];

Deno.test("binary ops broadcast (symbolic leading dim) and match a float64 reference", () => {
  const x = R.tensor([n, 1, 4], "float32", "x"), y = R.tensor([2, 1], "float32", "y");
  const a = rand([3, 1, 4], 1, { lo: 0.5, hi: 2 });
  // equal values exist so that equal/less_equal see ties
  const b = { shape: [2, 1], data: [a.data[1]!, 1.25] };
  for (const [name, f, ref] of BINARY) {
    const got = legalizeAndRun([x, y], () => f(x, y), [a, b]);
    assertClose(got, binaryRef(a, b, ref), { rtol: 2e-6 });
    assert.ok(got && typeof got === "object", name);
  }
});

Deno.test("logical binary ops on bool tensors", () => {
  const x = R.tensor([4], "bool", "x"), y = R.tensor([4], "bool", "y");
  const a = { shape: [4], data: [0, 0, 1, 1] }, b = { shape: [4], data: [0, 1, 0, 1] };
  assertClose(legalizeAndRun([x, y], () => op.logicalAnd(x, y), [a, b]), {
    shape: [4],
    data: [0, 0, 0, 1],
  });
  assertClose(legalizeAndRun([x, y], () => op.logicalOr(x, y), [a, b]), {
    shape: [4],
    data: [0, 1, 1, 1],
  });
  assertClose(legalizeAndRun([x], () => op.logicalNot(x), [a]), { shape: [4], data: [1, 1, 0, 0] });
});

Deno.test("integer division truncates, floor_divide floors", () => {
  const x = R.tensor([4], "int32", "x"), y = R.tensor([4], "int32", "y");
  const a = { shape: [4], data: [7, -7, 7, -7] }, b = { shape: [4], data: [2, 2, -2, -2] };
  assertClose(legalizeAndRun([x, y], () => op.divide(x, y), [a, b]), {
    shape: [4],
    data: [3, -3, -3, 3],
  });
  assertClose(legalizeAndRun([x, y], () => op.floorDivide(x, y), [a, b]), {
    shape: [4],
    data: [3, -4, -4, 3],
  });
  assertClose(
    legalizeAndRun([x, y], () => op.power(x, y), [a, { shape: [4], data: [2, 3, 0, 1] }]),
    {
      shape: [4],
      data: [49, -343, 1, -7],
    },
  );
});

Deno.test("a rank-0 constant operand is inlined into the kernel", () => {
  const x = R.tensor([2, 3], "float32", "x");
  const c = constantTensor({ dtype: "float32", shape: [], data: Float32Array.of(1.5) });
  const bb = new BlockBuilder();
  bb.function("main", [x], () => bb.dataflow(() => bb.emitOutput(op.subtract(c, x))));
  const mod = legalizeOps()(bb.get());
  const f = mod.functions.get("subtract")!;
  assert.equal(f.kind === "PrimFunc" && f.params.length, 2); // x and the output only
  const a = rand([2, 3], 3);
  const got = legalizeAndRun([x], () => op.subtract(c, x), [a]);
  assertClose(got, tabulate([2, 3], (ix) => 1.5 - at(a, ix)));
});

const UNARY: [(x: Expr) => Expr, (v: number) => number, number, number][] = [
  [op.exp, Math.exp, -1, 1],
  [op.log, Math.log, 0.1, 3],
  [op.sqrt, Math.sqrt, 0.1, 3],
  [op.rsqrt, (v) => 1 / Math.sqrt(v), 0.1, 3],
  [op.tanh, Math.tanh, -2, 2],
  [op.sigmoid, (v) => 1 / (1 + Math.exp(-v)), -3, 3],
  [op.erf, erf64, -2, 2],
  [op.sin, Math.sin, -3, 3],
  [op.cos, Math.cos, -3, 3],
  [op.negative, (v) => -v, -1, 1],
  [op.abs, Math.abs, -1, 1],
  [op.floor, Math.floor, -3, 3],
  [op.ceil, Math.ceil, -3, 3],
  [op.round, Math.round, -3, 3],
  [op.square, (v) => v * v, -2, 2],
];

/** erf by numerical integration (Simpson, 2000 panels): an independent reference. */
function erf64(x: number): number {
  const m = 2000, h = x / m;
  let s = 0;
  for (let i = 0; i <= m; i++) {
    const w = i === 0 || i === m ? 1 : i % 2 ? 4 : 2;
    s += w * Math.exp(-((i * h) ** 2));
  }
  return (2 / Math.sqrt(Math.PI)) * (h / 3) * s;
}

Deno.test("unary ops match a float64 reference on static and symbolic shapes", () => {
  const xs = R.tensor([2, 5], "float32", "x"), xd = R.tensor([n, 5], "float32", "x");
  UNARY.forEach(([f, ref, lo, hi], i) => {
    const a = rand([2, 5], 10 + i, { lo, hi });
    const want = tabulate([2, 5], (ix) => ref(at(a, ix)));
    assertClose(legalizeAndRun([xs], () => f(xs), [a]), want, { rtol: 2e-6, atol: 1e-6 });
    assertClose(legalizeAndRun([xd], () => f(xd), [a]), want, { rtol: 2e-6, atol: 1e-6 });
  });
});

Deno.test("round is half to even; integer floor/ceil/round/abs/negative are exact", () => {
  const x = R.tensor([6], "float32", "x");
  const a = { shape: [6], data: [0.5, 1.5, 2.5, -0.5, -1.5, 0.25] };
  assertClose(legalizeAndRun([x], () => op.round(x), [a]), {
    shape: [6],
    data: [0, 2, 2, -0, -2, 0],
  });
  const i = R.tensor([4], "int32", "i");
  const b = { shape: [4], data: [-3, 0, 5, -1] };
  for (const f of [op.floor, op.ceil, op.round]) {
    assertClose(legalizeAndRun([i], () => f(i), [b]), b);
  }
  assertClose(legalizeAndRun([i], () => op.abs(i), [b]), { shape: [4], data: [3, 0, 5, 1] });
  assertClose(legalizeAndRun([i], () => op.negative(i), [b]), { shape: [4], data: [3, -0, -5, 1] });
});

Deno.test("clip takes its bounds from prim values, including symbolic ones", () => {
  const x = R.tensor([2, 4], "float32", "x");
  const a = rand([2, 4], 5, { lo: -2, hi: 2 });
  const lo = primValue(constant(-0.5, "float32")), hi = primValue(constant(0.75, "float32"));
  assertClose(
    legalizeAndRun([x], () => op.clip(x, lo, hi), [a]),
    tabulate([2, 4], (ix) => Math.min(Math.max(at(a, ix), -0.5), 0.75)),
  );
  // a symbolic bound (from a shape parameter) reaches the kernel as a tir_var
  const k = R.tensor([2, 4], "int64", "k");
  const m = primVar("m", "int64");
  const s = R.param("s", R.Shape([m]));
  const b = randInt([2, 4], 6, -10, 10);
  const body = () => op.clip(k, primValue(constant(-3, "int64")), primValue(m));
  assertClose(
    legalizeAndRun([k, s], body, [b, [4]]),
    tabulate([2, 4], (ix) => Math.min(Math.max(at(b, ix), -3), 4)),
  );
  const bb = new BlockBuilder();
  bb.function("main", [k, s], () => bb.dataflow(() => bb.emitOutput(body())));
  const f = legalizeOps()(bb.get()).functions.get("tir_clip")!;
  assert.equal(f.kind === "PrimFunc" && f.params.length, 3);
});

const ACTIVATIONS: [(x: Expr) => Expr, (v: number) => number][] = [
  [op.nn.relu, (v) => Math.max(v, 0)],
  [op.nn.gelu, (v) => 0.5 * v * (1 + erf64(v / Math.SQRT2))],
  [
    op.nn.geluTanh,
    (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))),
  ],
  [op.nn.silu, (v) => v / (1 + Math.exp(-v))],
];

Deno.test("activations match a float64 reference", () => {
  const x = R.tensor([n, 6], "float32", "x");
  ACTIVATIONS.forEach(([f, ref], i) => {
    const a = rand([3, 6], 20 + i, { lo: -3, hi: 3 });
    assertClose(
      legalizeAndRun([x], () => f(x), [a]),
      tabulate([3, 6], (ix) => ref(at(a, ix))),
      { rtol: 1e-5, atol: 1e-6 },
    );
  });
});

Deno.test("unknown operand shapes are left for later (not legalized)", () => {
  const x = R.param("x", R.Tensor(undefined, "float32", 2));
  const bb = new BlockBuilder();
  bb.function("main", [x], () => bb.dataflow(() => bb.emitOutput(op.exp(x))));
  const mod = bb.get();
  assert.equal(legalizeOps()(mod), mod);
});

Deno.test("legalization errors: unknown scalar bounds, unknown scalar functions", () => {
  const x = R.tensor([2], "float32", "x"), lo = R.param("lo", R.Prim("float32"));
  const hi = primValue(constant(1, "float32"));
  assert.throws(() => legalizeAndRun([x, lo], () => op.clip(x, lo, hi), []), {
    message: 'Cannot legalize "clip": argument "min" must be a known scalar (R.prim_value)',
  });
  assert.throws(() => binaryScalar("bitwise_xor"), {
    message: 'Unknown binary operator "bitwise_xor"',
  });
  assert.throws(() => unaryScalar("acosh"), { message: 'Unknown unary operator "acosh"' });
});

testOnTargets("legalize_elementwise");
