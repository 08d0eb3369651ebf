/**
 * The `te` compute DSL: describe a kernel as tensors computed elementwise or by reductions, then
 * turn it into a TIR PrimFunc with {@link createPrimFunc}.
 *
 * @example
 * ```ts
 * const n = te.var("n");
 * const A = te.placeholder([n, 64], "float32", "A");
 * const k = te.reduceAxis([0, 64], "k");
 * const rowSum = te.compute([n], ([i]) => te.sum(A.at(i, k), [k]), { name: "row_sum" });
 * const f = te.createPrimFunc([A, rowSum]);
 * ```
 *
 * @module
 */
export * from "./tensor.ts";
export { teVar as var } from "./tensor.ts";
export * from "./reduce.ts";
export * from "./intrin.ts";
export { constOf as const } from "./intrin.ts";
export * from "./create_prim_func.ts";
