/**
 * Default GPU schedules in the dlight style: {@link ScheduleRule}s and the
 * {@link applyDefaultSchedule} pass that applies them.
 *
 * @module
 */
export * from "./rule.ts";
export * from "./fallback.ts";
export * from "./matmul.ts";
export * from "./gemv.ts";
export * from "./apply_default_schedule.ts";
export * from "./reduction.ts";
export * from "./general_reduction.ts";
export * from "./transpose.ts";
