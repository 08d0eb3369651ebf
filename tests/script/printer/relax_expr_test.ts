import assert from "node:assert/strict";
import { primVar } from "../../../ir/expr.ts";
import {
  bindingBlock,
  constantTensor,
  dataflowBlock,
  dataflowVar,
  dataTypeImm,
  externFunc,
  globalVar,
  opRef,
  primValue,
  rcall,
  rvar,
  shapeExpr,
  stringImmR,
  tuple,
  tupleGetItem,
  varBinding,
} from "../../../ir/relax/expr.ts";
import {
  funcSInfo,
  objectSInfo,
  primSInfo,
  shapeSInfo,
  tensorSInfo,
  tupleSInfo,
} from "../../../ir/relax/struct_info.ts";
import { printTVMScript } from "../../../script/printer.ts";
import { text } from "./_text.ts";

const p = (x: unknown) => printTVMScript(x);
const n = primVar("n", "int64");

Deno.test("printTVMScript() prints StructInfo as TVM's R annotations", () => {
  assert.equal(p(objectSInfo()), "R.Object");
  assert.equal(p(primSInfo("int64")), 'R.Prim("int64")');
  assert.equal(p(primSInfo("int64", n)), "R.Prim(value=n)");
  assert.equal(p(shapeSInfo([n, 4])), "R.Shape([n, 4])");
  assert.equal(p(shapeSInfo(undefined, 2)), "R.Shape(ndim=2)");
  assert.equal(p(shapeSInfo(undefined)), "R.Shape(ndim=-1)");
  assert.equal(p(tensorSInfo([n, 4], "float32")), 'R.Tensor((n, 4), dtype="float32")');
  assert.equal(p(tensorSInfo([n.mul(2)])), "R.Tensor((n * 2,))");
  assert.equal(p(tensorSInfo([], "bool")), 'R.Tensor((), dtype="bool")');
  assert.equal(p(tensorSInfo(undefined)), "R.Tensor");
  assert.equal(p(tensorSInfo(undefined, "float32", 2)), 'R.Tensor(dtype="float32", ndim=2)');
  assert.equal(p(tupleSInfo([])), "R.Tuple");
  assert.equal(
    p(tupleSInfo([tensorSInfo([1], "int32"), objectSInfo()])),
    'R.Tuple(R.Tensor((1,), dtype="int32"), R.Object)',
  );
  assert.equal(
    p(funcSInfo([tensorSInfo([n], "float32")], objectSInfo(), false)),
    'R.Callable((R.Tensor((n,), dtype="float32"),), R.Object, False)',
  );
  assert.equal(p(funcSInfo(undefined, objectSInfo(), false)), "R.Callable");
  assert.equal(
    p(funcSInfo(undefined, tensorSInfo([2], "float32"))),
    'R.Callable(ret=R.Tensor((2,), dtype="float32"), purity=True)',
  );
});

Deno.test("printTVMScript() prints leaf Relax expressions", () => {
  const x = rvar("x", tensorSInfo([2], "float32"));
  const y = rvar("y", tensorSInfo([2], "float32"));
  assert.equal(p(x), "x");
  assert.equal(p(tuple([x, y])), "(x, y)");
  assert.equal(p(tuple([x])), "(x,)");
  assert.equal(p(tuple([])), "R.tuple()");
  assert.equal(p(tupleGetItem(tuple([x, y]), 1)), "(x, y)[1]");
  assert.equal(p(shapeExpr([n, 4])), "R.shape([n, 4])");
  assert.equal(p(primValue(n)), "R.prim_value(n)");
  assert.equal(p(stringImmR('a"b')), 'R.str("a\\"b")');
  assert.equal(p(dataTypeImm("float16")), 'R.dtype("float16")');
  assert.equal(p(externFunc("my_func")), 'R.ExternFunc("my_func")');
  assert.equal(p(opRef("relax.add")), 'I.Op("relax.add")');
  assert.equal(p(globalVar("f")), 'I.GlobalVar("f")');
  assert.equal(p(rcall(globalVar("f"), [x])), "f(x)");
});

Deno.test("printTVMScript() prints scalar constants inline and others as metadata", () => {
  const c = (
    dtype: "float32" | "float16" | "int64" | "int32" | "bool" | "uint8",
    data: ArrayLike<number>,
  ) => {
    const arr = dtype === "int64"
      ? new BigInt64Array(Array.from(data, BigInt))
      : dtype === "float32"
      ? new Float32Array(data)
      : dtype === "float16"
      ? new Uint16Array(data)
      : dtype === "int32"
      ? new Int32Array(data)
      : new Uint8Array(data);
    return constantTensor({ dtype, shape: [], data: arr });
  };
  assert.equal(p(c("float32", [1])), 'R.const(1.0, "float32")');
  assert.equal(p(c("float32", [0.1])), 'R.const(0.10000000149011612, "float32")');
  assert.equal(p(c("float16", [0x3c00])), 'R.const(1.0, "float16")');
  assert.equal(p(c("int64", [-7])), 'R.const(-7, "int64")');
  assert.equal(p(c("int32", [3])), 'R.const(3, "int32")');
  assert.equal(p(c("bool", [1])), 'R.const(True, "bool")');
  const u8 = c("uint8", [200]);
  assert.equal(
    p(u8),
    text(`
      metadata["relax.expr.Constant"][0]
      # Metadata
      metadata = {"relax.expr.Constant": [{"dtype": "uint8", "shape": [], "data": "yA=="}]}
    `),
  );
  const m = constantTensor({
    dtype: "float32",
    shape: [2, 2],
    data: new Float32Array([1, 2, 3, 4]),
  });
  assert.equal(
    printTVMScript(tuple([m, u8, m]), { showMeta: false }),
    text(`
      (metadata["relax.expr.Constant"][0], metadata["relax.expr.Constant"][1], metadata["relax.expr.Constant"][0])
      # Metadata omitted. Use show_meta=True in script() method to show it.
    `),
  );
});

Deno.test("printTVMScript() declares the free variables of lone bindings and blocks", () => {
  const a = rvar("a", tensorSInfo([1, n, 3], "float32"));
  const b = dataflowVar("b", tensorSInfo([1, n, 3], "float32"));
  const c = rvar("c", tensorSInfo([1, n, 3], "float32"));
  const sin = (x: typeof a | typeof b) =>
    rcall(opRef("relax.sin"), [x], { structInfo: x.structInfo });
  assert.equal(
    p(dataflowBlock([varBinding(b, sin(a)), varBinding(c, sin(b))])),
    text(`
      n = T.int64()
      a: R.Tensor((1, n, 3), dtype="float32")
      with R.dataflow():
          b: R.Tensor((1, n, 3), dtype="float32") = R.sin(a)
          c: R.Tensor((1, n, 3), dtype="float32") = R.sin(b)
          R.output(c)
    `),
  );
  const T = rvar("T", tensorSInfo([2], "float32"));
  const R = rvar("R", tensorSInfo([2], "float32"));
  assert.equal(
    p(bindingBlock([varBinding(R, sin(T))])),
    text(`
      T_1: R.Tensor((2,), dtype="float32")
      R_1: R.Tensor((2,), dtype="float32") = R.sin(T_1)
    `),
  );
});
