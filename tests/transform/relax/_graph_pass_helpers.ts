/**
 * Helpers for the Before/Expected tests of the graph-level Relax passes.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { IRModule } from "../../../ir/module.ts";
import { assertStructuralEqual } from "../../../ir/structural.ts";
import { wellFormed } from "../../../ir/well_formed.ts";
import { parseTVMScript } from "../../../script/parser/mod.ts";
import { printTVMScript } from "../../../script/printer.ts";
import type { Pass } from "../../../transform/pass.ts";

/** Parses TVMScript and checks that the module prints and parses back to itself. */
export function parse(text: string): IRModule {
  const mod = parseTVMScript(text);
  assertStructuralEqual(parseTVMScript(printTVMScript(mod)), mod);
  return mod;
}

/** Throws unless `mod` is well formed. */
export function assertWellFormed(mod: IRModule): void {
  const errors = wellFormed(mod);
  assert.deepEqual(errors.map((e) => e.message), [], printTVMScript(mod));
}

/** Runs `pass` on `before` and checks the result against `expected` (both TVMScript). */
export function checkPass(pass: Pass, before: string, expected: string): IRModule {
  const out = pass(parse(before));
  const want = parse(expected);
  try {
    assertStructuralEqual(out, want);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n--- got:\n${printTVMScript(out)}`);
  }
  assertWellFormed(out);
  return out;
}

/** Checks that `pass` returns the very module it is given. */
export function checkNoOp(pass: Pass, text: string): void {
  const mod = parse(text);
  assert.equal(pass(mod), mod);
}
