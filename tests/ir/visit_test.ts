import assert from "node:assert/strict";
import { bufferLoad, declBuffer, intImm, type PrimExpr, primVar, range } from "../../ir/expr.ts";
import {
  bindingBlock,
  opRef,
  rcall,
  relaxFunction,
  rvar,
  seqExpr,
  shapeExpr,
  varBinding,
} from "../../ir/relax/expr.ts";
import { tensorSInfo } from "../../ir/relax/struct_info.ts";
import { bufferStore, forLoop } from "../../ir/tir/stmt.ts";
import {
  rewriteExpr,
  rewriteFunction,
  rewritePrimExpr,
  rewriteStmt,
  rewriteStructInfo,
  visitBindings,
  visitExpr,
  visitPrimExpr,
  visitStmt,
} from "../../ir/visit.ts";

Deno.test("rewriters return the same object when nothing changes", () => {
  const i = primVar("i");
  const e = i.mul(4).add(1);
  assert.equal(rewritePrimExpr(e, {}), e);
  assert.equal(rewritePrimExpr(e, { expr: () => undefined }), e);
  const A = declBuffer([8], "float32", "A");
  const s = forLoop(i, range(8), bufferStore(A, bufferLoad(A, [i]).mul(2), [i]));
  assert.equal(rewriteStmt(s, {}), s);
});

Deno.test("post-order expression rewrite substitutes and rebuilds parents only", () => {
  const i = primVar("i");
  const j = primVar("j");
  const left = i.mul(4);
  const e = left.add(j.mul(2));
  const out = rewritePrimExpr(e, { expr: (x: PrimExpr) => (x === j ? intImm(3) : undefined) });
  assert.notEqual(out, e);
  assert.equal(out.kind === "Add" && out.a, left);
  // fluent helpers survive the copy
  assert.equal(out.add(1).kind, "Add");
});

Deno.test("statement rewrite maps buffers and visits everything", () => {
  const i = primVar("i");
  const A = declBuffer([8], "float32", "A");
  const B = declBuffer([8], "float32", "B");
  const s = forLoop(i, range(8), bufferStore(A, bufferLoad(A, [i]), [i]));
  const out = rewriteStmt(s, { buffer: (b) => (b === A ? B : b) });
  const seen: string[] = [];
  visitStmt(out, {
    stmt: (x) => void seen.push(x.kind),
    expr: (x) => {
      if (x.kind === "BufferLoad") seen.push("load:" + x.buffer.name);
    },
  });
  assert.deepEqual(seen, ["For", "BufferStore", "load:B"]);
  const vars: string[] = [];
  visitPrimExpr(i.add(primVar("k")), (x) => void (x.kind === "Var" && vars.push(x.name)));
  assert.deepEqual(vars, ["i", "k"]);
});

Deno.test("relax rewrite rebuilds bindings; visitors see each node", () => {
  const n = primVar("n", "int64");
  const x = rvar("x", tensorSInfo([n], "float32"));
  const y = rvar("y", tensorSInfo([n], "float32"));
  const call = rcall(opRef("relax.exp"), [x]);
  const f = relaxFunction([x], seqExpr([bindingBlock([varBinding(y, call)])], y));
  assert.equal(rewriteFunction(f, {}), f);
  const g = rewriteFunction(f, {
    expr: (e) => (e.kind === "relax.Op" && e.name === "relax.exp" ? opRef("relax.log") : undefined),
  });
  assert.notEqual(g, f);
  const ops: string[] = [];
  visitExpr(g.body, (e) => void (e.kind === "relax.Op" && ops.push(e.name)));
  assert.deepEqual(ops, ["relax.log"]);
  const names: string[] = [];
  visitBindings(g.body, (b) => void names.push(b.var.name));
  assert.deepEqual(names, ["y"]);
  const dropped = rewriteFunction(f, { binding: () => [] });
  assert.equal(dropped.body.kind === "relax.SeqExpr" && dropped.body.blocks[0]!.bindings.length, 0);
  const m = primVar("m", "int64");
  const s = rewriteExpr(shapeExpr([n]), { primExpr: (e) => (e === n ? m : e) });
  assert.equal(s.kind === "relax.ShapeExpr" && s.values[0], m);
  const si = rewriteStructInfo(tensorSInfo([n, 2], "float32"), (e) => (e === n ? m : e));
  assert.equal(si.kind === "TensorStructInfo" && si.shape![0], m);
});
