import assert from "node:assert/strict";
import {
  assertStructuralEqual,
  structuralEqual,
  structuralHash,
  StructuralMismatchError,
} from "../../ir/structural.ts";
import {
  type Buffer,
  bufferLoad,
  declBuffer,
  floatImm,
  intImm,
  letExpr,
  type PrimExpr,
  primVar,
  range,
  sizeVar,
  type Var,
} from "../../ir/expr.ts";
import {
  bufferRegion,
  bufferStore,
  forLoop,
  iterVar,
  letStmt,
  sblock,
  sblockRealize,
  seq,
  type Stmt,
} from "../../ir/tir/stmt.ts";
import { type PrimFunc, primFunc } from "../../ir/tir/prim_func.ts";
import {
  bindingBlock,
  constantTensor,
  dataflowBlock,
  dataflowVar,
  type Expr,
  type Function,
  globalVar,
  matchCast,
  opRef,
  primValue,
  rcall,
  relaxFunction,
  rvar,
  seqExpr,
  shapeExpr,
  tuple,
  varBinding,
} from "../../ir/relax/expr.ts";
import { objectSInfo, tensorSInfo } from "../../ir/relax/struct_info.ts";
import { irModule } from "../../ir/module.ts";

type Opts = { mapFreeVars?: boolean };

/** Asserts equality both ways, and that the hashes agree (on every equal pair of the suite). */
function assertEq(a: unknown, b: unknown, opts: Opts = {}): void {
  assertStructuralEqual(a, b, opts);
  assertStructuralEqual(b, a, opts);
  assert.ok(structuralEqual(a, b, opts));
  assert.equal(structuralHash(a, opts), structuralHash(b, opts), "equal values must hash alike");
}

/** Asserts inequality both ways (and, for these small cases, different hashes). */
function assertNe(a: unknown, b: unknown, opts: Opts = {}): void {
  assert.equal(structuralEqual(a, b, opts), false);
  assert.equal(structuralEqual(b, a, opts), false);
  assert.throws(() => assertStructuralEqual(a, b, opts), StructuralMismatchError);
  assert.notEqual(structuralHash(a, opts), structuralHash(b, opts));
}

function mismatch(a: unknown, b: unknown, opts: Opts = {}): StructuralMismatchError {
  try {
    assertStructuralEqual(a, b, opts);
  } catch (e) {
    if (e instanceof StructuralMismatchError) return e;
    throw e;
  }
  throw new Error("expected a mismatch");
}

// ---------------------------------------------------------------------------------------------
// TIR fixtures

/** `B[vi, vj] = A[vi, vj] + 1` over an (n, 4) grid; `swap` reads `A[vj, vi]` instead. */
function addOne(names: string, options: { swap?: boolean; bindSwapped?: boolean } = {}): PrimFunc {
  const n = primVar(`${names}n`);
  const A = declBuffer([n, n], "float32", `${names}A`);
  const B = declBuffer([n, n], "float32", `${names}B`);
  const i = primVar(`${names}i`), j = primVar(`${names}j`);
  const vi = primVar(`${names}vi`), vj = primVar(`${names}vj`);
  const idx = options.swap ? [vj, vi] : [vi, vj];
  const store = bufferStore(B, bufferLoad(A, idx).add(floatImm(1)), [vi, vj]);
  const blk = sblock(`${names}blk`, store, {
    iterVars: [iterVar(vi, range(n)), iterVar(vj, range(n))],
    reads: [bufferRegion(A, [range(vi, 1), range(vj, 1)])],
    writes: [bufferRegion(B, [range(vi, 1), range(vj, 1)])],
  });
  const realize = sblockRealize(options.bindSwapped ? [j, i] : [i, j], blk);
  const body = forLoop(i, { min: 0, extent: n }, forLoop(j, { min: 0, extent: n }, realize));
  return primFunc([A, B, n], body, { attrs: { global_symbol: "main" } });
}

Deno.test("structuralEqual: alpha-renamed PrimFuncs are equal and hash alike", () => {
  assertEq(addOne("a_"), addOne("b_"));
});

Deno.test("structuralEqual: loop and block iter vars are bound at their definitions", () => {
  assertNe(addOne("a_"), addOne("b_", { swap: true }));
  assertNe(addOne("a_"), addOne("b_", { bindSwapped: true }));
  assertEq(addOne("a_", { swap: true }), addOne("b_", { swap: true }));
});

Deno.test("structuralEqual: a reused loop var differs from two fresh ones", () => {
  const A = declBuffer([4], "float32", "A");
  const loop = (v: Var) => forLoop(v, { min: 0, extent: 4 }, bufferStore(A, floatImm(0), [v]));
  const i = primVar("i"), j = primVar("j"), k = primVar("k");
  assertNe(seq(loop(i), loop(i)), seq(loop(j), loop(k)));
  assertEq(seq(loop(i), loop(i)), seq(loop(j), loop(j)));
});

Deno.test("structuralEqual: the TIR mismatch path follows the field names", () => {
  const make = (k: number) => {
    const A = declBuffer([8], "float32", "A");
    const i = primVar("i"), vi = primVar("vi");
    const st = bufferStore(A, bufferLoad(A, [vi]).add(floatImm(k)), [vi]);
    const blk = sblock("blk", st, { iterVars: [iterVar(vi, range(8))] });
    return irModule({
      main: primFunc([A], forLoop(i, { min: 0, extent: 8 }, sblockRealize([i], blk))),
    });
  };
  assertEq(make(1), make(1));
  const e = mismatch(make(1), make(2));
  assert.equal(e.path, "main.body.body.block.body.value.b.value");
  assert.equal(e.lhs, 1);
  assert.equal(e.rhs, 2);
  assert.match(
    e.message,
    /^Structural mismatch at main\.body\.body\.block\.body\.value\.b\.value\n {2}lhs: 1\n {2}rhs: 2$/,
  );
});

Deno.test("structuralEqual: buffers map at the buffer map, with their shape vars", () => {
  const f = (name: string, extra: number) => {
    const n = primVar(name);
    const A = declBuffer([n, extra], "float32", "A");
    const B = declBuffer([n, 4], "float32", "B");
    const i = primVar("i");
    const body = forLoop(i, { min: 0, extent: n }, bufferStore(B, bufferLoad(A, [i, 0]), [i, 0]));
    return primFunc([A, B], body);
  };
  assertEq(f("n", 4), f("m", 4));
  const e = mismatch(f("n", 4), f("n", 5));
  assert.equal(e.path, "bufferMap[A_handle].shape[1].value");
  assert.equal(e.lhs, 4);
  assert.equal(e.rhs, 5);
  // A[n, 4] with B[n, 4] vs A[n, 4] with B[m, 4]: the second shape var is a new definition.
  const g = (same: boolean) => {
    const n = primVar("n"), m = primVar("m");
    return primFunc(
      [declBuffer([n], "float32", "A"), declBuffer([same ? n : m], "float32", "B")],
      seq(),
    );
  };
  assertNe(g(true), g(false));
  assertEq(g(false), g(false));
});

Deno.test("structuralEqual: buffers compare dtype, scope and shape but not names", () => {
  const n = primVar("n");
  const i = primVar("i");
  const load = (b: Buffer) => bufferLoad(b, [i]);
  assertEq(load(declBuffer([n], "float32", "A")), load(declBuffer([n], "float32", "B")));
  assertNe(load(declBuffer([n], "float32", "A")), load(declBuffer([n], "float16", "A")));
  assertNe(
    load(declBuffer([n], "float32", "A")),
    load(declBuffer([n], "float32", "A", { scope: "shared" })),
  );
});

Deno.test("structuralEqual: free vars are equal only when identical, unless mapFreeVars", () => {
  const x = primVar("x"), y = primVar("y");
  assertEq(x.add(1), x.add(1));
  assertNe(x.add(1), y.add(1));
  assertEq(x.add(1), y.add(1), { mapFreeVars: true });
  // mapping stays consistent
  assertNe(x.add(x), x.add(y), { mapFreeVars: true });
  assertEq(x.add(y), y.add(x), { mapFreeVars: true });
  const e = mismatch(x.add(1), y.add(1));
  assert.equal(e.path, "a");
  assert.equal(e.lhs, x);
  assert.equal(e.rhs, y);
  assert.match(
    e.message,
    /lhs: x\n {2}rhs: y\n {2}\(free variables differ; set mapFreeVars to map them to each other\)$/,
  );
});

Deno.test("structuralEqual: Let and LetStmt vars are definitions", () => {
  const x = primVar("x"), y = primVar("y"), z = primVar("z");
  assertEq(letExpr(x, intImm(1), x.mul(2)), letExpr(y, intImm(1), y.mul(2)));
  assertNe(letExpr(x, intImm(1), z.mul(2)), letExpr(y, intImm(1), y.mul(2)));
  const A = declBuffer([4], "int32", "A");
  const s = (v: Var) => letStmt(v, 3, bufferStore(A, v, [0]));
  assertEq(s(x), s(y));
  // a var of another dtype or a size var is a different definition
  assertNe(
    letExpr(x, intImm(1), x),
    letExpr(primVar("w", "int64"), intImm(1, "int64"), intImm(1, "int64")),
  );
  assertNe(s(x), s(sizeVar("s")));
});

Deno.test("structuralEqual: constants and floats", () => {
  assertEq(floatImm(NaN), floatImm(NaN));
  assertEq(floatImm(0), floatImm(-0));
  assertNe(floatImm(1), floatImm(1, "float64"));
  assertNe(intImm(1), floatImm(1));
  const c = (xs: number[]) =>
    constantTensor({ dtype: "float32", shape: [xs.length], data: new Float32Array(xs) });
  assertEq(c([1, NaN, 3]), c([1, NaN, 3]));
  assertNe(c([1, 2, 3]), c([1, 2, 4]));
  const e = mismatch(c([1, 2, 3]), c([1, 2, 4]));
  assert.equal(e.path, "data.data");
  assert.match(
    e.message,
    /lhs: Float32Array\(3\) \[1, 2, 3\]\n {2}rhs: Float32Array\(3\) \[1, 2, 4\]/,
  );
  assertNe(
    c([1, 2]),
    constantTensor({ dtype: "float32", shape: [2, 1], data: new Float32Array([1, 2]) }),
  );
  assertNe(c([1, 2]), constantTensor({ dtype: "int32", shape: [2], data: new Int32Array([1, 2]) }));
});

Deno.test("structuralEqual: attrs compare by key, in any order", () => {
  const x = primVar("x");
  assertEq({ a: 1, b: [true, "s"] }, { b: [true, "s"], a: 1 });
  assertNe({ a: 1 }, { a: 1, b: 2 });
  assertNe({ a: 1 }, { a: "1" });
  assertEq({ k: x.add(1) }, { k: x.add(1) });
  const e = mismatch({ a: { b: [1, 2] } }, { a: { b: [1, 3] } });
  assert.equal(e.path, "a.b[1]");
});

// ---------------------------------------------------------------------------------------------
// Relax fixtures

const f32 = (...shape: (number | PrimExpr)[]) => tensorSInfo(shape, "float32");

/** main(x: (n, 4), w: (4, 4)): lv0 = matmul(x, w); lv1 = add(lv0, x); gv = add(lv1, arg) */
function relaxMain(options: { lastArg?: "x" | "w"; names?: string } = {}): Function {
  const p = options.names ?? "";
  const n = primVar(`${p}n`, "int64");
  const x = rvar(`${p}x`, f32(n, 4));
  const w = rvar(`${p}w`, f32(4, 4));
  const lv0 = dataflowVar(`${p}lv0`, f32(n, 4));
  const lv1 = dataflowVar(`${p}lv1`, f32(n, 4));
  const gv = rvar(`${p}gv`, f32(n, 4));
  const last = options.lastArg === "w" ? w : x;
  const blk = dataflowBlock([
    varBinding(lv0, rcall(opRef("relax.matmul"), [x, w], { structInfo: f32(n, 4) })),
    varBinding(lv1, rcall(opRef("relax.add"), [lv0, x])),
    varBinding(gv, rcall(opRef("relax.add"), [lv1, last])),
  ]);
  return relaxFunction([x, w], seqExpr([blk], gv), { retStructInfo: f32(n, 4) });
}

Deno.test("structuralEqual: alpha-renamed Relax functions are equal and hash alike", () => {
  assertEq(relaxMain(), relaxMain({ names: "other_" }));
  assertEq(irModule({ main: relaxMain() }), irModule({ main: relaxMain({ names: "z" }) }));
});

Deno.test("structuralEqual: swapped uses of two params are not equal", () => {
  const f = (swap: boolean) => {
    const a = rvar("a", f32(4)), b = rvar("b", f32(4));
    const call = rcall(opRef("relax.subtract"), swap ? [b, a] : [a, b]);
    return relaxFunction([a, b], call, { retStructInfo: f32(4) });
  };
  assertNe(f(false), f(true));
  assertEq(f(true), f(true));
  const e = mismatch(f(false), f(true));
  assert.equal(e.path, "body.body.args[0]");
  assert.match(e.message, /\(the variables are bound at different definition points\)/);
});

Deno.test("assertStructuralEqual: names the path and shows both sides", () => {
  const lhs = irModule({ main: relaxMain({ lastArg: "x" }) });
  const rhs = irModule({ main: relaxMain({ lastArg: "w", names: "q" }) });
  const e = mismatch(lhs, rhs);
  assert.equal(e.path, "main.body.blocks[0].bindings[2].value.args[1]");
  assert.equal((e.lhs as { name: string }).name, "x");
  assert.equal((e.rhs as { name: string }).name, "qw");
  assert.ok(
    e.message.startsWith("Structural mismatch at main.body.blocks[0].bindings[2].value.args[1]\n"),
  );
  assert.match(e.message, /lhs: .*"x"/);
  assert.match(e.message, /rhs: .*"qw"/);
});

Deno.test("structuralEqual: symbolic vars are defined by param StructInfo", () => {
  const f = (swap: boolean) => {
    const n = primVar("n", "int64"), m = primVar("m", "int64");
    const x = rvar("x", f32(n, m));
    const ret = f32(swap ? m : n);
    return relaxFunction([x], rcall(opRef("relax.sum"), [x], { sinfoArgs: [ret] }), {
      retStructInfo: ret,
    });
  };
  assertEq(f(false), f(false));
  assertNe(f(false), f(true));
  // a param's StructInfo is compared at its definition
  const g = (k: number) => relaxFunction([rvar("x", f32(k))], rvar("y", f32(1)));
  const e = mismatch(g(3), g(4));
  assert.equal(e.path, "params[0].structInfo.shape[0].value");
});

Deno.test("structuralEqual: match_cast defines its new symbolic vars", () => {
  const f = (useNew: boolean) => {
    const x = rvar("x", tensorSInfo(undefined, "float32", 1));
    const k = primVar("k", "int64");
    const y = rvar("y", f32(k));
    const z = rvar("z", objectSInfo());
    const s = shapeExpr([useNew ? k : 4]);
    const blk = bindingBlock([matchCast(y, x, f32(k)), varBinding(z, s)]);
    return relaxFunction([x], seqExpr([blk], z));
  };
  assertEq(f(true), f(true));
  assertNe(f(true), f(false));
});

Deno.test("structuralEqual: DataflowVar and Var kinds must match", () => {
  const f = (df: boolean) => {
    const x = rvar("x", f32(4));
    const v = df ? dataflowVar("v", f32(4)) : rvar("v", f32(4));
    const gv = rvar("gv", f32(4));
    const blk = dataflowBlock([varBinding(v, x), varBinding(gv, v)]);
    return relaxFunction([x], seqExpr([blk], gv));
  };
  assertNe(f(true), f(false));
  assertNe(bindingBlock([]), dataflowBlock([]));
});

Deno.test("structuralEqual: a call's own StructInfo is not compared, its sinfoArgs are", () => {
  const x = rvar("x", f32(4));
  const c = (s: Parameters<typeof rcall>[2]) => rcall(opRef("relax.exp"), [x], s);
  assertEq(c({ structInfo: f32(4) }), c({ structInfo: objectSInfo() }));
  assertNe(c({ sinfoArgs: [f32(4)] }), c({ sinfoArgs: [f32(5)] }));
  assertNe(c({ attrs: { axis: 1 } }), c({ attrs: { axis: 2 } }));
  assertNe(rcall(opRef("relax.exp"), [x]), rcall(opRef("relax.log"), [x]));
});

Deno.test("structuralEqual: Relax functions compare purity, privacy and attrs", () => {
  const f = (o: Parameters<typeof relaxFunction>[2]) => {
    const x = rvar("x", f32(4));
    return relaxFunction([x], x, o);
  };
  assertEq(f({}), f({}));
  assertNe(f({ isPure: true }), f({ isPure: false }));
  assertNe(f({ isPrivate: true }), f({}));
  assertNe(f({ attrs: { global_symbol: "a" } }), f({ attrs: { global_symbol: "b" } }));
  assertNe(f({ retStructInfo: f32(4) }), f({ retStructInfo: objectSInfo() }));
});

Deno.test("structuralEqual: modules compare functions by name, in any order", () => {
  const prim = () => addOne("p");
  const m1 = irModule([["main", relaxMain()], ["add_one", prim()]]);
  const m2 = irModule([["add_one", prim()], ["main", relaxMain()]]);
  assertEq(m1, m2);
  const m3 = irModule([["main", relaxMain()], ["add_two", prim()]]);
  const e = mismatch(m1, m3);
  assert.equal(e.path, "functions");
  assert.deepEqual(e.lhs, ["add_one", "main"]);
  assert.deepEqual(e.rhs, ["add_two", "main"]);
  assert.match(e.message, /lhs: \["add_one", "main"\]/);
  assertNe(irModule({ main: relaxMain() }, { attrs: { a: 1 } }), irModule({ main: relaxMain() }));
  assertEq(globalVar("f"), globalVar("f", f32(1)));
  assertNe(globalVar("f"), globalVar("g"));
});

Deno.test("structuralEqual: tuples, prim values and nested arrays", () => {
  const x = rvar("x", f32(2));
  const n = primVar("n", "int64");
  assertEq(tuple([x, primValue(n)]), tuple([x, primValue(n)]));
  assertNe(tuple([x, primValue(n)]), tuple([x, primValue(primVar("n", "int64"))]));
  assertEq([intImm(1), [intImm(2)]], [intImm(1), [intImm(2)]]);
  assertNe([intImm(1)], [intImm(1), intImm(2)]);
  const e = mismatch([intImm(1)], [intImm(1), intImm(2)]);
  assert.equal(e.path, "<root>");
});

Deno.test("structuralHash: names never affect the hash; structure does", () => {
  const body = (v: Var): Stmt => letStmt(v, 1, seq());
  assert.equal(structuralHash(body(primVar("a"))), structuralHash(body(primVar("b"))));
  assert.equal(typeof structuralHash(relaxMain()), "number");
  assert.ok(Number.isSafeInteger(structuralHash(relaxMain())));
  assert.notEqual(structuralHash(intImm(1)), structuralHash(intImm(2)));
  const a: Expr = rvar("x", f32(1));
  assert.equal(structuralHash(a), structuralHash(a));
});

Deno.test("each module function is its own scope: a shared symbolic var equals per-function vars", async () => {
  const { irModule } = await import("../../ir/module.ts");
  const { declBuffer, sizeVar } = await import("../../ir/expr.ts");
  const { primFunc } = await import("../../ir/tir/prim_func.ts");
  const { evaluate } = await import("../../ir/tir/stmt.ts");
  const shared = sizeVar("n", "int64");
  const mk = (n: typeof shared) => primFunc([declBuffer([n], "float32", "A")], evaluate(0));
  const a = irModule({ f: mk(shared), g: mk(shared) });
  const n1 = sizeVar("n", "int64"), n2 = sizeVar("n", "int64");
  const b = irModule({ f: mk(n1), g: mk(n2) });
  assertStructuralEqual(a, b);
  assertStructuralEqual(b, a);
  assert.equal(structuralHash(a), structuralHash(b));
});
