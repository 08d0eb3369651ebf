/**
 * Loops and `with` statements of the TIR parser: `for` over `range`/`T.grid`/loop kinds, blocks
 * (`with T.sblock(...)`), and the scoped statements (`T.LetStmt`, `T.Assert`, `T.alloc_buffer`,
 * `T.decl_buffer`).
 *
 * @module
 */

import type { DType } from "../../ir/dtype.ts";
import { type Buffer, intImm, primVar, sub, type Var } from "../../ir/expr.ts";
import {
  allocBuffer,
  assertStmt,
  declBufferStmt,
  type ForKind,
  forLoop,
  isThreadTag,
  letStmt,
  sblock,
  sblockRealize,
  type Stmt,
  type ThreadTag,
} from "../../ir/tir/stmt.ts";
import {
  type CallNode,
  describeExpr,
  dottedName,
  type ExprNode,
  type ForNode,
  type StmtNode,
  type WithNode,
} from "./ast.ts";
import { bindArgs, expectBool, expectString, type ParseContext, toAttrDict } from "./context.ts";
import { dtypeFromName, isBuffer, isLit, type PrimName } from "./prim_eval.ts";
import { newBlockFrame } from "./tir_block.ts";
import { blockAccessRegions } from "../../ir/tir/block_access.ts";
import { parseBufferDecl } from "./tir_buffer.ts";
import type { TirParser } from "./tir.ts";

/** Parses a `for` loop: `range`, `T.grid`, `T.serial`, ..., `T.thread_binding`. */
export function parseFor(p: TirParser, s: ForNode): Stmt {
  const ctx: ParseContext = p.ctx;
  const it = s.iter;
  if (it.kind !== "Call") {
    return ctx.fail(
      `Expected range(...), T.grid(...) or a T loop kind, got ${describeExpr(it)}`,
      it,
    );
  }
  const fn = dottedName(it.func);
  const names = s.target.kind === "Tuple" ? s.target.elts : [s.target];
  const varNames = names.map((n) => {
    if (n.kind !== "Name") return ctx.fail("Expected a loop variable name", n);
    return n.id;
  });
  if (fn === "T.grid") {
    if (it.keywords.length > 0) {
      ctx.fail(
        `Cannot call "T.grid": unexpected keyword argument "${it.keywords[0]!.name}"`,
        it.keywords[0]!,
      );
    }
    if (it.args.length !== varNames.length) {
      ctx.fail(
        `T.grid has ${it.args.length} extents but the loop names ${varNames.length} variables`,
        it,
      );
    }
    const saved = p.scope;
    p.scope = saved.child();
    try {
      const loops = it.args.map((x, i) => {
        const extent = p.ev.expr(x);
        const v = primVar(varNames[i]!, extent.dtype);
        p.scope.define(varNames[i]!, v);
        const min = intImm(0, extent.dtype);
        p.loops.set(v, { min, extent });
        return { v, min, extent, at: x };
      });
      let body = p.stmts(s.body, undefined);
      for (let i = loops.length - 1; i >= 0; i--) {
        const l = loops[i]!;
        body = ctx.guard(l.at, () => forLoop(l.v, l, body));
      }
      return body;
    } finally {
      p.scope = saved;
    }
  }
  if (varNames.length !== 1) ctx.fail(`Only T.grid loops bind several variables`, s.target);
  const kinds: { readonly [k: string]: ForKind } = {
    range: "serial",
    "T.serial": "serial",
    "T.parallel": "parallel",
    "T.vectorized": "vectorized",
    "T.unroll": "unrolled",
    "T.thread_binding": "thread_binding",
  };
  const forKind = fn === undefined ? undefined : kinds[fn];
  if (!forKind) {
    return ctx.fail(`Unknown loop kind ${fn ? `"${fn}"` : describeExpr(it.func)}`, it.func);
  }
  const params = fn === "range"
    ? ["start", "stop", "step"]
    : ["start", "stop", "thread", "annotations", "step"];
  const a = bindArgs(ctx, it, params, 1);
  if (a.byName.has("step")) ctx.fail("Loop steps are not supported", a.byName.get("step")!);
  const first = a.byName.get("start")!;
  const second = a.byName.get("stop");
  let threadArg = a.byName.get("thread");
  if (
    forKind === "thread_binding" && !threadArg && second?.kind === "Constant" &&
    typeof second.value === "string"
  ) {
    threadArg = second; // T.thread_binding(n, "threadIdx.x")
  }
  const stopNode = second && second !== threadArg ? second : undefined;
  const startV = stopNode ? p.ev.tval(first) : { lit: "int" as const, value: 0 };
  const stopV = p.ev.tval(stopNode ?? first);
  const [min, stop] = p.ev.match(startV, stopV, stopNode ?? first);
  const extent = ctx.guard(it, () => sub(stop, min));
  let threadTag: ThreadTag | undefined;
  if (forKind === "thread_binding") {
    if (!threadArg) {
      return ctx.fail('T.thread_binding needs a thread, as in thread="threadIdx.x"', it);
    }
    const t = expectString(ctx, threadArg, "the thread");
    if (!isThreadTag(t)) return ctx.fail(`Unknown thread axis "${t}"`, threadArg);
    threadTag = t;
  } else if (threadArg) {
    ctx.fail(`Only T.thread_binding loops take a thread`, threadArg);
  }
  const ann = a.byName.get("annotations");
  const annotations = ann ? toAttrDict(ctx, ann, (x) => p.ev.expr(x)) : undefined;
  const saved = p.scope;
  p.scope = saved.child();
  try {
    const v = primVar(varNames[0]!, min.dtype);
    p.scope.define(varNames[0]!, v);
    p.loops.set(v, { min, extent });
    const body = p.stmts(s.body, undefined);
    return ctx.guard(it, () =>
      forLoop(v, { min, extent }, body, {
        forKind,
        ...(threadTag ? { threadTag } : {}),
        ...(annotations ? { annotations } : {}),
      }));
  } finally {
    p.scope = saved;
  }
}

/** Parses a `with` statement: blocks and the scoped statements. */
export function parseWith(p: TirParser, s: WithNode): Stmt {
  const ctx: ParseContext = p.ctx;
  const c = s.context;
  const fn = c.kind === "Call" ? dottedName(c.func) : dottedName(c);
  if (c.kind !== "Call") {
    return ctx.fail(`Unsupported with statement ${fn ? `"${fn}"` : describeExpr(c)}`, c);
  }
  const targetName = (): string => {
    if (!s.target) {
      return ctx.fail(`"with ${fn}(...)" needs a name, as in "with ${fn}(...) as x:"`, c);
    }
    if (s.target.kind !== "Name") {
      return ctx.fail(`Expected a name after "as", got ${describeExpr(s.target)}`, s.target);
    }
    return s.target.id;
  };
  const noTarget = () => {
    if (s.target) ctx.fail(`"with ${fn}(...)" does not bind a name`, s.target);
  };
  switch (fn) {
    case "T.sblock":
    case "T.block":
      noTarget();
      return blockStmt(p, c, s.body);
    case "T.LetStmt": {
      const a = bindArgs(ctx, c, ["value", "type_annotation", "var"], 1);
      const ta = a.byName.get("type_annotation");
      const t = ta ? letType(ta) : undefined;
      if (ta && !t) {
        ctx.fail(`Expected a scalar type such as T.int32, got ${describeExpr(ta)}`, ta);
      }
      const value = p.ev.expr(a.byName.get("value")!, t);
      const varNode = a.byName.get("var");
      if (varNode) {
        noTarget();
        const v = p.ev.value(varNode);
        if (isBuffer(v) || isLit(v) || v.kind !== "Var") {
          return ctx.fail(`Expected a variable, got ${describeExpr(varNode)}`, varNode);
        }
        return ctx.guard(c, () => letStmt(v, value, p.nested(s.body)));
      }
      const name = targetName();
      return scoped(
        p,
        s.body,
        name,
        primVar(name, t ?? value.dtype),
        (v, body) => letStmt(v as Var, value, body),
      );
    }
    case "T.Assert": {
      noTarget();
      const a = bindArgs(ctx, c, ["condition", "message"]);
      const cond = p.ev.expr(a.byName.get("condition")!, "bool");
      const msg = assertMessage(ctx, a.byName.get("message")!);
      return assertStmt(cond, msg, p.nested(s.body));
    }
    case "T.alloc_buffer":
    case "T.alloc_shared":
    case "T.alloc_local":
    case "T.decl_buffer": {
      const name = targetName();
      const scope = fn === "T.alloc_shared"
        ? "shared"
        : fn === "T.alloc_local"
        ? "local"
        : undefined;
      const { buffer } = parseBufferDecl(p.ev, c, name, scope ? { scope } : {});
      return scoped(
        p,
        s.body,
        name,
        buffer,
        (b, body) =>
          fn === "T.decl_buffer"
            ? declBufferStmt(b as Buffer, body)
            : allocBuffer(b as Buffer, body),
      );
    }
    default:
      return ctx.fail(`Unsupported with statement ${fn ? `"${fn}"` : describeExpr(c)}`, c);
  }
}

/** Parses `body` in a new scope where `name` is bound to `value`, then wraps it. */
function scoped(
  p: TirParser,
  body: readonly StmtNode[],
  name: string,
  value: PrimName,
  make: (value: PrimName, body: Stmt) => Stmt,
): Stmt {
  const saved = p.scope;
  p.scope = saved.child();
  try {
    p.scope.define(name, value);
    return make(value, p.stmts(body, undefined));
  } finally {
    p.scope = saved;
  }
}

function blockStmt(p: TirParser, c: CallNode, body: readonly StmtNode[]): Stmt {
  const ctx: ParseContext = p.ctx;
  const a = bindArgs(ctx, c, ["name", "no_realize"], 0);
  const nameNode = a.byName.get("name");
  const name = nameNode ? expectString(ctx, nameNode, "the block name") : "";
  const noRealize = a.byName.get("no_realize");
  if (noRealize && expectBool(ctx, noRealize, "no_realize")) {
    ctx.fail("Blocks without realize are not supported", noRealize);
  }
  const frame = newBlockFrame();
  const savedBlock = p.block;
  const savedScope = p.scope;
  p.block = frame;
  p.scope = savedScope.child();
  try {
    const stmts = p.stmts(body, frame);
    // As TVM's parser does, regions left out are detected from the accesses (for blocks with
    // iteration variables; an opaque block without T.reads/T.writes keeps empty regions).
    const detected = (frame.reads && frame.writes) || frame.iterVars.length === 0
      ? undefined
      : blockAccessRegions(frame.init, stmts);
    const blk = ctx.guard(c, () =>
      sblock(name, stmts, {
        iterVars: frame.iterVars,
        reads: frame.reads ?? detected?.reads ?? [],
        writes: frame.writes ?? detected?.writes ?? [],
        ...(frame.init ? { init: frame.init } : {}),
        allocBuffers: frame.allocBuffers,
        matchBuffers: frame.matchBuffers,
        annotations: frame.annotations ?? {},
      }));
    return ctx.guard(c, () => sblockRealize(frame.iterValues, blk, frame.predicate ?? true));
  } finally {
    p.block = savedBlock;
    p.scope = savedScope;
  }
}

/** The dtype of `T.int32`, `T.let[T.int32]` or `T.let` annotations. */
export function letType(ann: ExprNode): DType | undefined {
  const inner =
    ann.kind === "Subscript" && dottedName(ann.value) === "T.let" && ann.indices.length === 1
      ? ann.indices[0]!
      : ann;
  if (inner.kind === "Slice") return undefined;
  const d = dottedName(inner);
  return d?.startsWith("T.") ? dtypeFromName(d.slice(2)) : undefined;
}

/** `"msg"` or TVM's `("RuntimeError", ["part", ...])`. */
export function assertMessage(ctx: ParseContext, e: ExprNode): string {
  if (e.kind === "Constant" && typeof e.value === "string") return e.value;
  if (e.kind === "Tuple" && e.elts.length === 2 && e.elts[1]!.kind === "List") {
    expectString(ctx, e.elts[0]!, "the error kind");
    return e.elts[1]!.elts.map((p) => expectString(ctx, p, "a message part")).join("");
  }
  return ctx.fail(`Expected an assertion message string, got ${describeExpr(e)}`, e);
}
