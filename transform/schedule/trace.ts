/**
 * The trace of a schedule: the primitives applied, in order, with their arguments and the
 * handles they returned. It prints as the Python lines TVM prints for a trace.
 *
 * @module
 */

import { isPrimExpr, type PrimExpr, type Var } from "../../ir/expr.ts";
import { type IndexMap, indexMapText } from "./index_map.ts";

/** A handle to a block: its name, unique within the scheduled function. */
export interface BlockRV {
  /** The node tag. */
  readonly kind: "BlockRV";
  /** The block's name. */
  readonly name: string;
}

/** A handle to a loop: its loop variable (loop variables have identity). */
export interface LoopRV {
  /** The node tag. */
  readonly kind: "LoopRV";
  /** The loop's variable. */
  readonly var: Var;
}

/** A block or loop handle. */
export type ScheduleRV = BlockRV | LoopRV;

/** A value recorded as a primitive's argument. */
export type TraceValue =
  | ScheduleRV
  | PrimExpr
  | IndexMap
  | number
  | string
  | boolean
  | null
  | undefined
  | readonly TraceValue[]
  | { readonly [key: string]: TraceValue };

/** One primitive application. */
export interface TraceRecord {
  /** The primitive's name as TVM spells it (`"split"`, `"compute_inline"`, ...). */
  readonly primitive: string;
  /** Named arguments, in order. */
  readonly args: { readonly [name: string]: TraceValue };
  /** The handles it returned. */
  readonly outputs: readonly ScheduleRV[];
}

/** Primitives whose loop list prints as positional arguments. */
const POSITIONAL = new Set(["fuse", "reorder"]);

/** The recorded primitives of a schedule; `String(trace)` gives one Python line per record. */
export class Trace {
  /** The records, oldest first. */
  readonly records: readonly TraceRecord[];

  /** Makes a trace from records. */
  constructor(records: readonly TraceRecord[]) {
    this.records = records;
  }

  /** The trace as Python lines (`l1, l2 = sch.get_loops(block=b0)`). */
  toString(): string {
    const names = new Map<ScheduleRV, string>();
    let n = 0;
    const value = (v: TraceValue): string => {
      if (v === undefined || v === null) return "None";
      if (typeof v === "boolean") return v ? "True" : "False";
      if (typeof v === "number") return String(v);
      if (typeof v === "string") return JSON.stringify(v);
      if (Array.isArray(v)) return `[${v.map(value).join(", ")}]`;
      if (isPrimExpr(v)) return exprText(v);
      const x = v as { readonly kind?: unknown };
      if (x.kind === "BlockRV" || x.kind === "LoopRV") {
        return names.get(v as ScheduleRV) ?? "<unknown>";
      }
      if (x.kind === "IndexMap") return indexMapText(v as IndexMap);
      const dict = v as { readonly [key: string]: TraceValue };
      return `{${
        Object.entries(dict).map(([k, y]) => `${JSON.stringify(k)}: ${value(y)}`).join(", ")
      }}`;
    };
    const lines: string[] = [];
    for (const r of this.records) {
      for (const o of r.outputs) {
        if (!names.has(o)) names.set(o, `${o.kind === "BlockRV" ? "b" : "l"}${n++}`);
      }
      const args = Object.entries(r.args).map(([k, v]) =>
        POSITIONAL.has(r.primitive) && Array.isArray(v)
          ? (v as TraceValue[]).map(value).join(", ")
          : `${k}=${value(v)}`
      );
      const lhs = r.outputs.length ? `${r.outputs.map((o) => names.get(o)).join(", ")} = ` : "";
      lines.push(`${lhs}sch.${r.primitive}(${args.join(", ")})`);
    }
    return lines.join("\n");
  }
}

/** A short text for a PrimExpr argument (constants and variables; else its kind). */
function exprText(e: PrimExpr): string {
  switch (e.kind) {
    case "IntImm":
    case "FloatImm":
      return String(e.value);
    case "Var":
      return e.name;
    default:
      return `<${e.kind}>`;
  }
}
