/**
 * Replaying a trace on a schedule: each record calls the primitive of the same name with the
 * recorded arguments, the recorded handles mapped to the ones the replay returns.
 *
 * @module
 */

import type { PrimExprLike, StorageScope } from "../../ir/expr.ts";
import type { AttrValue, ThreadTag } from "../../ir/tir/stmt.ts";
import type { IndexMap } from "./index_map.ts";
import type { Schedule } from "./schedule.ts";
import type { BlockRV, LoopRV, ScheduleRV, Trace, TraceValue } from "./trace.ts";

/** Applies the records of `trace` to `sch` in order. */
export function replayTrace(sch: Schedule, trace: Trace): void {
  const map = new Map<ScheduleRV, ScheduleRV>();
  const rv = <T extends ScheduleRV>(x: TraceValue): T => {
    const v = x as T;
    return (map.get(v) as T | undefined) ?? v;
  };
  const loopsArg = (x: TraceValue) => (x as readonly LoopRV[]).map((l) => rv<LoopRV>(l));
  const num = (x: TraceValue) => x as number;
  const scope = (x: TraceValue) => x as StorageScope;
  for (const r of trace.records) {
    const a = r.args;
    let outs: readonly ScheduleRV[] = [];
    const block = () => rv<BlockRV>(a["block"]);
    const loop = () => rv<LoopRV>(a["loop"]);
    const target = () => rv<BlockRV | LoopRV>(a["block_or_loop"]);
    const preserve = { preserveUnitLoops: a["preserve_unit_loops"] === true };
    switch (r.primitive) {
      case "get_sblock":
        outs = [sch.getSBlock(a["name"] as string)];
        break;
      case "get_loops":
        outs = sch.getLoops(block());
        break;
      case "get_blocks":
        outs = sch.getBlocks();
        break;
      case "get_child_blocks":
        outs = sch.getChildBlocks(rv<BlockRV | LoopRV>(a["parent"]));
        break;
      case "split":
        outs = sch.split(loop(), a["factors"] as readonly (PrimExprLike | undefined)[]);
        break;
      case "fuse":
        outs = [sch.fuse(...loopsArg(a["loops"]))];
        break;
      case "reorder":
        sch.reorder(...loopsArg(a["loops"]));
        break;
      case "bind":
        sch.bind(loop(), a["thread_axis"] as ThreadTag);
        break;
      case "compute_inline":
        sch.computeInline(block());
        break;
      case "reverse_compute_inline":
        sch.reverseComputeInline(block());
        break;
      case "add_unit_loop":
        outs = [sch.addUnitLoop(target())];
        break;
      case "cache_read": {
        const consumers = a["consumer_blocks"] as readonly BlockRV[] | undefined;
        outs = [
          sch.cacheRead(
            block(),
            num(a["read_buffer_index"]),
            scope(a["storage_scope"]),
            consumers ? { consumerBlocks: consumers.map((b) => rv<BlockRV>(b)) } : {},
          ),
        ];
        break;
      }
      case "cache_write":
        outs = [sch.cacheWrite(block(), num(a["write_buffer_index"]), scope(a["storage_scope"]))];
        break;
      case "set_scope":
        sch.setScope(block(), num(a["buffer_index"]), scope(a["storage_scope"]));
        break;
      case "compute_at":
        sch.computeAt(block(), loop(), preserve);
        break;
      case "reverse_compute_at":
        sch.reverseComputeAt(block(), loop(), preserve);
        break;
      case "decompose_reduction":
        outs = [sch.decomposeReduction(block(), loop())];
        break;
      case "rfactor":
        outs = [sch.rfactor(loop(), num(a["factor_axis"]))];
        break;
      case "vectorize":
        sch.vectorize(loop());
        break;
      case "unroll":
        sch.unroll(loop());
        break;
      case "parallel":
        sch.parallel(loop());
        break;
      case "storage_align":
        sch.storageAlign(
          block(),
          num(a["buffer_index"]),
          num(a["axis"]),
          num(a["factor"]),
          num(a["offset"]),
        );
        break;
      case "annotate":
        sch.annotate(target(), a["ann_key"] as string, a["ann_val"] as AttrValue);
        break;
      case "unannotate":
        sch.unannotate(target(), a["ann_key"] as string);
        break;
      case "transform_layout":
        sch.transformLayout(block(), num(a["buffer_index"]), a["index_map"] as IndexMap, {
          bufferIndexType: a["buffer_index_type"] as "read" | "write",
        });
        break;
      default:
        throw new Error(`Cannot replay primitive "${r.primitive}": unknown primitive`);
    }
    r.outputs.forEach((o, i) => outs[i] && map.set(o, outs[i]!));
  }
}
