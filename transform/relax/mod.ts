/**
 * Relax passes: the lowering of Relax functions for the VM (`ToNonDataflow`, `CallTIRRewrite`,
 * `StaticPlanBlockMemory`, `VMShapeLower`) and the low-level operators they produce.
 *
 * @module
 */
export * from "./builtin_ops.ts";
export * from "./to_non_dataflow.ts";
export * from "./call_tir_rewrite.ts";
export * from "./static_plan_block_memory.ts";
export * from "./vm_shape_lower.ts";
export * from "./legalize_ops.ts";
