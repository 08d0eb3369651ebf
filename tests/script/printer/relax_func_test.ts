import assert from "node:assert/strict";
import { primVar } from "../../../ir/expr.ts";
import {
  bindingBlock,
  dataflowBlock,
  dataflowVar,
  externFunc,
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
  stringImmR,
  tuple,
  tupleGetItem,
  varBinding,
} from "../../../ir/relax/expr.ts";
import { primSInfo, shapeSInfo, tensorSInfo, tupleSInfo } from "../../../ir/relax/struct_info.ts";
import { printTVMScript } from "../../../script/printer.ts";
import { text } from "./_text.ts";

const n = primVar("n", "int64"), m = primVar("m", "int64");
const t = (shape: (number | typeof n)[], dtype: "float32" | "bool" = "float32") =>
  tensorSInfo(shape, dtype);

Deno.test("printTVMScript() prints signature dimensions as strings and declares them in the body", () => {
  const x = rvar("x", t([n, 4]));
  const w = rvar("w", t([4, m]));
  const lv = dataflowVar("lv", t([n, m]));
  const gv = rvar("gv", t([n, m]));
  const body = seqExpr([
    dataflowBlock([
      varBinding(
        lv,
        rcall(opRef("relax.matmul"), [x, w], {
          attrs: { out_dtype: "void" },
          structInfo: t([n, m]),
        }),
      ),
      varBinding(gv, rcall(opRef("relax.nn.relu"), [lv], { structInfo: t([n, m]) })),
    ]),
  ], gv);
  const f = relaxFunction([x, w], body, { attrs: { num_input: 1 } });
  assert.equal(
    printTVMScript(f),
    text(`
      # from tvm.script import tir as T
      # from tvm.script import relax as R

      @R.function
      def main(x: R.Tensor(("n", 4), dtype="float32"), w: R.Tensor((4, "m"), dtype="float32")) -> R.Tensor(("n", "m"), dtype="float32"):
          n = T.int64()
          m = T.int64()
          R.func_attr({"num_input": 1})
          with R.dataflow():
              lv: R.Tensor((n, m), dtype="float32") = R.matmul(x, w, out_dtype="void")
              gv: R.Tensor((n, m), dtype="float32") = R.nn.relu(lv)
              R.output(gv)
          return gv
    `),
  );
});

Deno.test("printTVMScript() prints if/else, match_cast, tuples and void calls", () => {
  const cond = rvar("cond", t([], "bool"));
  const x = rvar("x", t([n, 4])), y = rvar("y", t([n, 4])), b = rvar("b", t([8]));
  const branch = (op: string) => {
    const lv = rvar("lv", t([n, 4]));
    return seqExpr([
      bindingBlock([varBinding(lv, rcall(opRef(op), [x, y], { structInfo: t([n, 4]) }))]),
    ], lv);
  };
  const a = rvar("a", t([n, 4]));
  const z = rvar("z", t([m]));
  const tup = rvar("tup", tupleSInfo([t([n, 4]), t([m])]));
  const g = rvar("g", t([m]));
  const sh = rvar("sh", shapeSInfo([n, m]));
  const pv = rvar("pv", primSInfo("int64", n));
  const fz = rvar("fz", t([m]));
  const out = rvar("out", tupleSInfo([]));
  const body = seqExpr([
    bindingBlock([
      varBinding(a, ifExpr(cond, branch("relax.add"), branch("relax.multiply"))),
      matchCast(z, b, t([m])),
      varBinding(tup, tuple([a, z])),
      varBinding(g, tupleGetItem(tup, 1)),
      varBinding(sh, shapeExpr([n, m])),
      varBinding(pv, primValue(n)),
      varBinding(
        fz,
        rcall(opRef("relax.call_dps_packed"), [externFunc("dps"), tuple([g])], {
          sinfoArgs: [t([m])],
        }),
      ),
      varBinding(
        out,
        rcall(opRef("relax.print"), [stringImmR("v: {}"), fz], { structInfo: tupleSInfo([]) }),
      ),
    ]),
  ], tuple([a, fz]));
  const f = relaxFunction([cond, x, y, b], body, {
    isPure: false,
    retStructInfo: tupleSInfo([t([n, 4]), t([m])]),
  });
  assert.equal(
    printTVMScript(f),
    text(`
      # from tvm.script import tir as T
      # from tvm.script import relax as R

      @R.function(pure=False)
      def main(cond: R.Tensor((), dtype="bool"), x: R.Tensor(("n", 4), dtype="float32"), y: R.Tensor(("n", 4), dtype="float32"), b: R.Tensor((8,), dtype="float32")) -> R.Tuple(R.Tensor(("n", 4), dtype="float32"), R.Tensor(("m",), dtype="float32")):
          n = T.int64()
          m = T.int64()
          if cond:
              lv: R.Tensor((n, 4), dtype="float32") = R.add(x, y)
              a: R.Tensor((n, 4), dtype="float32") = lv
          else:
              lv: R.Tensor((n, 4), dtype="float32") = R.multiply(x, y)
              a: R.Tensor((n, 4), dtype="float32") = lv
          z: R.Tensor((m,), dtype="float32") = R.match_cast(b, R.Tensor((m,), dtype="float32"))
          tup: R.Tuple(R.Tensor((n, 4), dtype="float32"), R.Tensor((m,), dtype="float32")) = a, z
          g: R.Tensor((m,), dtype="float32") = tup[1]
          sh: R.Shape([n, m]) = R.shape([n, m])
          pv: R.Prim(value=n) = R.prim_value(n)
          fz = R.call_dps_packed("dps", (g,), out_sinfo=R.Tensor((m,), dtype="float32"))
          R.print(fz, format=R.str("v: {}"))
          return (a, fz)
    `),
  );
});

Deno.test("printTVMScript() keeps the annotation of a call_tir whose StructInfo differs", () => {
  const x = rvar("x", t([4]));
  const lv = rvar("lv", tensorSInfo(undefined, "float32", 1));
  const call = rcall(opRef("relax.call_tir"), [globalVar("f"), tuple([x])], {
    sinfoArgs: [t([4])],
  });
  const f = relaxFunction([x], seqExpr([bindingBlock([varBinding(lv, call)])], lv), {
    isPrivate: true,
  });
  assert.equal(
    printTVMScript(f),
    text(`
      # from tvm.script import relax as R

      @R.function(private=True)
      def main(x: R.Tensor((4,), dtype="float32")) -> R.Tensor(dtype="float32", ndim=1):
          lv: R.Tensor(dtype="float32", ndim=1) = R.call_tir(f, (x,), out_sinfo=R.Tensor((4,), dtype="float32"))
          return lv
    `),
  );
});

Deno.test("printTVMScript() prints a function bound in a function with its own header", () => {
  const q = rvar("q", t([2]));
  const inner = relaxFunction([q], q);
  const fv = rvar("f", inner.structInfo);
  const x = rvar("x", t([2]));
  const r = rvar("r", t([2]));
  const body = seqExpr([
    bindingBlock([varBinding(fv, inner), varBinding(r, rcall(fv, [x], { structInfo: t([2]) }))]),
  ], r);
  assert.equal(
    printTVMScript(relaxFunction([x], body)),
    text(`
      # from tvm.script import relax as R

      @R.function
      def main(x: R.Tensor((2,), dtype="float32")) -> R.Tensor((2,), dtype="float32"):
          # from tvm.script import relax as R
          ${""}
          @R.function
          def f(q: R.Tensor((2,), dtype="float32")) -> R.Tensor((2,), dtype="float32"):
              return q

          r: R.Tensor((2,), dtype="float32") = f(x)
          return r
    `),
  );
});

Deno.test("printTVMScript() makes colliding names unique and frees names at scope ends", () => {
  const x1 = rvar("x", t([2])), x2 = rvar("x", t([2])), x3 = rvar("x", t([2]));
  const v = rvar("", t([2])), kw = rvar("lambda", t([2]));
  const add = (a: typeof x1, b: typeof x1) =>
    rcall(opRef("relax.add"), [a, b], { structInfo: t([2]) });
  const body = seqExpr([
    bindingBlock([
      varBinding(x2, add(x1, x1)),
      varBinding(v, add(x2, x1)),
      varBinding(kw, add(v, v)),
    ]),
  ], kw);
  const f = relaxFunction([x1], body);
  const g = relaxFunction([x3], x3);
  assert.equal(
    printTVMScript(f),
    text(`
      # from tvm.script import relax as R

      @R.function
      def main(x: R.Tensor((2,), dtype="float32")) -> R.Tensor((2,), dtype="float32"):
          x_1: R.Tensor((2,), dtype="float32") = R.add(x, x)
          v: R.Tensor((2,), dtype="float32") = R.add(x_1, x)
          lambda_1: R.Tensor((2,), dtype="float32") = R.add(v, v)
          return lambda_1
    `),
  );
  assert.match(printTVMScript(g), /def main\(x: /);
});
