/**
 * What the well-formedness checker reports, and helpers its TIR and Relax halves share.
 *
 * @module
 */

import { isBinary, type PrimExpr, type Var } from "../expr.ts";
import type { StructInfo } from "../relax/struct_info.ts";

/** One problem found by `wellFormed`. */
export interface WellFormedError {
  /** The name of the function the problem is in. */
  readonly functionName: string;
  /** The full message, e.g. `In function "main": variable "x" is used but never defined`. */
  readonly message: string;
  /** The offending node (a variable, buffer, binding, block, ...). */
  readonly node: unknown;
}

/** Collects the errors of one function, each distinct message once. */
export class Report {
  readonly #out: WellFormedError[];
  readonly #seen = new Set<string>();
  readonly #name: string;

  /** A report for function `name` that appends to `out`. */
  constructor(name: string, out: WellFormedError[]) {
    this.#name = name;
    this.#out = out;
  }

  /** Records `problem` (a message without the function prefix) about `node`. */
  add(problem: string, node: unknown): void {
    const message = `In function "${this.#name}": ${problem}`;
    if (this.#seen.has(message)) return;
    this.#seen.add(message);
    this.#out.push({ functionName: this.#name, message, node });
  }
}

/** `1 index`, `3 indices`. */
export function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Calls `fn` on each variable used in `e` (not those bound by a `Let` inside it). */
export function forEachFreeVar(
  e: PrimExpr,
  fn: (v: Var) => void,
  bound: ReadonlySet<Var> = new Set(),
): void {
  const go = (x: PrimExpr, b: ReadonlySet<Var>): void => {
    if (isBinary(x)) {
      go(x.a, b);
      go(x.b, b);
      return;
    }
    switch (x.kind) {
      case "Var":
        if (!b.has(x)) fn(x);
        return;
      case "IntImm":
      case "FloatImm":
      case "StringImm":
        return;
      case "Not":
        go(x.a, b);
        return;
      case "Select":
        go(x.cond, b);
        go(x.t, b);
        go(x.f, b);
        return;
      case "Cast":
      case "Broadcast":
        go(x.value, b);
        return;
      case "Let":
        go(x.value, b);
        go(x.body, new Set([...b, x.var]));
        return;
      case "Call":
        for (const a of x.args) go(a, b);
        return;
      case "BufferLoad":
        for (const a of x.indices) go(a, b);
        return;
      case "Ramp":
        go(x.base, b);
        go(x.stride, b);
        return;
      default:
        x satisfies never;
    }
  };
  go(e, bound);
}

/**
 * Calls `fn` on each TIR variable used in a StructInfo. Variables inside a `R.Callable`
 * signature are local to it and skipped.
 */
export function forEachStructInfoVar(s: StructInfo, fn: (v: Var) => void): void {
  switch (s.kind) {
    case "ObjectStructInfo":
      return;
    case "PrimStructInfo":
      if (s.value) forEachFreeVar(s.value, fn);
      return;
    case "ShapeStructInfo":
      for (const v of s.values ?? []) forEachFreeVar(v, fn);
      return;
    case "TensorStructInfo":
      for (const v of s.shape ?? []) forEachFreeVar(v, fn);
      return;
    case "TupleStructInfo":
      for (const f of s.fields) forEachStructInfoVar(f, fn);
      return;
    case "FuncStructInfo":
      return;
    default:
      s satisfies never;
  }
}
