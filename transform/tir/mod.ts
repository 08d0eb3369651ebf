/**
 * TIR passes: the lowering pipeline from scheduled blocks to flat, codegen-ready TIR.
 *
 * @module
 */
export * from "./lower_init_block.ts";
export * from "./plan_buffer_allocation.ts";
export * from "./convert_blocks_to_opaque.ts";
export * from "./compact_buffer_allocation.ts";
export * from "./lower_opaque_block.ts";
export * from "./flatten_buffer.ts";
export * from "./simplify.ts";
export * from "./verify_lowered.ts";
export * from "./pipeline.ts";
export * from "./thread_sync.ts";
export * from "./vectorize_loop.ts";
export * from "./scalarize_vectors.ts";
