/**
 * Structural equality and hashing of IR nodes, with TVM's semantics: names do not matter;
 * variables are equal when bound at corresponding definition points (PrimFunc params and
 * buffers, loop vars, block iter vars, `Let`/`LetStmt` vars, Relax function params, binding
 * left-hand sides, new symbolic variables of parameter and `match_cast` StructInfo) and used
 * consistently; free variables are equal only when identical, or mapped to each other where
 * first met when `mapFreeVars` is set.
 *
 * A few specifics: a buffer is a definition wherever it first occurs (its data pointer and new
 * shape variables with it), as in TVM; block names, buffer names and the StructInfo of Relax
 * calls are not compared; module functions are compared by global name; constants compare
 * dtype, shape and bytes; NaN equals NaN.
 *
 * @example
 * ```ts
 * const x = primVar("x"), y = primVar("y");
 * structuralEqual(letExpr(x, intImm(1), x.add(1)), letExpr(y, intImm(1), y.add(1))); // true
 * ```
 *
 * @module
 */

import { Canonicalizer, type Token, type TokenSite } from "./structural/canonical.ts";
import { TokenHasher, tokensEqual } from "./structural/hash.ts";
import { showValue } from "./structural/show.ts";

/** Options of structural equality and hashing. */
export interface StructuralOptions {
  /** Map free variables to each other where first met, instead of requiring identity. */
  readonly mapFreeVars?: boolean;
}

const MISMATCH = Symbol("mismatch");

/** The index of the first token where the streams of `a` and `b` differ, or -1. */
function firstMismatch(a: unknown, b: unknown, options: StructuralOptions): number {
  if (a === b) return -1;
  const tokens: Token[] = [];
  new Canonicalizer((t) => tokens.push(t), options).run(a);
  let i = 0;
  try {
    new Canonicalizer((t) => {
      if (i >= tokens.length || !tokensEqual(tokens[i]!, t)) throw MISMATCH;
      i++;
    }, options).run(b);
  } catch (e) {
    if (e === MISMATCH) return i;
    throw e;
  }
  return i === tokens.length ? -1 : i;
}

/**
 * Whether `a` and `b` are structurally equal: any IR nodes (IRModule, PrimFunc, Relax function
 * or expression, StructInfo, PrimExpr, statement, Buffer, Range, IterVar, BufferRegion), attribute
 * values, or arrays of these.
 */
export function structuralEqual(a: unknown, b: unknown, options: StructuralOptions = {}): boolean {
  return firstMismatch(a, b, options) === -1;
}

/**
 * A structural hash: a non-negative integer below 2^53 (a `number`, usable as a `Map` key).
 * Structurally equal values (under the same options) hash alike; names never matter. Free
 * variables hash by identity (without `mapFreeVars`), so hashes are meaningful within one
 * process only. Different values may collide: confirm with {@link structuralEqual}.
 */
export function structuralHash(x: unknown, options: StructuralOptions = {}): number {
  const h = new TokenHasher();
  new Canonicalizer((t) => h.push(t), options).run(x);
  return h.digest();
}

const varNotes: { readonly [k: string]: string } = {
  "ref,ref": "the variables are bound at different definition points",
  "free,free": "free variables differ; set mapFreeVars to map them to each other",
  "def,ref": "a new variable is defined on one side where the other side uses an existing one",
  "ref,def": "a new variable is defined on one side where the other side uses an existing one",
  "free,ref": "a free variable on one side corresponds to a bound variable on the other",
  "ref,free": "a free variable on one side corresponds to a bound variable on the other",
  "free,def": "a free variable on one side corresponds to a newly defined variable on the other",
  "def,free": "a free variable on one side corresponds to a newly defined variable on the other",
};

function indent(text: string): string {
  return text.replaceAll("\n", "\n       ");
}

/** Thrown by {@link assertStructuralEqual}: names the path to the first mismatch and both sides. */
export class StructuralMismatchError extends Error {
  /** The path from the root to the first mismatch, e.g. `main.body.blocks[0].bindings[2].value`. */
  readonly path: string;
  /** The left-hand value at `path`. */
  readonly lhs: unknown;
  /** The right-hand value at `path`. */
  readonly rhs: unknown;

  /** An error for a mismatch at `path`; `note` explains a variable mismatch. */
  constructor(path: string, lhs: unknown, rhs: unknown, note?: string) {
    super(
      `Structural mismatch at ${path}\n  lhs: ${indent(showValue(lhs))}\n  rhs: ${
        indent(showValue(rhs))
      }` +
        (note ? `\n  (${note})` : ""),
    );
    this.name = "StructuralMismatchError";
    this.path = path;
    this.lhs = lhs;
    this.rhs = rhs;
  }
}

function siteOf(x: unknown, index: number, options: StructuralOptions): TokenSite | undefined {
  const c = new Canonicalizer(() => {}, { ...options, watch: index });
  c.run(x);
  return c.site;
}

/**
 * Throws a {@link StructuralMismatchError} unless `a` and `b` are structurally equal. The error
 * names the path to the first mismatch (`main.body.blocks[0].bindings[2].value.args[1]`) and
 * prints both sides there.
 */
export function assertStructuralEqual(
  a: unknown,
  b: unknown,
  options: StructuralOptions = {},
): void {
  const i = firstMismatch(a, b, options);
  if (i === -1) return;
  const l = siteOf(a, i, options);
  const r = siteOf(b, i, options);
  const note = l?.varState && r?.varState ? varNotes[`${l.varState},${r.varState}`] : undefined;
  throw new StructuralMismatchError(
    l?.path ?? r?.path ?? "<root>",
    l ? l.value : "(nothing)",
    r ? r.value : "(nothing)",
    note,
  );
}
