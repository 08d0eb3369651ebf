import assert from "node:assert/strict";
import { parseTVMScript, TVMScriptParseError } from "../../script/parser/mod.ts";

/** Parses `text`, expecting a TVMScriptParseError, and returns it. */
function parseError(text: string, name = "test.py"): TVMScriptParseError {
  try {
    parseTVMScript(text, { name });
  } catch (e) {
    if (e instanceof TVMScriptParseError) return e;
    throw new Error(`Expected a TVMScriptParseError, got ${e}`);
  }
  throw new Error("Expected a TVMScriptParseError, but the text parsed");
}

function expectError(text: string, message: string): void {
  assert.equal(parseError(text).message, message);
}

const TIR = (body: string, params = 'A: T.Buffer((4,), "int32")') =>
  `@T.prim_func\ndef main(${params}):\n${body}`;
const RELAX = (body: string, params = 'x: R.Tensor((4,), "float32")') =>
  `@R.function\ndef main(${params}):\n${body}`;

Deno.test("a syntax error says what was expected, with file:line:col, the line and a caret", () => {
  const e = parseError(
    '# header\n@R.function\ndef forward_x(x R.Tensor((4,), "float32")):\n    return x\n',
    "model.py",
  );
  assert.equal(e.message, 'Expected ":" after parameter "x" at 3:17');
  assert.equal(e.reason, 'Expected ":" after parameter "x"');
  assert.deepEqual([e.line, e.col, e.fileName], [3, 17, "model.py"]);
  assert.equal(e.sourceLine, 'def forward_x(x R.Tensor((4,), "float32")):');
  assert.equal(
    e.format(),
    'model.py:3:17: error: Expected ":" after parameter "x"\n' +
      'def forward_x(x R.Tensor((4,), "float32")):\n' +
      "                ^",
  );
  assert.equal(String(e), e.format());
  assert.ok(e.stack?.startsWith(e.format()));
});

Deno.test("the default file name is <tvmscript>", () => {
  assert.throws(() => parseTVMScript("def"), (err: unknown) => {
    assert.ok(err instanceof TVMScriptParseError);
    assert.equal(err.fileName, "<tvmscript>");
    assert.equal(err.message, 'Expected a name after "def", got end of line at 1:4');
    assert.ok(err.format().startsWith("<tvmscript>:1:4: error: "));
    return true;
  });
});

Deno.test("lexical errors: unterminated strings, bad indentation, stray characters", () => {
  expectError(TIR('    A[0] = "abc\n'), "Unterminated string at 3:12");
  expectError(
    TIR("        A[0] = 1\n    A[1] = 2\n"),
    "Unindent does not match any outer indentation level at 4:5",
  );
  expectError(TIR("    A[0] = $\n"), 'Unexpected character "$" at 3:12');
  expectError(TIR("    A[0] = (1\n"), "Unexpected end of text: a bracket is not closed at 4:1");
  expectError("  @T.prim_func\ndef f():\n    pass\n", "Unexpected indent at 1:3");
});

Deno.test("unknown operators and functions have their own messages", () => {
  expectError(RELAX("    y = R.foo(x)\n    return y\n"), 'Unknown Relax operator "R.foo" at 3:9');
  expectError(
    TIR("    A[0] = T.frobnicate(A[1])\n"),
    'Unknown TIR function "T.frobnicate" at 3:12',
  );
  expectError(
    TIR("    for i in T.sideways(4):\n        A[i] = 0\n"),
    'Unknown loop kind "T.sideways" at 3:14',
  );
});

Deno.test("undefined names are reported where they are used", () => {
  expectError(RELAX("    y = R.add(x, z)\n    return y\n"), 'Undefined name "z" at 3:18');
  expectError(TIR("    A[0] = B[0]\n"), 'Undefined name "B" at 3:12');
  expectError(
    '@I.ir_module\nclass Module:\n    @R.function\n    def main(x: R.Object):\n        cls = Module\n        y = R.call_tir(cls.g, (x,), out_sinfo=R.Tensor((4,), "float32"))\n        return y\n',
    'Module has no function "g" at 6:24',
  );
});

Deno.test("wrong arity and unknown keywords", () => {
  expectError(
    TIR("    A[0] = T.exp(A[1], A[2])\n"),
    'Cannot call "T.exp": expected 1 argument, got 2 at 3:12',
  );
  expectError(
    RELAX("    y = R.nn.softmax(x, x)\n    return y\n"),
    'Cannot call "R.nn.softmax": expected 1 argument, got 2 at 3:9',
  );
  expectError(
    RELAX("    y = R.nn.softmax(x, axes=1)\n    return y\n"),
    'Cannot call "R.nn.softmax": unexpected keyword argument "axes" (expected one of: axis) at 3:25',
  );
  expectError(
    TIR('    A[0] = T.Cast("int32")\n'),
    'Cannot call "T.Cast": missing argument "value" (expected 2 arguments, got 1) at 3:12',
  );
});

Deno.test("bad types: mismatched dtypes, non-buffers, non-annotations", () => {
  expectError(
    TIR("    A[0] = A[1] + T.float32(1.0)\n"),
    "Cannot add int32 and float32: insert an explicit cast at 3:12",
  );
  expectError(
    TIR("    A[0] = T.float32(1.0)\n"),
    'Cannot store float32 into buffer "A" of int32 at 3:5',
  );
  expectError(
    TIR("    A[0] = n[1]\n", 'A: T.Buffer((4,), "int32"), n: T.int32'),
    'Cannot index name "n": it is not a buffer at 3:12',
  );
  expectError(
    RELAX("    return x\n", "x: 3"),
    "Expected a struct info annotation such as R.Tensor(...), got number 3 at 2:13",
  );
  expectError(TIR('    A[0] = T.Cast("int33", A[0])\n'), 'Unknown dtype "int33" at 3:19');
  expectError(
    RELAX("    y = x + x\n    return y\n"),
    "Expected a Relax expression, got an expression (Relax has no operators: call them, as in R.add(a, b)) at 3:9",
  );
  expectError(
    RELAX("    n = T.int64()\n    y = R.add(x, n)\n    return y\n"),
    'add: argument "x2" must be a tensor, got R.Prim("int64") at 4:9',
  );
});

Deno.test("structural errors of Relax functions", () => {
  expectError(
    RELAX("    y = R.add(x, x)\n"),
    "A Relax function must end with a return statement at 3:5",
  );
  expectError(
    RELAX("    with R.dataflow():\n        R.output(y)\n        y = R.add(x, x)\n    return y\n"),
    "R.output must be the last statement of a dataflow block at 4:9",
  );
  expectError(
    RELAX(
      "    if c:\n        a = x\n    else:\n        b = x\n    return x\n",
      'c: R.Tensor((), "bool"), x: R.Object',
    ),
    'Both branches of the if must assign the same variable last, got "a" and "b" at 3:5',
  );
  expectError(
    RELAX("    if x:\n        y = x\n    return y\n"),
    "An if statement in Relax needs an else branch at 3:5",
  );
});

Deno.test("structural errors of TIR functions", () => {
  expectError(
    TIR(
      '    for i in range(4):\n        with T.sblock("b"):\n            vi, vn = T.axis.remap("SS", [i, n])\n            A[vi] = 0\n',
      'A: T.Buffer((4,), "int32"), n: T.int32',
    ),
    'T.axis.remap expects loop variables, got name "n" at 5:45',
  );
  expectError(
    TIR('    for i in T.thread_binding(4, thread="threadIdx.w"):\n        A[i] = 0\n'),
    'Unknown thread axis "threadIdx.w" at 3:41',
  );
  expectError(
    TIR('    B = T.alloc_buffer((4,), "int32", scope="texture")\n    B[0] = A[0]\n'),
    'Unknown storage scope "texture" (expected one of global, shared, local, shared.dyn, uniform) at 3:45',
  );
  expectError(TIR("    T.reads(A[0])\n"), "T.reads must be inside a block at 3:5");
  expectError(
    TIR("    n = T.int32()\n    n += 1\n"),
    'Augmented assignment "+=" is only supported on buffer elements at 4:5',
  );
  expectError(
    TIR("    with T.init():\n        A[0] = 0\n"),
    "T.init() must be directly inside a block at 3:10",
  );
});

Deno.test("module-level errors", () => {
  expectError("class Module:\n    pass\n", 'Expected @I.ir_module on class "Module" at 1:1');
  expectError("x = 1\n", "Only a metadata section may be assigned at the top level at 1:1");
  expectError("", "Expected an @I.ir_module class or a function at 1:1");
  expectError(
    "@T.prim_func\ndef a():\n    pass\n@T.prim_func\ndef b():\n    pass\n",
    "Expected a single module or function in the text at 4:1",
  );
  expectError(
    "@I.ir_module\nclass M:\n    @R.function\n    def f(x: R.Object):\n        return x\n    @R.function\n    def f(x: R.Object):\n        return x\n",
    'Module already has a function named "f" at 6:5',
  );
});

Deno.test("metadata errors", () => {
  const use =
    '@R.function\ndef main() -> R.Tensor((2,), dtype="int32"):\n    c = metadata["relax.expr.Constant"][3]\n    return c\n';
  expectError(use, "The text refers to metadata but has no metadata section at 3:9");
  expectError(
    use +
      'metadata = {"relax.expr.Constant": [{"dtype": "int32", "shape": [2], "data": "BwAAAPj///8="}]}\n',
    'Metadata "relax.expr.Constant" has no entry 3 (it has 1) at 3:9',
  );
  expectError(
    use +
      'metadata = {"relax.expr.Constant": [{"dtype": "int32", "shape": [3], "data": "BwAAAPj///8="}]}\n',
    "Metadata constant 0 of shape (3) needs 12 bytes, got 8 at 5:12",
  );
});

Deno.test("deep nesting is an error, not a stack overflow", () => {
  const deep = "(".repeat(2000) + "1" + ")".repeat(2000);
  const e = parseError(TIR(`    A[0] = ${deep}\n`));
  assert.equal(e.reason, "Program is nested too deeply");
});

// ------------------------------------------------------------------------- fuzzing

/** A small seeded PRNG (mulberry32), so failures reproduce. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  "(",
  ")",
  "[",
  "]",
  ":",
  ",",
  ".",
  "=",
  " ",
  "\n",
  "    ",
  "T.",
  "R.",
  "x",
  "0",
  '"',
  "#",
  "\\",
  "-",
  "*",
  "@",
];

function mutate(text: string, rand: () => number): string {
  const at = Math.floor(rand() * text.length);
  switch (Math.floor(rand() * 5)) {
    case 0:
      return text.slice(0, at); // truncate
    case 1:
      return text.slice(0, at) + text.slice(at + 1 + Math.floor(rand() * 8)); // delete
    case 2:
      return text.slice(0, at) + PIECES[Math.floor(rand() * PIECES.length)] + text.slice(at); // insert
    case 3: {
      const lines = text.split("\n"); // swap two lines
      const a = Math.floor(rand() * lines.length), b = Math.floor(rand() * lines.length);
      [lines[a], lines[b]] = [lines[b]!, lines[a]!];
      return lines.join("\n");
    }
    default: {
      const len = 1 + Math.floor(rand() * 12); // duplicate a slice
      return text.slice(0, at + len) + text.slice(at, at + len) + text.slice(at + len);
    }
  }
}

Deno.test("mutated fixtures either parse or throw a TVMScriptParseError", () => {
  const dir = new URL("./fixtures/", import.meta.url);
  const texts = [...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".py")).map((e) =>
    Deno.readTextFileSync(new URL(e.name, dir))
  );
  assert.ok(texts.length >= 45);
  const rand = prng(1234);
  let failures = 0;
  for (const text of texts) {
    for (let k = 0; k < 60; k++) {
      let t = mutate(text, rand);
      if (rand() < 0.3) t = mutate(t, rand);
      try {
        parseTVMScript(t);
      } catch (e) {
        if (!(e instanceof TVMScriptParseError)) {
          failures++;
          console.error(`Not a TVMScriptParseError: ${e}\n--- input ---\n${t}`);
        } else if (!/ at \d+:\d+$/.test(e.message)) {
          failures++;
          console.error(`Unlocated error message: ${e.message}`);
        }
      }
    }
  }
  assert.equal(failures, 0);
});
