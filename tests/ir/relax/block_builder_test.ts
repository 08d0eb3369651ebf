import assert from "node:assert/strict";
import { primVar } from "../../../ir/expr.ts";
import { BlockBuilder } from "../../../ir/relax/block_builder.ts";
import * as op from "../../../ir/relax/op/mod.ts";
import * as R from "../../../ir/relax/r.ts";
import type { Function, SeqExpr } from "../../../ir/relax/expr.ts";

const n = primVar("n", "int64");

function body(f: unknown): SeqExpr {
  return (f as Function).body as SeqExpr;
}

Deno.test("BlockBuilder builds a dataflow function with inferred StructInfo", () => {
  const bb = new BlockBuilder();
  const x = R.tensor([n, 4], "float32", "x");
  const w = R.tensor([4, 8], "float32", "w");
  const gv = bb.function("main", { x, w }, () =>
    bb.dataflow(() => {
      const h = bb.emit(op.matmul(x, w));
      const r = bb.emit(op.nn.relu(h));
      return bb.emitOutput(r);
    }));
  assert.equal(gv.name, "main");
  const mod = bb.get();
  const f = mod.functions.get("main") as Function;
  assert.deepEqual(f.params, [x, w]);
  const b = body(f);
  assert.equal(b.blocks.length, 1);
  assert.equal(b.blocks[0]!.kind, "DataflowBlock");
  const names = b.blocks[0]!.bindings.map((x) =>
    `${x.var.kind === "relax.DataflowVar" ? "df:" : ""}${x.var.name}`
  );
  assert.deepEqual(names, ["df:lv", "df:lv1", "gv"]);
  const s = b.blocks[0]!.bindings[1]!.var.structInfo;
  assert.equal(s.kind === "TensorStructInfo" && s.shape![0], n);
  assert.equal(b.body, b.blocks[0]!.bindings[2]!.var);
});

Deno.test("emit normalizes nested calls into bindings (A-normal form)", () => {
  const bb = new BlockBuilder();
  const x = R.tensor([4], "float32", "x");
  bb.function("main", [x], () => bb.dataflow(() => bb.emitOutput(op.add(op.exp(x), op.log(x)))));
  const b = body(bb.get().functions.get("main"));
  const bs = b.blocks[0]!.bindings;
  assert.equal(bs.length, 3);
  const last = bs[2]!.value;
  assert.equal(last.kind === "relax.Call" && last.args[0], bs[0]!.var);
  assert.equal(last.kind === "relax.Call" && last.args[1], bs[1]!.var);
});

Deno.test("a call returned from the function body is bound first; bindings outside dataflow form a block", () => {
  const bb = new BlockBuilder();
  const x = R.tensor([4], "float32", "x");
  bb.function("f", [x], () => {
    const y = bb.emit(op.exp(x));
    return op.add(y, x);
  });
  const b = body(bb.get().functions.get("f"));
  assert.equal(b.blocks.length, 1);
  assert.equal(b.blocks[0]!.kind, "BindingBlock");
  assert.equal(b.blocks[0]!.bindings.length, 2);
  assert.equal(b.body.kind, "relax.Var");
});

Deno.test("matchCast refines StructInfo", () => {
  const bb = new BlockBuilder();
  const x = R.param("x", R.Tensor(undefined, "float32", 2));
  const m = primVar("m", "int64");
  bb.function("f", [x], () => bb.matchCast(x, R.Tensor([m, 4], "float32")));
  const b = body(bb.get().functions.get("f"));
  assert.equal(b.blocks[0]!.bindings[0]!.kind, "MatchCast");
});

Deno.test("BlockBuilder misuse gives clear errors", () => {
  const bb = new BlockBuilder();
  const x = R.tensor([4], "float32", "x");
  assert.throws(() => bb.emit(op.exp(x)), { message: "emit must be called inside bb.function()" });
  assert.throws(() => bb.function("f", [x], () => bb.emitOutput(op.exp(x))), {
    message: "emitOutput must be called inside bb.dataflow()",
  });
  assert.throws(() => bb.function("g", [x], () => bb.dataflow(() => bb.emit(op.exp(x)))), {
    message: 'Dataflow block returns dataflow variable "lv": emit it with emitOutput',
  });
  assert.throws(
    () =>
      bb.function("h", [x], () => {
        let v;
        bb.dataflow(() => {
          v = bb.emit(op.exp(x));
          return [];
        });
        return v!;
      }),
    { message: 'Function "h" returns dataflow variable "lv1": emit it with emitOutput' },
  );
  assert.throws(() => bb.function("k", [x], () => bb.dataflow(() => bb.dataflow(() => x))), {
    message: "Cannot nest bb.dataflow() blocks",
  });
  assert.throws(() => bb.function("a", [x], () => (bb.function("b", [x], () => x), x)), {
    message: 'Cannot start function "b" inside function "a"',
  });
  assert.throws(() => bb.function("e", [x], () => (bb.emitFuncOutput(x), bb.emitFuncOutput(x))), {
    message: 'Function "e" already has an output',
  });
  // the builder is still usable after errors
  bb.function("ok", [x], () => x);
  assert.ok(bb.get().functions.has("ok"));
});

Deno.test("emitTe adds a private PrimFunc and emits call_tir with the output StructInfo", async () => {
  const te = await import("../../../ir/te/mod.ts");
  const bb = new BlockBuilder();
  const x = R.tensor([n, 4], "float32", "x");
  const y = R.tensor([n, 4], "float32", "y");
  bb.function("main", [x, y], () =>
    bb.dataflow(() => {
      const s = bb.emitTe(
        (a, b) => te.compute(a.shape, (ix) => a.at(...ix).add(b.at(...ix)), { name: "T_add" }),
        [x, y],
        {
          name: "add",
        },
      );
      const t = bb.emitTe(
        (a, b) => te.compute(a.shape, (ix) => a.at(...ix).mul(b.at(...ix)), { name: "T_mul" }),
        [s, y],
        {
          name: "add",
        },
      );
      return bb.emitOutput(t);
    }));
  const mod = bb.get();
  assert.deepEqual([...mod.functions.keys()], ["add", "add1", "main"]);
  const prim = mod.functions.get("add")!;
  assert.equal(prim.kind === "PrimFunc" && prim.isPrivate, true);
  const b = body(mod.functions.get("main"));
  const call = b.blocks[0]!.bindings[0]!.value;
  assert.equal(
    call.kind === "relax.Call" && call.op.kind === "relax.Op" && call.op.name,
    "relax.call_tir",
  );
  const s = b.blocks[0]!.bindings[0]!.var.structInfo;
  assert.equal(s.kind === "TensorStructInfo" && s.shape![0], n);
  assert.throws(() => bb.callTe((a) => a, [R.param("o", R.Object())], { name: "bad" }), {
    message: 'callTe "bad": argument 0 must be a tensor of known shape and dtype',
  });
});

Deno.test("built modules round-trip through TVMScript; public functions carry global_symbol", async () => {
  const { printTVMScript } = await import("../../../script/printer.ts");
  const { parseTVMScript } = await import("../../../script/parser/mod.ts");
  const { assertStructuralEqual } = await import("../../../ir/structural.ts");
  const te = await import("../../../ir/te/mod.ts");
  const bb = new BlockBuilder();
  const x = R.tensor([n, 4], "float32", "x");
  const w = R.tensor([4, 8], "float32", "w");
  bb.function("main", { x, w }, () =>
    bb.dataflow(() => {
      const h = bb.emit(op.nn.relu(op.matmul(x, w)));
      const s = bb.emitTe(
        (a) => te.compute(a.shape, (ix) => a.at(...ix).mul(2), { name: "T_scale" }),
        [h],
        {
          name: "scale",
        },
      );
      return bb.emitOutput(op.nn.softmax(s, { axis: -1 }));
    }));
  const mod = bb.get();
  const main = mod.functions.get("main")!;
  assert.equal(main.attrs.global_symbol, "main");
  assert.equal(mod.functions.get("scale")!.attrs.global_symbol, undefined);
  const text = printTVMScript(mod);
  assertStructuralEqual(parseTVMScript(text), mod);
  assert.equal(printTVMScript(parseTVMScript(text)), text);
});

Deno.test("callTe reuses structurally equal kernels and passes unbound symbolic vars as tir_vars", async () => {
  const te = await import("../../../ir/te/mod.ts");
  const bb = new BlockBuilder();
  const x = R.tensor([n, 4], "float32", "x");
  const m = primVar("m", "int64");
  const double = (a: import("../../../ir/te/mod.ts").Tensor) =>
    te.compute(a.shape, (ix) => a.at(...ix).mul(2), { name: "T_double" });
  bb.function("main", [x], () =>
    bb.dataflow(() => {
      const a = bb.emitTe(double, [x], { name: "double" });
      const b = bb.emitTe(double, [a], { name: "double" });
      const c = bb.emitTe(
        (t) =>
          te.compute(t.shape, (ix) => t.at(...ix).add(te.cast(m, "float32")), { name: "T_shift" }),
        [b],
        { name: "shift" },
      );
      return bb.emitOutput(c);
    }));
  const mod = bb.get();
  assert.deepEqual([...mod.functions.keys()], ["double", "shift", "main"]);
  const shift = mod.functions.get("shift")!;
  assert.equal(shift.kind === "PrimFunc" && shift.params.length, 3);
  const bindings = body(mod.functions.get("main")).blocks[0]!.bindings;
  const call = bindings[2]!.value;
  assert.equal(call.kind === "relax.Call" && call.args.length, 3);
  const tirVars = call.kind === "relax.Call" ? call.args[2]! : undefined;
  assert.equal(tirVars?.kind === "relax.ShapeExpr" && tirVars.values[0], m);
});

Deno.test("more BlockBuilder misuse", () => {
  const bb = new BlockBuilder();
  const x = R.tensor([4], "float32", "x");
  assert.throws(() => bb.function("f", [x], () => bb.dataflow(() => (bb.emitFuncOutput(x), x))), {
    message: "emitFuncOutput must be called outside bb.dataflow()",
  });
  assert.throws(() => bb.function("g", [x], () => (bb.get(), x)), {
    message: 'Cannot get the module while function "g" is being built',
  });
  assert.throws(() => bb.updateFunc("nope", bb.get().functions.get("f")!), {
    message: 'Module has no function "nope" to update',
  });
  assert.throws(() => bb.matchCast(x, x.structInfo), {
    message: "matchCast must be called inside bb.function()",
  });
  assert.throws(() => bb.dataflow(() => x), {
    message: "dataflow must be called inside bb.function()",
  });
  const dv = {
    kind: "relax.DataflowVar",
    name: "d",
    structInfo: x.structInfo,
  } as unknown as typeof x;
  assert.throws(() => bb.function("h", [dv], () => x), {
    message: 'Function "h": parameter "d" must be a Relax Var',
  });
});
