/**
 * Small hand-written bytecode programs shared by the VM tests.
 *
 * @module
 */

import type { FuncEntry, VMFunction } from "../../../runtime/vm/bytecode.ts";

/** A function table with the two builtins {@link pick} calls. */
export const table: FuncEntry[] = [
  { kind: "packed", name: "vm.builtin.read_if_cond" },
  { kind: "packed", name: "vm.builtin.copy" },
];

/** `pick(c, a, b)`: `a` when `c`, else `b`. */
export const pick: VMFunction = {
  name: "pick",
  params: ["c", "a", "b"],
  numRegs: 5,
  code: [
    { op: "call", dst: 3, func: 0, args: [{ kind: "reg", index: 0 }] },
    { op: "if", cond: 3, falseOffset: 3 },
    { op: "call", dst: 4, func: 1, args: [{ kind: "reg", index: 1 }] },
    { op: "goto", offset: 2 },
    { op: "call", dst: 4, func: 1, args: [{ kind: "reg", index: 2 }] },
    { op: "ret", value: { kind: "reg", index: 4 } },
  ],
};
