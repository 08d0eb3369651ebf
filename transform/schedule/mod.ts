/**
 * TensorIR schedules: {@link Schedule} and its primitives, handles and traces.
 *
 * @module
 */
export * from "./schedule.ts";
export * from "./trace.ts";
export * from "./index_map.ts";
