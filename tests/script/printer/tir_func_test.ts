import assert from "node:assert/strict";
import { bufferLoad, declBuffer, floatImm, primVar } from "../../../ir/expr.ts";
import { primFunc, primFuncRaw } from "../../../ir/tir/prim_func.ts";
import {
  bufferRegion,
  bufferStore,
  evaluate,
  forLoop,
  iterVar,
  sblock,
  sblockRealize,
  seq,
} from "../../../ir/tir/stmt.ts";
import { printTVMScript } from "../../../script/printer.ts";
import { text } from "./_text.ts";

Deno.test("printTVMScript() prints simple parameter buffers as annotations", () => {
  const A = declBuffer([128, 128], "float32", "A");
  const B = declBuffer([256], "int8", "B");
  const n = primVar("n");
  const f = primFunc([A, B, n], evaluate(0), {
    attrs: { "tir.noalias": true, global_symbol: "main", layout: ["a", 1] },
    isPrivate: true,
  });
  assert.equal(
    printTVMScript(f),
    text(`
      # from tvm.script import tir as T

      @T.prim_func(private=True)
      def main(A: T.Buffer((128, 128), "float32"), B: T.Buffer((256,), "int8"), n: T.int32):
          T.func_attr({"layout": ["a", 1], "tir.noalias": True})
          T.evaluate(0)
    `),
  );
});

Deno.test("printTVMScript() prints symbolic or strided buffers with T.match_buffer", () => {
  const n = primVar("n"), s0 = primVar("s0"), off = primVar("off");
  const A = declBuffer([n, 4], "float32", "A");
  const B = declBuffer([4, 4], "float16", "B", { strides: [s0, 1], elemOffset: off });
  const C = declBuffer([8], "float32", "C", { scope: "shared", alignment: 16 });
  const i = primVar("i");
  const body = forLoop(
    i,
    { min: 0, extent: n },
    bufferStore(A, bufferLoad(A, [i, 0]), [i, s0.add(off)]),
  );
  assert.equal(
    printTVMScript(primFunc([A, B, C], body)),
    text(`
      # from tvm.script import tir as T

      @T.prim_func
      def main(A_handle: T.handle, B_handle: T.handle, C_handle: T.handle):
          n = T.int32()
          A = T.match_buffer(A_handle, (n, 4))
          B = T.match_buffer(B_handle, (4, 4), "float16", strides=("s0", 1), offset_factor=1)
          C = T.match_buffer(C_handle, (8,), scope="shared", align=16)
          for i in range(n):
              A[i, B.strides[0] + B.elem_offset] = A[i, 0]
    `),
  );
});

Deno.test("printTVMScript() keeps a handle parameter that the body uses, and shared data", () => {
  const a = primVar("a", "handle"), b = primVar("b", "handle");
  const A = declBuffer([4], "float32", "A");
  const B = declBuffer([4], "float32", "B", { data: A.data });
  const f = primFuncRaw([a, b], new Map([[a, A], [b, B]]), evaluate(a), { retType: "int32" });
  assert.equal(
    printTVMScript(f),
    text(`
      # from tvm.script import tir as T

      @T.prim_func
      def main(a: T.handle, b: T.handle) -> T.int32:
          A = T.match_buffer(a, (4,))
          B = T.match_buffer(b, (4,), data=A.data)
          T.evaluate(a)
    `),
  );
});

Deno.test("printTVMScript() prints the implicit root block as a comment with its allocations", () => {
  const A = declBuffer([16], "float32", "A");
  const T0 = declBuffer([16], "float32", "T0");
  const i = primVar("i"), vi = primVar("vi");
  const inner = sblock("copy", bufferStore(A, bufferLoad(T0, [vi]), [vi]), {
    iterVars: [iterVar(vi, 16)],
    reads: [bufferRegion(T0)],
    writes: [bufferRegion(A)],
  });
  const root = sblockRealize(
    [],
    sblock("root", forLoop(i, { min: 0, extent: 16 }, sblockRealize([i], inner)), {
      allocBuffers: [T0],
    }),
  );
  assert.equal(
    printTVMScript(primFunc([A], root)),
    text(`
      # from tvm.script import tir as T

      @T.prim_func
      def main(A: T.Buffer((16,), "float32")):
          # with T.sblock("root"):
          T0 = T.sblock_alloc_buffer((16,))
          for i in range(16):
              with T.sblock("copy"):
                  vi = T.axis.spatial(16, i)
                  T.reads(T0[0:16])
                  T.writes(A[0:16])
                  A[vi] = T0[vi]
    `),
  );
});

Deno.test("printTVMScript() prints a root block that holds no blocks explicitly", () => {
  const C = declBuffer([4], "float32", "C");
  const f = primFunc([C], sblockRealize([], sblock("root", seq(bufferStore(C, floatImm(1), [0])))));
  assert.equal(
    printTVMScript(f),
    text(`
      # from tvm.script import tir as T

      @T.prim_func
      def main(C: T.Buffer((4,), "float32")):
          with T.sblock("root"):
              T.reads()
              T.writes()
              C[0] = T.float32(1.0)
    `),
  );
});

Deno.test("printTVMScript() names a PrimFunc after its global symbol when printed alone", () => {
  const f = primFunc([], evaluate(0), { attrs: { global_symbol: "kernel" } });
  assert.equal(
    printTVMScript(f),
    text(`
      # from tvm.script import tir as T

      @T.prim_func
      def kernel():
          T.evaluate(0)
    `),
  );
});
