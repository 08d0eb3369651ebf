/**
 * Small builders for the TIR fixtures of the schedule tests.
 *
 * @module
 */

import { type Buffer, type PrimExprLike, range, toExpr, type Var } from "../../../ir/expr.ts";
import { type PrimFunc, primFunc } from "../../../ir/tir/prim_func.ts";
import {
  type BufferRegion,
  bufferRegion,
  forLoop,
  type IterKind,
  iterVar,
  sblock,
  type SBlockRealize,
  sblockRealize,
  seq,
  type Stmt,
  type ThreadTag,
} from "../../../ir/tir/stmt.ts";

/** One loop of {@link nest}: a variable and an extent, optionally bound to a thread. */
export type LoopSpec = readonly [Var, PrimExprLike] | readonly [Var, PrimExprLike, ThreadTag];

/** Nested loops (outermost first) around `body`. */
export function nest(loops: readonly LoopSpec[], body: Stmt): Stmt {
  let s = body;
  for (let i = loops.length - 1; i >= 0; i--) {
    const [v, ext, tag] = loops[i]!;
    s = forLoop(v, { min: 0, extent: ext }, s, tag ? { threadTag: tag } : {});
  }
  return s;
}

/** One iteration variable of {@link block}: variable, extent, kind, bound value. */
export type IterSpec = readonly [Var, PrimExprLike, IterKind, PrimExprLike];

/** What {@link block} builds. */
export interface BlockSpec {
  readonly iters: readonly IterSpec[];
  readonly reads: readonly BufferRegion[];
  readonly writes: readonly BufferRegion[];
  readonly body: Stmt;
  readonly init?: Stmt;
  readonly predicate?: PrimExprLike;
  readonly alloc?: readonly Buffer[];
}

/** A block realize. */
export function block(name: string, spec: BlockSpec): SBlockRealize {
  const b = sblock(name, spec.body, {
    iterVars: spec.iters.map(([v, ext, kind]) => iterVar(v, ext, kind)),
    reads: spec.reads,
    writes: spec.writes,
    ...(spec.init ? { init: spec.init } : {}),
    ...(spec.alloc ? { allocBuffers: spec.alloc } : {}),
  });
  return sblockRealize(spec.iters.map((it) => it[3]), b, spec.predicate ?? true);
}

/** A region of `buf`: one `[min, extent]` pair per dimension, or an expression for a point. */
export function reg(
  buf: Buffer,
  ...dims: readonly (PrimExprLike | readonly [PrimExprLike, PrimExprLike])[]
): BufferRegion {
  return bufferRegion(
    buf,
    dims.map((d) => {
      if (Array.isArray(d)) return range(d[0], d[1]);
      const min = toExpr(d as PrimExprLike);
      return { kind: "Range", min, extent: toExpr(1, min) };
    }),
  );
}

/** A function whose body is a root block allocating `alloc` around `stmts`. */
export function rootFunc(
  params: readonly (Buffer | Var)[],
  alloc: readonly Buffer[],
  stmts: readonly Stmt[],
): PrimFunc {
  const root = sblockRealize([], sblock("root", seq(...stmts), { allocBuffers: alloc }));
  return primFunc(params, root, { attrs: { global_symbol: "main", "tir.noalias": true } });
}
