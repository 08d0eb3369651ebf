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
export * from "./annotate_tir_op_pattern.ts";
export * from "./fuse_ops.ts";
export * from "./fuse_tir.ts";
export * from "./dead_code_elimination.ts";
export * from "./canonicalize_bindings.ts";
export * from "./eliminate_common_subexpr.ts";
export * from "./bind_params.ts";
export * from "./fuse_ops_by_pattern.ts";
export * from "./merge_composite_functions.ts";
export * from "./decompose_ops_for_inference.ts";
export * from "./convert_layout.ts";
export * from "./fold_constant.ts";
export * from "./lift_transform_params.ts";
export * from "./to_mixed_precision.ts";
