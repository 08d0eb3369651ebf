import assert from "node:assert/strict";
import { add, bufferLoad, declBuffer, lt, mul, primVar, range } from "../../../ir/expr.ts";
import { irModule } from "../../../ir/module.ts";
import { assertStructuralEqual } from "../../../ir/structural.ts";
import { type PrimFunc, primFunc } from "../../../ir/tir/prim_func.ts";
import {
  allocBuffer,
  bufferStore,
  declBufferStmt,
  forLoop,
  ifThenElse,
  seq,
  type Stmt,
} from "../../../ir/tir/stmt.ts";
import { visitStmt } from "../../../ir/visit.ts";
import { lowerTIRPipeline, verifyLowered } from "../../../transform/tir/mod.ts";
import {
  matmul,
  softmax,
  splitWithPredicate,
  symbolicElementwise,
  threadRowSum,
} from "./_fixtures.ts";
import { type ArrayArg, randomArray, runPrimFunc } from "../../_tir_interp.ts";

function lower(f: PrimFunc): PrimFunc {
  const out = lowerTIRPipeline()(irModule({ main: f })).functions.get("main");
  assert.ok(out?.kind === "PrimFunc");
  verifyLowered(out, { name: "main" });
  return out;
}

/** Runs `f` and its lowered form on the same random inputs; returns both argument lists. */
function runBoth(f: PrimFunc, g: PrimFunc, shapes: readonly (readonly number[])[]) {
  const make = (): ArrayArg<Float32Array>[] =>
    shapes.map((shape, i) => ({
      data: new Float32Array(randomArray(shape.reduce((a, b) => a * b, 1), i + 1)),
      shape,
    }));
  const a = make(), b = make();
  runPrimFunc(f, a);
  runPrimFunc(g, b);
  a.forEach((x, i) => {
    const y = b[i]!;
    if (typeof x === "number" || typeof y === "number") return;
    assert.deepEqual(Array.from(y.data), Array.from(x.data), `argument ${i} differs`);
  });
  return a;
}

function allocs(s: Stmt): { name: string; shape: string; scope: string }[] {
  const out: { name: string; shape: string; scope: string }[] = [];
  visitStmt(s, {
    stmt: (x) => {
      if (x.kind === "AllocBuffer") {
        const shape = x.buffer.shape.map((e) => (e.kind === "IntImm" ? e.value : "?")).join(",");
        out.push({ name: x.buffer.name, shape, scope: x.buffer.scope });
      }
    },
  });
  return out;
}

Deno.test("lowerTIRPipeline() is a flat list of the lowering passes", () => {
  assert.deepEqual(lowerTIRPipeline().passes.map((p) => p.name), [
    "LowerInitBlock",
    "PlanAndUpdateBufferAllocationLocation",
    "ConvertBlocksToOpaque",
    "CompactBufferAllocation",
    "LowerOpaqueBlock",
    "FlattenBuffer",
    "Simplify",
    "VectorizeLoop",
    "ThreadSync",
  ]);
});

Deno.test("lowerTIRPipeline() lowers a matmul with init and keeps its results", () => {
  const f = matmul();
  const g = lower(f);
  const [A, B, C] = runBoth(f, g, [[4, 3], [3, 5], [4, 5]]) as { data: Float32Array }[];
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 5; j++) {
      let s = 0;
      for (let k = 0; k < 3; k++) {
        s = Math.fround(s + Math.fround(A!.data[i * 3 + k]! * B!.data[k * 5 + j]!));
      }
      assert.equal(C!.data[i * 5 + j], s);
    }
  }
});

Deno.test("lowerTIRPipeline() keeps softmax intermediates as global AllocBuffers at the top", () => {
  const f = softmax();
  const g = lower(f);
  assert.deepEqual(allocs(g.body), [
    { name: "maxelem", shape: "4", scope: "global" },
    { name: "E", shape: "32", scope: "global" },
    { name: "expsum", shape: "4", scope: "global" },
  ]);
  const [, B] = runBoth(f, g, [[4, 8], [4, 8]]) as { data: Float32Array }[];
  for (let i = 0; i < 4; i++) {
    const row = Array.from(B!.data.subarray(i * 8, i * 8 + 8));
    assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5);
  }
});

Deno.test("lowerTIRPipeline() compacts a local accumulator under thread loops to one element", () => {
  const f = threadRowSum();
  const g = lower(f);
  const expected = () => {
    const A = declBuffer([64, 8], "float32", "A"), B = declBuffer([64], "float32", "B");
    const A1 = declBuffer([512], "float32", "A", { data: A.data });
    const acc = declBuffer([1], "float32", "acc", { scope: "local" });
    const bx = primVar("bx"), tx = primVar("tx"), k = primVar("k");
    const a = bufferLoad(A1, [add(add(mul(bx, 128), mul(tx, 8)), k)]);
    const work = allocBuffer(
      acc,
      seq(
        forLoop(
          k,
          range(0, 8),
          seq(
            ifThenElse(k.eq(0), bufferStore(acc, 0, [0])),
            bufferStore(acc, bufferLoad(acc, [0]).add(a), [0]),
          ),
        ),
        bufferStore(B, bufferLoad(acc, [0]), [add(mul(bx, 16), tx)]),
      ),
    );
    const loops = forLoop(
      bx,
      range(0, 4),
      forLoop(tx, range(0, 16), work, { threadTag: "threadIdx.x" }),
      { threadTag: "blockIdx.x" },
    );
    return primFunc([A, B], declBufferStmt(A1, loops), { attrs: { global_symbol: "row_sum" } });
  };
  assertStructuralEqual(g, expected());
  runBoth(f, g, [[64, 8], [64]]);
});

Deno.test("lowerTIRPipeline() lowers a symbolic-shape elementwise function", () => {
  const f = symbolicElementwise();
  const g = lower(f);
  for (const n of [1, 3, 7]) runBoth(f, g, [[n, 4], [n, 4]]);
});

Deno.test("lowerTIRPipeline() keeps a non-divisible split's predicate as an if", () => {
  const f = splitWithPredicate(10);
  const g = lower(f);
  const expected = () => {
    const A = declBuffer([10], "float32", "A"), B = declBuffer([10], "float32", "B");
    const io = primVar("io"), ii = primVar("ii");
    const idx = add(mul(io, 4), ii);
    const body = forLoop(
      io,
      range(0, 3),
      forLoop(
        ii,
        range(0, 4),
        ifThenElse(lt(idx, 10), bufferStore(B, bufferLoad(A, [idx]).add(1), [idx])),
      ),
    );
    return primFunc([A, B], body, { attrs: { global_symbol: "add_one" } });
  };
  assertStructuralEqual(g, expected());
  runBoth(f, g, [[10], [10]]);
});

Deno.test("lowerTIRPipeline() drops the predicate of a divisible split", () => {
  const g = lower(splitWithPredicate(12));
  let ifs = 0;
  visitStmt(g.body, { stmt: (s) => void (s.kind === "IfThenElse" && ifs++) });
  assert.equal(ifs, 0);
  runBoth(splitWithPredicate(12), g, [[12], [12]]);
});

Deno.test("lowerTIRPipeline() and each of its passes return a lowered module itself", () => {
  const fixtures = [
    matmul,
    softmax,
    threadRowSum,
    symbolicElementwise,
    () => splitWithPredicate(10),
  ];
  for (const make of fixtures) {
    const mod = irModule({ main: lower(make()) });
    assert.equal(lowerTIRPipeline()(mod), mod);
    for (const pass of lowerTIRPipeline().passes) assert.equal(pass(mod), mod, pass.name);
  }
});

Deno.test("the test interpreter catches an out-of-bounds access", () => {
  const A = declBuffer([4], "float32", "A");
  const i = primVar("i");
  const f = primFunc([A], forLoop(i, range(0, 5), bufferStore(A, 0, [i])));
  assert.throws(() => runPrimFunc(f, [{ data: new Float32Array(4), shape: [4] }]), {
    message: 'Index 4 out of bounds of dimension 0 of "A" [4]',
  });
});
