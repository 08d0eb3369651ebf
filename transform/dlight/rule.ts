/**
 * Schedule rules in the dlight style: a rule looks at a PrimFunc and a target and returns a
 * schedule for it, or `undefined` when it does not apply. Rules are tried in order.
 *
 * @module
 */

import type { PrimFunc } from "../../ir/tir/prim_func.ts";
import type { Schedule } from "../schedule/schedule.ts";
import type { Target } from "../target.ts";

/** A default-schedule rule. */
export interface ScheduleRule {
  /** The rule's name, for reports. */
  readonly name: string;
  /** A schedule of `func` for `target`, or `undefined` when the rule does not apply. */
  apply(func: PrimFunc, target: Target): Schedule | undefined;
}
