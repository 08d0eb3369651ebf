/**
 * TIR: scalar expressions, buffers, statements and PrimFuncs.
 *
 * @module
 */
export * from "../expr.ts";
export * from "./stmt.ts";
export * from "./prim_func.ts";
export * from "./block_access.ts";
export * from "../expr_equal.ts";
