/**
 * Cache stages: `cacheRead` (copy a buffer into a new one of another storage scope before its
 * readers), `cacheWrite` (let a block write a new buffer and copy it back after), and `setScope`.
 *
 * @module
 */

import type { Analyzer } from "../../ir/arith/analyzer.ts";
import {
  type Buffer,
  bufferLoad,
  declBuffer,
  intImm,
  primVar,
  type StorageScope,
} from "../../ir/expr.ts";
import type { PrimFunc } from "../../ir/tir/prim_func.ts";
import {
  bufferRegion,
  bufferStore,
  type For,
  forLoop,
  iterVar,
  sblock,
  type SBlockRealize,
  sblockRealize,
  type Stmt,
} from "../../ir/tir/stmt.ts";
import { rewritePrimFunc, rewriteStmt } from "../../ir/visit.ts";
import { getBlock } from "./_inline.ts";
import {
  bindingOf,
  type Bounds,
  boundsRange,
  loopAnalyzer,
  loopDomains,
  regionBounds,
  unionBounds,
} from "./_relax.ts";
import {
  accessBuffer,
  type BlockScope,
  checkScope,
  childIndexOf,
  insertIntoScope,
  isParamBuffer,
  readsBuffer,
  scopeBlocks,
  scopeChildren,
  scopeOf,
  uniqueBlockName,
  writesBuffer,
} from "./_scope.ts";

/** The new cache buffer: the shape and dtype of `buf` in another scope. */
function cacheBuffer(buf: Buffer, scope: StorageScope): Buffer {
  return declBuffer(buf.shape, buf.dtype, `${buf.name}_${scope}`, { scope });
}

/**
 * The copy stage `dst[v] = src[v]` over the region `bounds` (a loop `ax<d>` per dimension, the
 * block iteration variables `v<d>` over the whole buffer).
 */
function copyStage(
  name: string,
  src: Buffer,
  dst: Buffer,
  bounds: readonly Bounds[],
  an: Analyzer,
): Stmt {
  const ranges = bounds.map((b) => boundsRange(b, an));
  const shape = src.shape;
  const vs = shape.map((s, d) => primVar(`v${d}`, s.dtype));
  const axes = shape.map((s, d) => primVar(`ax${d}`, s.dtype));
  const point = vs.map((v) => ({ kind: "Range" as const, min: v, extent: intImm(1, v.dtype) }));
  const block = sblock(name, bufferStore(dst, bufferLoad(src, vs), vs), {
    iterVars: vs.map((v, d) => iterVar(v, shape[d]!)),
    reads: [bufferRegion(src, point)],
    writes: [bufferRegion(dst, point)],
  });
  let s: Stmt = sblockRealize(
    ranges.map((r, d) => an.simplify(r.min.add(axes[d]!))),
    block,
  );
  for (let d = shape.length - 1; d >= 0; d--) {
    s = forLoop(axes[d]!, { min: 0, extent: ranges[d]!.extent }, s);
  }
  return s;
}

/**
 * The bounds of what block `r` writes to `buf` over all of its loops inside `scope` (the loops
 * outside stay symbolic and are known to `an`).
 */
function writtenBounds(
  func: PrimFunc,
  r: SBlockRealize,
  buf: Buffer,
  scope: BlockScope,
): { bounds: Bounds[]; an: Analyzer } {
  const { path } = getBlock(func, r.block.name);
  const outer = path.slice(0, scope.depth).filter((s): s is For => s.kind === "For");
  const inner = path.slice(scope.depth).filter((s): s is For => s.kind === "For");
  const an = loopAnalyzer(outer);
  const doms = loopDomains(inner, an);
  const binding = bindingOf(r);
  let acc: Bounds[] | undefined;
  for (const w of r.block.writes) {
    if (w.buffer !== buf) continue;
    const b = regionBounds(w, binding, doms, an);
    acc = acc ? acc.map((x, d) => unionBounds(x, b[d]!, an)) : b;
  }
  return { bounds: acc!, an };
}

function fullBounds(buf: Buffer): Bounds[] {
  return buf.shape.map((s) => ({ lo: intImm(0, s.dtype), hi: s.sub(1) }));
}

function replaceBufferIn(s: Stmt, from: Buffer, to: Buffer): Stmt {
  return rewriteStmt(s, { buffer: (b) => (b === from ? to : b) });
}

function scopeFor(path: readonly Stmt[], head: string): BlockScope {
  const scope = scopeOf(path);
  if (!scope) throw new Error(`${head}: the block has no enclosing block to allocate the cache in`);
  return scope;
}

/**
 * Adds a block that copies the `index`-th buffer read by block `name` into a new buffer of
 * `storageScope`, and lets its readers (all of them, or `consumers`) read the copy instead.
 * The copy follows the buffer's writer, or starts the scope for an input; it copies the
 * region written (or the whole buffer); `computeAt` then narrows it.
 */
export function cacheRead(
  func: PrimFunc,
  name: string,
  index: number,
  storageScope: string,
  consumers?: readonly string[],
): { func: PrimFunc; block: string } {
  const { path, realize } = getBlock(func, name);
  const buf = accessBuffer(realize.block, index, "read", `Cannot cacheRead block "${name}"`);
  const head = `Cannot cacheRead buffer "${buf.name}" of block "${name}"`;
  const sc = checkScope(head, storageScope);
  const scope = scopeFor(path, head);
  const blocks = scopeBlocks(scope);
  const writers = blocks.filter((r) => writesBuffer(r.block, buf));
  if (writers.length > 1) {
    const list = writers.map((w) => `"${w.block.name}"`).join(", ");
    throw new Error(`${head}: it is written by ${writers.length} blocks (${list})`);
  }
  const writer = writers[0];
  if (writer === realize) throw new Error(`${head}: the block also writes it`);
  let readers: SBlockRealize[];
  if (consumers) {
    readers = consumers.map((c) => {
      const r = blocks.find((x) => x.block.name === c);
      if (!r || !readsBuffer(r.block, buf) || r === writer) {
        throw new Error(`${head}: block "${c}" does not read it in the same scope`);
      }
      return r;
    });
  } else {
    readers = blocks.filter((r) => r !== writer && readsBuffer(r.block, buf));
  }
  const cache = cacheBuffer(buf, sc);
  let bounds: Bounds[], an: Analyzer;
  if (writer) ({ bounds, an } = writtenBounds(func, writer, buf, scope));
  else {
    bounds = fullBounds(buf);
    an = loopAnalyzer(path.slice(0, scope.depth).filter((s): s is For => s.kind === "For"));
  }
  const stageName = uniqueBlockName(func, cache.name);
  const stage = copyStage(stageName, buf, cache, bounds, an);
  const kids = scopeChildren(scope.realize.block);
  const pos = writer ? childIndexOf(kids, writer) + 1 : 0;
  const set = new Set<Stmt>(readers);
  const out = insertIntoScope(
    func,
    scope,
    pos,
    stage,
    cache,
    (body) =>
      rewriteStmt(body, {
        preStmt: (s) => (set.has(s) ? replaceBufferIn(s, buf, cache) : undefined),
      }),
  );
  return { func: out, block: stageName };
}

/**
 * Lets block `name` write its `index`-th written buffer into a new buffer of `storageScope`,
 * and adds a block right after it that copies the region written back.
 */
export function cacheWrite(
  func: PrimFunc,
  name: string,
  index: number,
  storageScope: string,
): { func: PrimFunc; block: string } {
  const { path, realize } = getBlock(func, name);
  const buf = accessBuffer(realize.block, index, "write", `Cannot cacheWrite block "${name}"`);
  const head = `Cannot cacheWrite buffer "${buf.name}" of block "${name}"`;
  const sc = checkScope(head, storageScope);
  const scope = scopeFor(path, head);
  const writers = scopeBlocks(scope).filter((r) => writesBuffer(r.block, buf));
  if (writers.length > 1) {
    const list = writers.map((w) => `"${w.block.name}"`).join(", ");
    throw new Error(`${head}: it is written by ${writers.length} blocks (${list})`);
  }
  const cache = cacheBuffer(buf, sc);
  const { bounds, an } = writtenBounds(func, realize, buf, scope);
  const stageName = uniqueBlockName(func, cache.name);
  const stage = copyStage(stageName, cache, buf, bounds, an);
  const kids = scopeChildren(scope.realize.block);
  const pos = childIndexOf(kids, realize) + 1;
  const out = insertIntoScope(
    func,
    scope,
    pos,
    stage,
    cache,
    (body) =>
      rewriteStmt(body, {
        preStmt: (s) => (s === realize ? replaceBufferIn(s, buf, cache) : undefined),
      }),
  );
  return { func: out, block: stageName };
}

/** Moves the `index`-th buffer written by block `name` (an allocated one) to `storageScope`. */
export function setScope(
  func: PrimFunc,
  name: string,
  index: number,
  storageScope: string,
): PrimFunc {
  const { realize } = getBlock(func, name);
  const buf = accessBuffer(realize.block, index, "write", `Cannot setScope of block "${name}"`);
  const head = `Cannot set the scope of buffer "${buf.name}"`;
  const sc = checkScope(head, storageScope);
  if (isParamBuffer(func, buf)) throw new Error(`${head}: it is a parameter of the function`);
  if (buf.scope === sc) return func;
  const moved: Buffer = { ...buf, scope: sc };
  return rewritePrimFunc(func, { buffer: (b) => (b === buf ? moved : b) });
}
