import assert from "node:assert/strict";
import { checkWellFormed, wellFormed, WellFormedCheckError } from "../../ir/well_formed.ts";
import {
  type Buffer,
  bufferLoad,
  copyExpr,
  declBuffer,
  floatImm,
  letExpr,
  type PrimExpr,
  primVar,
  range,
  type Var,
} from "../../ir/expr.ts";
import {
  allocBuffer,
  bufferRegion,
  bufferStore,
  evaluate,
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
  type AnyVar,
  bindingBlock,
  constantTensor,
  dataflowBlock,
  dataflowVar,
  type Expr,
  type Function,
  globalVar,
  ifExpr,
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
import {
  objectSInfo,
  primSInfo,
  shapeSInfo,
  tensorSInfo,
  tupleSInfo,
} from "../../ir/relax/struct_info.ts";
import { irModule } from "../../ir/module.ts";

/** The messages wellFormed reports. */
function messages(x: Parameters<typeof wellFormed>[0]): string[] {
  return wellFormed(x).map((e) => e.message);
}

// ---------------------------------------------------------------------------------------------
// TIR

/** A well-formed kernel: `B[vi, vj] = A[vi, vj] + 1` over (n, n), with a scratch buffer. */
function goodKernel(): PrimFunc {
  const n = primVar("n");
  const A = declBuffer([n, n], "float32", "A");
  const B = declBuffer([n, n], "float32", "B");
  const T = declBuffer([1], "float32", "T");
  const i = primVar("i"), j = primVar("j"), vi = primVar("vi"), vj = primVar("vj");
  const body = seq(
    bufferStore(T, bufferLoad(A, [vi, vj]), [0]),
    bufferStore(B, bufferLoad(T, [0]).add(floatImm(1)), [vi, vj]),
  );
  const blk = sblock("B", body, {
    iterVars: [iterVar(vi, range(n)), iterVar(vj, range(n))],
    reads: [bufferRegion(A, [range(vi, 1), range(vj, 1)])],
    writes: [bufferRegion(B, [range(vi, 1), range(vj, 1)])],
    allocBuffers: [T],
  });
  const loops = forLoop(
    i,
    { min: 0, extent: n },
    forLoop(j, { min: 0, extent: n }, sblockRealize([i, j], blk)),
  );
  const root = sblockRealize([], sblock("root", loops));
  return primFunc([A, B], root, { attrs: { global_symbol: "f" } });
}

/** A one-buffer function `f(A: (8,))` running `body`. */
function kernel(A: Buffer, body: Stmt, extra: readonly Var[] = []): PrimFunc {
  return primFunc([A, ...extra], body);
}

Deno.test("wellFormed: a correct PrimFunc has no errors", () => {
  assert.deepEqual(messages(goodKernel()), []);
  assert.deepEqual(messages(irModule({ f: goodKernel() })), []);
  checkWellFormed(goodKernel());
});

Deno.test("wellFormed: TIR variable used but never defined", () => {
  const A = declBuffer([8], "float32", "A");
  const x = primVar("x");
  const f = kernel(A, bufferStore(A, floatImm(0), [x]));
  assert.deepEqual(messages(irModule({ f })), [
    'In function "f": variable "x" is used but never defined',
  ]);
  const e = wellFormed(irModule({ f }))[0]!;
  assert.equal(e.functionName, "f");
  assert.equal(e.node, x);
});

Deno.test("wellFormed: TIR variable defined twice", () => {
  const A = declBuffer([8], "float32", "A");
  const i = primVar("i");
  const loop = forLoop(i, { min: 0, extent: 8 }, bufferStore(A, floatImm(0), [i]));
  assert.deepEqual(messages(irModule({ f: kernel(A, seq(loop, loop)) })), [
    'In function "f": variable "i" is defined twice',
  ]);
  const n = primVar("n");
  const f2 = kernel(A, letStmt(n, 1, evaluate(n)), [n]);
  assert.deepEqual(messages(irModule({ f2 })), ['In function "f2": variable "n" is defined twice']);
});

Deno.test("wellFormed: loop variable used outside its loop", () => {
  const A = declBuffer([8], "float32", "A");
  const i = primVar("i");
  const loop = forLoop(i, { min: 0, extent: 8 }, bufferStore(A, floatImm(0), [i]));
  const f = kernel(A, seq(loop, bufferStore(A, floatImm(1), [i])));
  assert.deepEqual(messages(irModule({ f })), [
    'In function "f": loop variable "i" is used outside its loop',
  ]);
});

Deno.test("wellFormed: iteration variable used outside its block", () => {
  const A = declBuffer([8], "float32", "A");
  const i = primVar("i"), vi = primVar("vi");
  const blk = sblock("B", bufferStore(A, floatImm(0), [vi]), { iterVars: [iterVar(vi, range(8))] });
  const f = kernel(
    A,
    seq(
      forLoop(i, { min: 0, extent: 8 }, sblockRealize([i], blk)),
      bufferStore(A, floatImm(1), [vi]),
    ),
  );
  assert.deepEqual(messages(irModule({ f })), [
    'In function "f": iteration variable "vi" of block "B" is used outside the block',
  ]);
});

Deno.test("wellFormed: let variable used outside its scope", () => {
  const A = declBuffer([8], "int32", "A");
  const x = primVar("x");
  const f = kernel(A, seq(letStmt(x, 1, bufferStore(A, x, [0])), bufferStore(A, x, [1])));
  assert.deepEqual(messages(irModule({ f })), [
    'In function "f": variable "x" is used outside its scope',
  ]);
  // a Let expression scopes its variable too
  const y = primVar("y");
  const g = kernel(A, seq(evaluate(letExpr(y, primVar("k").add(1), y)), evaluate(y)));
  assert.deepEqual(messages(irModule({ g })), [
    'In function "g": variable "k" is used but never defined',
    'In function "g": variable "y" is used outside its scope',
  ]);
});

Deno.test("wellFormed: loop variable used directly inside a block with iteration variables", () => {
  const A = declBuffer([8], "float32", "A");
  const i = primVar("i"), vi = primVar("vi");
  const blk = sblock("B", bufferStore(A, floatImm(0), [i]), { iterVars: [iterVar(vi, range(8))] });
  const f = kernel(A, forLoop(i, { min: 0, extent: 8 }, sblockRealize([i], blk)));
  assert.deepEqual(messages(irModule({ f })), [
    'In function "f": loop variable "i" is used inside block "B" instead of through an iteration variable',
  ]);
  // an opaque block (no iteration variables) may use loop variables
  const opaque = sblock("C", bufferStore(A, floatImm(0), [i]));
  assert.deepEqual(
    messages(kernel(A, forLoop(i, { min: 0, extent: 8 }, sblockRealize([], opaque)))),
    [],
  );
});

Deno.test("wellFormed: buffer used but never defined, or outside its scope", () => {
  const A = declBuffer([8], "float32", "A");
  const B = declBuffer([8], "float32", "B");
  const f = kernel(A, bufferStore(A, bufferLoad(B, [0]), [0]));
  assert.deepEqual(messages(irModule({ f })), [
    'In function "f": buffer "B" is used but never defined',
  ]);
  const g = kernel(
    A,
    seq(allocBuffer(B, bufferStore(B, floatImm(0), [0])), bufferStore(B, floatImm(1), [0])),
  );
  assert.deepEqual(messages(irModule({ g })), [
    'In function "g": buffer "B" is used outside the scope that defines it',
  ]);
  // a view sharing the data pointer of a defined buffer is fine
  const flat = declBuffer([8], "float32", "A_flat", { data: A.data });
  assert.deepEqual(messages(kernel(A, bufferStore(flat, floatImm(0), [0]))), []);
});

Deno.test("wellFormed: buffer accessed with the wrong number of indices", () => {
  const n = primVar("n");
  const A = declBuffer([n, 4], "float32", "A");
  const load = copyExpr(bufferLoad(A, [0, 0]), {
    indices: bufferLoad(A, [0, 1]).indices.concat([n]),
  });
  const f = kernel(A, bufferStore(A, load, [0, 0]));
  assert.deepEqual(messages(irModule({ f })), [
    'In function "f": buffer "A" has 2 dimensions but is accessed with 3 indices',
  ]);
  const B = declBuffer([8], "float32", "B");
  const store = { ...bufferStore(B, floatImm(0), [0]), indices: [] as PrimExpr[] };
  assert.deepEqual(messages(irModule({ g: kernel(B, store) })), [
    'In function "g": buffer "B" has 1 dimension but is accessed with 0 indices',
  ]);
});

Deno.test("wellFormed: buffer region with the wrong number of ranges", () => {
  const A = declBuffer([8, 8], "float32", "A");
  const blk = sblock("B", evaluate(0), {
    reads: [{ kind: "BufferRegion", buffer: A, region: [range(8)] }],
  });
  assert.deepEqual(messages(irModule({ f: kernel(A, sblockRealize([], blk)) })), [
    'In function "f": buffer "A" has 2 dimensions but its region has 1 range',
  ]);
});

Deno.test("wellFormed: block realized with the wrong number of values", () => {
  const A = declBuffer([8, 8], "float32", "A");
  const i = primVar("i"), vi = primVar("vi"), vj = primVar("vj");
  const blk = sblock("B", bufferStore(A, floatImm(0), [vi, vj]), {
    iterVars: [iterVar(vi, range(8)), iterVar(vj, range(8))],
  });
  const realize = { ...sblockRealize([i, i], blk), iterValues: [i] };
  const f = kernel(A, forLoop(i, { min: 0, extent: 8 }, realize));
  assert.deepEqual(messages(irModule({ f })), [
    'In function "f": block "B" has 2 iteration variables but is realized with 1 value',
  ]);
});

// ---------------------------------------------------------------------------------------------
// Relax

const f32 = (...shape: (number | PrimExpr)[]) => tensorSInfo(shape, "float32");

/** A well-formed module: main(x: (n, 4)) with a dataflow block, a match_cast and a call_tir. */
function goodModule() {
  const n = primVar("n", "int64");
  const x = rvar("x", f32(n, 4));
  const lv0 = dataflowVar("lv0", f32(n, 4));
  const lv1 = dataflowVar("lv1", tensorSInfo(undefined, "float32", 1));
  const m = primVar("m", "int64");
  const lv2 = dataflowVar("lv2", f32(m));
  const gv = rvar("gv", f32(m));
  const shape = rvar("s", shapeSInfo([n, m]));
  const callTir = rcall(opRef("relax.call_tir"), [globalVar("add_one"), tuple([x])], {
    sinfoArgs: [f32(n, 4)],
    structInfo: f32(n, 4),
  });
  const blk = dataflowBlock([
    varBinding(lv0, callTir),
    varBinding(lv1, rcall(opRef("relax.reshape"), [lv0, shapeExpr([n.mul(4)])])),
    matchCast(lv2, lv1, f32(m)),
    varBinding(gv, lv2),
  ]);
  const cond = rvar("c", primSInfo("bool"));
  const t = rvar("t", f32(m));
  const branch = (v: Expr) => seqExpr([bindingBlock([varBinding(t, v)])], t);
  const y = rvar("y", f32(m));
  const after = bindingBlock([
    varBinding(shape, shapeExpr([n, m])),
    varBinding(cond, primValue(n.cast("int64").gt(m))),
    varBinding(y, ifExpr(cond, branch(gv), seqExpr([], gv))),
  ]);
  const main = relaxFunction([x], seqExpr([blk, after], y), { retStructInfo: f32(m) });
  const A = declBuffer([primVar("k"), 4], "float32", "A");
  const B = declBuffer([A.shape[0]!, 4], "float32", "B");
  return irModule({ main, add_one: primFunc([A, B], evaluate(0)) });
}

Deno.test("wellFormed: a correct Relax module has no errors", () => {
  assert.deepEqual(messages(goodModule()), []);
  checkWellFormed(goodModule());
});

/** main(params) { bindings (in a dataflow block when `df`); return result } */
function fn(
  params: readonly AnyVar[],
  bindings: Parameters<typeof bindingBlock>[0],
  result: Expr,
  df = true,
): Function {
  const blk = df ? dataflowBlock(bindings) : bindingBlock(bindings);
  return relaxFunction(params as never, seqExpr([blk], result));
}

Deno.test("wellFormed: Relax variable used but never defined", () => {
  const x = rvar("x", f32(4));
  const y = rvar("y", f32(4));
  assert.deepEqual(messages(irModule({ main: fn([], [varBinding(y, x)], y) })), [
    'In function "main": variable "x" is used but never defined',
  ]);
});

Deno.test("wellFormed: Relax variable defined twice", () => {
  const x = rvar("x", f32(4));
  const lv = dataflowVar("lv", f32(4));
  const gv = rvar("gv", f32(4));
  const f = fn([x], [varBinding(lv, x), varBinding(lv, x), varBinding(gv, lv)], gv);
  assert.deepEqual(messages(irModule({ main: f })), [
    'In function "main": variable "lv" is defined twice',
  ]);
});

Deno.test("wellFormed: dataflow variable used outside its dataflow block", () => {
  const x = rvar("x", f32(4));
  const lv = dataflowVar("lv", f32(4));
  const gv = rvar("gv", tupleSInfo([f32(4)]));
  const blocks = [dataflowBlock([varBinding(lv, x)]), bindingBlock([varBinding(gv, tuple([lv]))])];
  const f = relaxFunction([x], seqExpr(blocks, gv));
  assert.deepEqual(messages(irModule({ main: f })), [
    'In function "main": dataflow variable "lv" is used outside its dataflow block',
  ]);
});

Deno.test("wellFormed: the function returns a dataflow variable", () => {
  const x = rvar("x", f32(4));
  const lv = dataflowVar("lv", f32(4));
  const f = fn([x], [varBinding(lv, x)], lv);
  assert.deepEqual(messages(irModule({ main: f })), [
    'In function "main": the function returns dataflow variable "lv", which is local to its dataflow block',
  ]);
});

Deno.test("wellFormed: Relax variable used outside its scope", () => {
  const x = rvar("x", f32(4));
  const y = rvar("y", f32(4));
  const z = rvar("z", f32(4));
  // y is used before its binding
  const f = fn([x], [varBinding(z, y), varBinding(y, x)], z, false);
  assert.deepEqual(messages(irModule({ main: f })), [
    'In function "main": variable "y" is used outside its scope',
  ]);
  // t is bound inside the then-branch only
  const t = rvar("t", f32(4));
  const c = rvar("c", primSInfo("bool"));
  const branch = seqExpr([bindingBlock([varBinding(t, x)])], t);
  const g = fn(
    [x, c],
    [varBinding(y, ifExpr(c, branch, seqExpr([], x))), varBinding(z, t)],
    z,
    false,
  );
  assert.deepEqual(messages(irModule({ g })), [
    'In function "g": variable "t" is used outside its scope',
  ]);
});

Deno.test("wellFormed: dataflow variable bound outside a dataflow block", () => {
  const x = rvar("x", f32(4));
  const lv = dataflowVar("lv", f32(4));
  const y = rvar("y", f32(4));
  const f = fn([x], [varBinding(lv, x), varBinding(y, lv)], y, false);
  assert.deepEqual(messages(irModule({ main: f })), [
    'In function "main": dataflow variable "lv" is bound outside a dataflow block',
  ]);
});

Deno.test("wellFormed: a parameter that is a dataflow variable", () => {
  const x = dataflowVar("x", f32(4));
  assert.deepEqual(messages(irModule({ main: fn([x], [], tuple([])) })), [
    'In function "main": parameter "x" is a dataflow variable',
  ]);
});

Deno.test("wellFormed: function body that is not a SeqExpr", () => {
  const x = rvar("x", f32(4));
  const f: Function = { ...relaxFunction([x], x), body: rcall(opRef("relax.exp"), [x]) };
  assert.deepEqual(messages(irModule({ main: f })), [
    'In function "main": the function body must be a SeqExpr, got relax.Call',
  ]);
});

Deno.test("wellFormed: symbolic variable used but never defined", () => {
  const n = primVar("n", "int64"), m = primVar("m", "int64");
  const x = rvar("x", f32(n));
  const y = rvar("y", f32(m));
  const s = rvar("s", shapeSInfo(undefined, 1));
  const f = fn([x], [varBinding(y, x), varBinding(s, shapeExpr([m]))], y, false);
  assert.deepEqual(messages(irModule({ main: f })), [
    'In function "main": symbolic variable "m" is used but never defined',
  ]);
  // defined by a match_cast, it is fine
  const g = fn([x], [matchCast(y, x, f32(m)), varBinding(s, shapeExpr([m]))], y, false);
  assert.deepEqual(messages(g), []);
});

Deno.test("wellFormed: GlobalVar naming no function of the module", () => {
  const x = rvar("x", f32(4));
  const y = rvar("y", f32(4));
  const call = rcall(opRef("relax.call_tir"), [globalVar("foo"), tuple([x])], {
    sinfoArgs: [f32(4)],
  });
  const f = fn([x], [varBinding(y, call)], y, false);
  assert.deepEqual(messages(irModule({ main: f })), [
    'In function "main": GlobalVar "foo" does not name a function of the module',
  ]);
  // a lone function has no module to check against
  assert.deepEqual(messages(f), []);
});

Deno.test("wellFormed: binding whose StructInfo disagrees with its value", () => {
  const x = rvar("x", f32(5));
  const y = rvar("y", f32(4));
  assert.deepEqual(messages(irModule({ main: fn([x], [varBinding(y, x)], y, false) })), [
    'In function "main": binding "y" declares R.Tensor((4,), "float32") but its value has R.Tensor((5,), "float32")',
  ]);
  const c = constantTensor({ dtype: "int32", shape: [2], data: new Int32Array([1, 2]) });
  const z = rvar("z", tupleSInfo([f32(2)]));
  assert.deepEqual(messages(fn([], [varBinding(z, tuple([c]))], z, false)), [
    'In function "main": binding "z" declares R.Tuple(R.Tensor((2,), "float32")) but its value has R.Tuple(R.Tensor((2,), "int32"))',
  ]);
  const s = rvar("s", f32(3));
  assert.deepEqual(messages(fn([], [varBinding(s, shapeExpr([3]))], s, false)), [
    'In function "main": binding "s" declares R.Tensor((3,), "float32") but its value has R.Shape([3])',
  ]);
});

Deno.test("wellFormed: unknown or symbolic StructInfo is not a disagreement", () => {
  const n = primVar("n", "int64");
  const x = rvar("x", f32(n));
  const a = rvar("a", f32(4));
  const b = rvar("b", objectSInfo());
  const d = rvar("d", tensorSInfo(undefined, "float32"));
  const f = fn(
    [x],
    [
      varBinding(a, rcall(opRef("relax.exp"), [x])), // a call of unknown StructInfo
      varBinding(b, x), // R.Object accepts anything
      varBinding(d, x), // unknown shape
    ],
    a,
    false,
  );
  assert.deepEqual(messages(f), []);
});

Deno.test("checkWellFormed: throws with every message, one a line", () => {
  const x = rvar("x", f32(4));
  const y = rvar("y", f32(4));
  const u = rvar("u", f32(4));
  const f = fn([], [varBinding(y, x), varBinding(u, y), varBinding(u, y)], u, false);
  const expected = [
    'In function "main": variable "x" is used but never defined',
    'In function "main": variable "u" is defined twice',
  ];
  assert.throws(() => checkWellFormed(f), (e: unknown) => {
    assert.ok(e instanceof WellFormedCheckError);
    assert.equal(e.message, expected.join("\n"));
    assert.equal(e.errors.length, 2);
    return true;
  });
  assert.throws(() => checkWellFormed(f, { name: "g" }), {
    message: expected.join("\n").replaceAll('"main"', '"g"'),
  });
  assert.doesNotThrow(() => checkWellFormed(fn([x], [varBinding(y, x)], y, false)));
});
