/**
 * Inlining primitives: `computeInline` (a producer into its consumers) and
 * `reverseComputeInline` (an elementwise consumer into its producer).
 *
 * @module
 */

import type { Buffer, BufferLoad, PrimExpr, Var } from "../../ir/expr.ts";
import type { PrimFunc } from "../../ir/tir/prim_func.ts";
import {
  type BufferRegion,
  type BufferStore,
  bufferStore,
  type SBlock,
  type SBlockRealize,
  type Stmt,
} from "../../ir/tir/stmt.ts";
import { rewritePrimExpr, rewriteStmt, visitStmt } from "../../ir/visit.ts";
import { exprEqual, proveEqual, substExpr, varsOf } from "./_arith.ts";
import { fullRange, innerVars, mergeRegions, relaxRegion, substRegion } from "./_region.ts";
import { allRealizes, blockPath, exclusiveTop, removeNode, replaceNode } from "./_tree.ts";

/** The realize of block `name` and its path; throws when absent. */
export function getBlock(func: PrimFunc, name: string): { realize: SBlockRealize; path: Stmt[] } {
  const path = blockPath(func.body, name);
  if (!path) throw new Error(`Block "${name}" is not in the function`);
  return { realize: path[path.length - 1] as SBlockRealize, path };
}

/** Calls `fn` on the statements of a block (body, init), not entering nested blocks. */
function visitOwn(
  block: SBlock,
  v: { stmt?: (s: Stmt) => void; expr?: (e: PrimExpr) => void },
): void {
  for (const s of block.init ? [block.init, block.body] : [block.body]) {
    visitStmt(s, {
      stmt: (x) => {
        if (x.kind === "SBlockRealize") return false;
        v.stmt?.(x);
        return true;
      },
      ...(v.expr ? { expr: v.expr } : {}),
    });
  }
}

/** The loads of `buf` in a block's own statements (not nested blocks). */
function ownLoads(block: SBlock, buf: Buffer): BufferLoad[] {
  const out: BufferLoad[] = [];
  visitOwn(block, { expr: (e) => e.kind === "BufferLoad" && e.buffer === buf && out.push(e) });
  return out;
}

/** Whether a block's own statements store into `buf`. */
function ownStores(block: SBlock, buf: Buffer): boolean {
  let found = false;
  visitOwn(block, { stmt: (s) => s.kind === "BufferStore" && s.buffer === buf && (found = true) });
  return found;
}

/** Whether anything under `s` mentions `buf` (loads, stores, regions, match buffers). */
function mentions(s: Stmt, buf: Buffer): boolean {
  let found = false;
  rewriteStmt(s, {
    preExpr: (e) => (e.kind === "BufferLoad" && e.buffer === buf && (found = true), undefined),
    buffer: (b) => {
      if (b === buf) found = true;
      return b;
    },
  });
  return found;
}

/** The buffers of the function's parameters. */
function paramBuffers(func: PrimFunc): Set<Buffer> {
  return new Set(func.bufferMap.values());
}

/** Removes the allocation of `buf` (a block's `allocBuffers` or an `AllocBuffer` statement). */
function removeAlloc(s: Stmt, buf: Buffer): Stmt {
  return rewriteStmt(s, {
    stmt: (x) => {
      if (x.kind === "AllocBuffer" && x.buffer === buf) return x.body;
      if (x.kind === "SBlockRealize" && x.block.allocBuffers.includes(buf)) {
        return {
          ...x,
          block: { ...x.block, allocBuffers: x.block.allocBuffers.filter((b) => b !== buf) },
        };
      }
      if (x.kind === "SBlock" && x.allocBuffers.includes(buf)) {
        return { ...x, allocBuffers: x.allocBuffers.filter((b) => b !== buf) };
      }
      return undefined;
    },
  });
}

/** Checks the store indices of a block are distinct iter vars; returns them. */
function indexVars(block: SBlock, store: BufferStore): Var[] | undefined {
  const vars: Var[] = [];
  const ivs = new Set(block.iterVars.map((iv) => iv.var));
  for (const i of store.indices) {
    if (i.kind !== "Var" || !ivs.has(i) || vars.includes(i)) return undefined;
    vars.push(i);
  }
  return vars;
}

function isReduction(block: SBlock): boolean {
  return block.init !== undefined || block.iterVars.some((iv) => iv.iterKind === "reduce");
}

function checkSpatialStore(block: SBlock, verb: string): BufferStore {
  const head = `Cannot ${verb} block "${block.name}"`;
  if (isReduction(block)) throw new Error(`${head}: it is a reduction`);
  const odd = block.iterVars.find((iv) => iv.iterKind !== "spatial");
  if (odd) throw new Error(`${head}: it has ${odd.iterKind} iter var "${odd.var.name}"`);
  if (block.body.kind !== "BufferStore") {
    throw new Error(`${head}: its body is not a single buffer store`);
  }
  return block.body;
}

/** Inlines block `name` (an injective spatial block writing one intermediate buffer) into its consumers. */
export function computeInline(func: PrimFunc, name: string): PrimFunc {
  const { path, realize } = getBlock(func, name);
  const block = realize.block;
  const head = `Cannot inline block "${name}"`;
  if (path.length === 1) throw new Error(`${head}: it is the root block`);
  const store = checkSpatialStore(block, "inline");
  const buf = store.buffer;
  if (paramBuffers(func).has(buf)) {
    throw new Error(`${head}: it writes output buffer "${buf.name}"`);
  }
  const idx = indexVars(block, store);
  if (!idx) throw new Error(`${head}: its store indices are not distinct iter vars`);
  const stray = varsOf(store.value).find((v) =>
    block.iterVars.some((iv) => iv.var === v) && !idx.includes(v)
  );
  if (stray) {
    throw new Error(
      `${head}: its value uses iter var "${stray.name}", which does not index the store`,
    );
  }
  if (ownLoads(block, buf).length) throw new Error(`${head}: its value reads the buffer it writes`);
  const realizes = allRealizes(func.body);
  for (const r of realizes) {
    if (r !== realize && ownStores(r.block, buf)) {
      throw new Error(`${head}: buffer "${buf.name}" is also written by block "${r.block.name}"`);
    }
  }
  const inputs = new Set<Buffer>();
  visitOwn(block, { expr: (e) => e.kind === "BufferLoad" && inputs.add(e.buffer) });
  for (const r of realizes.slice(realizes.indexOf(realize) + 1)) {
    for (const b of inputs) {
      if (ownStores(r.block, b)) {
        throw new Error(
          `${head}: buffer "${b.name}" that it reads is written later by block "${r.block.name}"`,
        );
      }
    }
  }
  const inlineLoad = (load: BufferLoad): PrimExpr =>
    substExpr(store.value, new Map(idx.map((v, k) => [v, load.indices[k]!])));
  const replaceLoads = (
    e: PrimExpr,
  ) => (e.kind === "BufferLoad" && e.buffer === buf ? inlineLoad(e) : undefined);
  const producerReads = block.reads;

  const newReads = (
    b: SBlock,
    loads: readonly BufferLoad[],
    nested: boolean,
  ): readonly BufferRegion[] => {
    if (!b.reads.some((r) => r.buffer === buf)) return b.reads;
    if (!loads.length && !nested) {
      throw new Error(`${head}: block "${b.name}" accesses buffer "${buf.name}" opaquely`);
    }
    const inner = innerVars(b);
    const added: BufferRegion[] = [];
    for (const l of loads) {
      const map = new Map(idx.map((v, k) => [v, l.indices[k]!]));
      for (const r of producerReads) added.push(relaxRegion(substRegion(r, map), inner));
    }
    if (nested) {
      for (const r of producerReads) {
        added.push({
          ...r,
          region: r.buffer.shape.map((_, d) => fullRange(r.buffer, d)),
        });
      }
    }
    const out: BufferRegion[] = [];
    for (const r of b.reads) {
      if (r.buffer === buf) out.push(...added);
      else out.push(r);
    }
    return mergeRegions(out);
  };

  const inlineInto = (s: Stmt): Stmt =>
    rewriteStmt(s, {
      preStmt: (x) => {
        if (x.kind !== "SBlockRealize") return undefined;
        const b = x.block;
        const loads = ownLoads(b, buf);
        const nested = allRealizes(b.body).some((r) => mentions(r, buf)) ||
          (b.init !== undefined && allRealizes(b.init).some((r) => mentions(r, buf)));
        const nb: SBlock = {
          ...b,
          reads: newReads(b, loads, nested),
          body: inlineInto(b.body),
          init: b.init && inlineInto(b.init),
        };
        const ex = (e: PrimExpr) => rewritePrimExpr(e, { expr: replaceLoads });
        return { ...x, iterValues: x.iterValues.map(ex), predicate: ex(x.predicate), block: nb };
      },
      expr: replaceLoads,
    });

  let body = removeNode(func.body, exclusiveTop(path));
  body = inlineInto(body);
  body = removeAlloc(body, buf);
  for (const r of allRealizes(body)) {
    if (
      mentions(r.block.body, buf) || r.block.reads.some((x) => x.buffer === buf) ||
      r.block.matchBuffers.some((m) => m.source.buffer === buf)
    ) {
      throw new Error(`${head}: block "${r.block.name}" accesses buffer "${buf.name}" opaquely`);
    }
  }
  return { ...func, body };
}

/** Inlines block `name` (an elementwise consumer) into its single producer. */
export function reverseComputeInline(func: PrimFunc, name: string): PrimFunc {
  const { path, realize } = getBlock(func, name);
  const block = realize.block;
  const head = `Cannot reverse-inline block "${name}"`;
  if (path.length === 1) throw new Error(`${head}: it is the root block`);
  const store = checkSpatialStore(block, "reverse-inline");
  if (!(realize.predicate.kind === "IntImm" && realize.predicate.value === 1)) {
    throw new Error(`${head}: it has a predicate`);
  }
  const loads: BufferLoad[] = [];
  visitOwn(block, { expr: (e) => e.kind === "BufferLoad" && loads.push(e) });
  const readBufs = [...new Set(loads.map((l) => l.buffer))];
  const realizes = allRealizes(func.body);
  const producers = realizes.filter((r) =>
    r !== realize && readBufs.some((b) => ownStores(r.block, b))
  );
  if (producers.length !== 1) {
    const list = producers.map((p) => `"${p.block.name}"`).join(", ");
    throw new Error(
      `${head}: it has ${producers.length} producer blocks${list ? ` (${list})` : ""}, expected 1`,
    );
  }
  const prod = producers[0]!;
  const pb = prod.block;
  const pHead = `${head}: its producer "${pb.name}"`;
  if (isReduction(pb)) throw new Error(`${pHead} is a reduction`);
  if (pb.body.kind !== "BufferStore") throw new Error(`${pHead} is not a single buffer store`);
  const pStore = pb.body;
  const pIdx = indexVars(pb, pStore);
  if (!pIdx) throw new Error(`${pHead} does not store at distinct iter vars`);
  const buf = pStore.buffer;
  if (paramBuffers(func).has(buf)) throw new Error(`${pHead} writes output buffer "${buf.name}"`);
  for (const r of realizes) {
    if (
      r !== realize && r !== prod &&
      (ownLoads(r.block, buf).length || r.block.reads.some((x) => x.buffer === buf))
    ) {
      throw new Error(`${head}: buffer "${buf.name}" is also read by block "${r.block.name}"`);
    }
  }
  if (store.buffer === buf) throw new Error(`${head}: it writes the buffer it reads`);
  const bLoads = loads.filter((l) => l.buffer === buf);
  const first = bLoads[0]!;
  const cVars = block.iterVars.map((iv) => iv.var);
  const okIdx = bLoads.every((l) => l.indices.every((x, k) => exprEqual(x, first.indices[k]!))) &&
    first.indices.every((x, k) =>
      x.kind === "Var" && cVars.includes(x) && first.indices.indexOf(x) === k
    ) &&
    cVars.every((v) => first.indices.includes(v));
  if (!okIdx) {
    throw new Error(`${head}: its loads of buffer "${buf.name}" are not indexed by its iter vars`);
  }
  const map = new Map<Var, PrimExpr>();
  first.indices.forEach((x, k) => {
    const cv = block.iterVars.find((iv) => iv.var === x)!;
    const pv = pb.iterVars.find((iv) => iv.var === pIdx[k])!;
    if (!proveEqual(cv.dom.min, pv.dom.min) || !proveEqual(cv.dom.extent, pv.dom.extent)) {
      throw new Error(
        `${head}: its iteration domain differs from that of its producer "${pb.name}"`,
      );
    }
    map.set(x as Var, pv.var);
  });
  const between = realizes.slice(realizes.indexOf(prod) + 1, realizes.indexOf(realize))
    .filter((r) => !allRealizes(prod).includes(r));
  for (const r of between) {
    if (mentions(r, store.buffer)) {
      throw new Error(
        `${head}: block "${r.block.name}" between it and its producer accesses "${store.buffer.name}"`,
      );
    }
  }
  const inlined = rewritePrimExpr(store.value, {
    expr: (e) => (e.kind === "BufferLoad" && e.buffer === buf ? pStore.value : undefined),
  });
  const newStore = bufferStore(
    store.buffer,
    substExpr(inlined, map),
    store.indices.map((i) => substExpr(i, map)),
  );
  const reads = mergeRegions([
    ...pb.reads,
    ...block.reads.filter((r) => r.buffer !== buf).map((r) => substRegion(r, map)),
  ]);
  const writes = block.writes.map((r) => substRegion(r, map));
  const newProd: SBlockRealize = { ...prod, block: { ...pb, body: newStore, reads, writes } };
  let body = replaceNode(func.body, prod, newProd);
  body = removeNode(body, exclusiveTop(path));
  body = removeAlloc(body, buf);
  if (mentions(body, buf)) throw new Error(`${head}: buffer "${buf.name}" is accessed opaquely`);
  return { ...func, body };
}
