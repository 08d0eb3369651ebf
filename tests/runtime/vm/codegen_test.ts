import assert from "node:assert/strict";
import { intImm, sizeVar } from "../../../ir/expr.ts";
import { irModule } from "../../../ir/module.ts";
import { BlockBuilder } from "../../../ir/relax/block_builder.ts";
import {
  bindingBlock,
  constantTensor,
  globalVar,
  matchCast,
  primValue,
  rcall,
  relaxFunction,
  rvar,
  seqExpr,
  shapeExpr,
  tuple,
  varBinding,
} from "../../../ir/relax/expr.ts";
import { callPacked, callTIR } from "../../../ir/relax/op/call.ts";
import * as op from "../../../ir/relax/op/mod.ts";
import * as R from "../../../ir/relax/r.ts";
import { primFunc } from "../../../ir/tir/prim_func.ts";
import { noOp } from "../../../ir/tir/stmt.ts";
import { formatFunction } from "../../../runtime/vm/bytecode.ts";
import { codegenVM } from "../../../runtime/vm/codegen.ts";
import { allocTensor, killObject, VOID_SINFO } from "../../../transform/relax/builtin_ops.ts";
import { assertThrowsMsg } from "../_helpers.ts";

Deno.test("codegen gives variables registers, reuses operands for plain bindings and pools constants", () => {
  // `alias = a` shares a's register, so killing it emits nothing.
  const bb = new BlockBuilder();
  bb.addPrimFunc(primFunc([], noOp()), "f");
  const x = R.tensor([2], "float32", "x");
  bb.function("main", { x }, () => {
    const a = bb.emit(allocTensor(shapeExpr([2]), "float32"));
    bb.emit(rcall(globalVar("f"), [x, a], { structInfo: VOID_SINFO }));
    const alias = bb.emit(a);
    const c = bb.emit(
      constantTensor({ dtype: "float32", shape: [2], data: Float32Array.from([1, 2]) }),
    );
    bb.emit(callPacked("my.log", [alias, c, primValue(intImm(3, "int64"))]));
    bb.emit(killObject(alias));
    return bb.emit(tuple([alias, c, shapeExpr([2])]));
  });
  const code = codegenVM(bb.get());
  const main = code.functions[0]!;
  assert.equal(
    formatFunction(main, code.funcTable),
    [
      "vm function main(x) [5 registers]:",
      "    0: r1 = call vm.builtin.alloc_tensor(c0, c1, 0)",
      "    1: r2 = call f(r0, r1)",
      "    2: r3 = call my.log(r1, c2, 3)",
      "    3: r4 = call vm.builtin.make_tuple(r1, c2, c0)",
      "    4: ret r4",
    ].join("\n"),
  );
  assert.deepEqual(code.constants.slice(0, 2), [{ kind: "shape", dims: [2] }, {
    kind: "string",
    value: "float32",
  }]);
  assert.deepEqual(code.funcTable.map((e) => `${e.kind}:${e.name}`), [
    "packed:vm.builtin.alloc_tensor",
    "prim:f",
    "packed:my.log",
    "packed:vm.builtin.make_tuple",
  ]);
});

Deno.test("codegen compiles If into if/goto and kills unshared registers", () => {
  const c = rvar("c", R.Prim("bool"));
  const x = rvar("x", R.Tensor([2], "float32"));
  const t = rvar("t", R.Tensor([2], "float32"));
  const y = rvar("y", R.Tensor([2], "float32"));
  const k = rvar("k", VOID_SINFO);
  const f = relaxFunction(
    [c, x],
    seqExpr([bindingBlock([
      varBinding(t, callPacked("g", [x], x.structInfo)),
      varBinding(y, {
        kind: "relax.If",
        cond: c,
        thenBranch: seqExpr([], t),
        elseBranch: seqExpr([], x),
        structInfo: x.structInfo,
      }),
      varBinding(k, killObject(t)),
    ])], y),
  );
  const code = codegenVM(irModule({ main: f }));
  assert.equal(
    formatFunction(code.functions[0]!, code.funcTable),
    [
      "vm function main(c, x) [5 registers]:",
      "    0: r2 = call g(r1)",
      "    1: r3 = call vm.builtin.read_if_cond(r0)",
      "    2: if r3 else +3",
      "    3: r4 = call vm.builtin.copy(r2)",
      "    4: goto +2",
      "    5: r4 = call vm.builtin.copy(r1)",
      "    6: r2 = call vm.builtin.null_value()",
      "    7: ret r4",
    ].join("\n"),
  );
});

Deno.test("codegen names what the VM cannot run", () => {
  const n = sizeVar("n", "int64");
  const x = rvar("x", R.Tensor([n], "float32"));
  const v = rvar("v", R.Tensor([n], "float32"));
  const fn = (value: Parameters<typeof varBinding>[1], mc = false) =>
    irModule({
      main: relaxFunction(
        [x],
        seqExpr([bindingBlock([mc ? matchCast(v, x, x.structInfo) : varBinding(v, value)])], v),
      ),
    });
  assertThrowsMsg(
    () => codegenVM(fn(op.exp(x))),
    'Cannot build "main": it still calls operator "relax.exp"; legalize it first (LegalizeOps)',
  );
  assertThrowsMsg(
    () => codegenVM(fn(callTIR(globalVar("f"), [x], x.structInfo))),
    'Cannot build "main": it still calls "relax.call_tir"; run CallTIRRewrite first',
  );
  assertThrowsMsg(
    () => codegenVM(fn(allocTensor(shapeExpr([n]), "float32"))),
    'Cannot build "main": a symbolic shape is left; run VMShapeLower first',
  );
  assertThrowsMsg(
    () => codegenVM(fn(x, true)),
    'Cannot build "main": R.match_cast of "v" is left; run VMShapeLower first',
  );
  assertThrowsMsg(
    () => codegenVM(fn(rcall(globalVar("nowhere"), [x], { structInfo: x.structInfo }))),
    'Cannot build "main": the module has no function "nowhere"',
  );
  assertThrowsMsg(
    () => codegenVM(fn(rcall(x, [x], { structInfo: x.structInfo }))),
    'Cannot build "main": calling a relax.Var value is not supported by the VM',
  );
  assertThrowsMsg(
    () => codegenVM(fn(globalVar("main"))),
    'Cannot build "main": functions as values are not supported by the VM',
  );
});
