import assert from "node:assert/strict";
import {
  isCall,
  isCallTIR,
  isConst,
  isDFVar,
  isExternFunc,
  isGV,
  isOp,
  isShape,
  isTuple,
  isTupleGetItem,
  isVar,
  PatternSeq,
  reject,
  wildcard,
} from "../../../../ir/relax/dpl/pattern.ts";

Deno.test("patterns print in constructor syntax", () => {
  const conv = isOp("relax.nn.conv2d")(wildcard(), wildcard());
  assert.equal(String(conv), 'isOp("relax.nn.conv2d")(wildcard(), wildcard())');
  assert.equal(
    String(conv.with({ attrs: { data_layout: "NCHW" }, dtype: "float32" })),
    'isOp("relax.nn.conv2d")(wildcard(), wildcard()).with({ attrs: { data_layout: "NCHW" } })' +
      '.with({ dtype: "float32" })',
  );
  assert.equal(
    String(isConst().or(isVar("x"), isDFVar())),
    'isConst().or(isVar("x")).or(isDFVar())',
  );
  assert.equal(String(reject(isGV("f")).and(wildcard())), 'isGV("f").not().and(wildcard())');
  assert.equal(
    String(isTupleGetItem(isTuple([isConst()]), 1)),
    "isTupleGetItem(isTuple([isConst()]), 1)",
  );
  assert.equal(String(isTuple([], { unordered: true })), "isTuple([], { unordered: true })");
  assert.equal(String(isShape([1, 2])), "isShape([1, 2])");
  assert.equal(String(isExternFunc("f")(wildcard())), 'isExternFunc("f")(wildcard())');
  assert.equal(String(isCallTIR("add")), 'isOp("relax.call_tir")(isGV("add"), wildcard(), ...)');
  assert.equal(String(wildcard().with({ shape: [2, 3] })), "wildcard().with({ shape: [2, 3] })");
});

Deno.test("every pattern is callable and immutable", () => {
  const w = wildcard();
  const call = w(isConst());
  assert.equal(call.kind, "Call");
  if (call.kind === "Call") {
    assert.equal(call.callee, w);
    assert.equal(call.args.length, 1);
  }
  assert.throws(() => {
    (w as unknown as { kind: string }).kind = "Op";
  });
  const vc = isCall(isOp("relax.add"), [wildcard()], { varArgs: true });
  assert.equal(String(vc), 'isOp("relax.add")(wildcard(), ...)');
});

Deno.test("usedBy chains build a PatternSeq with edges", () => {
  const a = isOp("relax.nn.conv2d")(wildcard(), wildcard());
  const b = isOp("relax.nn.relu")(wildcard());
  const c = isOp("relax.add")(wildcard(), wildcard());
  const seq = a.usedBy(b, 0).onlyUsedBy(c);
  assert.ok(seq instanceof PatternSeq);
  assert.deepEqual(seq.patterns, [a, b, c]);
  assert.deepEqual(seq.edges.map((e) => [e.producer, e.consumer, e.index, e.only]), [
    [a, b, 0, false],
    [b, c, -1, true],
  ]);
  assert.match(String(seq), /\.usedBy\(isOp\("relax.nn.relu"\)\(wildcard\(\)\), 0\)\.onlyUsedBy\(/);
});

Deno.test("patterns that can never match are rejected with a clear message", () => {
  assert.throws(
    () => isOp("relax.nope"),
    { message: 'Pattern isOp("relax.nope") can never match: unknown operator "relax.nope"' },
  );
  assert.throws(
    () => isOp("relax.nn.relu")(wildcard(), wildcard()),
    {
      message: 'Pattern isOp("relax.nn.relu")(wildcard(), wildcard()) can never match: ' +
        '"relax.nn.relu" takes 1 argument, got 2',
    },
  );
  assert.throws(
    () => isOp("relax.add")(wildcard()),
    { message: /can never match: "relax.add" takes 2 arguments, got 1/ },
  );
  assert.throws(
    () => isOp("relax.nn.relu")(wildcard()).with({ attrs: { axis: 1 } }),
    { message: /can never match: "relax.nn.relu" has no attribute "axis"/ },
  );
  assert.throws(
    () => isOp("relax.add").and(isOp("relax.multiply")),
    { message: /can never match: a call cannot be of both "relax.add" and "relax.multiply"/ },
  );
  assert.throws(
    () => isTupleGetItem(wildcard(), -1),
    { message: /can never match: a tuple index must be a non-negative integer/ },
  );
  assert.throws(() => wildcard().usedBy(wildcard(), -3), { message: /use index must be -1/ });
  assert.throws(() => new PatternSeq([]), {
    message: "A pattern sequence needs at least one pattern",
  });
});
