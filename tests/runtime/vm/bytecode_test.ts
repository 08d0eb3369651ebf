import assert from "node:assert/strict";
import {
  formatFunction,
  formatInstr,
  validateFunction,
  type VMFunction,
} from "../../../runtime/vm/bytecode.ts";
import { assertThrowsMsg } from "../_helpers.ts";
import { pick, table } from "./_programs.ts";

Deno.test("instructions and functions print as readable text", () => {
  assert.equal(
    formatInstr({
      op: "call",
      dst: 2,
      func: 1,
      args: [{ kind: "reg", index: 0 }, { kind: "imm", value: 5 }, { kind: "const", index: 3 }],
    }, table),
    "r2 = call vm.builtin.copy(r0, 5, c3)",
  );
  assert.equal(formatInstr({ op: "call", dst: -1, func: 7, args: [] }, table), "call #7()");
  assert.equal(formatInstr({ op: "if", cond: 3, falseOffset: 3 }), "if r3 else +3");
  assert.equal(formatInstr({ op: "goto", offset: -2 }), "goto -2");
  assert.equal(
    formatFunction(pick, table),
    [
      "vm function pick(c, a, b) [5 registers]:",
      "    0: r3 = call vm.builtin.read_if_cond(r0)",
      "    1: if r3 else +3",
      "    2: r4 = call vm.builtin.copy(r1)",
      "    3: goto +2",
      "    4: r4 = call vm.builtin.copy(r2)",
      "    5: ret r4",
    ].join("\n"),
  );
});

Deno.test("validateFunction accepts well-formed code and names the first bad instruction", () => {
  const limits = { numFuncs: 2, numConsts: 1 };
  validateFunction(pick, limits);
  const bad = (code: VMFunction["code"], numRegs = 5) => ({ ...pick, numRegs, code });
  assertThrowsMsg(
    () => validateFunction(bad([{ op: "ret", value: { kind: "reg", index: 5 } }]), limits),
    'VM function "pick", instruction 0: register 5 is out of range (0 to 4)',
  );
  assertThrowsMsg(
    () => validateFunction(bad([{ op: "call", dst: 0, func: 2, args: [] }, pick.code[5]!]), limits),
    'VM function "pick", instruction 0: function 2 is out of range (the table has 2)',
  );
  assertThrowsMsg(
    () => validateFunction(bad([{ op: "ret", value: { kind: "const", index: 1 } }]), limits),
    "instruction 0: constant 1 is out of range (the pool has 1)",
  );
  assertThrowsMsg(
    () => validateFunction(bad([{ op: "goto", offset: 3 }, pick.code[5]!]), limits),
    "instruction 0: jump to 3 leaves the function",
  );
  assertThrowsMsg(
    () => validateFunction(bad([{ op: "call", dst: 0, func: 0, args: [] }]), limits),
    'VM function "pick" does not end with ret',
  );
  assertThrowsMsg(
    () => validateFunction(bad(pick.code, 2), limits),
    'VM function "pick" has 2 registers for 3 parameters',
  );
  assertThrowsMsg(
    () => validateFunction(bad([{ op: "halt" } as never, pick.code[5]!]), limits),
    'instruction 0: unknown instruction "halt"',
  );
});
