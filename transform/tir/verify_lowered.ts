/**
 * Checks that a PrimFunc is in the flat form that code generators accept.
 *
 * @module
 */

import type { Buffer, PrimExpr, Var } from "../../ir/expr.ts";
import { primFuncs } from "../../ir/module.ts";
import type { PrimFunc } from "../../ir/tir/prim_func.ts";
import type { Stmt } from "../../ir/tir/stmt.ts";
import { visitPrimExpr } from "../../ir/visit.ts";
import { modulePass, type Pass } from "../pass.ts";
import { funcName, stmtChildren, stmtExprs } from "./_util.ts";

/** Options of {@link verifyLowered}. */
export interface VerifyLoweredOptions {
  /** The function's name in messages; its `global_symbol` (or `<anonymous>`) by default. */
  readonly name?: string;
}

/**
 * Throws unless `f` is lowered: no blocks left, every buffer access one-dimensional, every
 * `AllocBuffer`/`DeclBuffer` one-dimensional, every thread-binding loop tagged, and every
 * accessed buffer's storage (`data`) either a parameter's or allocated by an enclosing
 * `AllocBuffer`. The message names what is left, e.g.
 * `Function "f" still contains block "C" after lowering`.
 */
export function verifyLowered(f: PrimFunc, options: VerifyLoweredOptions = {}): void {
  const name = funcName(f, options.name);
  const fail = (what: string): never => {
    throw new Error(`Function "${name}" ${what}`);
  };
  const live = new Set<Var>();
  for (const b of f.bufferMap.values()) live.add(b.data);
  const access = (b: Buffer, n: number) => {
    if (n !== 1) fail(`still accesses buffer "${b.name}" with ${n} indices after lowering`);
    if (!live.has(b.data)) {
      fail(`accesses buffer "${b.name}" whose storage is neither a parameter nor allocated`);
    }
  };
  const scan = (e: PrimExpr) =>
    visitPrimExpr(e, (x) => {
      if (x.kind === "BufferLoad") access(x.buffer, x.indices.length);
    });
  const walk = (s: Stmt): void => {
    switch (s.kind) {
      case "SBlock":
        return fail(`still contains block "${s.name}" after lowering`);
      case "SBlockRealize":
        return fail(`still contains block "${s.block.name}" after lowering`);
      case "BufferStore":
        access(s.buffer, s.indices.length);
        break;
      case "For":
        if (s.forKind === "thread_binding" && s.threadTag === undefined) {
          fail(`binds loop "${s.loopVar.name}" to a thread without a thread tag`);
        }
        break;
      case "AllocBuffer":
      case "DeclBuffer": {
        const verb = s.kind === "AllocBuffer" ? "allocates" : "declares";
        const n = s.buffer.shape.length;
        if (n !== 1) {
          fail(`still ${verb} buffer "${s.buffer.name}" with ${n} dimensions after lowering`);
        }
        if (s.kind === "DeclBuffer" && !live.has(s.buffer.data)) {
          fail(
            `declares buffer "${s.buffer.name}" whose storage is neither a parameter nor allocated`,
          );
        }
        break;
      }
      default:
        break;
    }
    for (const e of stmtExprs(s)) scan(e);
    const owns = s.kind === "AllocBuffer" && !live.has(s.buffer.data);
    if (owns) live.add(s.buffer.data);
    for (const c of stmtChildren(s)) walk(c);
    if (owns) live.delete(s.buffer.data);
  };
  walk(f.body);
}

/**
 * A pass that runs {@link verifyLowered} on every PrimFunc of the module (named by its global
 * name) and returns the module unchanged.
 */
export const verifyLoweredPass: Pass = modulePass("VerifyLowered", (mod) => {
  for (const [name, f] of primFuncs(mod)) verifyLowered(f, { name });
  return mod;
});
