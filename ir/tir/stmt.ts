/**
 * TIR statements: loops, blocks, stores and the rest of the tensor-level program.
 *
 * @module
 */

import { type DType, elementDType, isBool, isInt } from "../dtype.ts";
import {
  boolImm,
  type Buffer,
  constant,
  type PrimExpr,
  type PrimExprLike,
  type Range,
  range,
  toExpr,
  type Var,
} from "../expr.ts";

/** An attribute value attached to loops, blocks, functions and Relax calls (`null` is `None`). */
export type AttrValue =
  | null
  | string
  | number
  | boolean
  | PrimExpr
  | readonly AttrValue[]
  | { readonly [key: string]: AttrValue };

/** A dictionary of attributes. */
export type Attrs = { readonly [key: string]: AttrValue };

/** How a loop runs. */
export type ForKind = "serial" | "parallel" | "vectorized" | "unrolled" | "thread_binding";

/** GPU thread axes a loop can bind to. */
export type ThreadTag =
  | "blockIdx.x"
  | "blockIdx.y"
  | "blockIdx.z"
  | "threadIdx.x"
  | "threadIdx.y"
  | "threadIdx.z"
  | "vthread.x"
  | "vthread.y"
  | "vthread.z";

/** Returns whether `s` is a valid thread tag. */
export function isThreadTag(s: string): s is ThreadTag {
  return /^(blockIdx|threadIdx|vthread)\.[xyz]$/.test(s);
}

/** A loop `for loopVar in range(min, min + extent)`. */
export interface For {
  readonly kind: "For";
  readonly loopVar: Var;
  readonly min: PrimExpr;
  readonly extent: PrimExpr;
  readonly forKind: ForKind;
  /** The thread axis when `forKind` is `"thread_binding"`. */
  readonly threadTag: ThreadTag | undefined;
  readonly body: Stmt;
  readonly annotations: Attrs;
}

/** The role of a block iteration variable. */
export type IterKind = "spatial" | "reduce" | "scan" | "opaque";

/** A block iteration variable with its domain. */
export interface IterVar {
  readonly kind: "IterVar";
  readonly var: Var;
  readonly dom: Range;
  readonly iterKind: IterKind;
}

/** The region of a buffer a block reads or writes. */
export interface BufferRegion {
  readonly kind: "BufferRegion";
  readonly buffer: Buffer;
  readonly region: readonly Range[];
}

/** A buffer declared inside a block as a view of a region of another buffer. */
export interface MatchBufferRegion {
  readonly kind: "MatchBufferRegion";
  readonly buffer: Buffer;
  readonly source: BufferRegion;
}

/**
 * A block (TVM's `SBlock`): the unit of scheduling. Its iteration variables are bound to
 * values by the enclosing {@link SBlockRealize}.
 */
export interface SBlock {
  readonly kind: "SBlock";
  readonly name: string;
  readonly iterVars: readonly IterVar[];
  readonly reads: readonly BufferRegion[];
  readonly writes: readonly BufferRegion[];
  /** The initialization of a reduction, run on the first reduction iteration. */
  readonly init: Stmt | undefined;
  readonly allocBuffers: readonly Buffer[];
  readonly matchBuffers: readonly MatchBufferRegion[];
  readonly annotations: Attrs;
  readonly body: Stmt;
}

/** Runs a block with its iteration variables bound to `iterValues`, when `predicate` holds. */
export interface SBlockRealize {
  readonly kind: "SBlockRealize";
  readonly iterValues: readonly PrimExpr[];
  readonly predicate: PrimExpr;
  readonly block: SBlock;
}

/** `buffer[indices] = value`. */
export interface BufferStore {
  readonly kind: "BufferStore";
  readonly buffer: Buffer;
  readonly value: PrimExpr;
  readonly indices: readonly PrimExpr[];
}

/** Statements run in order. */
export interface SeqStmt {
  readonly kind: "SeqStmt";
  readonly seq: readonly Stmt[];
}

/** `if cond: then else: else`. */
export interface IfThenElse {
  readonly kind: "IfThenElse";
  readonly cond: PrimExpr;
  readonly then: Stmt;
  readonly else: Stmt | undefined;
}

/** `var = value` in scope for `body`. */
export interface LetStmt {
  readonly kind: "LetStmt";
  readonly var: Var;
  readonly value: PrimExpr;
  readonly body: Stmt;
}

/** Evaluates an expression for its effect. */
export interface Evaluate {
  readonly kind: "Evaluate";
  readonly value: PrimExpr;
}

/** Allocates `buffer` (its scope tells where) for the duration of `body`. */
export interface AllocBuffer {
  readonly kind: "AllocBuffer";
  readonly buffer: Buffer;
  readonly body: Stmt;
}

/** Declares `buffer` (a view of existing memory) for `body`. */
export interface DeclBuffer {
  readonly kind: "DeclBuffer";
  readonly buffer: Buffer;
  readonly body: Stmt;
}

/** Checks `cond` at run time, failing with `message`, then runs `body`. */
export interface AssertStmt {
  readonly kind: "AssertStmt";
  readonly cond: PrimExpr;
  readonly message: string;
  readonly body: Stmt;
}

/** `while cond: body`. */
export interface While {
  readonly kind: "While";
  readonly cond: PrimExpr;
  readonly body: Stmt;
}

/** A TIR statement. */
export type Stmt =
  | For
  | SBlock
  | SBlockRealize
  | BufferStore
  | SeqStmt
  | IfThenElse
  | LetStmt
  | Evaluate
  | AllocBuffer
  | DeclBuffer
  | AssertStmt
  | While;

// ---------------------------------------------------------------------------------------------
// construction

function checkInt(what: string, e: PrimExpr): void {
  if (!isInt(e.dtype)) throw new Error(`${what} must be an integer, got ${e.dtype}`);
}

/** Options of {@link forLoop}. */
export interface ForOptions {
  /** The loop kind; `"serial"` by default (`"thread_binding"` when `threadTag` is given). */
  readonly forKind?: ForKind;
  /** The thread axis for a thread-binding loop. */
  readonly threadTag?: ThreadTag;
  /** Loop annotations. */
  readonly annotations?: Attrs;
}

/** A loop over `[min, min + extent)`. */
export function forLoop(
  loopVar: Var,
  dom: { readonly min: PrimExprLike; readonly extent: PrimExprLike },
  body: Stmt,
  options: ForOptions = {},
): For {
  const min = toExpr(dom.min, loopVar);
  const extent = toExpr(dom.extent, loopVar);
  checkInt(`Loop "${loopVar.name}" start`, min);
  checkInt(`Loop "${loopVar.name}" extent`, extent);
  if (min.dtype !== loopVar.dtype || extent.dtype !== loopVar.dtype) {
    throw new Error(
      `Loop "${loopVar.name}" is ${loopVar.dtype} but its range is ${min.dtype}/${extent.dtype}`,
    );
  }
  const forKind = options.forKind ?? (options.threadTag ? "thread_binding" : "serial");
  if (forKind === "thread_binding" && !options.threadTag) {
    throw new Error(`Loop "${loopVar.name}" binds to a thread but names no thread axis`);
  }
  if (forKind !== "thread_binding" && options.threadTag) {
    throw new Error(`Loop "${loopVar.name}" is ${forKind} but names thread ${options.threadTag}`);
  }
  return {
    kind: "For",
    loopVar,
    min,
    extent,
    forKind,
    threadTag: options.threadTag,
    body,
    annotations: options.annotations ?? {},
  };
}

/** A block iteration variable. */
export function iterVar(
  v: Var,
  dom: Range | PrimExprLike,
  iterKind: IterKind = "spatial",
): IterVar {
  const d = typeof dom === "object" && "kind" in dom && dom.kind === "Range"
    ? dom
    : range(toExpr(0, v), toExpr(dom as PrimExprLike, v));
  return { kind: "IterVar", var: v, dom: d, iterKind };
}

/** A buffer region; with no region, the whole buffer. */
export function bufferRegion(buffer: Buffer, region?: readonly Range[]): BufferRegion {
  const r = region ?? buffer.shape.map((s) => range(s));
  if (r.length !== buffer.shape.length) {
    throw new Error(
      `Region of buffer "${buffer.name}" has ${r.length} dimensions, expected ${buffer.shape.length}`,
    );
  }
  return { kind: "BufferRegion", buffer, region: r };
}

/** Options of {@link sblock}. */
export interface SBlockOptions {
  /** Iteration variables (default none). */
  readonly iterVars?: readonly IterVar[];
  /** Regions read (default none). */
  readonly reads?: readonly BufferRegion[];
  /** Regions written (default none). */
  readonly writes?: readonly BufferRegion[];
  /** Reduction initialization. */
  readonly init?: Stmt;
  /** Buffers allocated in the block. */
  readonly allocBuffers?: readonly Buffer[];
  /** Match buffers. */
  readonly matchBuffers?: readonly MatchBufferRegion[];
  /** Block annotations. */
  readonly annotations?: Attrs;
}

/** A block. */
export function sblock(name: string, body: Stmt, options: SBlockOptions = {}): SBlock {
  return {
    kind: "SBlock",
    name,
    iterVars: options.iterVars ?? [],
    reads: options.reads ?? [],
    writes: options.writes ?? [],
    init: options.init,
    allocBuffers: options.allocBuffers ?? [],
    matchBuffers: options.matchBuffers ?? [],
    annotations: options.annotations ?? {},
    body,
  };
}

/** Realizes `block` with one value per iteration variable, under `predicate` (default true). */
export function sblockRealize(
  iterValues: readonly PrimExprLike[],
  block: SBlock,
  predicate: PrimExprLike = true,
): SBlockRealize {
  if (iterValues.length !== block.iterVars.length) {
    throw new Error(
      `Block "${block.name}" has ${block.iterVars.length} iteration variables, got ${iterValues.length} values`,
    );
  }
  const vals = iterValues.map((v, i) => toExpr(v, block.iterVars[i]!.var));
  const p = toExpr(predicate);
  if (!isBool(p.dtype)) {
    throw new Error(`Block "${block.name}" predicate must be bool, got ${p.dtype}`);
  }
  return { kind: "SBlockRealize", iterValues: vals, predicate: p, block };
}

/** `buffer[indices] = value`; checks the index count and the value's dtype. */
export function bufferStore(
  buffer: Buffer,
  value: PrimExprLike,
  indices: readonly PrimExprLike[],
): BufferStore {
  if (indices.length !== buffer.shape.length) {
    throw new Error(
      `Buffer "${buffer.name}" has ${buffer.shape.length} dimensions, got ${indices.length} indices`,
    );
  }
  const idx = indices.map((i) => toExpr(i));
  for (const i of idx) checkInt(`Buffer "${buffer.name}" index`, i);
  const v = typeof value === "object"
    ? value
    : constant(value, elementDType(buffer.dtype) as DType);
  if (elementDType(v.dtype) !== elementDType(buffer.dtype)) {
    throw new Error(`Cannot store ${v.dtype} into buffer "${buffer.name}" of ${buffer.dtype}`);
  }
  return { kind: "BufferStore", buffer, value: v, indices: idx };
}

/** A sequence; a single statement is returned as is, nested sequences are flattened. */
export function seq(...stmts: readonly Stmt[]): Stmt {
  const flat: Stmt[] = [];
  for (const s of stmts) {
    if (s.kind === "SeqStmt") flat.push(...s.seq);
    else flat.push(s);
  }
  if (flat.length === 1) return flat[0]!;
  return { kind: "SeqStmt", seq: flat };
}

/** The raw sequence node (no flattening). */
export function seqStmt(stmts: readonly Stmt[]): SeqStmt {
  return { kind: "SeqStmt", seq: stmts };
}

/** `if cond then else`. */
export function ifThenElse(cond: PrimExprLike, then: Stmt, otherwise?: Stmt): IfThenElse {
  const c = toExpr(cond);
  if (!isBool(c.dtype)) throw new Error(`If condition must be bool, got ${c.dtype}`);
  return { kind: "IfThenElse", cond: c, then, else: otherwise };
}

/** `let v = value` over `body`. */
export function letStmt(v: Var, value: PrimExprLike, body: Stmt): LetStmt {
  const val = toExpr(value, v);
  if (val.dtype !== v.dtype) {
    throw new Error(`Cannot bind ${val.dtype} value to ${v.dtype} variable "${v.name}"`);
  }
  return { kind: "LetStmt", var: v, value: val, body };
}

/** Evaluates an expression. */
export function evaluate(value: PrimExprLike): Evaluate {
  return { kind: "Evaluate", value: toExpr(value) };
}

/** Allocates a buffer over a body. */
export function allocBuffer(buffer: Buffer, body: Stmt): AllocBuffer {
  return { kind: "AllocBuffer", buffer, body };
}

/** Declares a buffer over a body. */
export function declBufferStmt(buffer: Buffer, body: Stmt): DeclBuffer {
  return { kind: "DeclBuffer", buffer, body };
}

/** A run-time assertion. */
export function assertStmt(cond: PrimExprLike, message: string, body: Stmt): AssertStmt {
  const c = toExpr(cond);
  if (!isBool(c.dtype)) throw new Error(`Assert condition must be bool, got ${c.dtype}`);
  return { kind: "AssertStmt", cond: c, message, body };
}

/** A while loop. */
export function whileLoop(cond: PrimExprLike, body: Stmt): While {
  const c = toExpr(cond);
  if (!isBool(c.dtype)) throw new Error(`While condition must be bool, got ${c.dtype}`);
  return { kind: "While", cond: c, body };
}

/** A match-buffer declaration. */
export function matchBufferRegion(buffer: Buffer, source: BufferRegion): MatchBufferRegion {
  return { kind: "MatchBufferRegion", buffer, source };
}

/** The empty statement (`T.evaluate(0)`). */
export function noOp(): Evaluate {
  return evaluate(0);
}

/** The always-true predicate. */
export const TRUE: PrimExpr = boolImm(true);
