import assert from "node:assert/strict";
import {
  binary,
  boolImm,
  bufferLoad,
  callIntrin,
  castExpr,
  declBuffer,
  floatImm,
  intImm,
  notExpr,
  type PrimExpr,
  primVar,
  ramp,
  select,
} from "../../ir/expr.ts";
import { irModule } from "../../ir/module.ts";
import { type Expr, type Function, shapeExpr } from "../../ir/relax/expr.ts";
import {} from "../../ir/relax/struct_info.ts";
import { visitStmt } from "../../ir/visit.ts";
import { assertStructuralEqual } from "../../ir/structural.ts";
import { type PrimFunc, primFunc } from "../../ir/tir/prim_func.ts";
import {
  allocBuffer,
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
  sblock,
  sblockRealize,
  seq,
  type Stmt,
  whileLoop,
} from "../../ir/tir/stmt.ts";
import {
  parseTVMScript,
  parseTVMScriptFunction,
  TVMScriptParseError,
} from "../../script/parser/mod.ts";

const i64 = (v: number) => intImm(v, "int64");
const rng = (min: PrimExpr, extent: PrimExpr) => ({ kind: "Range" as const, min, extent });

function prim(text: string): PrimFunc {
  const f = parseTVMScriptFunction(text);
  assert.equal(f.kind, "PrimFunc");
  return f as PrimFunc;
}

/** The body of `main(A: T.Buffer((n,), dtype))` written as `lines` (4-space indented). */
function body1(lines: string, shape = "16", dtype = "int32"): Stmt {
  return prim(`@T.prim_func\ndef main(A: T.Buffer((${shape},), "${dtype}")):\n${lines}`).body;
}

// ----------------------------------------------------------------------------------- TIR

Deno.test("parses an elementwise PrimFunc with a block into the expected IR", () => {
  const f = prim(`
@T.prim_func
def main(A: T.Buffer((128, 64), "float32"), B: T.Buffer((128, 64), "float32")):
    T.func_attr({"tir.noalias": True})
    for i, j in T.grid(128, 64):
        with T.sblock("B"):
            vi, vj = T.axis.remap("SS", [i, j])
            T.reads(A[vi, vj])
            T.writes(B[vi, vj])
            B[vi, vj] = A[vi, vj] * T.float32(2.0)
`);
  const A = declBuffer([128, 64], "float32", "A");
  const B = declBuffer([128, 64], "float32", "B");
  const i = primVar("i"), j = primVar("j"), vi = primVar("vi"), vj = primVar("vj");
  const blk = sblock(
    "B",
    bufferStore(B, binary("Mul", bufferLoad(A, [vi, vj]), floatImm(2, "float32")), [vi, vj]),
    {
      iterVars: [iterVar(vi, 128), iterVar(vj, 64)],
      reads: [bufferRegion(A, [rng(vi, intImm(1)), rng(vj, intImm(1))])],
      writes: [bufferRegion(B, [rng(vi, intImm(1)), rng(vj, intImm(1))])],
    },
  );
  const loops = forLoop(
    i,
    { min: 0, extent: 128 },
    forLoop(j, { min: 0, extent: 64 }, sblockRealize([i, j], blk)),
  );
  const root = sblockRealize([], sblock("root", loops));
  assertStructuralEqual(
    f,
    primFunc([A, B], root, { attrs: { "tir.noalias": true, global_symbol: "main" } }),
  );
});

Deno.test("literals take the dtype of the other operand and are not folded", () => {
  const f = prim(`
@T.prim_func
def main(A: T.Buffer((T.int64(8),), "int64"), n: T.int64):
    for i in range(n):
        A[i] = i + 1
        A[i] = T.Add(i, 0) * 1
        A[i] = i + (2 + 3) * 4
`);
  const A = f.bufferMap.get(f.params[0]!)!;
  const n = f.params[1]!;
  const i = primVar("i", "int64");
  const body = seq(
    bufferStore(A, binary("Add", i, i64(1)), [i]),
    bufferStore(A, binary("Mul", binary("Add", i, i64(0)), i64(1)), [i]),
    bufferStore(A, binary("Add", i, i64(20)), [i]),
  );
  assertStructuralEqual(f.body, forLoop(i, { min: i64(0), extent: n }, body), {
    mapFreeVars: true,
  });
});

Deno.test("operators follow Python precedence; chained comparisons become And", () => {
  const s = body1(
    "    for i in range(16):\n        A[i] = i + i * 2 - i // 3 % 4\n" +
      "        if 0 < i < 8 or not i == 3 and i != 4:\n            A[i] = -i\n",
  );
  const loop = s as Extract<Stmt, { kind: "For" }>;
  const buf = ((loop.body as Extract<Stmt, { kind: "SeqStmt" }>).seq[0] as Extract<
    Stmt,
    { kind: "BufferStore" }
  >)
    .buffer;
  const i = primVar("i");
  const value = binary(
    "Sub",
    binary("Add", i, binary("Mul", i, intImm(2))),
    binary("FloorMod", binary("FloorDiv", i, intImm(3)), intImm(4)),
  );
  const cond = binary(
    "Or",
    binary("And", binary("LT", intImm(0), i), binary("LT", i, intImm(8))),
    binary("And", notExpr(binary("EQ", i, intImm(3))), binary("NE", i, intImm(4))),
  );
  const want = forLoop(
    i,
    { min: 0, extent: 16 },
    seq(
      bufferStore(buf, value, [i]),
      ifThenElse(cond, bufferStore(buf, binary("Mul", i, intImm(-1)), [i])),
    ),
  );
  assertStructuralEqual(loop, want);
});

Deno.test("negative literals and T.int64 constants fold their sign", () => {
  const s = body1('    A[0] = -3\n    A[1] = T.Cast("int32", -T.int64(2))\n');
  const A = (s as Extract<Stmt, { kind: "SeqStmt" }>).seq.map((x) =>
    x as Extract<Stmt, { kind: "BufferStore" }>
  );
  assertStructuralEqual(A[0]!.value, intImm(-3));
  assertStructuralEqual(A[1]!.value, castExpr("int32", i64(-2)));
});

Deno.test("handle parameters bind buffers with T.match_buffer and symbolic shapes", () => {
  const f = prim(`
@T.prim_func(private=True)
def main(var_A: T.handle, var_B: T.handle):
    n = T.int64()
    A = T.match_buffer(var_A, (n, T.int64(4)))
    B = T.match_buffer(var_B, (n,), "int32", strides=(2,), elem_offset=1, scope="global")
    for i in range(n):
        B[i] = T.Cast("int32", A[i, 0])
`);
  assert.equal(f.isPrivate, true);
  assert.equal(f.params.length, 2);
  const A = f.bufferMap.get(f.params[0]!)!;
  const B = f.bufferMap.get(f.params[1]!)!;
  assert.equal(A.shape[0], B.shape[0], "n is shared");
  assert.equal(A.dtype, "float32");
  assert.equal(B.dtype, "int32");
  assertStructuralEqual(B.strides, [intImm(2, "int64")]);
  assertStructuralEqual(B.elemOffset, intImm(1, "int64"));
});

Deno.test("T.Buffer parameters take strides, offsets and scopes", () => {
  const f = prim(`
@T.prim_func
def main(A: T.Buffer((8,), "float16", strides=(2,), elem_offset=4, scope="shared", align=16)):
    A[0] = T.float16(0.0)
`);
  const A = f.bufferMap.get(f.params[0]!)!;
  assert.equal(A.dtype, "float16");
  assertStructuralEqual([A.strides, A.elemOffset], [[intImm(2)], intImm(4)]);
  assert.equal(A.scope, "shared");
  assert.equal(A.alignment, 16);
});

Deno.test("blocks: root block, init, where, axis domains, alloc and match buffers", () => {
  const f = prim(`
@T.prim_func
def main(A: T.Buffer((16, 16), "float32"), B: T.Buffer((16,), "float32")):
    C = T.sblock_alloc_buffer((16,))
    for i, k in T.grid(8, 16):
        with T.sblock("sum"):
            vi = T.axis.spatial((4, 12), i + 4)
            vk = T.axis.reduce(16, k)
            T.where(i < 6)
            T.reads(A[vi, 0:16])
            T.writes(B[vi])
            T.sblock_attr({"k": 1})
            D = T.alloc_buffer((2,), scope="local")
            S = T.match_buffer(A[vi, 0:8], (8,))
            with T.init():
                B[vi] = T.float32(0.0)
            B[vi] = B[vi] + A[vi, vk] + C[vk] + D[0] + S[0]
`);
  const A = f.bufferMap.get(f.params[0]!)!;
  const B = f.bufferMap.get(f.params[1]!)!;
  const root = f.body as Extract<Stmt, { kind: "SBlockRealize" }>;
  assert.equal(root.block.name, "root");
  const C = root.block.allocBuffers[0]!;
  const i = primVar("i"), k = primVar("k"), vi = primVar("vi"), vk = primVar("vk");
  const blkRealize =
    ((root.block.body as Extract<Stmt, { kind: "For" }>).body as Extract<Stmt, { kind: "For" }>)
      .body as Extract<Stmt, { kind: "SBlockRealize" }>;
  const D = blkRealize.block.allocBuffers[0]!;
  const S = blkRealize.block.matchBuffers[0]!.buffer;
  assert.equal(D.scope, "local");
  const value = binary(
    "Add",
    binary(
      "Add",
      binary(
        "Add",
        binary("Add", bufferLoad(B, [vi]), bufferLoad(A, [vi, vk])),
        bufferLoad(C, [vk]),
      ),
      bufferLoad(D, [intImm(0)]),
    ),
    bufferLoad(S, [intImm(0)]),
  );
  const blk = sblock("sum", bufferStore(B, value, [vi]), {
    iterVars: [iterVar(vi, rng(intImm(4), intImm(8))), iterVar(vk, 16, "reduce")],
    reads: [bufferRegion(A, [rng(vi, intImm(1)), rng(intImm(0), intImm(16))])],
    writes: [bufferRegion(B, [rng(vi, intImm(1))])],
    init: bufferStore(B, floatImm(0), [vi]),
    allocBuffers: [D],
    matchBuffers: [
      matchBufferRegion(S, bufferRegion(A, [rng(vi, intImm(1)), rng(intImm(0), intImm(8))])),
    ],
    annotations: { k: 1 },
  });
  const want = sblockRealize(
    [],
    sblock(
      "root",
      forLoop(
        i,
        { min: 0, extent: 8 },
        forLoop(
          k,
          { min: 0, extent: 16 },
          sblockRealize([binary("Add", i, intImm(4)), k], blk, binary("LT", i, intImm(6))),
        ),
      ),
      { allocBuffers: [C] },
    ),
  );
  assertStructuralEqual(f.body, want);
});

Deno.test("no root block is added to a function without blocks; T.block is T.sblock", () => {
  const plain = body1("    for i in range(16):\n        A[i] = 0\n");
  assert.equal(plain.kind, "For");
  const withOld = body1(
    '    with T.block("b"):\n        T.reads()\n        T.writes()\n        A[0] = 1\n',
  );
  assert.equal(withOld.kind, "SBlockRealize");
  assert.equal((withOld as Extract<Stmt, { kind: "SBlockRealize" }>).block.name, "b");
});

Deno.test("loop kinds, ranges with a start, annotations and thread bindings", () => {
  const s = body1(
    [
      "    for i in T.parallel(4):",
      "        for j in T.vectorized(4):",
      "            A[i * 4 + j] = 0",
      "    for i in T.unroll(2, 6):",
      "        A[i] = 1",
      '    for i in T.serial(16, annotations={"pragma": 1}):',
      "        A[i] = 2",
      '    for i in T.thread_binding(16, thread="threadIdx.x"):',
      "        A[i] = 3",
      "",
    ].join("\n"),
  );
  const seqs = (s as Extract<Stmt, { kind: "SeqStmt" }>).seq as Extract<Stmt, { kind: "For" }>[];
  assert.deepEqual(seqs.map((l) => l.forKind), [
    "parallel",
    "unrolled",
    "serial",
    "thread_binding",
  ]);
  assert.equal((seqs[0]!.body as Extract<Stmt, { kind: "For" }>).forKind, "vectorized");
  assertStructuralEqual([seqs[1]!.min, seqs[1]!.extent], [intImm(2), intImm(4)]);
  assert.deepEqual(seqs[2]!.annotations, { pragma: 1 });
  assert.equal(seqs[3]!.threadTag, "threadIdx.x");
});

Deno.test("scoped statements: LetStmt, assert, while, alloc and decl buffers, if/else", () => {
  const f = prim(`
@T.prim_func
def main(A: T.Buffer((16,), "int32"), n: T.int32):
    with T.LetStmt(n + 1) as m:
        A[0] = m
    x: T.int32 = n * 2
    assert x < 100, "too big"
    with T.alloc_buffer((4,), "int32", scope="local") as L:
        L[0] = x
    tmp = T.alloc_buffer((16,), "int32")
    view = T.decl_buffer((4, 4), "int32", data=tmp.data)
    while view[0, 0] < x:
        if view[0, 0] == 3:
            view[0, 0] = view[0, 0] + 2
        else:
            view[0, 0] = view[0, 0] + 1
`);
  const A = f.bufferMap.get(f.params[0]!)!;
  const n = f.params[1]!;
  const m = primVar("m"), x = primVar("x");
  const L = declBuffer([4], "int32", "L", { scope: "local" });
  const tmp = declBuffer([16], "int32", "tmp");
  const view = declBuffer([4, 4], "int32", "view", { data: tmp.data });
  const v00 = bufferLoad(view, [intImm(0), intImm(0)]);
  const loop = whileLoop(
    binary("LT", v00, x),
    ifThenElse(
      binary("EQ", v00, intImm(3)),
      bufferStore(view, binary("Add", v00, intImm(2)), [0, 0]),
      bufferStore(view, binary("Add", v00, intImm(1)), [0, 0]),
    ),
  );
  const want = seq(
    letStmt(m, binary("Add", n, intImm(1)), bufferStore(A, m, [0])),
    letStmt(
      x,
      binary("Mul", n, intImm(2)),
      assertStmt(
        binary("LT", x, intImm(100)),
        "too big",
        seq(allocBuffer(L, bufferStore(L, x, [0])), allocBuffer(tmp, declBufferStmt(view, loop))),
      ),
    ),
  );
  assertStructuralEqual(f.body, want, { mapFreeVars: true });
});

Deno.test("expressions: intrinsics, casts, selects, vector slices and T.Let", () => {
  const f = prim(`
@T.prim_func
def main(A: T.Buffer((16,), "float32"), B: T.Buffer((16,), "float32")):
    B[0] = T.exp(A[0]) + T.pow(A[1], T.float32(2.0))
    B[1] = T.if_then_else(A[0] < T.float32(0.0), T.float32(0.0), A[0])
    B[2] = T.Select(T.isnan(A[0]), T.float32(1.0), T.Cast("float32", T.int64(3)))
    B[0:4] = A[4:8]
    B[3] = T.Let(y + y, where={y: A[0]})
    T.evaluate(0)
`);
  const A = f.bufferMap.get(f.params[0]!)!;
  const B = f.bufferMap.get(f.params[1]!)!;
  const a0 = bufferLoad(A, [intImm(0)]);
  const stmts = (f.body as Extract<Stmt, { kind: "SeqStmt" }>).seq;
  assertStructuralEqual(
    stmts.slice(0, 4),
    [
      bufferStore(
        B,
        binary(
          "Add",
          callIntrin("tir.exp", [a0]),
          callIntrin("tir.pow", [bufferLoad(A, [1]), floatImm(2)]),
        ),
        [0],
      ),
      bufferStore(
        B,
        callIntrin("tir.if_then_else", [binary("LT", a0, floatImm(0)), floatImm(0), a0]),
        [1],
      ),
      bufferStore(
        B,
        select(callIntrin("tir.isnan", [a0]), floatImm(1), castExpr("float32", i64(3))),
        [2],
      ),
      bufferStore(B, bufferLoad(A, [ramp(intImm(4), 1, 4)]), [ramp(intImm(0), 1, 4)]),
    ],
  );
  const letStore = stmts[4] as Extract<Stmt, { kind: "BufferStore" }>;
  assert.equal(letStore.value.kind, "Let");
  assertStructuralEqual(stmts[5], evaluate(0));
});

Deno.test("T.bool, T.float16 and string-typed float constants", () => {
  const s = body1('    A[0] = T.float16(1)\n    A[1] = T.float16("-inf")\n', "4", "float16");
  const seqs = (s as Extract<Stmt, { kind: "SeqStmt" }>).seq as Extract<
    Stmt,
    { kind: "BufferStore" }
  >[];
  assertStructuralEqual(seqs[0]!.value, floatImm(1, "float16"));
  assert.equal((seqs[1]!.value as { value: number }).value, -Infinity);
  const b = body1("    A[0] = T.bool(True) and A[1]\n", "4", "bool");
  assertStructuralEqual(
    (b as Extract<Stmt, { kind: "BufferStore" }>).value,
    binary(
      "And",
      boolImm(true),
      bufferLoad((b as Extract<Stmt, { kind: "BufferStore" }>).buffer, [intImm(1)]),
    ),
  );
});

Deno.test("TVM spellings: A[()] for 0-d buffers, augmented stores, bare T.let, dtype keywords", () => {
  const f = prim(`
@T.prim_func
def main(A: T.Buffer((), "float32"), B: T.Buffer((4, 4), "float32")):
    A[()] = T.exp(B[(1, 2)], dtype="float32")
    B[0, 0] += A[()]
    v: T.let = B[0, 0]
    B[1, 1] = v
`);
  const A = f.bufferMap.get(f.params[0]!)!;
  const B = f.bufferMap.get(f.params[1]!)!;
  const stmts = (f.body as Extract<Stmt, { kind: "SeqStmt" }>).seq;
  const b00 = bufferLoad(B, [intImm(0), intImm(0)]);
  assertStructuralEqual(
    stmts[0],
    bufferStore(A, callIntrin("tir.exp", [bufferLoad(B, [1, 2])]), []),
  );
  assertStructuralEqual(stmts[1], bufferStore(B, binary("Add", b00, bufferLoad(A, [])), [0, 0]));
  const v = primVar("v", "float32");
  assertStructuralEqual(stmts[2], letStmt(v, b00, bufferStore(B, v, [1, 1])));
});

Deno.test("a block match buffer without a shape takes its region's extents", () => {
  const f = prim(`
@T.prim_func
def main(A: T.Buffer((16, 64), "float32")):
    with T.sblock("b"):
        T.reads(A[8:16, 32:64])
        T.writes()
        S = T.match_buffer(A[8:16, 32:64])
        S[0, 0] = T.float32(1.0)
`);
  const blk = (f.body as Extract<Stmt, { kind: "SBlockRealize" }>).block;
  assertStructuralEqual(blk.matchBuffers[0]!.buffer.shape, [intImm(8), intImm(32)]);
});

// --------------------------------------------------------------------------------- modules

Deno.test("a bare function parses to a module holding it under its def name", () => {
  const mod = parseTVMScript(`
# from tvm.script import tir as T
from tvm.script import tir as T

@T.prim_func
def copy(A: T.Buffer((4,), "float32")):
    A[0] = A[1]
`);
  assert.deepEqual([...mod.functions.keys()], ["copy"]);
  assert.equal(mod.functions.get("copy")!.kind, "PrimFunc");
});

Deno.test("module attributes and shape expressions in call_tir tir_vars", () => {
  const mod = parseTVMScript(`
@I.ir_module
class Module:
    I.module_attrs({"system_lib_prefix": "x_"})
    @T.prim_func
    def f(A: T.Buffer((T.int64(4),), "float32"), n: T.int64):
        A[0] = T.Cast("float32", n)

    @R.function
    def main(x: R.Tensor((4,), dtype="float32")) -> R.Tensor((4,), dtype="float32"):
        y = R.call_tir(Module.f, (x,), out_sinfo=R.Tensor((4,), dtype="float32"), tir_vars=R.shape([3]))
        return y
`);
  assert.deepEqual(mod.attrs, { system_lib_prefix: "x_" });
  const main = mod.functions.get("main") as Function;
  const call = (main.body as Extract<Expr, { kind: "relax.SeqExpr" }>).blocks[0]!.bindings[0]!
    .value as Extract<
      Expr,
      { kind: "relax.Call" }
    >;
  assertStructuralEqual(call.args[2], shapeExpr([3]));
  assertStructuralEqual(irModule([]).attrs, {});
});

Deno.test("parseTVMScriptFunction rejects text with several functions", () => {
  assert.throws(
    () =>
      parseTVMScriptFunction(
        "@T.prim_func\ndef a():\n    pass\n@T.prim_func\ndef b():\n    pass\n",
      ),
    (e: unknown) =>
      e instanceof TVMScriptParseError &&
      e.message === "Expected the text of exactly one function at 4:1",
  );
});

Deno.test("a block without T.reads/T.writes gets the regions it accesses, as TVM's parser fills them", () => {
  const f = prim(`
@T.prim_func
def main(A: T.Buffer((8, 4), "float32"), B: T.Buffer((8,), "float32")):
    for i, k in T.grid(8, 4):
        with T.sblock("B"):
            vi, vk = T.axis.remap("SR", [i, k])
            with T.init():
                B[vi] = T.float32(0.0)
            B[vi] = B[vi] + A[vi, vk]
`);
  let reads = "", writes = "";
  visitStmt(f.body, {
    stmt: (s) => {
      if (s.kind === "SBlockRealize" && s.block.name === "B") {
        reads = s.block.reads.map((r) => r.buffer.name).join(",");
        writes = s.block.writes.map((r) => r.buffer.name).join(",");
      }
    },
  });
  assert.equal(reads, "A");
  assert.equal(writes, "B");
});
