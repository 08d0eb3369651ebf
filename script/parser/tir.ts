/**
 * The TIR half of the TVMScript parser: `@T.prim_func` functions to `PrimFunc`s.
 *
 * @module
 */

import { type DType, isScalarDType } from "../../ir/dtype.ts";
import {
  type BinaryKind,
  type Buffer,
  type PrimExpr,
  primVar,
  sizeVar,
  type Var,
} from "../../ir/expr.ts";
import { type PrimFunc, primFuncRaw } from "../../ir/tir/prim_func.ts";
import {
  allocBuffer,
  assertStmt,
  type Attrs,
  bufferStore,
  declBufferStmt,
  evaluate,
  ifThenElse,
  letStmt,
  sblock,
  sblockRealize,
  seq,
  type Stmt,
  whileLoop,
} from "../../ir/tir/stmt.ts";
import {
  describeExpr,
  dottedName,
  type ExprNode,
  type FunctionDefNode,
  type StmtNode,
} from "./ast.ts";
import {
  bindArgs,
  expectBool,
  type ParseContext,
  Scope,
  toAttrDict,
  withGlobalSymbol,
} from "./context.ts";
import { dtypeFromName, isBuffer, PrimEval, type PrimName } from "./prim_eval.ts";
import { type BlockFrame, parseBlockHeaderAssign, parseBlockHeaderCall } from "./tir_block.ts";
import { parseBufferDecl } from "./tir_buffer.ts";
import { assertMessage, letType, parseFor, parseWith } from "./tir_scope.ts";

const AUG_KINDS: { readonly [op: string]: BinaryKind } = {
  "+": "Add",
  "-": "Sub",
  "*": "Mul",
  "/": "Div",
  "//": "FloorDiv",
  "%": "FloorMod",
};

/** Parses one `@T.prim_func` definition. */
export function parsePrimFunc(ctx: ParseContext, def: FunctionDefNode): PrimFunc {
  return new TirParser(ctx).func(def);
}

/** Whether a decorator is `T.prim_func` (called or not). */
export function isPrimFuncDecorator(e: ExprNode): boolean {
  const d = dottedName(e.kind === "Call" ? e.func : e);
  return d === "T.prim_func" || d === "tir.prim_func" || d === "tvm.script.tir.prim_func";
}

/** The state of the TIR parser within one function. */
export class TirParser {
  /** The current name scope. */
  scope = new Scope<PrimName>();
  /** Expression evaluation. */
  readonly ev: PrimEval;
  /** Loop ranges by loop variable, for `T.axis.remap`. */
  readonly loops = new Map<Var, { readonly min: PrimExpr; readonly extent: PrimExpr }>();
  /** Buffers allocated at function level with `T.sblock_alloc_buffer` (the root block's). */
  readonly rootAllocs: Buffer[] = [];
  /** The innermost enclosing block's header, while parsing a block. */
  block: BlockFrame | undefined;
  private attrs: Attrs = {};
  private readonly params: Var[] = [];
  private readonly bufferMap = new Map<Var, Buffer>();

  constructor(readonly ctx: ParseContext) {
    this.ev = new PrimEval(ctx, (n) => {
      const v = this.scope.lookup(n.id);
      if (v === undefined) return ctx.fail(`Undefined name "${n.id}"`, n);
      return v;
    }, "int32");
  }

  /** Parses a whole function. */
  func(def: FunctionDefNode): PrimFunc {
    const ctx: ParseContext = this.ctx;
    let isPrivate = false;
    for (const d of def.decorators) {
      if (!isPrimFuncDecorator(d)) {
        ctx.fail(`Unexpected decorator ${describeExpr(d)} on a prim_func`, d);
      }
      if (d.kind === "Call") {
        const a = bindArgs(ctx, d, ["private", "s_tir", "check_well_formed", "persistent"], 0);
        const p = a.byName.get("private");
        if (p) isPrivate = expectBool(ctx, p, "private");
        for (const k of ["s_tir", "check_well_formed"]) {
          const x = a.byName.get(k);
          if (x) expectBool(ctx, x, k);
        }
        const persistent = a.byName.get("persistent");
        if (persistent && expectBool(ctx, persistent, "persistent")) {
          ctx.fail("Persistent kernels are not supported", persistent);
        }
      }
    }
    for (const p of def.params) this.param(p.name, p.annotation);
    let retType: DType = "void";
    if (def.returns && !(def.returns.kind === "Constant" && def.returns.value === null)) {
      const r = dottedName(def.returns);
      const t = r?.startsWith("T.") ? dtypeFromName(r.slice(2)) : undefined;
      if (!t) {
        return ctx.fail(
          `Expected a scalar type such as T.int32 as the return type, got ${
            describeExpr(def.returns)
          }`,
          def.returns,
        );
      }
      retType = t;
    }
    let body = this.stmts(def.body, undefined, true);
    if (this.rootAllocs.length > 0 || needsRootBlock(body)) {
      body = sblockRealize([], sblock("root", body, { allocBuffers: this.rootAllocs }));
    }
    return ctx.guard(
      def,
      () =>
        primFuncRaw(this.params, this.bufferMap, body, {
          attrs: withGlobalSymbol(this.attrs, def.name, isPrivate),
          retType,
          isPrivate,
        }),
    );
  }

  private param(name: string, ann: ExprNode): void {
    const ctx: ParseContext = this.ctx;
    const d = dottedName(ann.kind === "Call" ? ann.func : ann);
    if (d === "T.handle" || d === "T.Ptr") {
      const v = primVar(name, "handle");
      this.params.push(v);
      this.scope.define(name, v);
      return;
    }
    if (d === "T.Buffer" && ann.kind === "Call") {
      const { buffer } = parseBufferDecl(this.ev, ann, name);
      const h = primVar(`${name}_handle`, "handle");
      this.params.push(h);
      this.bufferMap.set(h, buffer);
      this.scope.define(name, buffer);
      return;
    }
    const t = d?.startsWith("T.") ? dtypeFromName(d.slice(2)) : undefined;
    if (t && ann.kind !== "Call") {
      const v = primVar(name, t);
      this.params.push(v);
      this.scope.define(name, v);
      return;
    }
    ctx.fail(
      `Expected a parameter type such as T.Buffer((n,), "float32"), T.handle or T.int32 for "${name}", got ${
        describeExpr(ann)
      }`,
      ann,
    );
  }

  // ------------------------------------------------------------------------ statements

  /**
   * Parses a statement list. `frame` is the block whose direct body this is (header
   * statements go there); `top` marks the function body.
   */
  stmts(list: readonly StmtNode[], frame: BlockFrame | undefined, top = false): Stmt {
    const out: Stmt[] = [];
    for (let i = 0; i < list.length; i++) {
      const s = list[i]!;
      const rest = () => this.stmts(list.slice(i + 1), frame, top);
      const r = this.ctx.guard(s, () => this.stmt(s, frame, top, rest));
      if (r === "wrapped") {
        // the handler consumed the rest of the list
        return seqOrNoOp(out, this.wrapped!);
      }
      if (r) out.push(r);
    }
    return seqOrNoOp(out);
  }

  private wrapped: Stmt | undefined;

  /** Handles one statement; returns a statement, nothing (header statements) or "wrapped". */
  private stmt(
    s: StmtNode,
    frame: BlockFrame | undefined,
    top: boolean,
    rest: () => Stmt,
  ): Stmt | undefined | "wrapped" {
    const ctx: ParseContext = this.ctx;
    const wrap = (make: (body: Stmt) => Stmt, define?: () => void): "wrapped" => {
      define?.();
      this.wrapped = make(rest());
      return "wrapped";
    };
    switch (s.kind) {
      case "Pass":
      case "Import":
        return undefined;
      case "ExprStmt": {
        const v = s.value;
        if (v.kind === "Constant" && typeof v.value === "string") return undefined; // docstring
        if (v.kind === "Call") {
          const name = dottedName(v.func);
          if (name === "T.func_attr") {
            if (!top) ctx.fail("T.func_attr must be at the top level of the function body", v);
            const a = bindArgs(ctx, v, ["attrs"]);
            this.attrs = {
              ...this.attrs,
              ...toAttrDict(ctx, a.byName.get("attrs")!, (x) => this.ev.expr(x)),
            };
            return undefined;
          }
          if (name && parseBlockHeaderCall(this, name, v)) return undefined;
          if (name === "T.evaluate") {
            const a = bindArgs(ctx, v, ["value"]);
            return evaluate(this.ev.expr(a.byName.get("value")!));
          }
        }
        return evaluate(this.ev.expr(v));
      }
      case "Assign":
        return this.assign(s.target, s.value, frame, top, wrap);
      case "AnnAssign": {
        if (!s.value) {
          return ctx.fail("A variable declaration needs a value, as in x: T.int32 = 0", s);
        }
        if (s.target.kind !== "Name") {
          return ctx.fail(`Cannot annotate ${describeExpr(s.target)}`, s.target);
        }
        const bareLet = dottedName(s.annotation) === "T.let";
        const t = bareLet ? this.ev.expr(s.value).dtype : letType(s.annotation);
        if (!t) {
          return ctx.fail(
            `Expected a scalar type such as T.int32, got ${describeExpr(s.annotation)}`,
            s.annotation,
          );
        }
        const value = this.ev.expr(s.value, t);
        const v = primVar(s.target.id, t);
        const name = s.target.id;
        return wrap((body) => letStmt(v, value, body), () => this.scope.define(name, v));
      }
      case "AugAssign": {
        // `A[i] += v` is `A[i] = A[i] + v`
        const kind = AUG_KINDS[s.op];
        if (s.target.kind !== "Subscript" || !kind) {
          return ctx.fail(
            `Augmented assignment "${s.op}=" is only supported on buffer elements`,
            s,
          );
        }
        const b = this.ev.value(s.target.value);
        if (!isBuffer(b)) {
          return ctx.fail(
            `Cannot store into ${describeExpr(s.target.value)}: it is not a buffer`,
            s.target.value,
          );
        }
        const idx = this.ev.indices(s.target.indices);
        const cur = this.ev.tval(s.target);
        const v = this.ev.combine(kind, cur, this.ev.tval(s.value), s);
        return bufferStore(b, this.ev.finalize(v, s, b.dtype), idx);
      }
      case "For":
        return parseFor(this, s);
      case "While": {
        const cond = this.ev.expr(s.test, "bool");
        return whileLoop(cond, this.nested(s.body));
      }
      case "If": {
        const cond = this.ev.expr(s.test, "bool");
        const then = this.nested(s.body);
        const otherwise = s.orelse ? this.nested(s.orelse) : undefined;
        return ifThenElse(cond, then, otherwise);
      }
      case "With": {
        const c = s.context;
        if (c.kind === "Call" && dottedName(c.func) === "T.init") {
          if (!frame) return ctx.fail("T.init() must be directly inside a block", c);
          if (frame.init) return ctx.fail("A block can have only one T.init()", c);
          if (s.target) return ctx.fail(`"with ... as" is not supported here`, s.target);
          bindArgs(ctx, c, []);
          frame.init = this.nested(s.body);
          return undefined;
        }
        return parseWith(this, s);
      }
      case "Assert": {
        const cond = this.ev.expr(s.test, "bool");
        const msg = s.msg ? assertMessage(ctx, s.msg) : "";
        return wrap((body) => assertStmt(cond, msg, body));
      }
      case "Return":
        return ctx.fail("Return statements are not supported in TIR", s);
      case "FunctionDef":
        return ctx.fail("Nested functions are not supported in TIR", s);
      case "ClassDef":
        return ctx.fail("Classes are not supported inside a function", s);
      default:
        s satisfies never;
        return undefined;
    }
  }

  /** A nested body in its own scope. */
  nested(list: readonly StmtNode[], frame?: BlockFrame): Stmt {
    const saved = this.scope;
    this.scope = saved.child();
    try {
      return this.stmts(list, frame);
    } finally {
      this.scope = saved;
    }
  }

  private assign(
    target: ExprNode,
    value: ExprNode,
    frame: BlockFrame | undefined,
    top: boolean,
    wrap: (make: (body: Stmt) => Stmt, define?: () => void) => "wrapped",
  ): Stmt | undefined | "wrapped" {
    const ctx: ParseContext = this.ctx;
    if (target.kind === "Subscript") {
      const b = this.ev.value(target.value);
      if (!isBuffer(b)) {
        return ctx.fail(
          `Cannot store into ${describeExpr(target.value)}: it is not a buffer`,
          target.value,
        );
      }
      const idx = this.ev.indices(target.indices);
      const v = this.ev.finalize(this.ev.tval(value), value, b.dtype);
      return bufferStore(b, v, idx);
    }
    if (target.kind === "Tuple") {
      if (value.kind === "Call" && parseBlockHeaderAssign(this, target, value)) return undefined;
      if (value.kind === "Tuple" && value.elts.length === target.elts.length) {
        target.elts.forEach((t, i) => {
          const v = value.elts[i]!;
          if (t.kind !== "Name" || !this.varDecl(t.id, v)) {
            ctx.fail(
              "Only variable declarations such as n, m = T.int64(), T.int64() can be unpacked",
              t,
            );
          }
        });
        return undefined;
      }
      return ctx.fail(`Cannot unpack ${describeExpr(value)}`, value);
    }
    if (target.kind !== "Name") return ctx.fail(`Cannot assign to ${describeExpr(target)}`, target);
    const name = target.id;
    if (value.kind === "Call") {
      const fn = dottedName(value.func);
      if (this.varDecl(name, value)) return undefined;
      if (parseBlockHeaderAssign(this, target, value)) return undefined;
      switch (fn) {
        case "T.match_buffer": {
          if (!top) {
            return ctx.fail(
              "T.match_buffer of a parameter must be at the top level of the function",
              value,
            );
          }
          const { buffer, lead } = parseBufferDecl(this.ev, value, name, { lead: ["param"] });
          const h = lead.get("param")!;
          const hv = h.kind === "Name" ? this.scope.lookup(h.id) : undefined;
          if (!hv || isBuffer(hv) || hv.kind !== "Var" || !this.params.includes(hv)) {
            return ctx.fail(
              `Expected a handle parameter of the function, got ${describeExpr(h)}`,
              h,
            );
          }
          if (this.bufferMap.has(hv)) {
            return ctx.fail(`Parameter "${hv.name}" is already matched to a buffer`, h);
          }
          this.bufferMap.set(hv, buffer);
          this.scope.define(name, buffer);
          return undefined;
        }
        case "T.sblock_alloc_buffer":
        case "T.block_alloc_buffer":
        case "T.alloc_buffer":
        case "T.alloc_shared":
        case "T.alloc_local": {
          const scope = fn === "T.alloc_shared"
            ? "shared"
            : fn === "T.alloc_local"
            ? "local"
            : undefined;
          const { buffer } = parseBufferDecl(this.ev, value, name, scope ? { scope } : {});
          const blockLevel = fn === "T.sblock_alloc_buffer" || fn === "T.block_alloc_buffer";
          if (frame && (blockLevel || fn === "T.alloc_buffer")) {
            frame.allocBuffers.push(buffer);
          } else if (blockLevel && this.block) {
            this.block.allocBuffers.push(buffer);
          } else if (blockLevel) {
            this.rootAllocs.push(buffer);
          } else {
            return wrap((body) => allocBuffer(buffer, body), () => this.scope.define(name, buffer));
          }
          this.scope.define(name, buffer);
          return undefined;
        }
        case "T.decl_buffer": {
          const { buffer } = parseBufferDecl(this.ev, value, name);
          return wrap(
            (body) => declBufferStmt(buffer, body),
            () => this.scope.define(name, buffer),
          );
        }
        case "T.Buffer": {
          const { buffer } = parseBufferDecl(this.ev, value, name);
          this.scope.define(name, buffer);
          return undefined;
        }
        default:
          break;
      }
    }
    // a scalar binding: a LetStmt over the rest of the body
    const v = this.ev.tval(value);
    const e = this.ev.finalize(v, value);
    const lv = primVar(name, e.dtype);
    return wrap((body) => letStmt(lv, e, body), () => this.scope.define(name, lv));
  }

  /** `n = T.int64()` (optionally `is_size_var=True`): declares a free scalar variable. */
  private varDecl(name: string, value: ExprNode): boolean {
    if (value.kind !== "Call" || value.args.length > 0) return false;
    const fn = dottedName(value.func);
    const t = fn?.startsWith("T.") ? fn.slice(2) : undefined;
    if (!t || !(isScalarDType(t) || t === "handle")) return false;
    const a = bindArgs(this.ctx, value, ["is_size_var"], 0);
    const sz = a.byName.get("is_size_var");
    const isSize = sz ? expectBool(this.ctx, sz, "is_size_var") : false;
    const v = isSize ? sizeVar(name, t as DType) : primVar(name, t as DType);
    this.scope.define(name, v);
    return true;
  }
}

function seqOrNoOp(out: Stmt[], last?: Stmt): Stmt {
  const all = last ? [...out, last] : out;
  if (all.length === 0) return evaluate(0);
  return seq(...all);
}

/** TVM's rule for an implicit root block: allocations, or blocks not already under one. */
function needsRootBlock(body: Stmt): boolean {
  if (body.kind === "SBlockRealize") return body.block.iterVars.length > 0;
  return containsBlock(body);
}

function containsBlock(s: Stmt): boolean {
  switch (s.kind) {
    case "SBlockRealize":
    case "SBlock":
      return true;
    case "For":
    case "LetStmt":
    case "AllocBuffer":
    case "DeclBuffer":
    case "AssertStmt":
    case "While":
      return containsBlock(s.body);
    case "SeqStmt":
      return s.seq.some(containsBlock);
    case "IfThenElse":
      return containsBlock(s.then) || (s.else !== undefined && containsBlock(s.else));
    case "BufferStore":
    case "Evaluate":
      return false;
    default:
      s satisfies never;
      return false;
  }
}
