/**
 * Relax: the graph-level IR and its StructInfo.
 *
 * @module
 */
export * from "./expr.ts";
export * from "./struct_info.ts";
