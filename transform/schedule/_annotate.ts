/**
 * Primitives that only mark the IR: loop kinds (`vectorize`, `unroll`, `parallel`), annotations
 * on blocks and loops, and `storageAlign` (the `buffer_dim_align` block annotation that buffer
 * compaction turns into padded strides).
 *
 * @module
 */

import type { Var } from "../../ir/expr.ts";
import type { PrimFunc } from "../../ir/tir/prim_func.ts";
import type { Attrs, AttrValue, For, ForKind, SBlockRealize } from "../../ir/tir/stmt.ts";
import { usesVar } from "./_arith.ts";
import { getBlock } from "./_inline.ts";
import { describeLoop, getLoop } from "./_loops.ts";
import { accessBuffer, isParamBuffer } from "./_scope.ts";
import { allRealizes, replaceNode } from "./_tree.ts";

/** The loop kinds a schedule sets (besides thread bindings). */
export type LoopKind = Extract<ForKind, "vectorized" | "unrolled" | "parallel">;

const VERB: { readonly [K in LoopKind]: string } = {
  vectorized: "vectorize",
  unrolled: "unroll",
  parallel: "parallelize",
};

/**
 * Sets the kind of loop `v`. A thread-bound loop cannot change kind; a vectorized or parallel
 * loop may carry only spatial iteration variables, and a vectorized one needs a constant extent.
 */
export function setLoopKind(func: PrimFunc, v: Var, kind: LoopKind): PrimFunc {
  const { loop } = getLoop(func, v);
  const head = `Cannot ${VERB[kind]} ${describeLoop(loop)}`;
  if (loop.forKind === "thread_binding") {
    throw new Error(`${head}: it is bound to ${loop.threadTag}`);
  }
  if (kind === "vectorized" && loop.extent.kind !== "IntImm") {
    throw new Error(`${head}: it has a non-constant extent`);
  }
  if (kind === "vectorized" || kind === "parallel") {
    for (const r of allRealizes(loop.body)) {
      r.block.iterVars.forEach((iv, i) => {
        if (iv.iterKind === "spatial" || !usesVar(r.iterValues[i]!, v)) return;
        const what = iv.iterKind === "reduce" ? "reduction" : iv.iterKind;
        throw new Error(
          `Cannot ${VERB[kind]} loop "${v.name}" of block "${r.block.name}": ` +
            `it carries ${what} iter var "${iv.var.name}"`,
        );
      });
    }
  }
  if (loop.forKind === kind) return func;
  const out: For = { ...loop, forKind: kind, threadTag: undefined };
  return { ...func, body: replaceNode(func.body, loop, out) };
}

/** A block (by name) or a loop (by variable). */
export type AnnotateTarget = string | Var;

function withAnnotations(
  func: PrimFunc,
  target: AnnotateTarget,
  edit: (ann: Attrs, what: string) => Attrs,
): PrimFunc {
  if (typeof target === "string") {
    const { realize } = getBlock(func, target);
    const b = realize.block;
    const annotations = edit(b.annotations, `block "${target}"`);
    const r: SBlockRealize = { ...realize, block: { ...b, annotations } };
    return { ...func, body: replaceNode(func.body, realize, r) };
  }
  const { loop } = getLoop(func, target);
  const annotations = edit(loop.annotations, `loop "${target.name}"`);
  return { ...func, body: replaceNode(func.body, loop, { ...loop, annotations }) };
}

/** Sets annotation `key` of a block or loop to `value`. */
export function annotate(
  func: PrimFunc,
  target: AnnotateTarget,
  key: string,
  value: AttrValue,
): PrimFunc {
  return withAnnotations(func, target, (ann) => ({ ...ann, [key]: value }));
}

/** Removes annotation `key` of a block or loop (which must have it). */
export function unannotate(func: PrimFunc, target: AnnotateTarget, key: string): PrimFunc {
  return withAnnotations(func, target, (ann, what) => {
    if (!(key in ann)) throw new Error(`Cannot unannotate ${what}: it has no annotation "${key}"`);
    const { [key]: _, ...rest } = ann;
    return rest;
  });
}

/** The block annotation `storageAlign` sets: `[[bufferIndex, axis, factor, offset], ...]`. */
export const BUFFER_DIM_ALIGN = "buffer_dim_align";

/**
 * Asks that the stride of dimension `axis` of the `index`-th buffer written by block `name` be
 * `offset` modulo `factor` (padding a shared-memory tile to avoid bank conflicts). Recorded as
 * the block annotation {@link BUFFER_DIM_ALIGN}, which buffer compaction turns into strides.
 */
export function storageAlign(
  func: PrimFunc,
  name: string,
  index: number,
  align: { readonly axis: number; readonly factor: number; readonly offset: number },
): PrimFunc {
  const { realize } = getBlock(func, name);
  const buf = accessBuffer(realize.block, index, "write", `Cannot storageAlign block "${name}"`);
  const head = `Cannot storageAlign buffer "${buf.name}" of block "${name}"`;
  if (isParamBuffer(func, buf)) throw new Error(`${head}: it is a parameter of the function`);
  const ndim = buf.shape.length;
  const { factor, offset } = align;
  if (!Number.isInteger(align.axis) || align.axis < -ndim || align.axis >= ndim) {
    throw new Error(`${head}: axis ${align.axis} is out of range for its ${ndim} dimensions`);
  }
  const axis = align.axis < 0 ? align.axis + ndim : align.axis;
  if (!Number.isInteger(factor) || factor <= 0) {
    throw new Error(`${head}: factor ${factor} is not a positive integer`);
  }
  if (!Number.isInteger(offset) || offset < 0 || offset >= factor) {
    throw new Error(`${head}: offset ${offset} is not an integer in [0, ${factor})`);
  }
  return withAnnotations(func, name, (ann) => {
    const prev = Array.isArray(ann[BUFFER_DIM_ALIGN])
      ? (ann[BUFFER_DIM_ALIGN] as readonly AttrValue[])
      : [];
    const rest = prev.filter((e) => !(Array.isArray(e) && e[0] === index && e[1] === axis));
    return { ...ann, [BUFFER_DIM_ALIGN]: [...rest, [index, axis, factor, offset]] };
  });
}
