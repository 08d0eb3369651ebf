/**
 * `applyDefaultSchedule`: schedules every PrimFunc that has no thread bindings yet with the
 * first rule that applies (TVM's `dlight.ApplyDefaultSchedule`).
 *
 * @module
 */

import type { PrimFunc } from "../../ir/tir/prim_func.ts";
import { type Pass, type PassContext, primFuncPass } from "../pass.ts";
import { makeTarget, type Target } from "../target.ts";
import { hasThreadBinding } from "./_analysis.ts";
import type { ScheduleRule } from "./rule.ts";

/** The attribute marking a PrimFunc as scheduled. */
export const IS_SCHEDULED = "tir.is_scheduled";

function targetOf(ctx: PassContext): Target {
  const t = ctx.config["target"];
  if (t === undefined) return makeTarget("webgpu");
  if (t === "webgpu" || t === "js") return makeTarget(t);
  if (typeof t === "object" && t !== null && "maxThreadsPerBlock" in t) return t as Target;
  throw new Error(`Cannot apply default schedules: config "target" is not a target`);
}

/** Whether a function is already scheduled (marked so, or has thread bindings). */
export function isScheduled(func: PrimFunc): boolean {
  return func.attrs[IS_SCHEDULED] === true || hasThreadBinding(func.body);
}

/**
 * A pass that schedules each PrimFunc not yet scheduled with the first of `rules` that applies,
 * and marks it `"tir.is_scheduled": true`. The target comes from the pass context's config
 * `"target"` (a {@link Target} or `"webgpu"`/`"js"`; WebGPU's defaults when absent).
 *
 * @example
 * ```ts
 * const mod2 = applyDefaultSchedule(new Fallback())(mod);
 * ```
 */
export function applyDefaultSchedule(...rules: readonly ScheduleRule[]): Pass {
  return primFuncPass("ApplyDefaultSchedule", (func, _name, _mod, ctx) => {
    if (isScheduled(func)) return func;
    const target = targetOf(ctx);
    for (const rule of rules) {
      const sch = rule.apply(func, target);
      if (!sch) continue;
      return { ...sch.func, attrs: { ...sch.func.attrs, [IS_SCHEDULED]: true } };
    }
    return func;
  });
}
