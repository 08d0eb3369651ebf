/** Tests of the Relax half of the TVMScript parser (the TIR half is in parser_test.ts). */
import assert from "node:assert/strict";
import { binary, intImm } from "../../ir/expr.ts";
import {
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
  tupleGetItem,
  varBinding,
} from "../../ir/relax/expr.ts";
import { add, callTIR, makeOpCall } from "../../ir/relax/op/mod.ts";
import {
  objectSInfo,
  primSInfo,
  shapeSInfo,
  tensorSInfo,
  tupleSInfo,
} from "../../ir/relax/struct_info.ts";
import { assertStructuralEqual } from "../../ir/structural.ts";
import { parseTVMScript, parseTVMScriptFunction } from "../../script/parser/mod.ts";

const i64 = (v: number) => intImm(v, "int64");

function relax(text: string): Function {
  const f = parseTVMScriptFunction(text);
  assert.equal(f.kind, "relax.Function");
  return f as Function;
}

// ---------------------------------------------------------------------------------- Relax

const T4 = () => tensorSInfo([4], "float32");

Deno.test("a dataflow block makes DataflowVars except the R.output variables", () => {
  const f = relax(`
@R.function
def main(x: R.Tensor((4,), dtype="float32")) -> R.Tensor((4,), dtype="float32"):
    with R.dataflow():
        lv: R.Tensor((4,), dtype="float32") = R.add(x, x)
        gv: R.Tensor((4,), dtype="float32") = R.multiply(lv, x)
        R.output(gv)
    return gv
`);
  const x = rvar("x", T4());
  const lv = dataflowVar("lv", T4());
  const gv = rvar("gv", T4());
  const want = relaxFunction(
    [x],
    seqExpr([
      dataflowBlock([
        varBinding(lv, add(x, x)),
        varBinding(gv, makeOpCall("relax.multiply", [lv, x])),
      ]),
    ], gv),
    { retStructInfo: T4(), attrs: { global_symbol: "main" } },
  );
  assertStructuralEqual(f, want);
  const blk = (f.body as Extract<Expr, { kind: "relax.SeqExpr" }>).blocks[0]!;
  assert.deepEqual(blk.bindings.map((b) => b.var.kind), ["relax.DataflowVar", "relax.Var"]);
});

Deno.test("R.call_tir refers to module functions through cls and carries out_sinfo", () => {
  const mod = parseTVMScript(`
@I.ir_module
class Module:
    @T.prim_func(private=True)
    def f(A: T.Buffer((T.int64(4),), "float32"), B: T.Buffer((T.int64(4),), "float32")):
        for i in range(T.int64(4)):
            B[i] = A[i]

    @R.function
    def main(x: R.Tensor((4,), dtype="float32")) -> R.Tensor((4,), dtype="float32"):
        cls = Module
        y = R.call_tir(cls.f, (x,), out_sinfo=R.Tensor((4,), dtype="float32"))
        z = R.call_tir(Module.f, y, R.Tensor((4,), dtype="float32"))
        return z
`);
  assert.deepEqual([...mod.functions.keys()], ["f", "main"]);
  const x = rvar("x", T4());
  const y = rvar("y", T4());
  const z = rvar("z", T4());
  const want = relaxFunction(
    [x],
    seqExpr([
      bindingBlock([
        varBinding(y, callTIR(globalVar("f"), [x], T4())),
        varBinding(z, callTIR(globalVar("f"), [y], T4())),
      ]),
    ], z),
    { retStructInfo: T4(), attrs: { global_symbol: "main" } },
  );
  assertStructuralEqual(mod.functions.get("main"), want);
  const call =
    ((mod.functions.get("main") as Function).body as Extract<Expr, { kind: "relax.SeqExpr" }>)
      .blocks[0]!.bindings[0]!.value;
  assertStructuralEqual(call.structInfo, T4());
});

Deno.test("symbolic shape variables: quoted in signatures, declared by T.int64()", () => {
  const f = relax(`
@R.function
def main(x: R.Tensor(("n", "m * 2"), dtype="float32"), k: R.Prim(value="m")) -> R.Shape(["n"]):
    n = T.int64()
    m = T.int64()
    s: R.Shape([n]) = R.shape([n])
    return s
`);
  const x = f.params[0]!;
  const k = f.params[1]!;
  const shape = (x.structInfo as Extract<typeof x.structInfo, { kind: "TensorStructInfo" }>).shape!;
  const n = shape[0]!;
  assert.equal(n.kind, "Var");
  assert.equal(n.dtype, "int64");
  const m = (k.structInfo as Extract<typeof k.structInfo, { kind: "PrimStructInfo" }>).value!;
  assertStructuralEqual(shape[1], binary("Mul", m, i64(2)));
  const s = (f.body as Extract<Expr, { kind: "relax.SeqExpr" }>).blocks[0]!.bindings[0]!;
  assert.equal(
    (s.value as Extract<Expr, { kind: "relax.ShapeExpr" }>).values[0],
    n,
    "same variable",
  );
});

Deno.test("match_cast, tuples, tuple indexing and constants", () => {
  const f = relax(`
@R.function
def main(x: R.Tensor(dtype="float32", ndim=1), t: R.Tuple(R.Tensor((2,), dtype="float32"), R.Object)) -> R.Tensor((2,), dtype="float32"):
    a: R.Tensor((2,), dtype="float32") = R.match_cast(x, R.Tensor((2,), dtype="float32"))
    b: R.Tensor((2,), dtype="float32") = t[0]
    c = (a, b)
    d = R.const([1.5, 2.5], "float32")
    e = R.const(3)
    return a
`);
  const T2 = () => tensorSInfo([2], "float32");
  const x = rvar("x", tensorSInfo(undefined, "float32", 1));
  const t = rvar("t", tupleSInfo([T2(), objectSInfo()]));
  const a = rvar("a", T2()), b = rvar("b", T2());
  const c = rvar("c", tupleSInfo([T2(), T2()]));
  const dConst = constantTensor({
    dtype: "float32",
    shape: [2],
    data: new Float32Array([1.5, 2.5]),
  });
  const eConst = constantTensor({ dtype: "int32", shape: [], data: new Int32Array([3]) });
  const d = rvar("d", dConst.structInfo), e = rvar("e", eConst.structInfo);
  const want = relaxFunction(
    [x, t],
    seqExpr([
      bindingBlock([
        matchCast(a, x, T2()),
        varBinding(b, tupleGetItem(t, 0)),
        varBinding(c, tuple([a, b])),
        varBinding(d, dConst),
        varBinding(e, eConst),
      ]),
    ], a),
    { retStructInfo: T2(), attrs: { global_symbol: "main" } },
  );
  assertStructuralEqual(f, want);
});

Deno.test("if/else makes an If whose branches end in the assigned value", () => {
  const f = relax(`
@R.function
def main(c: R.Tensor((), dtype="bool"), x: R.Tensor((4,), dtype="float32")) -> R.Tensor((4,), dtype="float32"):
    if c:
        y: R.Tensor((4,), dtype="float32") = x
    else:
        y: R.Tensor((4,), dtype="float32") = R.add(x, x)
    return y
`);
  const c = rvar("c", tensorSInfo([], "bool"));
  const x = rvar("x", T4());
  const yElse = rvar("y_else", T4());
  const y = rvar("y", T4());
  const iff = ifExpr(
    c,
    seqExpr([], x),
    seqExpr([bindingBlock([varBinding(yElse, add(x, x))])], yElse),
  );
  const want = relaxFunction([c, x], seqExpr([bindingBlock([varBinding(y, iff)])], y), {
    retStructInfo: T4(),
    attrs: { global_symbol: "main" },
  });
  assertStructuralEqual(f, want);
});

Deno.test("operator calls: registered ops get default attributes; others keep theirs", () => {
  const f = relax(`
@R.function
def main(x: R.Tensor((4, 8), dtype="float32")) -> R.Tensor((4, 8), dtype="float32"):
    a = R.nn.softmax(x)
    b = R.sum(a, axis=[1])
    c: R.Tensor((4, 8), dtype="float32") = R.nn.leakyrelu(a, alpha=0.1)
    return c
`);
  const bindings = (f.body as Extract<Expr, { kind: "relax.SeqExpr" }>).blocks[0]!.bindings;
  const [a, b, c] = bindings.map((x) => x.value as Extract<Expr, { kind: "relax.Call" }>);
  assert.deepEqual(a!.attrs, { axis: -1 });
  assert.deepEqual(b!.attrs, { axis: [1], keepdims: false });
  assertStructuralEqual(b!.structInfo, tensorSInfo([4], "float32"));
  assertStructuralEqual(bindings[0]!.var.structInfo, tensorSInfo([4, 8], "float32"));
  assertStructuralEqual(
    c,
    rcall(opRef("relax.nn.leakyrelu"), [bindings[0]!.var], { attrs: { alpha: 0.1 } }),
  );
  assertStructuralEqual(c!.structInfo, tensorSInfo([4, 8], "float32")); // from the annotation
});

Deno.test("call_packed, call_dps_packed, prim values and void statements", () => {
  const f = relax(`
@R.function(pure=False)
def main(x: R.Tensor((4,), dtype="float32")) -> R.Tensor((4,), dtype="float32"):
    a = R.call_packed("f", x, R.prim_value(2), sinfo_args=(R.Tensor((4,), dtype="float32"),))
    b = R.call_dps_packed("g", (a,), out_sinfo=R.Tensor((4,), dtype="float32"))
    R.print(b, format=R.str("{}"))
    return b
`);
  assert.equal(f.isPure, false);
  const bindings = (f.body as Extract<Expr, { kind: "relax.SeqExpr" }>).blocks[0]!.bindings;
  const a = bindings[0]!.value as Extract<Expr, { kind: "relax.Call" }>;
  assert.equal(a.op.kind, "relax.ExternFunc");
  assertStructuralEqual(a.args[1], primValue(i64(2)));
  assertStructuralEqual(bindings[0]!.var.structInfo, T4());
  assertStructuralEqual(bindings[1]!.var.structInfo, T4());
  assert.equal(bindings[2]!.var.name, "_");
  assertStructuralEqual(bindings[2]!.var.structInfo, tupleSInfo([]));
  const p = bindings[2]!.value as Extract<Expr, { kind: "relax.Call" }>;
  assert.equal((p.op as { name: string }).name, "relax.print");
  assert.equal(p.args[0]!.kind, "relax.StringImm", "the format goes first");
});

Deno.test("metadata constants resolve against the metadata section", () => {
  const mod = parseTVMScript(`
@R.function
def main() -> R.Tensor((2,), dtype="int32"):
    c: R.Tensor((2,), dtype="int32") = metadata["relax.expr.Constant"][0]
    return c

# Metadata
metadata = {"relax.expr.Constant": [{"dtype": "int32", "shape": [2], "data": "BwAAAPj///8="}]}
`);
  const main = mod.functions.get("main") as Function;
  const c = (main.body as Extract<Expr, { kind: "relax.SeqExpr" }>).blocks[0]!.bindings[0]!.value;
  assertStructuralEqual(
    c,
    constantTensor({ dtype: "int32", shape: [2], data: new Int32Array([7, -8]) }),
  );
});

Deno.test("R.Shape, R.Prim, R.Callable and R.Object annotations", () => {
  const f = relax(`
@R.function
def main(a: R.Shape([1, 2]), b: R.Shape(ndim=3), c: R.Prim("int32"), d: R.Callable((R.Object,), R.Object, False), e: R.Object) -> R.Object:
    return e
`);
  assertStructuralEqual(f.params.map((p) => p.structInfo), [
    shapeSInfo([1, 2]),
    shapeSInfo(undefined, 3),
    primSInfo("int32"),
    { kind: "FuncStructInfo", params: [objectSInfo()], ret: objectSInfo(), purity: false },
    objectSInfo(),
  ]);
});

Deno.test("a nested function binds a variable; calls of it take its return info", () => {
  const f = relax(`
@R.function
def main(x: R.Tensor((4,), dtype="float32")) -> R.Tensor((4,), dtype="float32"):
    @R.function
    def inner(y: R.Tensor((4,), dtype="float32")) -> R.Tensor((4,), dtype="float32"):
        return y

    z = inner(x)
    return z
`);
  const bindings = (f.body as Extract<Expr, { kind: "relax.SeqExpr" }>).blocks[0]!.bindings;
  assert.equal(bindings[0]!.value.kind, "relax.Function");
  assert.equal((bindings[0]!.value as Function).isPrivate, true);
  assertStructuralEqual(bindings[1]!.var.structInfo, T4());
});

Deno.test("Python-style op calls: argument keywords and literal shape tuples", () => {
  const f = relax(`
@R.function
def main(x: R.Tensor((2, 3), dtype="float32")) -> R.Tensor((3, 2), dtype="float32"):
    a = R.reshape(x, shape=(3, 2))
    b = R.tril(a, k=R.prim_value(1))
    return b
`);
  const bindings = (f.body as Extract<Expr, { kind: "relax.SeqExpr" }>).blocks[0]!.bindings;
  const x = f.params[0]!;
  assertStructuralEqual(bindings[0]!.value, makeOpCall("relax.reshape", [x, shapeExpr([3, 2])]));
  assertStructuralEqual(
    bindings[1]!.value,
    makeOpCall("relax.tril", [bindings[0]!.var, primValue(i64(1))]),
  );
  assertStructuralEqual(bindings[1]!.var.structInfo, tensorSInfo([3, 2], "float32"));
});
