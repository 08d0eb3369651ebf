import assert from "node:assert/strict";
import {
  type Buffer,
  bufferLoad,
  declBuffer,
  floatImm,
  intImm,
  type PrimExpr,
  primVar,
  range,
} from "../../../ir/expr.ts";
import { assertStructuralEqual } from "../../../ir/structural.ts";
import { type PrimFunc, primFunc } from "../../../ir/tir/prim_func.ts";
import {
  bufferRegion,
  bufferStore,
  forLoop,
  iterVar,
  type SBlock,
  sblock,
  sblockRealize,
  type Stmt,
} from "../../../ir/tir/stmt.ts";
import * as te from "../../../ir/te/mod.ts";
import { randomArray, runPrimFunc } from "../../_tir_interp.ts";

const ATTRS = { global_symbol: "main", "tir.noalias": true };

/** All blocks under `s`, outermost first (the root block included). */
function blocks(s: Stmt): SBlock[] {
  const out: SBlock[] = [];
  const walk = (x: Stmt): void => {
    switch (x.kind) {
      case "SBlockRealize":
        out.push(x.block);
        if (x.block.init) walk(x.block.init);
        walk(x.block.body);
        break;
      case "For":
        walk(x.body);
        break;
      case "SeqStmt":
        x.seq.forEach(walk);
        break;
      case "LetStmt":
      case "IfThenElse":
        walk(x.kind === "LetStmt" ? x.body : x.then);
        break;
      default:
        break;
    }
  };
  walk(s);
  return out;
}

function block(f: PrimFunc, name: string): SBlock {
  const b = blocks(f.body).find((x) => x.name === name);
  if (!b) throw new Error(`no block "${name}"`);
  return b;
}

/** `buf[i, j, ...]` as point regions, the way reads/writes show single accesses. */
function point(buf: Buffer, ...idx: PrimExpr[]) {
  return bufferRegion(buf, idx.map((i) => range(i, 1)));
}

function root(body: Stmt, allocBuffers: Buffer[] = []) {
  return sblockRealize([], sblock("root", body, { allocBuffers }));
}

function matmulTe() {
  const A = te.placeholder([16, 8], "float32", "A");
  const B = te.placeholder([8, 4], "float32", "B");
  const k = te.reduceAxis([0, 8], "k");
  const C = te.compute([16, 4], ([i, j]) => te.sum(A.at(i, k).mul(B.at(k, j)), [k]), {
    name: "C",
    axisNames: ["i", "j"],
  });
  return { A, B, C };
}

Deno.test("createPrimFunc() makes a matmul block with init, as TVM does", () => {
  const { A, B, C } = matmulTe();
  const f = te.createPrimFunc([A, B, C]);

  const a = declBuffer([16, 8], "float32", "A");
  const b = declBuffer([8, 4], "float32", "B");
  const c = declBuffer([16, 4], "float32", "C");
  const [i, j, k, vi, vj, vk] = ["i", "j", "k", "v_i", "v_j", "v_k"].map((n) => primVar(n));
  const blk = sblock(
    "C",
    bufferStore(
      c,
      bufferLoad(c, [vi!, vj!]).add(bufferLoad(a, [vi!, vk!]).mul(bufferLoad(b, [vk!, vj!]))),
      [vi!, vj!],
    ),
    {
      iterVars: [iterVar(vi!, 16), iterVar(vj!, 4), iterVar(vk!, 8, "reduce")],
      reads: [point(a, vi!, vk!), point(b, vk!, vj!)],
      writes: [point(c, vi!, vj!)],
      init: bufferStore(c, floatImm(0), [vi!, vj!]),
    },
  );
  const loops = forLoop(
    i!,
    range(16),
    forLoop(j!, range(4), forLoop(k!, range(8), sblockRealize([i!, j!, k!], blk))),
  );
  const expected = primFunc([a, b, c], root(loops), { attrs: ATTRS });
  assertStructuralEqual(f, expected);

  const cb = block(f, "C");
  assert.deepEqual(cb.iterVars.map((iv) => [iv.var.name, iv.iterKind]), [
    ["v_i", "spatial"],
    ["v_j", "spatial"],
    ["v_k", "reduce"],
  ]);
  assert.deepEqual(f.attrs, ATTRS);
});

Deno.test("createPrimFunc() of an elementwise chain allocates the intermediate in the root block", () => {
  const A = te.placeholder([8, 8], "float32", "A");
  const B = te.compute([8, 8], ([x, y]) => A.at(x, y).mul(2), { name: "B" });
  const C = te.compute([8, 8], ([x, y]) => B.at(x, y).add(1), { name: "C" });
  const f = te.createPrimFunc([A, C]);

  const a = declBuffer([8, 8], "float32", "A");
  const b = declBuffer([8, 8], "float32", "B");
  const c = declBuffer([8, 8], "float32", "C");
  const nest = (dst: Buffer, src: Buffer, value: (e: PrimExpr) => PrimExpr) => {
    const [i, j, vi, vj] = ["i0", "i1", "v_i0", "v_i1"].map((n) => primVar(n));
    const blk = sblock(dst.name, bufferStore(dst, value(bufferLoad(src, [vi!, vj!])), [vi!, vj!]), {
      iterVars: [iterVar(vi!, 8), iterVar(vj!, 8)],
      reads: [point(src, vi!, vj!)],
      writes: [point(dst, vi!, vj!)],
    });
    return forLoop(i!, range(8), forLoop(j!, range(8), sblockRealize([i!, j!], blk)));
  };
  const body = {
    kind: "SeqStmt" as const,
    seq: [nest(b, a, (e) => e.mul(floatImm(2))), nest(c, b, (e) => e.add(floatImm(1)))],
  };
  assertStructuralEqual(f, primFunc([a, c], root(body, [b]), { attrs: ATTRS }));
});

Deno.test("createPrimFunc() binds symbolic sizes through the buffer map (row sum over n)", () => {
  const n = te.var("n");
  const A = te.placeholder([n, 64], "float32", "A");
  const k = te.reduceAxis([0, 64], "k");
  const rowSum = te.compute([n], ([i]) => te.sum(A.at(i, k), [k]), { name: "row_sum" });
  const f = te.createPrimFunc([A, rowSum]);

  const m = primVar("n");
  const a = declBuffer([m, 64], "float32", "A");
  const r = declBuffer([m], "float32", "row_sum");
  const [i, kk, vi, vk] = ["i0", "k", "v_i0", "v_k"].map((x) => primVar(x));
  const blk = sblock(
    "row_sum",
    bufferStore(r, bufferLoad(r, [vi!]).add(bufferLoad(a, [vi!, vk!])), [vi!]),
    {
      iterVars: [iterVar(vi!, m), iterVar(vk!, 64, "reduce")],
      reads: [point(a, vi!, vk!)],
      writes: [point(r, vi!)],
      init: bufferStore(r, floatImm(0), [vi!]),
    },
  );
  const body = forLoop(i!, range(m), forLoop(kk!, range(64), sblockRealize([i!, kk!], blk)));
  assertStructuralEqual(f, primFunc([a, r], root(body), { attrs: ATTRS }));
  assert.equal(f.bufferMap.get(f.params[0]!)!.shape[0], n);

  const data = randomArray(3 * 64);
  const out = { shape: [3], data: [0, 0, 0] };
  runPrimFunc(f, [{ shape: [3, 64], data }, out]);
  for (let row = 0; row < 3; row++) {
    const ref = data.slice(row * 64, row * 64 + 64).reduce((s, x) => s + x, 0);
    assert.ok(Math.abs(out.data[row]! - ref) < 1e-4, `row ${row}: ${out.data[row]} vs ${ref}`);
  }
});

Deno.test("createPrimFunc() computes a matmul numerically", () => {
  const { A, B, C } = matmulTe();
  const a = randomArray(16 * 8, 3), b = randomArray(8 * 4, 4);
  const c = new Array(16 * 4).fill(NaN);
  runPrimFunc(te.createPrimFunc([A, B, C]), [
    { shape: [16, 8], data: a },
    { shape: [8, 4], data: b },
    { shape: [16, 4], data: c },
  ]);
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 4; j++) {
      let ref = 0;
      for (let k = 0; k < 8; k++) ref += a[i * 8 + k]! * b[k * 4 + j]!;
      assert.ok(Math.abs(c[i * 4 + j]! - ref) < 1e-5);
    }
  }
});

Deno.test("createPrimFunc() of a softmax has 4 blocks and 3 intermediates in the root block", () => {
  const n = te.var("n");
  const X = te.placeholder([n, 16], "float32", "X");
  const k1 = te.reduceAxis([0, 16], "k");
  const k2 = te.reduceAxis([0, 16], "k");
  const M = te.compute([n], ([i]) => te.max(X.at(i, k1), [k1]), { name: "T_max" });
  const E = te.compute([n, 16], ([i, j]) => te.exp(X.at(i, j).sub(M.at(i))), { name: "T_exp" });
  const S = te.compute([n], ([i]) => te.sum(E.at(i, k2), [k2]), { name: "T_sum" });
  const Y = te.compute([n, 16], ([i, j]) => E.at(i, j).div(S.at(i)), { name: "T_softmax" });
  const f = te.createPrimFunc([X, Y]);

  const all = blocks(f.body);
  assert.deepEqual(all.map((b) => b.name), ["root", "T_max", "T_exp", "T_sum", "T_softmax"]);
  assert.deepEqual(all[0]!.allocBuffers.map((b) => b.name), ["T_max", "T_exp", "T_sum"]);
  assert.deepEqual(all.map((b) => b.init !== undefined), [false, true, false, true, false]);
  const exp = block(f, "T_exp");
  assert.deepEqual(exp.reads.map((r) => r.buffer.name), ["X", "T_max"]);
  assert.deepEqual(exp.writes.map((r) => r.buffer.name), ["T_exp"]);
  const init = block(f, "T_max").init;
  assert.ok(init?.kind === "BufferStore" && init.value.kind === "FloatImm");
  assert.equal(init.value.value, -3.4028234663852886e38);

  const x = randomArray(2 * 16, 7).map((v) => v * 4);
  const y = new Array(32).fill(NaN);
  runPrimFunc(f, [{ shape: [2, 16], data: x }, { shape: [2, 16], data: y }]);
  for (let r = 0; r < 2; r++) {
    const row = x.slice(r * 16, r * 16 + 16);
    const mx = Math.max(...row);
    const s = row.reduce((acc, v) => acc + Math.exp(v - mx), 0);
    row.forEach((v, j) => assert.ok(Math.abs(y[r * 16 + j]! - Math.exp(v - mx) / s) < 1e-5));
  }
});

Deno.test("createPrimFunc() of an argmax writes both outputs through let-bound temporaries", () => {
  const m = te.var("m");
  const A = te.placeholder([4, m], "float32", "A");
  const k = te.reduceAxis([0, m], "k");
  const [idx, val] = te.compute([4], ([i]) => te.argmax(A.at(i, k), k), { name: "argmax" });
  const f = te.createPrimFunc([A, idx!, val!]);
  const b = block(f, "argmax");
  assert.deepEqual(b.writes.map((w) => w.buffer.name), ["argmax_v0", "argmax_v1"]);
  assert.deepEqual(b.reads.map((w) => w.buffer.name), ["A"]);
  assert.equal(b.init?.kind, "SeqStmt");
  assert.equal(b.body.kind, "LetStmt");
  assert.equal(idx!.dtype, "int32");
  assert.equal(val!.dtype, "float32");

  const data = [3, 1, 3, 0, -1, -5, -2, -1, 0.5, 0.25, 0.75, 0.75, 2, 2, 2, 2];
  const oi = [NaN, NaN, NaN, NaN], ov = [NaN, NaN, NaN, NaN];
  runPrimFunc(f, [{ shape: [4, 4], data }, { shape: [4], data: oi }, { shape: [4], data: ov }]);
  assert.deepEqual(oi, [0, 0, 2, 0]);
  assert.deepEqual(ov, [3, -1, 0.75, 2]);
});

Deno.test("createPrimFunc() of argmin finds the first smallest element", () => {
  const A = te.placeholder([2, 5], "float32", "A");
  const k = te.reduceAxis([0, 5], "k");
  const outs = te.compute([2], ([i]) => te.argmin(A.at(i, k), k), { name: "argmin" });
  const oi = [NaN, NaN], ov = [NaN, NaN];
  runPrimFunc(te.createPrimFunc([A, ...outs]), [
    { shape: [2, 5], data: [4, 1, 2, 1, 9, 0, 0, -3, 5, -3] },
    { shape: [2], data: oi },
    { shape: [2], data: ov },
  ]);
  assert.deepEqual(oi, [1, 2]);
  assert.deepEqual(ov, [1, -3]);
});

Deno.test("createPrimFunc() of a multi-output compute puts one block per output in one loop nest", () => {
  const A0 = te.placeholder([3, 5], "float32", "A0");
  const A1 = te.placeholder([3, 5], "float32", "A1");
  const [B0, B1] = te.compute([3, 5], ([i, j]) => [A0.at(i, j).add(2), A1.at(i, j).mul(3)], {
    name: "B",
  });
  const f = te.createPrimFunc([A0, A1, B0!, B1!]);
  const all = blocks(f.body);
  assert.deepEqual(all.map((b) => b.name), ["root", "B_v0", "B_v1"]);
  assert.notEqual(all[1]!.iterVars[0]!.var, all[2]!.iterVars[0]!.var);
  const outer = all[0]!.body as Stmt;
  assert.equal(outer.kind, "For");

  const a0 = randomArray(15, 1), a1 = randomArray(15, 2);
  const b0 = new Array(15).fill(NaN), b1 = new Array(15).fill(NaN);
  runPrimFunc(
    f,
    [[3, 5], [3, 5], [3, 5], [3, 5]].map((shape, i) => ({
      shape,
      data: [a0, a1, b0, b1][i]!,
    })),
  );
  assert.deepEqual(b0, a0.map((v) => Math.fround(v + 2)));
  assert.deepEqual(b1, a1.map((v) => Math.fround(v * 3)));
});

Deno.test("createPrimFunc() guards a reduction's where condition with an if", () => {
  const A = te.placeholder([3, 6], "float32", "A");
  const k = te.reduceAxis([0, 6], "k");
  const S = te.compute([3], ([i]) => te.sum(A.at(i, k), [k], { where: k.lt(i.add(2)) }), {
    name: "S",
  });
  const f = te.createPrimFunc([A, S]);
  assert.equal(block(f, "S").body.kind, "IfThenElse");
  const a = Array.from({ length: 18 }, (_, i) => i);
  const s = [NaN, NaN, NaN];
  runPrimFunc(f, [{ shape: [3, 6], data: a }, { shape: [3], data: s }]);
  assert.deepEqual(s, [0 + 1, 6 + 7 + 8, 12 + 13 + 14 + 15]);
});

Deno.test("createPrimFunc() uses a reduction's init value instead of the identity", () => {
  const A = te.placeholder([2, 3], "float32", "A");
  const k = te.reduceAxis([0, 3], "k");
  const S = te.compute([2], ([i]) => te.sum(A.at(i, k), [k], { init: 10 }), { name: "S" });
  const s = [NaN, NaN];
  runPrimFunc(te.createPrimFunc([A, S]), [{ shape: [2, 3], data: [1, 2, 3, 4, 5, 6] }, {
    shape: [2],
    data: s,
  }]);
  assert.deepEqual(s, [16, 25]);
});

Deno.test("createPrimFunc() of a 0-d compute adds a unit iteration variable", () => {
  const a = te.placeholder([], "int32", "a");
  const b = te.placeholder([], "int32", "b");
  const c = te.compute([], () => a.at().add(b.at()), { name: "c" });
  const f = te.createPrimFunc([a, b, c]);
  const pa = declBuffer([], "int32", "a");
  const pb = declBuffer([], "int32", "b");
  const pc = declBuffer([], "int32", "c");
  const vi = primVar("vi");
  const blk = sblock("c", bufferStore(pc, bufferLoad(pa, []).add(bufferLoad(pb, [])), []), {
    iterVars: [iterVar(vi, 1)],
    reads: [bufferRegion(pa, []), bufferRegion(pb, [])],
    writes: [bufferRegion(pc, [])],
  });
  assertStructuralEqual(
    f,
    primFunc([pa, pb, pc], root(sblockRealize([intImm(0)], blk)), { attrs: ATTRS }),
  );
});

Deno.test("createPrimFunc() nests a block when a reduce axis depends on a spatial axis", () => {
  const A = te.placeholder([6], "float32", "A");
  const P = te.compute([6], ([i]) => {
    const r = te.reduceAxis([0, i.add(1)], "r");
    return te.sum(A.at(r), [r]);
  }, { name: "cumsum" });
  const f = te.createPrimFunc([A, P]);
  const all = blocks(f.body);
  assert.deepEqual(all.map((b) => b.name), ["root", "cumsum_l1", "cumsum"]);
  assert.deepEqual(all[1]!.iterVars.map((iv) => iv.iterKind), ["spatial"]);
  assert.deepEqual(all[2]!.iterVars.map((iv) => iv.iterKind), ["spatial", "reduce"]);
  assert.equal(all[1]!.reads[0]!.region[0]!.extent.kind, "Add");
  const out = new Array(6).fill(NaN);
  runPrimFunc(f, [{ shape: [6], data: [1, 2, 3, 4, 5, 6] }, { shape: [6], data: out }]);
  assert.deepEqual(out, [1, 3, 6, 10, 15, 21]);
});

Deno.test("createPrimFunc() merges accesses at constant offsets into one read region", () => {
  const A = te.placeholder([8], "float32", "A");
  const S = te.compute([6], ([i]) => A.at(i).add(A.at(i.add(1))).add(A.at(i.add(2))), {
    name: "S",
  });
  const T = te.compute([6], ([i]) => A.at(i).add(A.at(A.at(i).cast("int32"))), { name: "T" });
  const f = te.createPrimFunc([A, S, T]);
  const rs = block(f, "S").reads[0]!.region[0]!;
  assert.equal(rs.min.kind, "Var");
  assert.deepEqual(rs.extent, intImm(3));
  const rt = block(f, "T").reads[0]!.region[0]!;
  assert.deepEqual([rt.min, rt.extent], [intImm(0), intImm(8)]);
});

Deno.test("createPrimFunc() uses int64 loops for int64 shapes", () => {
  const n = te.var("n", "int64");
  const A = te.placeholder([n, 4], "float32", "A");
  const B = te.compute(A.shape, ([i, j]) => A.at(i!, j!).add(1), { name: "B" });
  const f = te.createPrimFunc([A, B]);
  const loop = (f.body as { block: SBlock }).block.body;
  assert.equal(loop.kind, "For");
  assert.equal(loop.loopVar.dtype, "int64");
  assert.equal(loop.extent.dtype, "int64");
  assert.equal(A.shape[1]!.dtype, "int64");
});

Deno.test("createPrimFunc() accepts scalar parameters", () => {
  const n = te.var("n");
  const alpha = te.var("alpha", "float32");
  const A = te.placeholder([n], "float32", "A");
  const B = te.compute([n], ([i]) => A.at(i).mul(alpha), { name: "B" });
  const f = te.createPrimFunc([A, alpha, B]);
  assert.equal(f.params[1], alpha);
  const out = [NaN, NaN];
  runPrimFunc(f, [{ shape: [2], data: [1, 2] }, 0.5, { shape: [2], data: out }]);
  assert.deepEqual(out, [0.5, 1]);
  assert.throws(
    () => te.createPrimFunc([A, B]),
    {
      message:
        'Cannot create PrimFunc "main": variable "alpha" is used but not defined; pass it as an argument or use it in an argument\'s shape',
    },
  );
});

Deno.test("createPrimFunc() makes block and buffer names unique", () => {
  const A = te.placeholder([4], "float32", "A");
  const B = te.compute([4], ([i]) => A.at(i).mul(2), { name: "main" });
  const C = te.compute([4], ([i]) => B.at(i).add(1), { name: "main" });
  const f = te.createPrimFunc([A, C], { name: "twice" });
  assert.deepEqual(blocks(f.body).map((b) => b.name), ["root", "main", "main_1"]);
  assert.deepEqual([...f.bufferMap.values()].map((b) => b.name), ["A", "main"]);
  assert.deepEqual(blocks(f.body)[0]!.allocBuffers.map((b) => b.name), ["main_1"]);
  assert.equal(f.attrs.global_symbol, "twice");
});

Deno.test("createPrimFunc() follows the argument order and copies compute attrs to blocks", () => {
  const { A, B, C } = matmulTe();
  const f = te.createPrimFunc([C, A, B]);
  assert.deepEqual([...f.bufferMap.values()].map((b) => b.name), ["C", "A", "B"]);
  const D = te.compute([16], ([i]) => A.at(i, 0), {
    name: "D",
    attrs: { schedule_rule: "my_rule" },
  });
  assert.deepEqual(block(te.createPrimFunc([A, D]), "D").annotations, { schedule_rule: "my_rule" });
});

Deno.test("createPrimFunc() gives each function its own buffers", () => {
  const { A, B, C } = matmulTe();
  const f = te.createPrimFunc([A, B, C]);
  const g = te.createPrimFunc([A, B, C]);
  assert.notEqual(f.bufferMap.get(f.params[0]!), g.bufferMap.get(g.params[0]!));
  assert.notEqual(f.bufferMap.get(f.params[0]!), A.buffer);
  assertStructuralEqual(f, g);
});

Deno.test("createPrimFunc() rejects bad argument lists", () => {
  const { A, B, C } = matmulTe();
  assert.throws(() => te.createPrimFunc([A, A, B, C]), {
    message: 'Cannot create PrimFunc "main": tensor "A" is listed twice',
  });
  assert.throws(() => te.createPrimFunc([A, C]), {
    message: 'Cannot create PrimFunc "main": placeholder "B" is read but not an argument',
  });
  const n = te.var("n");
  assert.throws(() => te.createPrimFunc([A, B, C, n, n]), {
    message: 'Cannot create PrimFunc "main": variable "n" is listed twice',
  });
  assert.throws(() => te.createPrimFunc([A, B, C, 3 as unknown as te.Tensor]), {
    message: 'Cannot create PrimFunc "main": arguments must be te tensors or variables',
  });
});
