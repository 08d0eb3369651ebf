/**
 * `transformLayout`: gives an allocated buffer a new shape through an index map (transpose,
 * packing, ...) and rewrites every access and region of it.
 *
 * @module
 */

import { Analyzer } from "../../ir/arith/analyzer.ts";
import { evalSet } from "../../ir/arith/int_set.ts";
import {
  add,
  type Buffer,
  copyExpr,
  intImm,
  type PrimExpr,
  primVar,
  range,
  type Var,
} from "../../ir/expr.ts";
import type { PrimFunc } from "../../ir/tir/prim_func.ts";
import type { BufferRegion, SBlock } from "../../ir/tir/stmt.ts";
import { rewritePrimFunc } from "../../ir/visit.ts";
import { simplify } from "./_arith.ts";
import { getBlock } from "./_inline.ts";
import { boundsRange } from "./_relax.ts";
import { accessBuffer, isParamBuffer } from "./_scope.ts";
import { allRealizes } from "./_tree.ts";
import { type IndexMap, mapIndices } from "./index_map.ts";

/** Enumerates index maps of buffers up to this many elements to check they are one-to-one. */
const CHECK_LIMIT = 1 << 16;

/** The value of an integer index expression, or `undefined` for a form it does not know. */
function evalIndex(e: PrimExpr, env: ReadonlyMap<Var, number>): number | undefined {
  const two = (f: (a: number, b: number) => number | undefined) => {
    const { a, b } = e as PrimExpr & { a: PrimExpr; b: PrimExpr };
    const x = evalIndex(a, env), y = evalIndex(b, env);
    return x === undefined || y === undefined ? undefined : f(x, y);
  };
  switch (e.kind) {
    case "IntImm":
      return e.value;
    case "Var":
      return env.get(e);
    case "Add":
      return two((a, b) => a + b);
    case "Sub":
      return two((a, b) => a - b);
    case "Mul":
      return two((a, b) => a * b);
    case "FloorDiv":
      return two((a, b) => (b === 0 ? undefined : Math.floor(a / b)));
    case "FloorMod":
      return two((a, b) => (b === 0 ? undefined : a - Math.floor(a / b) * b));
    case "Min":
      return two(Math.min);
    case "Max":
      return two(Math.max);
    case "Cast":
      return evalIndex(e.value, env);
    default:
      return undefined;
  }
}

/** Throws when two indices of `shape` map to the same element of `newShape` (small shapes). */
function checkOneToOne(map: IndexMap, shape: readonly number[], head: string): void {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n > CHECK_LIMIT) return;
  const seen = new Map<string, number[]>();
  const idx = shape.map(() => 0);
  for (let k = 0; k < n; k++) {
    let r = k;
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d] = r % shape[d]!;
      r = Math.floor(r / shape[d]!);
    }
    const env = new Map(map.initialIndices.map((v, d) => [v, idx[d]!]));
    const out = map.finalIndices.map((e) => evalIndex(e, env));
    if (out.some((x) => x === undefined)) return;
    const key = out.join(",");
    const prev = seen.get(key);
    if (prev) {
      throw new Error(
        `${head}: the index map sends [${prev.join(", ")}] and [${idx.join(", ")}] to [${
          out.join(", ")
        }]`,
      );
    }
    seen.set(key, [...idx]);
  }
}

/**
 * Reshapes the `index`-th buffer that block `name` reads or writes (an allocated one) with
 * `map`: its new shape is the extent of the map's image, every access `buf[idx]` becomes
 * `buf[map(idx)]` and every region the image of the old one.
 */
export function transformLayout(
  func: PrimFunc,
  name: string,
  index: number,
  type: "read" | "write",
  map: IndexMap,
): PrimFunc {
  const { realize } = getBlock(func, name);
  const buf = accessBuffer(realize.block, index, type, `Cannot transformLayout block "${name}"`);
  const head = `Cannot transform the layout of buffer "${buf.name}"`;
  if (isParamBuffer(func, buf)) throw new Error(`${head}: it is a parameter of the function`);
  const ndim = buf.shape.length;
  if (map.initialIndices.length !== ndim) {
    throw new Error(
      `${head}: the index map takes ${map.initialIndices.length} indices, the buffer has ${ndim} dimensions`,
    );
  }
  for (const r of allRealizes(func.body)) {
    if (r.block.matchBuffers.some((m) => m.source.buffer === buf)) {
      throw new Error(`${head}: block "${r.block.name}" views it through a match buffer`);
    }
  }
  const an = new Analyzer();
  const doms = new Map(map.initialIndices.map((v, d) => [v, range(0, buf.shape[d]!)]));
  for (const [v, r] of doms) an.bind(v, r);
  const shape = map.finalIndices.map((e, d) => {
    const s = evalSet(e, doms, an);
    if (!an.canProve(s.min.ge(0))) {
      throw new Error(`${head}: the index map can give a negative index in dimension ${d}`);
    }
    return an.simplify(add(s.max, 1));
  });
  const consts = buf.shape.map((s) => (s.kind === "IntImm" ? s.value : undefined));
  if (consts.every((c) => c !== undefined)) checkOneToOne(map, consts as number[], head);
  const moved: Buffer = {
    ...buf,
    shape,
    strides: [],
    elemOffset: intImm(0, buf.elemOffset.dtype),
  };
  const indices = (xs: readonly PrimExpr[]) => mapIndices(map, xs).map((x) => simplify(x));
  const region = (r: BufferRegion): BufferRegion => {
    if (r.buffer !== buf) return r;
    if (r.region.every((x) => x.extent.kind === "IntImm" && x.extent.value === 1)) {
      return {
        ...r,
        buffer: moved,
        region: indices(r.region.map((x) => x.min)).map((m) => range(m, intImm(1, m.dtype))),
      };
    }
    const vs = r.region.map((_, d) => primVar(`r${d}`, buf.shape[d]!.dtype));
    const rdoms = new Map(vs.map((v, d) => [v, r.region[d]!]));
    const ra = new Analyzer();
    return {
      ...r,
      buffer: moved,
      region: mapIndices(map, vs).map((e) => {
        const s = evalSet(e, rdoms, ra);
        return boundsRange({ lo: ra.simplify(s.min), hi: ra.simplify(s.max) }, ra);
      }),
    };
  };
  const block = (b: SBlock): SBlock => ({
    ...b,
    reads: b.reads.map(region),
    writes: b.writes.map(region),
    allocBuffers: b.allocBuffers.map((x) => (x === buf ? moved : x)),
  });
  return rewritePrimFunc(func, {
    expr: (e) =>
      e.kind === "BufferLoad" && e.buffer === buf
        ? copyExpr(e, { buffer: moved, indices: indices(e.indices) })
        : undefined,
    stmt: (s) => {
      if (s.kind === "BufferStore" && s.buffer === buf) {
        return { ...s, buffer: moved, indices: indices(s.indices) };
      }
      if (s.kind === "SBlockRealize") return { ...s, block: block(s.block) };
      if (s.kind === "SBlock") return block(s);
      return undefined;
    },
  });
}
