/**
 * The well-formedness checker: finds undefined variables, variables defined twice, dataflow
 * variables used outside their block, buffer accesses with the wrong number of indices, blocks
 * realized with the wrong number of values, undefined buffers, GlobalVars naming no function,
 * and StructInfo that disagrees with a value. Messages name the function and the node:
 * `In function "main": variable "x" is used but never defined`.
 *
 * @example
 * ```ts
 * const errors = wellFormed(mod);          // [] when the module is well formed
 * checkWellFormed(mod);                    // throws listing every problem
 * ```
 *
 * @module
 */

import type { IRModule } from "./module.ts";
import type { Function } from "./relax/expr.ts";
import type { PrimFunc } from "./tir/prim_func.ts";
import { checkRelaxFunction } from "./well_formed/relax.ts";
import { Report, type WellFormedError } from "./well_formed/report.ts";
import { checkPrimFunc } from "./well_formed/tir.ts";

export type { WellFormedError } from "./well_formed/report.ts";

/** Options of {@link wellFormed}. */
export interface WellFormedOptions {
  /**
   * The name messages use for a lone function; by default its `global_symbol` attribute, else
   * `"main"`. Module functions always go by their global names.
   */
  readonly name?: string;
}

function lonelyName(f: PrimFunc | Function, options: WellFormedOptions): string {
  const sym = f.attrs["global_symbol"];
  return options.name ?? (typeof sym === "string" ? sym : "main");
}

function checkFunction(
  f: PrimFunc | Function,
  name: string,
  mod: IRModule | undefined,
  out: WellFormedError[],
): void {
  const report = new Report(name, out);
  if (f.kind === "PrimFunc") checkPrimFunc(f, report);
  else checkRelaxFunction(f, report, mod);
}

/**
 * Checks a module, PrimFunc or Relax function and returns every problem found (empty when
 * well formed), in program order.
 */
export function wellFormed(
  x: IRModule | PrimFunc | Function,
  options: WellFormedOptions = {},
): WellFormedError[] {
  const out: WellFormedError[] = [];
  if (x.kind === "IRModule") {
    for (const [name, f] of x.functions) checkFunction(f, name, x, out);
  } else {
    checkFunction(x, lonelyName(x, options), undefined, out);
  }
  return out;
}

/** Thrown by {@link checkWellFormed}; its message lists every problem, one a line. */
export class WellFormedCheckError extends Error {
  /** The problems found. */
  readonly errors: readonly WellFormedError[];

  /** An error listing `errors`. */
  constructor(errors: readonly WellFormedError[]) {
    super(errors.map((e) => e.message).join("\n"));
    this.name = "WellFormedCheckError";
    this.errors = errors;
  }
}

/** Throws a {@link WellFormedCheckError} listing every problem unless `x` is well formed. */
export function checkWellFormed(
  x: IRModule | PrimFunc | Function,
  options: WellFormedOptions = {},
): void {
  const errors = wellFormed(x, options);
  if (errors.length > 0) throw new WellFormedCheckError(errors);
}
