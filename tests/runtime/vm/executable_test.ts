import assert from "node:assert/strict";
import { compileKernel } from "../../../runtime/kernel.ts";
import type { FuncEntry, VMFunction } from "../../../runtime/vm/bytecode.ts";
import { Executable, type ExecutableParts } from "../../../runtime/vm/executable.ts";
import { makeTarget } from "../../../transform/target.ts";
import { assertThrowsMsg } from "../_helpers.ts";
import { addKernel } from "../_kernels.ts";
import { pick, table } from "./_programs.ts";

const main: VMFunction = {
  name: "main",
  params: ["x"],
  numRegs: 3,
  code: [
    {
      op: "call",
      dst: 1,
      func: 2,
      args: [{ kind: "imm", value: 1 }, { kind: "reg", index: 0 }, { kind: "const", index: 0 }],
    },
    {
      op: "call",
      dst: 2,
      func: 3,
      args: [{ kind: "reg", index: 1 }, { kind: "reg", index: 1 }, { kind: "reg", index: 1 }],
    },
    { op: "ret", value: { kind: "reg", index: 1 } },
  ],
};

function parts(target: "js" | "webgpu" = "js"): ExecutableParts {
  const funcTable: FuncEntry[] = [...table, { kind: "vm", name: "pick", index: 0 }, {
    kind: "prim",
    name: "add",
  }];
  return {
    target,
    functions: [pick, main],
    funcTable,
    constants: [
      {
        kind: "tensor",
        value: { dtype: "float32", shape: [2, 2], data: Float32Array.from([1, 2, 3, 4]) },
      },
      {
        kind: "tensor",
        value: { dtype: "int64", shape: [2], data: BigInt64Array.from([-5n, 2n ** 40n]) },
      },
      { kind: "shape", dims: [3, 1] },
      { kind: "string", value: "float32" },
      { kind: "number", value: 0.5 },
    ],
    kernels: new Map([["add", compileKernel(addKernel(), makeTarget(target), { name: "add" })]]),
  };
}

Deno.test("an executable prints its bytecode, constants and kernels", () => {
  const text = String(new Executable(parts()));
  assert.match(text, /^executable for js\nvm function pick\(c, a, b\) \[5 registers\]:/);
  assert.ok(text.includes("    0: r1 = call pick(1, r0, c0)"));
  assert.ok(
    text.includes(
      '  c0: tensor (2, 2) float32\n  c1: tensor (2,) int64\n  c2: shape (3, 1)\n  c3: "float32"\n  c4: 0.5',
    ),
  );
  assert.ok(text.includes("kernels:\n  add (A, B, C)"));
});

Deno.test("serialize and load round-trip an executable, constants included", () => {
  const exec = new Executable(parts("webgpu"));
  const loaded = Executable.load(exec.serialize());
  assert.equal(String(loaded), String(exec));
  assert.deepEqual(loaded.functionNames(), ["pick", "main", "add"]);
  const c1 = loaded.constants[1]!;
  assert.ok(c1.kind === "tensor");
  assert.deepEqual(Array.from(c1.value.data as BigInt64Array), [-5n, 2n ** 40n]);
  assert.deepEqual(loaded.kernels.get("add"), exec.kernels.get("add"));
});

Deno.test("loading JavaScript kernels is an explicit choice", () => {
  const text = new Executable(parts("js")).serialize();
  assertThrowsMsg(
    () => Executable.load(text),
    'Cannot load executable: kernel "add" is JavaScript, which running evaluates; pass { allowJsKernels: true } if you trust the file',
  );
  assert.equal(Executable.load(text, { allowJsKernels: true }).kernels.size, 1);
});

Deno.test("load rejects malformed files with a reason", () => {
  const good = JSON.parse(new Executable(parts("webgpu")).serialize());
  const load = (x: unknown) => () => Executable.load(typeof x === "string" ? x : JSON.stringify(x));
  assertThrowsMsg(load("{"), "Cannot load executable: not JSON");
  assertThrowsMsg(load({ format: "other" }), "Cannot load executable: not a tvmts-executable file");
  assertThrowsMsg(
    load({ ...good, version: 9 }),
    "Cannot load executable: version 9 is not supported (expected 1)",
  );
  assertThrowsMsg(
    load({ ...good, target: "cuda" }),
    'Cannot load executable: unknown target "cuda"',
  );
  assertThrowsMsg(
    load({ ...good, functions: 3 }),
    'Cannot load executable: "functions" must be a list',
  );
  const consts = [...good.constants];
  consts[0] = { ...consts[0], data: "AAAA" };
  assertThrowsMsg(
    load({ ...good, constants: consts }),
    "Cannot load executable: constant 0 of shape (2, 2) has 3 bytes, expected 16",
  );
  assertThrowsMsg(
    load({ ...good, constants: [{ kind: "blob" }] }),
    'constant 0 has unknown kind "blob"',
  );
  const fns = [good.functions[0], { ...good.functions[1], numRegs: 2 }];
  assertThrowsMsg(
    load({ ...good, functions: fns }),
    'Cannot load executable: VM function "main", instruction 1: register 2 is out of range (0 to 1)',
  );
});

Deno.test("an executable checks that its function table matches its functions and kernels", () => {
  const p = parts();
  assertThrowsMsg(
    () => new Executable({ ...p, functions: [main, pick] }),
    'Function table entry 2 names VM function "pick", which is missing',
  );
  assertThrowsMsg(
    () => new Executable({ ...p, kernels: new Map() }),
    'Function table entry 3 names PrimFunc "add", which has no kernel',
  );
  assertThrowsMsg(
    () => new Executable({ ...p, target: "webgpu" }),
    'Kernel "add" was compiled for js, but the executable targets webgpu',
  );
  assertThrowsMsg(() => new Executable(p).functionAt(5), "The executable has no VM function 5");
});
