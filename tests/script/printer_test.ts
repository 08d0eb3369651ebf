import assert from "node:assert/strict";
import { displayNode } from "../../ir/display.ts";
import { bufferLoad, declBuffer, floatImm, primVar, range } from "../../ir/expr.ts";
import { irModule } from "../../ir/module.ts";
import {
  bindingBlock,
  constantTensor,
  dataflowBlock,
  dataflowVar,
  globalVar,
  opRef,
  rcall,
  relaxFunction,
  rvar,
  seqExpr,
  shapeExpr,
  tuple,
  varBinding,
} from "../../ir/relax/expr.ts";
import { tensorSInfo } from "../../ir/relax/struct_info.ts";
import { primFunc } from "../../ir/tir/prim_func.ts";
import {
  bufferRegion,
  bufferStore,
  evaluate,
  forLoop,
  iterVar,
  sblock,
  sblockRealize,
} from "../../ir/tir/stmt.ts";
import { printTVMScript } from "../../script/printer.ts";

function text(s: string): string {
  const lines = s.split("\n").slice(1, -1);
  const cut = Math.min(
    ...lines.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length),
  );
  return lines.map((l) => l.slice(cut)).join("\n");
}

const n = primVar("n", "int64");

/** A symbolic-size matmul `C[n, 4] = A[n, 4] @ B[4, 4]` made as `te.create_prim_func` makes it. */
function matmul() {
  const n = primVar("n", "int64");
  const A = declBuffer([n, 4], "float32", "A");
  const B = declBuffer([4, 4], "float32", "B");
  const C = declBuffer([n, 4], "float32", "C");
  const i = primVar("i", "int64"), j = primVar("j", "int64"), k = primVar("k", "int64");
  const vi = primVar("vi", "int64"), vj = primVar("vj", "int64"), vk = primVar("vk", "int64");
  const update = bufferStore(
    C,
    bufferLoad(C, [vi, vj]).add(bufferLoad(A, [vi, vk]).mul(bufferLoad(B, [vk, vj]))),
    [vi, vj],
  );
  const blk = sblock("C", update, {
    iterVars: [iterVar(vi, n), iterVar(vj, 4), iterVar(vk, 4, "reduce")],
    reads: [
      bufferRegion(A, [range(vi, 1), range(vk, 1)]),
      bufferRegion(B, [range(vk, 1), range(vj, 1)]),
    ],
    writes: [bufferRegion(C, [range(vi, 1), range(vj, 1)])],
    init: bufferStore(C, floatImm(0), [vi, vj]),
  });
  const loops = forLoop(
    i,
    { min: 0, extent: n },
    forLoop(
      j,
      { min: 0, extent: 4 },
      forLoop(k, { min: 0, extent: 4 }, sblockRealize([i, j, k], blk)),
    ),
  );
  return primFunc([A, B, C], sblockRealize([], sblock("root", loops)), {
    attrs: { "tir.noalias": true },
    isPrivate: true,
  });
}

/** A PrimFunc with thread bindings: `B[i] = A[i] * 2`. */
function scale() {
  const A = declBuffer([1024], "float32", "A");
  const B = declBuffer([1024], "float32", "B");
  const bx = primVar("i"), tx = primVar("i");
  const idx = bx.mul(256).add(tx);
  const body = forLoop(
    bx,
    { min: 0, extent: 4 },
    forLoop(tx, { min: 0, extent: 256 }, bufferStore(B, bufferLoad(A, [idx]).mul(2), [idx]), {
      threadTag: "threadIdx.x",
    }),
    { threadTag: "blockIdx.x" },
  );
  return primFunc([A, B], body, { isPrivate: true });
}

function module() {
  const x = rvar("x", tensorSInfo([n, 4], "float32"));
  const w = rvar("w", tensorSInfo([4, 4], "float32"));
  const bias = constantTensor({
    dtype: "float32",
    shape: [4],
    data: new Float32Array([1, 2, 3, 4]),
  });
  const lv = dataflowVar("lv", tensorSInfo([n, 4], "float32"));
  const lv1 = dataflowVar("lv", tensorSInfo([n, 4], "float32"));
  const gv = rvar("gv", tensorSInfo([n, 4], "float32"));
  const t = tensorSInfo([n, 4], "float32");
  const main = relaxFunction(
    [x, w],
    seqExpr([
      dataflowBlock([
        varBinding(
          lv,
          rcall(opRef("relax.call_tir"), [globalVar("matmul"), tuple([x, w])], {
            sinfoArgs: [t],
            structInfo: t,
          }),
        ),
        varBinding(lv1, rcall(opRef("relax.add"), [lv, bias], { structInfo: t })),
        varBinding(
          gv,
          rcall(opRef("relax.nn.softmax"), [lv1], { attrs: { axis: -1 }, structInfo: t }),
        ),
      ]),
    ], gv),
    { attrs: { num_input: 1 } },
  );
  const y = rvar("y", tensorSInfo([1024], "float32"));
  const out = rvar("out", tensorSInfo([1024], "float32"));
  const scaleCall = rcall(opRef("relax.call_tir"), [globalVar("scale"), tuple([y])], {
    sinfoArgs: [tensorSInfo([1024], "float32")],
  });
  const helper = relaxFunction([y], seqExpr([bindingBlock([varBinding(out, scaleCall)])], out), {
    isPrivate: true,
  });
  return irModule({ main, scale: scale(), helper, matmul: matmul() });
}

const EXPECTED = text(`
  # from tvm.script import ir as I
  # from tvm.script import tir as T
  # from tvm.script import relax as R

  @I.ir_module
  class Module:
      @T.prim_func(private=True)
      def matmul(A_handle: T.handle, B: T.Buffer((4, 4), "float32"), C_handle: T.handle):
          T.func_attr({"tir.noalias": True})
          n = T.int64()
          A = T.match_buffer(A_handle, (n, 4))
          C = T.match_buffer(C_handle, (n, 4))
          # with T.sblock("root"):
          for i, j, k in T.grid(n, T.int64(4), T.int64(4)):
              with T.sblock("C"):
                  vi, vj, vk = T.axis.remap("SSR", [i, j, k])
                  T.reads(A[vi, vk], B[vk, vj])
                  T.writes(C[vi, vj])
                  with T.init():
                      C[vi, vj] = T.float32(0.0)
                  C[vi, vj] = C[vi, vj] + A[vi, vk] * B[vk, vj]

      @T.prim_func(private=True)
      def scale(A: T.Buffer((1024,), "float32"), B: T.Buffer((1024,), "float32")):
          for i in T.thread_binding(4, thread="blockIdx.x"):
              for i_1 in T.thread_binding(256, thread="threadIdx.x"):
                  B[i * 256 + i_1] = A[i * 256 + i_1] * T.float32(2.0)

      @R.function(private=True)
      def helper(y: R.Tensor((1024,), dtype="float32")) -> R.Tensor((1024,), dtype="float32"):
          cls = Module
          out = R.call_tir(cls.scale, (y,), out_sinfo=R.Tensor((1024,), dtype="float32"))
          return out

      @R.function
      def main(x: R.Tensor(("n", 4), dtype="float32"), w: R.Tensor((4, 4), dtype="float32")) -> R.Tensor(("n", 4), dtype="float32"):
          n = T.int64()
          R.func_attr({"num_input": 1})
          cls = Module
          with R.dataflow():
              lv = R.call_tir(cls.matmul, (x, w), out_sinfo=R.Tensor((n, 4), dtype="float32"))
              lv_1: R.Tensor((n, 4), dtype="float32") = R.add(lv, metadata["relax.expr.Constant"][0])
              gv: R.Tensor((n, 4), dtype="float32") = R.nn.softmax(lv_1, axis=-1)
              R.output(gv)
          return gv

  # Metadata
  metadata = {"relax.expr.Constant": [{"dtype": "float32", "shape": [4], "data": "AACAPwAAAEAAAEBAAACAQA=="}]}
`);

Deno.test("printTVMScript() prints a module: TIR kernels, a call_tir graph and its metadata", () => {
  assert.equal(printTVMScript(module()), EXPECTED);
});

Deno.test("printTVMScript() is deterministic and backs String(mod)", () => {
  const mod = module();
  assert.equal(printTVMScript(mod), printTVMScript(mod));
  assert.equal(String(mod), EXPECTED);
});

Deno.test("displayNode() shows nodes other than modules without their metadata", () => {
  const c = constantTensor({ dtype: "int32", shape: [2], data: new Int32Array([1, 2]) });
  assert.equal(
    displayNode(c),
    'metadata["relax.expr.Constant"][0]\n# Metadata omitted. Use show_meta=True in script() method to show it.',
  );
  assert.equal(displayNode(primVar("i").add(1)), "i + 1");
});

Deno.test("printTVMScript() omits the metadata on request and honours the indent option", () => {
  const out = printTVMScript(module(), { showMeta: false, indent: 2 });
  assert.ok(
    out.endsWith(
      "    return gv\n\n# Metadata omitted. Use show_meta=True in script() method to show it.",
    ),
  );
  assert.ok(out.includes("\n  @T.prim_func(private=True)\n  def matmul(A_handle: T.handle,"));
  assert.ok(!out.includes("metadata = "));
});

Deno.test("printTVMScript() orders functions as TVM: PrimFuncs, Relax functions, then main", () => {
  const x = rvar("x", tensorSInfo([2], "float32"));
  const id = () => relaxFunction([x], x);
  const k = () => primFunc([], evaluate(0));
  const mod = irModule({ main: id(), b_relax: id(), z_tir: k(), a_relax: id(), a_tir: k() });
  const order = [...printTVMScript(mod).matchAll(/def (\w+)\(/g)].map((m) => m[1]);
  assert.deepEqual(order, ["a_tir", "z_tir", "a_relax", "b_relax", "main"]);
});

Deno.test("printTVMScript() prints a module with attributes and no functions", () => {
  assert.equal(
    printTVMScript(
      irModule({}, { attrs: { system_lib_prefix: "lib_", n: shapeExpr([2]).values[0]! } }),
    ),
    text(`
      # from tvm.script import ir as I
      # from tvm.script import tir as T

      @I.ir_module
      class Module:
          I.module_attrs({"n": T.int64(2), "system_lib_prefix": "lib_"})
    `),
  );
});

Deno.test("printTVMScript() rejects values that are not IR nodes", () => {
  assert.throws(() => printTVMScript(42), {
    message: "Cannot print a number as TVMScript: expected an IR node",
  });
  assert.throws(() => printTVMScript(null), {
    message: "Cannot print null as TVMScript: expected an IR node",
  });
  assert.throws(() => printTVMScript({ kind: "Bogus" }), {
    message: 'Cannot print a node of kind "Bogus" as TVMScript',
  });
  assert.throws(() => printTVMScript({}), {
    message: "Cannot print an object without a kind as TVMScript",
  });
});
