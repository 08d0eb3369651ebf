/**
 * `Schedule`: TensorIR schedule primitives over one PrimFunc (TVM's `tir.Schedule`).
 *
 * The IR is immutable: the schedule holds the current function and replaces it with every
 * primitive. Blocks are named by {@link BlockRV}s (block names are unique in a function), loops
 * by {@link LoopRV}s (loop variables have identity). Every primitive is recorded in
 * {@link Schedule.trace}; a failing primitive changes nothing and records nothing.
 *
 * @example
 * ```ts
 * const sch = new Schedule(func);
 * const [i, j] = sch.getLoops(sch.getSBlock("C"));
 * const [bx, tx] = sch.split(sch.fuse(i, j), [undefined, 256]);
 * sch.bind(bx, "blockIdx.x");
 * sch.bind(tx, "threadIdx.x");
 * ```
 *
 * @module
 */

import type { PrimExprLike } from "../../ir/expr.ts";
import { type IRModule, irModule, primFuncs, withFunction } from "../../ir/module.ts";
import type { PrimFunc } from "../../ir/tir/prim_func.ts";
import type { For, SBlock, SBlockRealize, ThreadTag } from "../../ir/tir/stmt.ts";
import { computeInline, getBlock, reverseComputeInline } from "./_inline.ts";
import { addUnitLoop, bind, fuse, getLoop, reorder, split } from "./_loops.ts";
import { allRealizes, childRealizes, loopsAbove, topRealizes, walkWithPath } from "./_tree.ts";
import {
  type BlockRV,
  type LoopRV,
  type ScheduleRV,
  Trace,
  type TraceRecord,
  type TraceValue,
} from "./trace.ts";

/** Options of a {@link Schedule}. */
export interface ScheduleOptions {
  /**
   * The function to schedule when given a module (default: its only PrimFunc, else `"main"`);
   * the name recorded in the trace when given a function (default: its `global_symbol` or
   * `"main"`).
   */
  readonly funcName?: string;
}

/** Makes a block handle. */
export function blockRV(name: string): BlockRV {
  return { kind: "BlockRV", name };
}

/** Makes a loop handle. */
export function loopRV(loop: For): LoopRV {
  return { kind: "LoopRV", var: loop.loopVar };
}

function checkUnique(func: PrimFunc, funcName: string): void {
  const names = new Set<string>();
  const vars = new Set<unknown>();
  walkWithPath(func.body, (s) => {
    if (s.kind === "SBlock") {
      if (names.has(s.name)) {
        throw new Error(
          `Cannot schedule function "${funcName}": block name "${s.name}" is used twice`,
        );
      }
      names.add(s.name);
    }
    if (s.kind === "For") {
      if (vars.has(s.loopVar)) {
        throw new Error(
          `Cannot schedule function "${funcName}": loop variable "${s.loopVar.name}" is used twice`,
        );
      }
      vars.add(s.loopVar);
    }
  });
}

function pickFunction(mod: IRModule, name: string | undefined): [string, PrimFunc] {
  const fs = primFuncs(mod);
  if (name !== undefined) {
    const f = mod.functions.get(name);
    if (!f || f.kind !== "PrimFunc") {
      throw new Error(`Cannot schedule "${name}": the module has no PrimFunc of that name`);
    }
    return [name, f];
  }
  if (fs.length === 1) return fs[0]!;
  const main = fs.find(([n]) => n === "main");
  if (main) return main;
  throw new Error(
    `Cannot schedule a module with ${fs.length} PrimFuncs: pass funcName (it has: ${
      fs.map(([n]) => n).join(", ") || "none"
    })`,
  );
}

/** A TensorIR schedule of one PrimFunc. */
export class Schedule {
  #func: PrimFunc;
  #mod: IRModule | undefined;
  #funcName: string;
  #records: TraceRecord[];

  /** Starts scheduling a PrimFunc, or one PrimFunc of a module. */
  constructor(input: PrimFunc | IRModule, options: ScheduleOptions = {}) {
    if (input.kind === "IRModule") {
      const [name, f] = pickFunction(input, options.funcName);
      this.#mod = input;
      this.#funcName = name;
      this.#func = f;
    } else {
      const sym = input.attrs["global_symbol"];
      this.#funcName = options.funcName ?? (typeof sym === "string" ? sym : "main");
      this.#func = input;
      this.#mod = undefined;
    }
    checkUnique(this.#func, this.#funcName);
    this.#records = [];
  }

  /** The function as scheduled so far. */
  get func(): PrimFunc {
    return this.#func;
  }

  /** The module with the scheduled function in place (a one-function module for a function). */
  get mod(): IRModule {
    return this.#mod
      ? withFunction(this.#mod, this.#funcName, this.#func)
      : irModule([[this.#funcName, this.#func]]);
  }

  /** The name of the scheduled function. */
  get funcName(): string {
    return this.#funcName;
  }

  /** The primitives applied so far. */
  get trace(): Trace {
    return new Trace([...this.#records]);
  }

  /** An independent copy (same function, same trace); handles stay valid in both. */
  copy(): Schedule {
    const s = new Schedule(this.#func, { funcName: this.#funcName });
    s.#mod = this.#mod;
    s.#records = [...this.#records];
    return s;
  }

  #record(
    primitive: string,
    args: { readonly [name: string]: TraceValue },
    outputs: readonly ScheduleRV[],
  ): void {
    this.#records.push({ primitive, args, outputs });
  }

  /** The loop a handle names. */
  get(rv: LoopRV): For;
  /** The block a handle names. */
  get(rv: BlockRV): SBlock;
  /** The loop or block a handle names; throws when it is no longer in the function. */
  get(rv: ScheduleRV): For | SBlock {
    return rv.kind === "LoopRV"
      ? getLoop(this.#func, rv.var).loop
      : getBlock(this.#func, rv.name).realize.block;
  }

  /** The realize of a block: its iteration values and predicate (not recorded in the trace). */
  getSBlockRealize(block: BlockRV): SBlockRealize {
    return getBlock(this.#func, block.name).realize;
  }

  /** The block named `name`. */
  getSBlock(name: string): BlockRV {
    getBlock(this.#func, name);
    const rv = blockRV(name);
    this.#record("get_sblock", { name, func_name: this.#funcName }, [rv]);
    return rv;
  }

  /** The loops around a block, outermost first (up to the enclosing block). */
  getLoops(block: BlockRV): LoopRV[] {
    const { path } = getBlock(this.#func, block.name);
    const out = loopsAbove(path).map(loopRV);
    this.#record("get_loops", { block }, out);
    return out;
  }

  /** Every block of the function except the root, in program order. */
  getBlocks(): BlockRV[] {
    const root = this.#func.body.kind === "SBlockRealize" ? this.#func.body : undefined;
    const out = allRealizes(this.#func.body).filter((r) => r !== root).map((r) =>
      blockRV(r.block.name)
    );
    this.#record("get_blocks", {}, out);
    return out;
  }

  /** The blocks directly under a block or a loop (not nested in another block). */
  getChildBlocks(parent: BlockRV | LoopRV): BlockRV[] {
    const rs = parent.kind === "BlockRV"
      ? childRealizes(getBlock(this.#func, parent.name).realize.block)
      : topRealizes(getLoop(this.#func, parent.var).loop.body);
    const out = rs.map((r) => blockRV(r.block.name));
    this.#record("get_child_blocks", { parent }, out);
    return out;
  }

  /**
   * Splits a loop into nested loops of the given extents, outermost first. At most one factor
   * may be `undefined`: it is inferred. A product larger than the extent adds a predicate.
   */
  split(loop: LoopRV, factors: readonly (PrimExprLike | undefined)[]): LoopRV[] {
    const r = split(this.#func, loop.var, factors);
    this.#func = r.func;
    const out = r.vars.map((v): LoopRV => ({ kind: "LoopRV", var: v }));
    this.#record("split", {
      loop,
      factors: factors.map((f) => (typeof f === "boolean" ? Number(f) : f)),
    }, out);
    return out;
  }

  /** Fuses consecutive perfectly nested loops (outermost first) into one. */
  fuse(...loops: readonly LoopRV[]): LoopRV {
    const r = fuse(this.#func, loops.map((l) => l.var));
    this.#func = r.func;
    const out: LoopRV = loops.length === 1 ? loops[0]! : { kind: "LoopRV", var: r.var };
    this.#record("fuse", { loops }, [out]);
    return out;
  }

  /** Reorders loops of one perfectly nested chain into the given order. */
  reorder(...loops: readonly LoopRV[]): void {
    this.#func = reorder(this.#func, loops.map((l) => l.var));
    this.#record("reorder", { loops }, []);
  }

  /** Binds a loop to a GPU thread axis (`"blockIdx.x"`, `"threadIdx.x"`, ...). */
  bind(loop: LoopRV, threadAxis: ThreadTag): void {
    this.#func = bind(this.#func, loop.var, threadAxis);
    this.#record("bind", { loop, thread_axis: threadAxis }, []);
  }

  /** Inlines a block into its consumers and removes it with its buffer. */
  computeInline(block: BlockRV): void {
    this.#func = computeInline(this.#func, block.name);
    this.#record("compute_inline", { block }, []);
  }

  /** Inlines an elementwise consumer block into its single producer. */
  reverseComputeInline(block: BlockRV): void {
    this.#func = reverseComputeInline(this.#func, block.name);
    this.#record("reverse_compute_inline", { block }, []);
  }

  /** Wraps a block or a loop in a new loop of extent 1 and returns it. */
  addUnitLoop(target: BlockRV | LoopRV): LoopRV {
    const r = addUnitLoop(this.#func, target.kind === "BlockRV" ? target.name : target.var);
    this.#func = r.func;
    const out: LoopRV = { kind: "LoopRV", var: r.var };
    this.#record("add_unit_loop", { block_or_loop: target }, [out]);
    return out;
  }

  /**
   * Applies the primitives of `trace` to this schedule, mapping the trace's handles to the
   * ones this schedule returns.
   */
  replay(trace: Trace): void {
    const map = new Map<ScheduleRV, ScheduleRV>();
    const rv = <T extends ScheduleRV>(x: TraceValue): T => {
      const v = x as T;
      return (map.get(v) as T | undefined) ?? v;
    };
    const loopsArg = (x: TraceValue) => (x as readonly LoopRV[]).map((l) => rv<LoopRV>(l));
    for (const r of trace.records) {
      const a = r.args;
      let outs: readonly ScheduleRV[] = [];
      switch (r.primitive) {
        case "get_sblock":
          outs = [this.getSBlock(a["name"] as string)];
          break;
        case "get_loops":
          outs = this.getLoops(rv<BlockRV>(a["block"]));
          break;
        case "get_blocks":
          outs = this.getBlocks();
          break;
        case "get_child_blocks":
          outs = this.getChildBlocks(rv<BlockRV | LoopRV>(a["parent"]));
          break;
        case "split":
          outs = this.split(
            rv<LoopRV>(a["loop"]),
            a["factors"] as readonly (PrimExprLike | undefined)[],
          );
          break;
        case "fuse":
          outs = [this.fuse(...loopsArg(a["loops"]))];
          break;
        case "reorder":
          this.reorder(...loopsArg(a["loops"]));
          break;
        case "bind":
          this.bind(rv<LoopRV>(a["loop"]), a["thread_axis"] as ThreadTag);
          break;
        case "compute_inline":
          this.computeInline(rv<BlockRV>(a["block"]));
          break;
        case "reverse_compute_inline":
          this.reverseComputeInline(rv<BlockRV>(a["block"]));
          break;
        case "add_unit_loop":
          outs = [this.addUnitLoop(rv<BlockRV | LoopRV>(a["block_or_loop"]))];
          break;
        default:
          throw new Error(`Cannot replay primitive "${r.primitive}": unknown primitive`);
      }
      r.outputs.forEach((o, i) => outs[i] && map.set(o, outs[i]!));
    }
  }
}
