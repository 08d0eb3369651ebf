/**
 * Integer arithmetic analysis: the simplifier, constant bounds and integer sets.
 *
 * The rule tables, the pattern matcher and the canonical form live in their own files
 * (`rules.ts`, `pattern.ts`, `linear.ts`) for code that extends the simplifier.
 *
 * @module
 */

export * from "./analyzer.ts";
export * from "./int_set.ts";
export type { IntBound } from "./bounds.ts";
