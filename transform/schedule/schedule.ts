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
 * Staging a matmul's input `A` through shared memory one k tile at a time, accumulating in
 * registers (see `tests/transform/schedule/schedule_tiled_matmul_test.ts` for a full tiling):
 *
 * ```ts
 * const c = sch.getSBlock("C");
 * const [i, j, k] = sch.getLoops(c);
 * const [k0, k1] = sch.split(k, [undefined, 8]);
 * sch.reorder(i, j, k0, k1);
 * sch.computeAt(sch.cacheRead(c, 0, "shared"), k0);
 * sch.reverseComputeAt(sch.cacheWrite(c, 0, "local"), j);
 * sch.decomposeReduction(c, k0);
 * ```
 *
 * @module
 */

import type { PrimExprLike, StorageScope, Var } from "../../ir/expr.ts";
import { type IRModule, irModule, primFuncs, withFunction } from "../../ir/module.ts";
import type { PrimFunc } from "../../ir/tir/prim_func.ts";
import type { AttrValue, For, SBlock, SBlockRealize, ThreadTag } from "../../ir/tir/stmt.ts";
import { annotate, setLoopKind, storageAlign, unannotate } from "./_annotate.ts";
import { cacheRead, cacheWrite, setScope } from "./_cache.ts";
import { computeAt } from "./_compute_at.ts";
import { computeInline, getBlock, reverseComputeInline } from "./_inline.ts";
import { transformLayout } from "./_layout.ts";
import { addUnitLoop, bind, fuse, getLoop, reorder, split } from "./_loops.ts";
import { decomposeReduction, rfactor } from "./_reduction.ts";
import { replayTrace } from "./_replay.ts";
import { accessBuffer } from "./_scope.ts";
import { allRealizes, childRealizes, loopsAbove, topRealizes, walkWithPath } from "./_tree.ts";
import { type IndexMap, indexMap } from "./index_map.ts";
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

/** Options of {@link Schedule.cacheRead}. */
export interface CacheReadOptions {
  /** The blocks that read the copy (default: every reader of the buffer in the scope). */
  readonly consumerBlocks?: readonly BlockRV[];
}

/** Options of {@link Schedule.computeAt} and {@link Schedule.reverseComputeAt}. */
export interface ComputeAtOptions {
  /** Keep the regenerated loops of extent 1 (default false). */
  readonly preserveUnitLoops?: boolean;
}

/** Options of {@link Schedule.transformLayout}. */
export interface TransformLayoutOptions {
  /** Whether `bufferIndex` counts the block's written (default) or read buffers. */
  readonly bufferIndexType?: "read" | "write";
}

/** Makes a block handle. */
export function blockRV(name: string): BlockRV {
  return { kind: "BlockRV", name };
}

/** The block name or loop variable a handle names. */
function rvTarget(rv: BlockRV | LoopRV): string | Var {
  return rv.kind === "BlockRV" ? rv.name : rv.var;
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
   * Adds a block that copies the `readBufferIndex`-th buffer read by `block` into a new buffer
   * of `storageScope` (`"shared"`: WGSL `var<workgroup>`, `"local"`: registers) and lets the
   * buffer's readers (all, or `consumerBlocks`) read the copy. Returns the copy block, named
   * `<buffer>_<scope>`; move it with {@link computeAt}.
   */
  cacheRead(
    block: BlockRV,
    readBufferIndex: number,
    storageScope: StorageScope,
    options: CacheReadOptions = {},
  ): BlockRV {
    const consumers = options.consumerBlocks?.map((b) => b.name);
    const r = cacheRead(this.#func, block.name, readBufferIndex, storageScope, consumers);
    this.#func = r.func;
    const out = blockRV(r.block);
    this.#record("cache_read", {
      block,
      read_buffer_index: readBufferIndex,
      storage_scope: storageScope,
      ...(options.consumerBlocks ? { consumer_blocks: options.consumerBlocks } : {}),
    }, [out]);
    return out;
  }

  /**
   * Lets `block` write its `writeBufferIndex`-th buffer into a new buffer of `storageScope` and
   * adds a block after it that copies the result back. Returns the copy block, named
   * `<buffer>_<scope>`; move it with {@link reverseComputeAt}.
   */
  cacheWrite(block: BlockRV, writeBufferIndex: number, storageScope: StorageScope): BlockRV {
    const r = cacheWrite(this.#func, block.name, writeBufferIndex, storageScope);
    this.#func = r.func;
    const out = blockRV(r.block);
    this.#record("cache_write", {
      block,
      write_buffer_index: writeBufferIndex,
      storage_scope: storageScope,
    }, [out]);
    return out;
  }

  /**
   * Moves a producer block under `loop`, which must enclose all of its consumers: its loops are
   * regenerated (`ax0`, `ax1`, ...) to compute, per iteration of `loop`, exactly the region the
   * consumers under it read.
   */
  computeAt(block: BlockRV, loop: LoopRV, options: ComputeAtOptions = {}): void {
    const preserveUnitLoops = options.preserveUnitLoops ?? false;
    this.#func = computeAt(this.#func, block.name, loop.var, { reverse: false, preserveUnitLoops });
    this.#record("compute_at", { block, loop, preserve_unit_loops: preserveUnitLoops }, []);
  }

  /**
   * Moves a consumer block under `loop`, which must enclose all of its producers: its loops are
   * regenerated to consume, per iteration of `loop`, exactly the region produced under it.
   */
  reverseComputeAt(block: BlockRV, loop: LoopRV, options: ComputeAtOptions = {}): void {
    const preserveUnitLoops = options.preserveUnitLoops ?? false;
    this.#func = computeAt(this.#func, block.name, loop.var, { reverse: true, preserveUnitLoops });
    this.#record("reverse_compute_at", { block, loop, preserve_unit_loops: preserveUnitLoops }, []);
  }

  /** Moves the `bufferIndex`-th buffer written by `block` (an allocated one) to another scope. */
  setScope(block: BlockRV, bufferIndex: number, storageScope: StorageScope): void {
    this.#func = setScope(this.#func, block.name, bufferIndex, storageScope);
    this.#record("set_scope", {
      block,
      buffer_index: bufferIndex,
      storage_scope: storageScope,
    }, []);
  }

  /**
   * Moves the init of a reduction block into a new block `<name>_init` right before `loop`
   * (which encloses the block, above all of its reduction loops). Returns the init block.
   */
  decomposeReduction(block: BlockRV, loop: LoopRV): BlockRV {
    const r = decomposeReduction(this.#func, block.name, loop.var);
    this.#func = r.func;
    const out = blockRV(r.block);
    this.#record("decompose_reduction", { block, loop }, [out]);
    return out;
  }

  /**
   * Factors the reduction under `loop` into a block `<name>_rf` computing partial results in a
   * new buffer (with the loop's dimension at `factorAxis`) and the original block reducing
   * them. Returns the rf block.
   */
  rfactor(loop: LoopRV, factorAxis: number): BlockRV {
    const r = rfactor(this.#func, loop.var, factorAxis);
    this.#func = r.func;
    const out = blockRV(r.block);
    this.#record("rfactor", { loop, factor_axis: factorAxis }, [out]);
    return out;
  }

  /** Marks a loop vectorized (constant extent, spatial iteration variables only). */
  vectorize(loop: LoopRV): void {
    this.#func = setLoopKind(this.#func, loop.var, "vectorized");
    this.#record("vectorize", { loop }, []);
  }

  /** Marks a loop to be unrolled. */
  unroll(loop: LoopRV): void {
    this.#func = setLoopKind(this.#func, loop.var, "unrolled");
    this.#record("unroll", { loop }, []);
  }

  /** Marks a loop parallel (spatial iteration variables only). */
  parallel(loop: LoopRV): void {
    this.#func = setLoopKind(this.#func, loop.var, "parallel");
    this.#record("parallel", { loop }, []);
  }

  /**
   * Asks that the stride of dimension `axis` of the `bufferIndex`-th buffer written by `block`
   * be `offset` modulo `factor` (the `buffer_dim_align` block annotation).
   */
  storageAlign(
    block: BlockRV,
    bufferIndex: number,
    axis: number,
    factor: number,
    offset: number,
  ): void {
    this.#func = storageAlign(this.#func, block.name, bufferIndex, { axis, factor, offset });
    this.#record("storage_align", {
      block,
      buffer_index: bufferIndex,
      axis,
      factor,
      offset,
    }, []);
  }

  /** Sets annotation `key` of a block or loop. */
  annotate(target: BlockRV | LoopRV, key: string, value: AttrValue): void {
    this.#func = annotate(this.#func, rvTarget(target), key, value);
    this.#record("annotate", { block_or_loop: target, ann_key: key, ann_val: value }, []);
  }

  /** Removes annotation `key` of a block or loop. */
  unannotate(target: BlockRV | LoopRV, key: string): void {
    this.#func = unannotate(this.#func, rvTarget(target), key);
    this.#record("unannotate", { block_or_loop: target, ann_key: key }, []);
  }

  /**
   * Reshapes the `bufferIndex`-th buffer written (or read, with `bufferIndexType: "read"`) by
   * `block`, an allocated one, through an index map: `(indices) => newIndices` or an
   * {@link IndexMap}. Every access and region of the buffer is rewritten.
   */
  transformLayout(
    block: BlockRV,
    bufferIndex: number,
    map: IndexMap | ((indices: readonly Var[]) => readonly PrimExprLike[]),
    options: TransformLayoutOptions = {},
  ): void {
    const type = options.bufferIndexType ?? "write";
    let m: IndexMap;
    if (typeof map === "function") {
      const { realize } = getBlock(this.#func, block.name);
      const buf = accessBuffer(
        realize.block,
        bufferIndex,
        type,
        `Cannot transformLayout block "${block.name}"`,
      );
      m = indexMap(map, buf.shape.length);
    } else {
      m = map;
    }
    this.#func = transformLayout(this.#func, block.name, bufferIndex, type, m);
    this.#record("transform_layout", {
      block,
      buffer_index: bufferIndex,
      buffer_index_type: type,
      index_map: m,
    }, []);
  }

  /**
   * Applies the primitives of `trace` to this schedule, mapping the trace's handles to the
   * ones this schedule returns.
   */
  replay(trace: Trace): void {
    replayTrace(this, trace);
  }
}
