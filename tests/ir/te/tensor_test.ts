import assert from "node:assert/strict";
import { bufferLoad, declBuffer, intImm, primVar } from "../../../ir/expr.ts";
import * as te from "../../../ir/te/mod.ts";

Deno.test("placeholder() makes a tensor backed by its own buffer", () => {
  const n = te.var("n");
  const A = te.placeholder([n, 64], "float16", "A");
  assert.equal(A.kind, "te.Tensor");
  assert.equal(A.name, "A");
  assert.equal(A.dtype, "float16");
  assert.equal(A.ndim, 2);
  assert.equal(A.shape[0], n);
  assert.deepEqual(A.shape[1], intImm(64));
  assert.equal(A.buffer.name, "A");
  assert.equal(A.op.kind, "te.PlaceholderOp");
  assert.equal(te.tensorOfBuffer(A.buffer), A);
  const d = te.placeholder([3]);
  assert.equal(d.dtype, "float32");
  assert.equal(d.name, "placeholder");
});

Deno.test("at() is an ordinary BufferLoad with fluent arithmetic", () => {
  const A = te.placeholder([4, 8], "float32", "A");
  const B = te.placeholder([8, 2], "float32", "B");
  const i = primVar("i"), k = primVar("k"), j = primVar("j");
  const e = A.at(i, k).mul(B.at(k, j));
  assert.equal(e.kind, "Mul");
  if (e.kind !== "Mul") return;
  assert.equal(e.a.kind, "BufferLoad");
  if (e.a.kind !== "BufferLoad") return;
  assert.equal(e.a.buffer, A.buffer);
  assert.deepEqual(e.a.indices, [i, k]);
  assert.deepEqual(A.at(1, 2).indices, [intImm(1), intImm(2)]);
});

Deno.test("at() with the wrong number of indices names the tensor", () => {
  const A = te.placeholder([4, 8], "float32", "A");
  assert.throws(() => A.at(primVar("i")), {
    message: 'Cannot index tensor "A": expected 2 indices, got 1',
  });
  const k = te.reduceAxis([0, 8], "k");
  const r = te.sum(A.at(0, k), [k]);
  assert.throws(() => A.at(0, r as unknown as number), {
    message: 'Cannot index tensor "A" with a reduction',
  });
});

Deno.test("shapes use int32, or int64 when a dimension is int64", () => {
  const n64 = te.var("n", "int64");
  const A = te.placeholder([n64, 4], "float32", "A");
  assert.deepEqual(A.shape.map((d) => d.dtype), ["int64", "int64"]);
  assert.deepEqual(A.shape[1], intImm(4, "int64"));
  assert.equal(te.shapeIndexDtype([2, 3]), "int32");
  assert.equal(te.shapeIndexDtype([2, intImm(3, "int64")]), "int64");
  const B = te.compute([4, 4], ([i]) => i.cast("float32"), { indexDtype: "int64", name: "B" });
  assert.deepEqual(B.shape.map((d) => d.dtype), ["int64", "int64"]);
  const op = B.op;
  assert.ok(op.kind === "te.ComputeOp");
  assert.equal(op.axes[0]!.var.dtype, "int64");
  const n32 = te.var("m");
  const C = te.compute([n32], ([i]) => i, { indexDtype: "int64", name: "C" });
  assert.equal(C.shape[0]!.kind, "Cast");
  assert.equal(C.dtype, "int64");
});

Deno.test("placeholder() and compute() reject bad shapes", () => {
  assert.throws(() => te.placeholder([2, -1], "float32", "A"), {
    message: 'Placeholder "A": dimension 1 is negative (-1)',
  });
  assert.throws(() => te.placeholder([2, primVar("x", "float32")], "float32", "A"), {
    message: 'Placeholder "A": dimension 1 must be an integer, got float32',
  });
  assert.throws(() => te.compute([2], ([i]) => i, { name: "C", indexDtype: "float32" }), {
    message: 'Compute "C": index dtype must be an integer type, got float32',
  });
  assert.throws(() => te.compute([2], ([i]) => i, { name: "C", axisNames: ["a", "b"] }), {
    message: 'Compute "C": got 2 axis names for 1 dimensions',
  });
});

Deno.test("compute() passes axis variables named i0, i1, ... or as given", () => {
  const A = te.placeholder([3, 5], "float32", "A");
  const B = te.compute([3, 5], ([x, y]) => A.at(x, y).add(1), { name: "B", tag: "elemwise" });
  const op = B.op;
  assert.ok(op.kind === "te.ComputeOp");
  assert.deepEqual(op.axes.map((a) => a.var.name), ["i0", "i1"]);
  assert.deepEqual(op.axes.map((a) => a.iterKind), ["spatial", "spatial"]);
  assert.equal(op.tag, "elemwise");
  assert.deepEqual(op.inputs, [A]);
  assert.deepEqual(op.outputs, [B]);
  const C = te.compute([3], ([r]) => A.at(r, 0), { axisNames: ["row"] });
  assert.ok(C.op.kind === "te.ComputeOp");
  assert.equal(C.op.axes[0]!.var.name, "row");
  assert.equal(C.name, "compute");
});

Deno.test("compute() records inputs in order of first use", () => {
  const A = te.placeholder([4], "float32", "A");
  const B = te.placeholder([4], "float32", "B");
  const C = te.compute([4], ([i]) => B.at(i).add(A.at(i)).add(B.at(i)), { name: "C" });
  assert.ok(C.op.kind === "te.ComputeOp");
  assert.deepEqual(C.op.inputs, [B, A]);
});

Deno.test("compute() types its output from the body", () => {
  const A = te.placeholder([4], "float32", "A");
  assert.equal(te.compute([4], ([i]) => A.at(i).gt(0)).dtype, "bool");
  assert.equal(te.compute([4], () => 1).dtype, "int32");
  assert.equal(te.compute([4], () => 1.5).dtype, "float32");
  assert.equal(te.compute([4], ([i]) => A.at(i).cast("float16")).dtype, "float16");
});

Deno.test("compute() returning an array makes several outputs", () => {
  const A = te.placeholder([4], "float32", "A");
  const outs = te.compute([4], ([i]) => [A.at(i).add(1), A.at(i).gt(0)], { name: "B" });
  assert.equal(outs.length, 2);
  assert.deepEqual(outs.map((t) => [t.name, t.dtype, t.valueIndex]), [
    ["B_v0", "float32", 0],
    ["B_v1", "bool", 1],
  ]);
  assert.equal(outs[0]!.op, outs[1]!.op);
});

Deno.test("compute() rejects a reduction that is not the whole result", () => {
  const A = te.placeholder([4, 4], "float32", "A");
  const k = te.reduceAxis([0, 4], "k");
  assert.throws(
    () => te.compute([4], ([i]) => [te.sum(A.at(i, k), [k]), A.at(i, 0)], { name: "C" }),
    {
      message:
        'Compute "C": a reduction must be the whole result of the callback, not mixed with other outputs',
    },
  );
  assert.throws(
    () =>
      te.compute([4], ([i]) => A.at(i, 0).add(te.sum(A.at(i, k), [k]) as unknown as number), {
        name: "C",
      }),
    {
      message:
        'Compute "C": a reduction can only be the whole result of the callback, found one inside an expression',
    },
  );
  assert.throws(() => te.compute([4], () => A as unknown as number, { name: "C" }), {
    message: 'Compute "C": the callback must return expressions',
  });
  assert.throws(() => te.compute([4], () => [], { name: "C" }), {
    message: 'Compute "C": the callback returned no outputs',
  });
});

Deno.test("compute() checks the values of a multi-value reduction", () => {
  const A = te.placeholder([4, 4], "float32", "A");
  const k = te.reduceAxis([0, 4], "k");
  assert.throws(() => te.compute([4], ([i]) => te.argmax(A.at(i, k), k)[1]!, { name: "C" }), {
    message: 'Compute "C": the reduction has 2 values, but the callback returned 1',
  });
  assert.throws(
    () => te.compute([4], ([i]) => [...te.argmax(A.at(i, k), k)].reverse(), { name: "C" }),
    {
      message:
        'Compute "C": all outputs must be the values of one reduction, in order (output 0 is not)',
    },
  );
  assert.throws(
    () =>
      te.compute([4], ([i]) => [te.sum(A.at(i, k), [k]), te.sum(A.at(i, k), [k])], { name: "C" }),
    { message: 'Compute "C": the reduction has 1 values, but the callback returned 2' },
  );
});

Deno.test("compute() rejects axes used where they are not defined", () => {
  const A = te.placeholder([4, 4], "float32", "A");
  const k = te.reduceAxis([0, 4], "k");
  assert.throws(() => te.compute([4], ([i]) => A.at(i, k), { name: "C" }), {
    message: 'Compute "C" uses reduce axis "k" outside a reduction',
  });
  const k2 = te.reduceAxis([0, 4], "k2");
  assert.throws(
    () => te.compute([4], ([i]) => te.sum(A.at(i, k).add(A.at(i, k2)), [k]), { name: "C" }),
    {
      message: 'Compute "C" uses reduce axis "k2" outside a reduction',
    },
  );
  let leaked = primVar("x");
  te.compute([4], ([i]) => {
    leaked = i;
    return A.at(i, 0);
  }, { name: "B" });
  assert.throws(() => te.compute([4], () => A.at(leaked, 0), { name: "C" }), {
    message: 'Compute "C" uses axis "i0" of compute "B"',
  });
});

Deno.test("compute() rejects loads of buffers that belong to no tensor", () => {
  const buf = declBuffer([4], "float32", "raw");
  const A = te.placeholder([4], "float32", "A");
  assert.throws(() => te.compute([4], ([i]) => A.at(i).add(bufferLoad(buf, [i])), { name: "C" }), {
    message: 'Compute "C" reads buffer "raw", which belongs to no te tensor',
  });
});

Deno.test("var() and sizeVar() make new variables each call", () => {
  const a = te.var("n"), b = te.var("n");
  assert.notEqual(a, b);
  assert.equal(a.dtype, "int32");
  assert.equal(te.var("m", "int64").dtype, "int64");
  assert.equal(te.sizeVar("s").isSize, true);
  assert.equal(a.isSize, false);
});
