import assert from "node:assert/strict";
import { intImm, primVar } from "../../../ir/expr.ts";
import {
  externFunc,
  globalVar,
  opRef,
  rcall,
  relaxFunction,
  rvar,
  shapeExpr,
  stringImmR,
  tuple,
} from "../../../ir/relax/expr.ts";
import { objectSInfo, tensorSInfo, tupleSInfo } from "../../../ir/relax/struct_info.ts";
import { call, str } from "../../../script/printer/doc.ts";
import { printTVMScript } from "../../../script/printer.ts";
import { registerCallPrinter } from "../../../script/printer/relax_call.ts";

const p = (x: unknown) => printTVMScript(x);
const n = primVar("n", "int64");
const x = rvar("x", tensorSInfo([n, 4], "float32"));
const w = rvar("w", tensorSInfo([4, 4], "float32"));

Deno.test("printTVMScript() prints operator calls with attributes as keyword arguments", () => {
  assert.equal(p(rcall(opRef("relax.add"), [x, w])), "R.add(x, w)");
  assert.equal(
    p(rcall(opRef("relax.nn.softmax"), [x], { attrs: { axis: -1 } })),
    "R.nn.softmax(x, axis=-1)",
  );
  assert.equal(
    p(rcall(opRef("relax.permute_dims"), [x], { attrs: { axes: [1, 0] } })),
    "R.permute_dims(x, axes=[1, 0])",
  );
  assert.equal(
    p(rcall(opRef("relax.sum"), [x], { attrs: { axis: null, keepdims: false } })),
    "R.sum(x, axis=None, keepdims=False)",
  );
  assert.equal(
    p(rcall(opRef("relax.nn.layer_norm"), [x, w, w], {
      attrs: { axes: [-1], epsilon: 1e-5, center: true },
    })),
    "R.nn.layer_norm(x, w, w, axes=[-1], epsilon=1.0000000000000001e-05, center=True)",
  );
  assert.equal(
    p(rcall(opRef("relax.astype"), [x], { attrs: { dtype: "float16" } })),
    'R.astype(x, dtype="float16")',
  );
  assert.equal(
    p(rcall(opRef("relax.full"), [shapeExpr([n]), x], { attrs: { value: intImm(2, "int64") } })),
    "R.full(R.shape([n]), x, value=2)",
  );
  assert.equal(p(rcall(opRef("custom.op"), [x])), "custom.op(x)");
});

Deno.test("printTVMScript() prints call_tir and call_dps_packed with their output StructInfo", () => {
  const out = tensorSInfo([n, 4], "float32");
  assert.equal(
    p(rcall(opRef("relax.call_tir"), [globalVar("mm"), tuple([x, w])], { sinfoArgs: [out] })),
    'R.call_tir(mm, (x, w), out_sinfo=R.Tensor((n, 4), dtype="float32"))',
  );
  assert.equal(
    p(rcall(opRef("relax.call_tir"), [globalVar("f"), tuple([x]), shapeExpr([n])], {
      sinfoArgs: [out],
    })),
    'R.call_tir(f, (x,), out_sinfo=R.Tensor((n, 4), dtype="float32"), tir_vars=R.shape([n]))',
  );
  assert.equal(
    p(rcall(opRef("relax.call_tir"), [globalVar("f"), tuple([x])], {
      sinfoArgs: [tupleSInfo([out, out])],
    })),
    'R.call_tir(f, (x,), out_sinfo=[R.Tensor((n, 4), dtype="float32"), R.Tensor((n, 4), dtype="float32")])',
  );
  assert.equal(
    p(rcall(opRef("relax.call_tir_inplace"), [globalVar("f"), tuple([x, w])], {
      sinfoArgs: [out],
      attrs: { inplace_indices: [0] },
    })),
    'R.call_tir_inplace(f, (x, w), out_sinfo=R.Tensor((n, 4), dtype="float32"), inplace_indices=[0])',
  );
  assert.equal(
    p(rcall(opRef("relax.call_dps_packed"), [externFunc("my_dps"), tuple([x])], {
      sinfoArgs: [out],
    })),
    'R.call_dps_packed("my_dps", (x,), out_sinfo=R.Tensor((n, 4), dtype="float32"))',
  );
});

Deno.test("printTVMScript() prints packed calls, print and assert_op", () => {
  assert.equal(
    p(rcall(externFunc("vm.builtin.alloc"), [x, stringImmR("s")], { sinfoArgs: [objectSInfo()] })),
    'R.call_packed("vm.builtin.alloc", x, R.str("s"), sinfo_args=(R.Object,))',
  );
  assert.equal(
    p(rcall(opRef("relax.print"), [stringImmR("x: {}"), x])),
    'R.print(x, format=R.str("x: {}"))',
  );
  const c = rvar("c", tensorSInfo([], "bool"));
  assert.equal(
    p(rcall(opRef("relax.assert_op"), [c, stringImmR("bad {}"), x])),
    'R.assert_op(c, x, format=R.str("bad {}"))',
  );
});

Deno.test("registerCallPrinter() gives an operator a spelling of its own", () => {
  registerCallPrinter(
    "test.my_op",
    (c, d) => call(d.R("my_spelling"), [str(String(c.args.length))]),
  );
  assert.equal(p(rcall(opRef("test.my_op"), [x, w])), 'R.my_spelling("2")');
});

Deno.test("printTVMScript() rejects a callee that prints as a statement", () => {
  const f = relaxFunction([x], x);
  assert.throws(() => p(rcall(f, [x])), {
    message: "Cannot print relax.Function as an expression",
  });
});
