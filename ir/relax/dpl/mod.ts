/**
 * The dataflow pattern language: patterns (`isOp`, `wildcard`, `isConst`, ...), matching
 * (`pattern.match`, `matchDataflow`) and rewriting (`rewriteCall`).
 *
 * @module
 */
export * from "./pattern.ts";
export * from "./match.ts";
export * from "./rewrite.ts";
export * from "./emitter.ts";
