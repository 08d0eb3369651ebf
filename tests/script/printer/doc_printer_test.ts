import assert from "node:assert/strict";
import {
  assign,
  attr,
  call,
  comment,
  exprStmt,
  id,
  index,
  int,
  op,
  scope,
  slice,
  str,
  tuple,
} from "../../../script/printer/doc.ts";
import { docToPython, escapeString, formatFloat } from "../../../script/printer/doc_printer.ts";

Deno.test("formatFloat() prints integral floats with one decimal, others with 17 digits", () => {
  assert.equal(formatFloat(0), "0.0");
  assert.equal(formatFloat(-0), "-0.0");
  assert.equal(formatFloat(2), "2.0");
  assert.equal(formatFloat(-3), "-3.0");
  assert.equal(formatFloat(1e21), "1000000000000000000000.0");
  assert.equal(formatFloat(0.5), "0.5");
  assert.equal(formatFloat(0.1), "0.10000000000000001");
  assert.equal(formatFloat(Math.fround(0.1)), "0.10000000149011612");
  assert.equal(formatFloat(1e-5), "1.0000000000000001e-05");
  assert.equal(formatFloat(1.5e-300), "1.5000000000000001e-300");
  assert.equal(formatFloat(123.25), "123.25");
  assert.equal(formatFloat(0.0001), "0.0001");
  assert.equal(formatFloat(1.5e17), "150000000000000000.0");
  assert.equal(formatFloat(1.25e17 + 0.5), "125000000000000000.0");
  assert.equal(formatFloat(-2.5), "-2.5");
});

Deno.test("formatFloat() quotes infinities and NaN as TVM does", () => {
  assert.equal(formatFloat(Infinity), '"inf"');
  assert.equal(formatFloat(-Infinity), '"-inf"');
  assert.equal(formatFloat(NaN), '"nan"');
});

Deno.test("escapeString() escapes quotes, backslashes and control characters", () => {
  assert.equal(escapeString('a"b\\c'), 'a\\"b\\\\c');
  assert.equal(escapeString("x\ny\tz\r"), "x\\ny\\tz\\r");
  assert.equal(escapeString("\u0001"), "\\x01");
  assert.equal(escapeString("é"), "é");
});

Deno.test("docToPython() parenthesizes by Python precedence", () => {
  const a = id("a"), b = id("b"), c = id("c");
  assert.equal(docToPython(op("Mult", op("Add", a, b), c)), "(a + b) * c");
  assert.equal(docToPython(op("Add", op("Mult", a, b), c)), "a * b + c");
  assert.equal(docToPython(op("Sub", a, op("Sub", b, c))), "a - (b - c)");
  assert.equal(docToPython(op("Sub", op("Sub", a, b), c)), "a - b - c");
  assert.equal(docToPython(op("Not", op("Lt", a, b))), "not a < b");
  assert.equal(docToPython(op("And", op("Or", a, b), c)), "(a or b) and c");
  assert.equal(docToPython(op("USub", op("Add", a, b))), "-(a + b)");
  assert.equal(docToPython(attr(op("Add", a, b), "x")), "(a + b).x");
  assert.equal(
    docToPython(index(a, [slice(int(0), b), slice(undefined, undefined, int(2))])),
    "a[0:b, ::2]",
  );
  assert.equal(docToPython(index(a, [])), "a[()]");
  assert.equal(docToPython(tuple([a])), "(a,)");
  assert.equal(docToPython(call(a, [b], [["k", str("v")]])), 'a(b, k="v")');
});

Deno.test("docToPython() lays out statements with indentation and empty blocks as pass", () => {
  const body = [assign(tuple([id("x"), id("y")]), tuple([int(1), int(2)])), exprStmt(id("z"))];
  const doc = {
    k: "class" as const,
    name: "M",
    decorators: [id("dec")],
    body: [
      {
        k: "function" as const,
        name: "f",
        args: [assign(id("a"), undefined, id("T"))],
        decorators: [],
        ret: id("R"),
        body,
      },
      scope(undefined, call(id("w")), []),
      comment("two\nlines"),
    ],
  };
  assert.equal(
    docToPython(doc, 2),
    [
      "@dec",
      "class M:",
      "  def f(a: T) -> R:",
      "    x, y = 1, 2",
      "    z",
      "",
      "  with w():",
      "    pass",
      "  # two",
      "  # lines",
    ].join("\n"),
  );
});
