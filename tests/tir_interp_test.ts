import assert from "node:assert/strict";
import {
  broadcast,
  type Buffer,
  bufferLoad,
  callIntrin,
  cast,
  declBuffer,
  floatImm,
  floordiv,
  intImm,
  primVar,
  ramp,
  range,
  select,
  stringImm,
} from "../ir/expr.ts";
import { type PrimFunc, primFunc } from "../ir/tir/prim_func.ts";
import {
  assertStmt,
  bufferRegion,
  bufferStore,
  declBufferStmt,
  evaluate,
  forLoop,
  ifThenElse,
  iterVar,
  letStmt,
  matchBufferRegion,
  noOp,
  sblock,
  sblockRealize,
  type Stmt,
} from "../ir/tir/stmt.ts";
import { parseTVMScriptFunction } from "../script/parser/mod.ts";
import { type Arg, assertSameResults, paramArgs, randomArray, runPrimFunc } from "./_tir_interp.ts";

const f32 = "float32";

function parse(text: string): PrimFunc {
  const f = parseTVMScriptFunction(text);
  assert.ok(f.kind === "PrimFunc");
  return f;
}

/** Runs `f` on `(A, B)`, B of `n` elements starting as NaN, and returns B. */
function runAB(f: PrimFunc, a: number[], n = a.length): number[] {
  const b = new Array<number>(n).fill(NaN);
  runPrimFunc(f, [{ shape: [a.length], data: a }, { shape: [n], data: b }]);
  return b;
}

const lanes4 = (base = 0, stride = 1) => ramp(intImm(base), stride, 4);

Deno.test("tir interp: a vector load, arithmetic on broadcasts and a vector store", () => {
  const A = declBuffer([8], f32, "A"), B = declBuffer([8], f32, "B");
  const i = primVar("i");
  const at = ramp(i.mul(4), 1, 4);
  const v = bufferLoad(A, [at]).mul(broadcast(floatImm(2), 4)).add(broadcast(floatImm(1), 4));
  assert.equal(v.dtype, "float32x4");
  const f = primFunc([A, B], forLoop(i, range(0, 2), bufferStore(B, v, [at])));
  const a = [0, 1, 2, 3, 4, 5, 6, 7];
  assert.deepEqual(runAB(f, a), a.map((x) => 2 * x + 1));
});

Deno.test("tir interp: a strided scatter of a reversed gather leaves other elements alone", () => {
  const A = declBuffer([4], f32, "A"), B = declBuffer([8], f32, "B");
  const f = primFunc([A, B], bufferStore(B, bufferLoad(A, [lanes4(3, -1)]), [lanes4(1, 2)]));
  assert.deepEqual(runAB(f, [10, 20, 30, 40], 8), [NaN, 40, NaN, 30, NaN, 20, NaN, 10]);
});

Deno.test("tir interp: compares, selects, casts and calls go lane by lane", () => {
  const A = declBuffer([4], f32, "A"), B = declBuffer([4], f32, "B");
  const x = bufferLoad(A, [lanes4()]), zero = broadcast(floatImm(0), 4);
  const relu = select(x.gt(zero), x, zero);
  const truncated = cast(cast(relu, "int32x4"), "float32x4");
  const f = primFunc([A, B], bufferStore(B, callIntrin("tir.exp", [truncated]), [lanes4()]));
  const want = [0, 0, 1, 2].map((k) => Math.fround(Math.exp(k)));
  assert.deepEqual(runAB(f, [-1.5, 0.5, 1.5, 2.5]), want);
});

Deno.test("tir interp: if_then_else evaluates only the chosen branch of each lane, Select both", () => {
  // a masked tail: lane 3 would read A[3], out of bounds, if its branch ran
  const A = declBuffer([3], f32, "A"), B = declBuffer([4], f32, "B");
  const inside = lanes4().lt(broadcast(intImm(3), 4));
  const load = bufferLoad(A, [lanes4()]), none = broadcast(floatImm(-1), 4);
  const masked = callIntrin("tir.if_then_else", [inside, load, none]);
  assert.deepEqual(runAB(primFunc([A, B], bufferStore(B, masked, [lanes4()])), [1, 2, 3], 4), [
    1,
    2,
    3,
    -1,
  ]);
  const eager = primFunc([A, B], bufferStore(B, select(inside, load, none), [lanes4()]));
  assert.throws(() => runAB(eager, [1, 2, 3], 4), {
    message: 'Index 3 out of bounds of dimension 0 of "A" [3]',
  });
});

Deno.test("tir interp: a vector let binds every lane; a vector store reads before it writes", () => {
  const A = declBuffer([4], f32, "A");
  const v = primVar("v", "float32x4");
  const reversed = bufferLoad(A, [lanes4(3, -1)]);
  const f = primFunc([A], letStmt(v, reversed, bufferStore(A, v.add(v), [lanes4()])));
  const a = [1, 2, 3, 4];
  runPrimFunc(f, [{ shape: [4], data: a }]);
  assert.deepEqual(a, [8, 6, 4, 2]);
});

const blockMatmul = `
@T.prim_func
def main(A: T.Buffer((4, 8), "float32"), B: T.Buffer((8, 3), "float32"), C: T.Buffer((4, 3), "float32")):
    Bt = T.sblock_alloc_buffer((3, 8))
    for j, k in T.grid(3, 8):
        with T.sblock("T"):
            vj, vk = T.axis.remap("SS", [j, k])
            Bt[vj, vk] = B[vk, vj]
    for i, j, k in T.grid(4, 3, 8):
        with T.sblock("C"):
            vi, vj, vk = T.axis.remap("SSR", [i, j, k])
            a = T.match_buffer(A[vi, 0:8], (8,))
            b = T.match_buffer(Bt[vj, 0:8], (8,))
            with T.init():
                C[vi, vj] = T.float32(0)
            C[vi, vj] = C[vi, vj] + a[vk] * b[vk]
`;

Deno.test("tir interp: a block-form matmul with an alloc buffer, match buffers and an init", () => {
  const a = randomArray(32, 1), b = randomArray(24, 2), c = new Array<number>(12).fill(NaN);
  runPrimFunc(parse(blockMatmul), [
    { shape: [4, 8], data: a },
    { shape: [8, 3], data: b },
    { shape: [4, 3], data: c },
  ]);
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 3; j++) {
      let s = 0;
      for (let k = 0; k < 8; k++) s = Math.fround(s + Math.fround(a[i * 8 + k]! * b[k * 3 + j]!));
      assert.equal(c[i * 3 + j], s, `C[${i}, ${j}]`);
    }
  }
});

const blockNeighbors = `
@T.prim_func
def main(A: T.Buffer((2, 4), "float32"), B: T.Buffer((2, 4), "float32")):
    for i, j in T.grid(2, 4):
        with T.sblock("B"):
            vi, vj = T.axis.remap("SS", [i, j])
            B[vi, vj] = T.if_then_else(vj < 3, A[vi, vj] + A[vi, T.min(vj + 1, 3)], A[vi, vj])
`;

const loweredNeighbors = `
@T.prim_func
def main(A: T.Buffer((2, 4), "float32"), B: T.Buffer((2, 4), "float32")):
    A_1 = T.decl_buffer((8,), data=A.data)
    B_1 = T.decl_buffer((8,), data=B.data)
    for bx in T.thread_binding(2, thread="blockIdx.x"):
        s = T.alloc_buffer((4,), scope="shared")
        for tx in T.thread_binding(4, thread="threadIdx.x"):
            s[tx] = A_1[bx * 4 + tx]
        T.tvm_storage_sync("shared")
        for tx in T.thread_binding(4, thread="threadIdx.x"):
            base: T.int32 = bx * 4
            if tx < 3:
                B_1[base + tx] = s[tx] + s[tx + 1]
            else:
                B_1[base + tx] = s[tx]
`;

Deno.test("tir interp: a lowered function with shared memory, a barrier, a let and an if", () => {
  const a = [1, 2, 3, 4, 5, 6, 7, 8], b = new Float32Array(8).fill(NaN);
  const lowered = parse(loweredNeighbors);
  runPrimFunc(lowered, [{ shape: [2, 4], data: a }, { shape: [2, 4], data: b }]);
  assert.deepEqual(Array.from(b), [3, 5, 7, 4, 11, 13, 15, 8]);
  const before = parse(blockNeighbors);
  assertSameResults(before, lowered, { outputs: [1], reverseThreads: true });
  const wrong = parse(loweredNeighbors.replace("s[tx] + s[tx + 1]", "s[tx] + s[tx]"));
  assert.throws(() => assertSameResults(before, wrong, { outputs: [1] }), {
    message: /^Buffer argument 1: results differ at element 0: /,
  });
});

Deno.test("tir interp: assertSameResults() needs every output written by the first function", () => {
  const A = declBuffer([4], f32, "A"), B = declBuffer([4], f32, "B");
  const none = primFunc([A, B], noOp());
  assert.throws(() => assertSameResults(none, none, { outputs: [1] }), {
    message: "Buffer argument 1: the first function left elements unwritten",
  });
});

Deno.test("tir interp: paramArgs() takes scalars from sizes and shapes from the function", () => {
  const n = primVar("n"), A = declBuffer([n], f32, "A"), s = primVar("s", f32);
  const f = primFunc([A, s], bufferStore(A, s, [n.sub(1)]));
  const a = [0, 0, 0];
  const args = paramArgs(f, [a], { n: 3, s: 5 });
  assert.deepEqual(args, [{ shape: [3], data: a }, 5]);
  runPrimFunc(f, args);
  assert.deepEqual(a, [0, 0, 5]);
  assert.throws(() => paramArgs(f, [a], { n: 3 }), {
    message: 'No value for scalar parameter "s"',
  });
  assert.throws(() => paramArgs(f, [], { n: 3, s: 5 }), {
    message: "No array for buffer parameter 0",
  });
});

/** Runs `body` in a function of A (float32, 4 elements: `a`) and M (float32, 4 x 4 zeros). */
function runOnA(body: (A: Buffer, M: Buffer) => Stmt, a = [1, 2, 3, 4]): void {
  const A = declBuffer([4], f32, "A"), M = declBuffer([4, 4], f32, "M");
  runPrimFunc(primFunc([A, M], body(A, M)), [
    { shape: [4], data: a },
    { shape: [4, 4], data: new Array<number>(16).fill(0) },
  ]);
}

Deno.test("tir interp: errors name what went wrong", () => {
  const v = primVar("v", "int32x2");
  const region = (A: Buffer, lo = 0, n = 4) => bufferRegion(A, [range(lo, n)]);
  const inS = (s: Stmt, opts: Parameters<typeof sblock>[2] = {}) => sblock("S", s, opts);
  const cases: [string, () => void][] = [
    [
      'Buffer "X" has no storage here',
      () => runOnA(() => bufferStore(declBuffer([4], f32, "X"), 0, [0])),
    ],
    [
      'Buffer "A" has rank 1, got 2 indices',
      () =>
        runOnA((A) => ({
          kind: "BufferStore",
          buffer: A,
          value: floatImm(0),
          indices: [intImm(0), intImm(0)],
        })),
    ],
    ['Offset 5 out of the storage of "W"', () =>
      runOnA((A) => {
        const W = declBuffer([8], f32, "W", { data: A.data });
        return declBufferStmt(W, bufferStore(W, 0, [5]));
      })],
    ['Unbound variable "q"', () => runOnA((A) => bufferStore(A, 0, [primVar("q")]))],
    [
      "Expected a scalar, got a boolx4 vector",
      () => runOnA(() => ifThenElse(lanes4().lt(broadcast(intImm(2), 4)), noOp())),
    ],
    [
      'No lane 2 in the 2 lanes of "v"',
      () =>
        runOnA((A, M) =>
          letStmt(
            v,
            ramp(intImm(0), 1, 2),
            bufferStore(A, bufferLoad(M, [lanes4(), v]), [lanes4()]),
          )
        ),
    ],
    [
      "No lane 4 in a Ramp of 4 lanes",
      () =>
        runOnA((A, M) =>
          bufferStore(A, bufferLoad(M, [lanes4(), ramp(intImm(0), 0, 8)]), [lanes4()])
        ),
    ],
    [
      "No lane 2 in a Broadcast of 2 lanes",
      () =>
        runOnA((A, M) =>
          bufferStore(A, bufferLoad(M, [lanes4(), broadcast(intImm(0), 2)]), [lanes4()])
        ),
    ],
    [
      'Cannot store a float32 value to 4 lanes of "A"',
      () => runOnA((A) => bufferStore(A, 0, [lanes4()])),
    ],
    ["Cannot evaluate a string", () => runOnA(() => evaluate(stringImm("s")))],
    ["Integer division by zero (FloorDiv)", () => {
      const n = primVar("n"), A = declBuffer([4], "int32", "A");
      runPrimFunc(primFunc([A, n], bufferStore(A, floordiv(intImm(1), n), [0])), [{
        shape: [4],
        data: [0, 0, 0, 0],
      }, 0]);
    }],
    [
      "Non-finite int32 value NaN",
      () => runOnA((A) => evaluate(cast(bufferLoad(A, [0]), "int32")), [NaN, 0, 0, 0]),
    ],
    [
      'Cannot interpret intrinsic "tir.reinterpret"',
      () => runOnA(() => evaluate(callIntrin("tir.reinterpret", [floatImm(1)], "int32"))),
    ],
    [
      'Buffer "D" is declared over no storage',
      () => runOnA(() => declBufferStmt(declBuffer([4], f32, "D"), noOp())),
    ],
    [
      "Assertion failed: A is positive",
      () =>
        runOnA((A) => assertStmt(bufferLoad(A, [0]).gt(0), "A is positive", noOp()), [-1, 0, 0, 0]),
    ],
    [
      'Block "S": iter values: expected 1, got 0',
      () => runOnA(() => inS(noOp(), { iterVars: [iterVar(primVar("vi"), 4)] })),
    ],
    ['Block "root": block "S": iter var "vi" = 4 outside [0, 4)', () =>
      runOnA(() => {
        const vi = primVar("vi");
        return sblock("root", sblockRealize([4], inS(noOp(), { iterVars: [iterVar(vi, 4)] })));
      })],
    [
      'Block "S": match buffer "m" has more dimensions than its source',
      () =>
        runOnA((A) =>
          inS(noOp(), {
            matchBuffers: [matchBufferRegion(declBuffer([2, 2], f32, "m"), region(A))],
          })
        ),
    ],
    [
      'Block "S": match buffer "m": region [2, 6) out of bounds',
      () =>
        runOnA((A) =>
          inS(noOp(), {
            matchBuffers: [matchBufferRegion(declBuffer([4], f32, "m"), region(A, 2))],
          })
        ),
    ],
    [
      'Block "S": match buffer "m" does not fit its source region',
      () =>
        runOnA((A) =>
          inS(noOp(), { matchBuffers: [matchBufferRegion(declBuffer([3], f32, "m"), region(A))] })
        ),
    ],
    [
      'Block "S": match buffer "m" drops a dimension of extent other than 1',
      () =>
        runOnA((_, M) =>
          inS(noOp(), {
            matchBuffers: [
              matchBufferRegion(
                declBuffer([4], f32, "m"),
                bufferRegion(M, [range(0, 2), range(0, 4)]),
              ),
            ],
          })
        ),
    ],
  ];
  for (const [message, run] of cases) assert.throws(run, { message });
});

Deno.test("tir interp: runPrimFunc() checks its arguments against the parameters", () => {
  const n = primVar("n"), A = declBuffer([4], f32, "A");
  const f = primFunc([A, n], noOp());
  const a: Arg = { shape: [4], data: [0, 0, 0, 0] };
  const cases: [string, readonly Arg[]][] = [
    ["Arguments: expected 2, got 1", [a]],
    ['Parameter "n" is a scalar', [a, a]],
    ['Parameter "A" is a buffer', [1, 1]],
    ['Buffer "A" has rank 1, got an array of rank 2', [{ shape: [2, 2], data: [0, 0, 0, 0] }, 1]],
    ['Buffer "A" has shape [4], got [5]', [{ shape: [5], data: [0, 0, 0, 0, 0] }, 1]],
    ['Buffer "A" needs 4 elements, got 3', [{ shape: [4], data: [0, 0, 0] }, 1]],
  ];
  for (const [message, args] of cases) assert.throws(() => runPrimFunc(f, args), { message });
});
