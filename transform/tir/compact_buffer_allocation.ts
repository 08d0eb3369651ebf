/**
 * `CompactBufferAllocation`: shrinks each allocated buffer to the region its scope actually
 * touches and shifts the accesses accordingly.
 *
 * @module
 */

import { evalSet } from "../../ir/arith/int_set.ts";
import { Analyzer } from "../../ir/arith/analyzer.ts";
import {
  add,
  type Buffer,
  copyExpr,
  floormod,
  intImm,
  max,
  min,
  mul,
  type PrimExpr,
  type Range,
  range,
  sub,
  type Var,
} from "../../ir/expr.ts";
import type { PrimFunc } from "../../ir/tir/prim_func.ts";
import type { BufferRegion, For, SBlock, Stmt } from "../../ir/tir/stmt.ts";
import { rewritePrimFunc, visitPrimExpr, visitStmt } from "../../ir/visit.ts";
import { type Pass, primFuncPass } from "../pass.ts";
import { exprEqual, stmtChildren, stmtExprs, usesVar, withBinding, withLet } from "./_util.ts";

/** A variable defined on the way down: a loop, a block iteration variable or a let. */
type Frame =
  | { readonly kind: "loop"; readonly loop: For }
  | { readonly kind: "iter"; readonly var: Var; readonly dom: Range }
  | { readonly kind: "let"; readonly var: Var };

/** What is known about one allocated buffer while its scope is walked. */
interface Info {
  readonly buffer: Buffer;
  /** The number of frames enclosing the allocation. */
  readonly depth: number;
  /** The accessed interval per dimension (`undefined` ends: unbounded). */
  readonly lo: (PrimExpr | undefined)[];
  readonly hi: (PrimExpr | undefined)[];
  /** Whether any access was seen; whether an access needs the whole buffer. */
  accessed: boolean;
  /** Whether an indexed access was seen (then `lo` and `hi` hold one entry per dimension). */
  indexed: boolean;
  whole: boolean;
  /** Variables defined inside the allocation scope. */
  readonly inner: Set<Var>;
}

/** Whether a thread loop must be relaxed for a buffer of `scope` allocated under it. */
function relaxesThread(loop: For, scope: Buffer["scope"]): boolean {
  if (loop.forKind !== "thread_binding" || loop.threadTag === undefined) return false;
  const threadRank = loop.threadTag.startsWith("blockIdx") ? 0 : 1;
  const storageRank = scope === "global" ? 0 : scope === "shared" || scope === "shared.dyn" ? 1 : 3;
  return storageRank <= threadRank;
}

function frameVar(f: Frame): Var {
  return f.kind === "loop" ? f.loop.loopVar : f.var;
}

/** The compacted region of each allocated buffer, or nothing when it cannot shrink. */
function collectRegions(f: PrimFunc): Map<Buffer, Range[]> {
  const an = new Analyzer();
  const frames: Frame[] = [];
  const live = new Map<Var, Info>();
  const result = new Map<Buffer, Range[]>();
  const funcVars = new Set<Var>(f.params);
  for (const b of f.bufferMap.values()) {
    for (const e of [...b.shape, ...b.strides, b.elemOffset]) {
      visitPrimExpr(e, (x) => void (x.kind === "Var" && funcVars.add(x)));
    }
  }

  const union = (a: PrimExpr | undefined, b: PrimExpr | undefined, pick: typeof min) =>
    a === undefined || b === undefined ? undefined : exprEqual(a, b) ? a : an.simplify(pick(a, b));

  const access = (buffer: Buffer, indices: readonly PrimExpr[] | undefined) => {
    const info = live.get(buffer.data);
    if (info === undefined) return;
    info.accessed = true;
    // An alias (another buffer object on the same storage) or an opaque use needs everything.
    if (indices === undefined || buffer !== info.buffer || info.whole) {
      info.whole = true;
      return;
    }
    const doms = new Map<Var, Range>();
    frames.forEach((fr, i) => {
      if (i >= info.depth) {
        info.inner.add(frameVar(fr));
        if (fr.kind === "loop") doms.set(fr.loop.loopVar, range(fr.loop.min, fr.loop.extent));
        else if (fr.kind === "iter") doms.set(fr.var, fr.dom);
      } else if (fr.kind === "loop" && relaxesThread(fr.loop, info.buffer.scope)) {
        doms.set(fr.loop.loopVar, range(fr.loop.min, fr.loop.extent));
      }
    });
    indices.forEach((idx, d) => {
      const s = evalSet(idx, doms, an);
      info.lo[d] = info.indexed ? union(info.lo[d], s.min, min) : s.min;
      info.hi[d] = info.indexed ? union(info.hi[d], s.max, max) : s.max;
    });
    info.indexed = true;
  };

  const scanExpr = (e: PrimExpr) =>
    visitPrimExpr(e, (x) => {
      if (x.kind === "BufferLoad") access(x.buffer, x.indices);
      else if (x.kind === "Var" && live.has(x)) access(live.get(x)!.buffer, undefined);
    });

  const finish = (info: Info): void => {
    const b = info.buffer;
    if (!info.accessed || info.whole) return;
    const inScope = (v: Var) => !info.inner.has(v);
    const region: Range[] = [];
    for (let d = 0; d < b.shape.length; d++) {
      const orig = b.shape[d]!;
      const full = range(intImm(0, orig.dtype), orig);
      const lo0 = info.lo[d], hi = info.hi[d];
      if (lo0 === undefined || hi === undefined || usesVar(lo0, (v) => !inScope(v))) {
        region.push(full);
        continue;
      }
      const lo = an.simplify(max(lo0, intImm(0, lo0.dtype)));
      let extent = an.simplify(sub(hi, lo).add(1));
      if (usesVar(extent, (v) => !funcVars.has(v))) {
        const bound = an.constIntBound(extent).max;
        if (!Number.isFinite(bound)) {
          region.push(full);
          continue;
        }
        extent = intImm(bound, extent.dtype);
      }
      // a constant extent is allocatable even where it cannot be proven to fit the original
      // (a symbolic `n` that may be smaller): every access stays inside `[lo, lo + extent)`
      const fits = extent.kind === "IntImm" || an.canProve(extent.le(orig));
      if (usesVar(lo, (v) => !inScope(v)) || !fits) region.push(full);
      else region.push(range(lo, extent));
    }
    const isFull = region.every((r, d) =>
      r.min.kind === "IntImm" && r.min.value === 0 && exprEqual(r.extent, b.shape[d]!)
    );
    if (!isFull) result.set(b, region);
  };

  const enterAlloc = (bufs: readonly Buffer[]): Info[] =>
    bufs.map((b) => {
      const info: Info = {
        buffer: b,
        depth: frames.length,
        lo: [],
        hi: [],
        accessed: false,
        indexed: false,
        whole: false,
        inner: new Set(),
      };
      live.set(b.data, info);
      return info;
    });
  const leaveAlloc = (infos: readonly Info[]) => {
    for (const info of infos) {
      finish(info);
      live.delete(info.buffer.data);
    }
  };

  const walk = (s: Stmt): void => {
    switch (s.kind) {
      case "For":
        scanExpr(s.min);
        scanExpr(s.extent);
        frames.push({ kind: "loop", loop: s });
        withBinding(an, s.loopVar, range(s.min, s.extent), () => walk(s.body));
        frames.pop();
        return;
      case "SBlockRealize": {
        for (const e of stmtExprs(s)) scanExpr(e);
        const blk = s.block;
        // The block's own iteration variables are fixed for one allocation: not relaxed.
        blk.iterVars.forEach((iv) => frames.push({ kind: "iter", var: iv.var, dom: iv.dom }));
        for (const m of blk.matchBuffers) access(m.source.buffer, undefined);
        const infos = enterAlloc(blk.allocBuffers);
        const body = () => {
          if (blk.init) walk(blk.init);
          walk(blk.body);
          leaveAlloc(infos);
        };
        const bindAll = (i: number): void => {
          const iv = blk.iterVars[i];
          if (iv === undefined) return body();
          withBinding(an, iv.var, iv.dom, () => bindAll(i + 1));
        };
        bindAll(0);
        blk.iterVars.forEach(() => frames.pop());
        return;
      }
      case "SBlock": {
        const infos = enterAlloc(s.allocBuffers);
        for (const c of stmtChildren(s)) walk(c);
        leaveAlloc(infos);
        return;
      }
      case "AllocBuffer": {
        const infos = enterAlloc([s.buffer]);
        walk(s.body);
        leaveAlloc(infos);
        return;
      }
      case "LetStmt":
        scanExpr(s.value);
        frames.push({ kind: "let", var: s.var });
        withLet(an, s.var, s.value, () => walk(s.body));
        frames.pop();
        return;
      case "BufferStore":
        access(s.buffer, s.indices);
        for (const e of stmtExprs(s)) scanExpr(e);
        return;
      default:
        for (const e of stmtExprs(s)) scanExpr(e);
        for (const c of stmtChildren(s)) walk(c);
    }
  };
  walk(f.body);
  return result;
}

/** One dimension's alignment: its stride must be `offset` modulo `factor`. */
interface DimAlign {
  readonly factor: number;
  readonly offset: number;
}

/**
 * The alignments asked for by `buffer_dim_align` block annotations (`Schedule.storageAlign`):
 * entries `[writeIndex, axis, factor, offset]` naming a buffer the block writes.
 */
function collectDimAligns(f: PrimFunc): Map<Buffer, (DimAlign | undefined)[]> {
  const out = new Map<Buffer, (DimAlign | undefined)[]>();
  const params = new Set(f.bufferMap.values());
  visitStmt(f.body, {
    stmt: (s) => {
      const blk = s.kind === "SBlockRealize" ? s.block : s.kind === "SBlock" ? s : undefined;
      const ann = blk?.annotations["buffer_dim_align"];
      if (blk === undefined || !Array.isArray(ann)) return;
      for (const e of ann) {
        if (!Array.isArray(e) || e.length !== 4 || !e.every((x) => typeof x === "number")) continue;
        const [index, axis, factor, offset] = e as number[];
        const b = blk.writes[index!]?.buffer;
        if (b === undefined || params.has(b) || !(axis! < b.shape.length) || !(factor! > 0)) {
          continue;
        }
        const list = out.get(b) ?? b.shape.map(() => undefined);
        list[axis!] = { factor: factor!, offset: offset! };
        out.set(b, list);
      }
    },
  });
  return out;
}

/** Row-major strides of `shape`, each aligned dimension's stride padded up to its alignment. */
function alignedStrides(
  shape: readonly PrimExpr[],
  aligns: readonly (DimAlign | undefined)[],
  an: Analyzer,
): PrimExpr[] {
  const strides: PrimExpr[] = [];
  let stride: PrimExpr = intImm(1, shape[0]?.dtype ?? "int32");
  for (let d = shape.length - 1; d >= 0; d--) {
    const a = aligns[d];
    if (a) {
      // stride + (factor + offset - stride % factor) % factor
      const pad = floormod(sub(a.factor + a.offset, floormod(stride, a.factor)), a.factor);
      stride = an.simplify(add(stride, pad));
    }
    strides[d] = stride;
    stride = an.simplify(mul(stride, shape[d]!));
  }
  return strides;
}

/**
 * Rewrites a function so that each buffer of `regions` has the shape of its region (and the
 * strides its alignments ask for).
 */
function applyRegions(
  f: PrimFunc,
  regions: ReadonlyMap<Buffer, Range[]>,
  aligns: ReadonlyMap<Buffer, readonly (DimAlign | undefined)[]>,
): PrimFunc {
  const an = new Analyzer();
  const byData = new Map<Var, { old: Buffer; region: Range[]; buffer: Buffer }>();
  for (const [b, region] of regions) {
    const shape = region.map((r) => r.extent);
    const align = aligns.get(b);
    const strides = align ? alignedStrides(shape, align, an) : b.strides;
    byData.set(b.data, { old: b, region, buffer: { ...b, shape, strides } });
  }
  const shift = (e: PrimExpr, r: Range) =>
    r.min.kind === "IntImm" && r.min.value === 0 ? e : an.simplify(sub(e, r.min));
  const shiftRegion = (br: BufferRegion): BufferRegion => {
    const c = byData.get(br.buffer.data);
    if (c === undefined || c.old !== br.buffer) return br;
    return {
      ...br,
      buffer: c.buffer,
      region: br.region.map((r, d) => range(shift(r.min, c.region[d]!), r.extent)),
    };
  };
  const rewriteBlock = (blk: SBlock): SBlock => {
    const touched = [...blk.allocBuffers, ...blk.reads.map((r) => r.buffer)]
      .concat(blk.writes.map((r) => r.buffer), blk.matchBuffers.map((m) => m.source.buffer))
      .some((b) => byData.get(b.data)?.old === b);
    if (!touched) return blk;
    return {
      ...blk,
      allocBuffers: blk.allocBuffers.map((b) => {
        const c = byData.get(b.data);
        return c !== undefined && c.old === b ? c.buffer : b;
      }),
      reads: blk.reads.map(shiftRegion),
      writes: blk.writes.map(shiftRegion),
      matchBuffers: blk.matchBuffers.map((m) => ({ ...m, source: shiftRegion(m.source) })),
    };
  };
  return rewritePrimFunc(f, {
    expr: (e) => {
      if (e.kind !== "BufferLoad") return undefined;
      const c = byData.get(e.buffer.data);
      if (c === undefined || c.old !== e.buffer) return undefined;
      return copyExpr(e, {
        buffer: c.buffer,
        indices: e.indices.map((i, d) => shift(i, c.region[d]!)),
      });
    },
    stmt: (s) => {
      switch (s.kind) {
        case "BufferStore": {
          const c = byData.get(s.buffer.data);
          if (c === undefined || c.old !== s.buffer) return undefined;
          return {
            ...s,
            buffer: c.buffer,
            indices: s.indices.map((i, d) => shift(i, c.region[d]!)),
          };
        }
        case "AllocBuffer": {
          const c = byData.get(s.buffer.data);
          return c === undefined || c.old !== s.buffer ? undefined : { ...s, buffer: c.buffer };
        }
        case "SBlockRealize": {
          const blk = rewriteBlock(s.block);
          return blk === s.block ? undefined : { ...s, block: blk };
        }
        case "SBlock": {
          const blk = rewriteBlock(s);
          return blk === s ? undefined : blk;
        }
        default:
          return undefined;
      }
    },
  });
}

function compact(f: PrimFunc): PrimFunc {
  const regions = collectRegions(f);
  const aligns = collectDimAligns(f);
  for (const b of aligns.keys()) {
    if (!regions.has(b)) regions.set(b, b.shape.map((s) => range(intImm(0, s.dtype), s)));
  }
  return regions.size === 0 ? f : applyRegions(f, regions, aligns);
}

/**
 * Shrinks allocated buffers to the region their scope uses (TVM's `CompactBufferAllocation`).
 * For each buffer a block (or `AllocBuffer`) allocates, the accesses inside are unioned, with the
 * loops inside the allocation relaxed to their ranges and the loops outside kept symbolic; the
 * buffer gets the extents of that region and every access is shifted by its start. Thread loops
 * outside the allocation are relaxed too when threads share the storage: `blockIdx` and
 * `threadIdx` for `"global"`, `threadIdx` for `"shared"`, none for `"local"`. So a local
 * accumulator allocated under the thread loops shrinks to one element:
 *
 * ```
 * for tx in T.thread_binding(64, thread="threadIdx.x"):    ... same loops ...
 *   with T.sblock(""):                                        with T.sblock(""):
 *     acc = T.sblock_alloc_buffer((64,), scope="local")  =>     acc = T.sblock_alloc_buffer((1,), scope="local")
 *     acc[tx] = ...                                              acc[0] = ...
 * ```
 *
 * A `buffer_dim_align` annotation (`[[writeIndex, axis, factor, offset], ...]`, set by
 * `Schedule.storageAlign`) on a block writing an allocated buffer gives that buffer row-major
 * strides in which the stride of `axis` is `offset` modulo `factor` (padding, e.g. against
 * shared-memory bank conflicts); `FlattenBuffer` then indexes through the strides.
 *
 * A dimension keeps its full extent when its region is unbounded, depends on variables defined
 * inside the allocation, or cannot be proven to fit; an extent that depends on outer loops is
 * replaced by its constant upper bound when there is one. Parameter buffers are never touched.
 * Returns the module itself when nothing shrinks.
 */
export const compactBufferAllocation: Pass = primFuncPass(
  "CompactBufferAllocation",
  (f) => compact(f),
);
