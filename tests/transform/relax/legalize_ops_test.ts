import assert from "node:assert/strict";
import { primVar } from "../../../ir/expr.ts";
import { BlockBuilder } from "../../../ir/relax/block_builder.ts";
import {
  bindingBlock,
  type Expr,
  ifExpr,
  type RCall,
  relaxFunction,
  rvar,
  seqExpr,
  varBinding,
} from "../../../ir/relax/expr.ts";
import * as op from "../../../ir/relax/op/mod.ts";
import { getOp, listOps, registerOp } from "../../../ir/relax/op/registry.ts";
import * as R from "../../../ir/relax/r.ts";
import { tensorSInfo } from "../../../ir/relax/struct_info.ts";
import { assertStructuralEqual } from "../../../ir/structural.ts";
import * as te from "../../../ir/te/mod.ts";
import type { Tensor } from "../../../ir/te/tensor.ts";
import { visitExpr } from "../../../ir/visit.ts";
import { legalizeOps } from "../../../transform/relax/legalize_ops.ts";
import { printTVMScript } from "../../../script/printer.ts";
import { remainingOps, runFunction } from "../../ir/relax/op/_run.ts";

const n = primVar("n", "int64");

/** `T_add` of two same-shaped tensors, written out as TOPI's broadcast add. */
function teAdd(a: Tensor, b: Tensor): Tensor {
  return te.compute(a.shape, (ix) => a.at(...ix).add(b.at(...ix)), {
    name: "T_add",
    axisNames: a.shape.map((_, i) => `ax${i}`),
  });
}

/** TOPI's unary `exp`: a compute named `compute` over axes `i0, i1, ...`. */
function teExp(a: Tensor): Tensor {
  return te.compute(a.shape, (ix) => te.exp(a.at(...ix)), {
    name: "compute",
    axisNames: a.shape.map((_, i) => `i${i}`),
  });
}

Deno.test("legalizeOps() turns add and exp into call_tir of te PrimFuncs", () => {
  const x = R.tensor([n, 4], "float32", "x"), y = R.tensor([n, 4], "float32", "y");
  const before = new BlockBuilder();
  before.function(
    "main",
    [x, y],
    () => before.dataflow(() => before.emitOutput(before.emit(op.exp(before.emit(op.add(x, y)))))),
  );
  const expected = new BlockBuilder();
  expected.function("main", [x, y], () =>
    expected.dataflow(() => {
      const lv = expected.emitTe(teAdd, [x, y], { name: "add" });
      return expected.emitOutput(expected.emitTe(teExp, [lv], { name: "tir_exp" }));
    }));
  const got = legalizeOps()(before.get());
  assertStructuralEqual(got, expected.get());
  // structural equality ignores block and buffer names: compare the printed text too
  assert.equal(printTVMScript(got), printTVMScript(expected.get()));
  assert.deepEqual([...got.functions.keys()], ["main", "add", "tir_exp"]);
});

Deno.test("a module without legalizable calls comes back as the same object", () => {
  const x = R.tensor([2, 3], "float32", "x");
  const bb = new BlockBuilder();
  bb.function(
    "main",
    [x],
    () => bb.dataflow(() => bb.emitOutput(bb.emitTe(teExp, [x], { name: "tir_exp" }))),
  );
  const mod = bb.get();
  assert.equal(legalizeOps()(mod), mod);
  // unknown shapes are skipped too
  const u = R.param("u", R.Tensor(undefined, "float32", 2));
  const bb2 = new BlockBuilder();
  bb2.function("main", [u], () => bb2.dataflow(() => bb2.emitOutput(op.exp(u))));
  assert.equal(legalizeOps()(bb2.get()), bb2.get());
});

Deno.test("customize overrides an operator's legalization (full or short name)", () => {
  const x = R.tensor([2, 3], "float32", "x"), y = R.tensor([2, 3], "float32", "y");
  const bb = new BlockBuilder();
  bb.function("main", [x, y], () => bb.dataflow(() => bb.emitOutput(op.add(x, y))));
  for (const key of ["relax.add", "add"]) {
    const mod = legalizeOps({
      customize: { [key]: (call, ctx) => ctx.callTe(teAdd, call.args, { name: "my_add" }) },
    })(bb.get());
    assert.deepEqual([...mod.functions.keys()], ["main", "my_add"]);
  }
  // returning the call keeps it
  const kept = legalizeOps({ customize: { add: (call) => call } })(bb.get());
  assert.equal(kept, bb.get());
  assert.deepEqual(remainingOps(kept), ["relax.add"]);
});

Deno.test("a legalization that returns other op calls is legalized again", () => {
  const x = R.tensor([2, 3], "float32", "x");
  const bb = new BlockBuilder();
  bb.function("main", [x], () => bb.dataflow(() => bb.emitOutput(op.nn.relu(x))));
  const mod = legalizeOps({ customize: { "nn.relu": (call) => op.exp(call.args[0]!) } })(bb.get());
  assert.deepEqual(remainingOps(mod), []);
  assert.ok(mod.functions.has("tir_exp"));
  const loop = legalizeOps({ customize: { exp: (call) => op.exp(call.args[0]!) } });
  const bb2 = new BlockBuilder();
  bb2.function("main", [x], () => bb2.dataflow(() => bb2.emitOutput(op.exp(x))));
  assert.throws(() => loop(bb2.get()), {
    message: 'Cannot legalize "exp": legalizations nest deeper than 8',
  });
});

Deno.test("helper bindings are dataflow vars inside dataflow blocks, vars outside", () => {
  const t = R.param("t", R.Tuple(R.Tensor([2], "float32"), R.Tensor([3], "float32")));
  for (const inDataflow of [true, false]) {
    const bb = new BlockBuilder();
    bb.function(
      "main",
      [t],
      () => inDataflow ? bb.dataflow(() => bb.emitOutput(op.concat(t))) : bb.emit(op.concat(t)),
    );
    const mod = legalizeOps()(bb.get());
    const kinds: string[] = [];
    const f = mod.functions.get("main")!;
    assert.equal(f.kind, "relax.Function");
    if (f.kind !== "relax.Function") return;
    visitExpr(f.body, (e) => {
      if (e.kind === "relax.SeqExpr") {
        for (const b of e.blocks) for (const x of b.bindings) kinds.push(x.var.kind);
      }
    });
    const v = inDataflow ? "relax.DataflowVar" : "relax.Var";
    // two TupleGetItem bindings, then the concatenation
    assert.deepEqual(kinds, [v, v, "relax.Var"]);
    assert.deepEqual(remainingOps(mod), []);
  }
});

Deno.test("calls inside if branches are legalized", () => {
  const c = R.param("c", R.Prim("bool"));
  const x = R.tensor([4], "float32", "x");
  const branch = (e: RCall): Expr => {
    const v = rvar("v", e.structInfo);
    return seqExpr([bindingBlock([varBinding(v, e)])], v);
  };
  const main = relaxFunction(
    [c, x],
    ifExpr(c, branch(op.exp(x)), branch(op.negative(x)), tensorSInfo([4], "float32")),
  );
  const bb = new BlockBuilder();
  bb.addFunc(main, "main");
  const mod = legalizeOps()(bb.get());
  assert.deepEqual(remainingOps(mod), []);
  assert.deepEqual([...mod.functions.keys()].sort(), ["main", "tir_exp", "tir_negative"]);
});

Deno.test("operators without a legalization stay; every built-in operator has one", () => {
  registerOp({
    name: "relax.test_legalize.opaque",
    args: ["x"],
    optionalArgs: 0,
    attrs: {},
    pattern: "opaque",
    infer: (args) => args[0]!.structInfo,
  });
  const x = R.tensor([2], "float32", "x");
  const bb = new BlockBuilder();
  bb.function(
    "main",
    [x],
    () => bb.dataflow(() => bb.emitOutput(op.makeOpCall("relax.test_legalize.opaque", [x]))),
  );
  assert.equal(legalizeOps()(bb.get()), bb.get());
  const missing = listOps().filter((name) =>
    !name.startsWith("relax.test_legalize.") && !getOp(name).legalize &&
    !["relax.call_tir", "relax.call_dps_packed", "relax.null_value"].includes(name) &&
    // the VM's low-level operators (made by the build's lowering passes) have nothing to legalize
    !/^relax\.(builtin|memory|vm)\./.test(name)
  );
  assert.deepEqual(missing, []);
});

Deno.test("callTe in a legalization rejects arguments that are not tensors of known shape", () => {
  const x = R.tensor([2], "float32", "x");
  const bb = new BlockBuilder();
  bb.function("main", [x], () => bb.dataflow(() => bb.emitOutput(op.exp(x))));
  const pass = legalizeOps({
    customize: {
      exp: (_call, ctx) => ctx.callTe((a) => a, [R.param("o", R.Object())], { name: "bad" }),
    },
  });
  assert.throws(() => pass(bb.get()), {
    message: 'callTe "bad": argument 0 must be a tensor of known shape and dtype',
  });
});

Deno.test("identical kernels are shared; different ones get fresh names", () => {
  const x = R.tensor([n, 4], "float32", "x"), y = R.tensor([n, 4], "float32", "y");
  const z = R.tensor([4], "float32", "z");
  const bb = new BlockBuilder();
  bb.function("main", [x, y, z], () =>
    bb.dataflow(() => {
      const a = bb.emit(op.add(x, y));
      const b = bb.emit(op.add(a, y));
      return bb.emitOutput(op.add(b, z));
    }));
  const mod = legalizeOps()(bb.get());
  assert.deepEqual([...mod.functions.keys()], ["main", "add", "add1"]);
  const callees: string[] = [];
  visitExpr((mod.functions.get("main") as { body: Expr }).body, (e) => {
    if (e.kind === "relax.Call" && e.args[0]?.kind === "GlobalVar") callees.push(e.args[0].name);
  });
  assert.deepEqual(callees, ["add", "add", "add1"]);
  const rows = 2;
  const a = { shape: [rows, 4], data: [1, 2, 3, 4, 5, 6, 7, 8] };
  const got = runFunction(mod, "main", [a, a, { shape: [4], data: [10, 20, 30, 40] }]);
  assert.deepEqual((got as { data: number[] }).data, [13, 26, 39, 52, 25, 38, 51, 64]);
});
