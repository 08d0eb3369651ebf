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
  /** The node kind. */
  readonly kind: "For";
  /** The loop variable; bound for the body. */
  readonly loopVar: Var;
  /** The first value of the loop variable. */
  readonly min: PrimExpr;
  /** The number of iterations. */
  readonly extent: PrimExpr;
  /** How the loop runs (serial, parallel, bound to a thread axis, ...). */
  readonly forKind: ForKind;
  /** The thread axis when `forKind` is `"thread_binding"`. */
  readonly threadTag: ThreadTag | undefined;
  /** The loop body. */
  readonly body: Stmt;
  /** Loop annotations (pragmas, schedule hints). */
  readonly annotations: Attrs;
}

/** The role of a block iteration variable. */
export type IterKind = "spatial" | "reduce" | "scan" | "opaque";

/** A block iteration variable with its domain. */
export interface IterVar {
  /** The node kind. */
  readonly kind: "IterVar";
  /** The variable; bound in the block body. */
  readonly var: Var;
  /** The values the variable ranges over. */
  readonly dom: Range;
  /** Whether it is a spatial or a reduction axis (or scan, opaque). */
  readonly iterKind: IterKind;
}

/** The region of a buffer a block reads or writes. */
export interface BufferRegion {
  /** The node kind. */
  readonly kind: "BufferRegion";
  /** The buffer accessed. */
  readonly buffer: Buffer;
  /** The accessed range of each buffer dimension. */
  readonly region: readonly Range[];
}

/** A buffer declared inside a block as a view of a region of another buffer. */
export interface MatchBufferRegion {
  /** The node kind. */
  readonly kind: "MatchBufferRegion";
  /** The buffer declared in the block. */
  readonly buffer: Buffer;
  /** The region of an outer buffer that `buffer` views. */
  readonly source: BufferRegion;
}

/**
 * A block (TVM's `SBlock`): the unit of scheduling. Its iteration variables are bound to
 * values by the enclosing {@link SBlockRealize}.
 */
export interface SBlock {
  /** The node kind. */
  readonly kind: "SBlock";
  /** The block name (a schedule looks blocks up by it). */
  readonly name: string;
  /** The block iteration variables. */
  readonly iterVars: readonly IterVar[];
  /** The buffer regions the block reads. */
  readonly reads: readonly BufferRegion[];
  /** The buffer regions the block writes. */
  readonly writes: readonly BufferRegion[];
  /** The initialization of a reduction, run on the first reduction iteration. */
  readonly init: Stmt | undefined;
  /** Buffers allocated for the duration of the block. */
  readonly allocBuffers: readonly Buffer[];
  /** Buffers declared as views of outer buffer regions. */
  readonly matchBuffers: readonly MatchBufferRegion[];
  /** Block annotations (schedule hints). */
  readonly annotations: Attrs;
  /** The block body. */
  readonly body: Stmt;
}

/** Runs a block with its iteration variables bound to `iterValues`, when `predicate` holds. */
export interface SBlockRealize {
  /** The node kind. */
  readonly kind: "SBlockRealize";
  /** The value of each of the block's iteration variables. */
  readonly iterValues: readonly PrimExpr[];
  /** The block runs only when this holds (`true` by default). */
  readonly predicate: PrimExpr;
  /** The block run. */
  readonly block: SBlock;
}

/** `buffer[indices] = value`. */
export interface BufferStore {
  /** The node kind. */
  readonly kind: "BufferStore";
  /** The buffer written. */
  readonly buffer: Buffer;
  /** The value stored. */
  readonly value: PrimExpr;
  /** One index per buffer dimension. */
  readonly indices: readonly PrimExpr[];
}

/** Statements run in order. */
export interface SeqStmt {
  /** The node kind. */
  readonly kind: "SeqStmt";
  /** The statements, in order. */
  readonly seq: readonly Stmt[];
}

/** `if cond: then else: else`. */
export interface IfThenElse {
  /** The node kind. */
  readonly kind: "IfThenElse";
  /** The boolean condition. */
  readonly cond: PrimExpr;
  /** Run when `cond` holds. */
  readonly then: Stmt;
  /** Run when `cond` does not hold; `undefined` for none. */
  readonly else: Stmt | undefined;
}

/** `var = value` in scope for `body`. */
export interface LetStmt {
  /** The node kind. */
  readonly kind: "LetStmt";
  /** The variable; bound in `body`. */
  readonly var: Var;
  /** The value bound to `var`. */
  readonly value: PrimExpr;
  /** The statement run with `var` bound. */
  readonly body: Stmt;
}

/** Evaluates an expression for its effect. */
export interface Evaluate {
  /** The node kind. */
  readonly kind: "Evaluate";
  /** The expression evaluated (usually an intrinsic call). */
  readonly value: PrimExpr;
}

/** Allocates `buffer` (its scope tells where) for the duration of `body`. */
export interface AllocBuffer {
  /** The node kind. */
  readonly kind: "AllocBuffer";
  /** The buffer allocated. */
  readonly buffer: Buffer;
  /** The statement in which the buffer lives. */
  readonly body: Stmt;
}

/** Declares `buffer` (a view of existing memory) for `body`. */
export interface DeclBuffer {
  /** The node kind. */
  readonly kind: "DeclBuffer";
  /** The buffer declared. */
  readonly buffer: Buffer;
  /** The statement in which the buffer is visible. */
  readonly body: Stmt;
}

/** Checks `cond` at run time, failing with `message`, then runs `body`. */
export interface AssertStmt {
  /** The node kind. */
  readonly kind: "AssertStmt";
  /** The boolean condition checked. */
  readonly cond: PrimExpr;
  /** The error message when `cond` fails. */
  readonly message: string;
  /** The statement run after the check. */
  readonly body: Stmt;
}

/** `while cond: body`. */
export interface While {
  /** The node kind. */
  readonly kind: "While";
  /** The boolean condition, checked before each iteration. */
  readonly cond: PrimExpr;
  /** The loop body. */
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
