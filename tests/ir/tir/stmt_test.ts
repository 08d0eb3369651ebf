import assert from "node:assert/strict";
import { bufferLoad, declBuffer, floatImm, primVar, range } from "../../../ir/expr.ts";
import { primFunc, primFuncRaw } from "../../../ir/tir/prim_func.ts";
import {
  assertStmt,
  bufferRegion,
  bufferStore,
  evaluate,
  forLoop,
  ifThenElse,
  isThreadTag,
  iterVar,
  letStmt,
  sblock,
  sblockRealize,
  seq,
  whileLoop,
} from "../../../ir/tir/stmt.ts";

Deno.test("a matmul in block form builds", () => {
  const A = declBuffer([4, 4], "float32", "A");
  const B = declBuffer([4, 4], "float32", "B");
  const C = declBuffer([4, 4], "float32", "C");
  const [i, j, k] = [primVar("i"), primVar("j"), primVar("k")];
  const [vi, vj, vk] = [primVar("vi"), primVar("vj"), primVar("vk")];
  const update = bufferStore(
    C,
    bufferLoad(C, [vi, vj]).add(bufferLoad(A, [vi, vk]).mul(bufferLoad(B, [vk, vj]))),
    [vi, vj],
  );
  const block = sblock("C", update, {
    iterVars: [iterVar(vi, 4), iterVar(vj, 4), iterVar(vk, 4, "reduce")],
    reads: [bufferRegion(A), bufferRegion(B)],
    writes: [bufferRegion(C)],
    init: bufferStore(C, 0, [vi, vj]),
  });
  const body = forLoop(
    i,
    range(4),
    forLoop(j, range(4), forLoop(k, range(4), sblockRealize([i, j, k], block))),
  );
  const f = primFunc([A, B, C], body);
  assert.equal(f.params.length, 3);
  assert.equal(f.bufferMap.get(f.params[0]!), A);
  assert.equal(f.retType, "void");
  assert.equal((block.init as { value: { kind: string } }).value.kind, "FloatImm");
});

Deno.test("statement constructors reject bad input", () => {
  const A = declBuffer([4], "float32", "A");
  const i = primVar("i");
  const f = primVar("f", "float32");
  assert.throws(() => bufferStore(A, 1, [i, i]), {
    message: 'Buffer "A" has 1 dimensions, got 2 indices',
  });
  assert.throws(() => bufferStore(A, i, [i]), {
    message: 'Cannot store int32 into buffer "A" of float32',
  });
  assert.throws(() => bufferStore(A, floatImm(1), [f]), {
    message: 'Buffer "A" index must be an integer, got float32',
  });
  assert.throws(() => forLoop(i, { min: 0, extent: f }, evaluate(0)), {
    message: 'Loop "i" extent must be an integer, got float32',
  });
  assert.throws(() => forLoop(i, { min: 0, extent: primVar("n", "int64") }, evaluate(0)), {
    message: 'Loop "i" is int32 but its range is int32/int64',
  });
  assert.throws(() => forLoop(i, range(4), evaluate(0), { forKind: "thread_binding" }), {
    message: 'Loop "i" binds to a thread but names no thread axis',
  });
  assert.throws(
    () => forLoop(i, range(4), evaluate(0), { forKind: "serial", threadTag: "threadIdx.x" }),
    {
      message: 'Loop "i" is serial but names thread threadIdx.x',
    },
  );
  const b = sblock("B", evaluate(0), { iterVars: [iterVar(primVar("v"), 4)] });
  assert.throws(() => sblockRealize([], b), {
    message: 'Block "B" has 1 iteration variables, got 0 values',
  });
  assert.throws(() => sblockRealize([i], b, i), {
    message: 'Block "B" predicate must be bool, got int32',
  });
  assert.throws(() => bufferRegion(A, []), {
    message: 'Region of buffer "A" has 0 dimensions, expected 1',
  });
  assert.throws(() => ifThenElse(i, evaluate(0)), {
    message: "If condition must be bool, got int32",
  });
  assert.throws(() => whileLoop(i, evaluate(0)), {
    message: "While condition must be bool, got int32",
  });
  assert.throws(() => assertStmt(i, "m", evaluate(0)), {
    message: "Assert condition must be bool, got int32",
  });
  assert.throws(() => letStmt(i, f, evaluate(0)), {
    message: 'Cannot bind float32 value to int32 variable "i"',
  });
  assert.throws(() => primFuncRaw([], new Map([[i, A]]), evaluate(0)), {
    message: 'Buffer map names "i", which is not a parameter',
  });
});

Deno.test("seq flattens and unwraps; thread tags validate", () => {
  const s = evaluate(0);
  assert.equal(seq(s), s);
  const t = seq(seq(s, s), s);
  assert.equal(t.kind === "SeqStmt" && t.seq.length, 3);
  assert.ok(isThreadTag("threadIdx.x"));
  assert.ok(!isThreadTag("threadIdx.w"));
  const i = primVar("i");
  assert.equal(forLoop(i, range(4), s, { threadTag: "blockIdx.x" }).forKind, "thread_binding");
});
