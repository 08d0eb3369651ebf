/**
 * The Relax half of the TVMScript parser: `@R.function` definitions to Relax `Function`s, with
 * dataflow blocks, `R.output`, `R.match_cast`, `if`/`else` and `return`.
 *
 * @module
 */

import { type DType, isScalarDType } from "../../ir/dtype.ts";
import { type PrimExpr, primVar, sizeVar, type Var } from "../../ir/expr.ts";
import {
  type AnyVar,
  type Binding,
  type BindingBlock,
  bindingBlock,
  dataflowBlock,
  dataflowVar,
  type Expr,
  type Function,
  type GlobalVar,
  ifExpr,
  matchCast,
  relaxFunction,
  rvar,
  type SeqExpr,
  seqExpr,
  varBinding,
} from "../../ir/relax/expr.ts";
import type { StructInfo } from "../../ir/relax/struct_info.ts";
import type { Attrs } from "../../ir/tir/stmt.ts";
import {
  describeExpr,
  dottedName,
  type ExprNode,
  type FunctionDefNode,
  type IfNode,
  type Located,
  type StmtNode,
  type WithNode,
} from "./ast.ts";
import {
  bindArgs,
  expectBool,
  type ParseContext,
  Scope,
  toAttrDict,
  withGlobalSymbol,
} from "./context.ts";
import { PrimEval } from "./prim_eval.ts";
import { evalRelax, VOID } from "./relax_expr.ts";
import { parseSInfo, type SInfoHost } from "./relax_sinfo.ts";

/** What a Relax function knows about its module. */
export interface ModuleInfo {
  /** The class name (`Module`), for `Module.f` references; undefined for a lone function. */
  readonly name: string | undefined;
  /** Names of all functions of the module. */
  readonly functionNames: ReadonlySet<string>;
  /** The (shared) GlobalVar of a function. */
  globalVar(name: string): GlobalVar;
  /** The declared return StructInfo of a Relax function, for calls `cls.f(...)`. */
  returnInfo(name: string): StructInfo | undefined;
  /** A constant from the metadata section. */
  metadata(kind: string, index: number, at: Located): Expr;
}

/** The module alias bound by `cls = Module`. */
export interface ModuleAlias {
  readonly kind: "ModuleAlias";
}

/** What a name stands for in a Relax function. */
export type RelaxName = AnyVar | Var | ModuleAlias;

interface DataflowState {
  readonly outputs: ReadonlySet<string>;
  /** The last statement binding each name in the block. */
  readonly last: ReadonlyMap<string, StmtNode>;
}

/** Whether a decorator is `R.function` (called or not). */
export function isRelaxFunctionDecorator(e: ExprNode): boolean {
  const d = dottedName(e.kind === "Call" ? e.func : e);
  return d === "R.function" || d === "relax.function";
}

/** Parses one `@R.function` definition. */
export function parseRelaxFunction(
  ctx: ParseContext,
  def: FunctionDefNode,
  mod: ModuleInfo,
): Function {
  return new RelaxParser(ctx, mod).func(def);
}

/** Reads the signature of a Relax function (parameter and return infos), without its body. */
export function relaxReturnInfo(
  ctx: ParseContext,
  def: FunctionDefNode,
  mod: ModuleInfo,
): StructInfo | undefined {
  if (!def.returns) return undefined;
  const p = new RelaxParser(ctx, mod);
  p.prelude(def.body);
  for (const prm of def.params) parseSInfo(p, prm.annotation, true);
  return parseSInfo(p, def.returns, true);
}

/** The state of the Relax parser within one function. */
export class RelaxParser implements SInfoHost {
  /** The function-level scope (symbolic variables live here). */
  readonly funcScope: Scope<RelaxName>;
  /** The current scope. */
  scope: Scope<RelaxName>;
  /** PrimExpr evaluation (bare integers are int64, as Relax shapes are). */
  readonly ev: PrimEval;
  private blocks: BindingBlock[] = [];
  private bindings: Binding[] = [];
  private dataflow: DataflowState | undefined;
  private attrs: Attrs = {};

  /** A parser for one function; a nested function sees the names of `outer`. */
  constructor(readonly ctx: ParseContext, readonly mod: ModuleInfo, outer?: Scope<RelaxName>) {
    this.funcScope = new Scope<RelaxName>(outer);
    this.scope = this.funcScope;
    this.ev = new PrimEval(ctx, (n) => {
      const v = this.scope.lookup(n.id);
      if (v === undefined) return ctx.fail(`Undefined name "${n.id}"`, n);
      if (v.kind !== "Var") {
        return ctx.fail(`Expected a scalar expression, got Relax value "${n.id}"`, n);
      }
      return v;
    }, "int64");
  }

  /** Declares the `n = T.int64()` variables at the top of a function body before its signature. */
  prelude(body: readonly StmtNode[]): void {
    for (const s of body) {
      if (s.kind !== "Assign") continue;
      const targets = s.target.kind === "Tuple" ? s.target.elts : [s.target];
      const values = s.value.kind === "Tuple" && s.target.kind === "Tuple"
        ? s.value.elts
        : [s.value];
      if (targets.length !== values.length) continue;
      targets.forEach((t, i) => {
        const d = t.kind === "Name" ? symbolicDecl(this.ctx, values[i]!) : undefined;
        if (d && t.kind === "Name" && !this.funcScope.hasOwn(t.id)) {
          this.funcScope.define(t.id, d.isSize ? sizeVar(t.id, d.dtype) : primVar(t.id, d.dtype));
        }
      });
    }
  }

  /** See {@link SInfoHost.symbolicVar}. */
  symbolicVar(name: string, _declare: boolean, at: ExprNode): PrimExpr {
    const ctx: ParseContext = this.ctx;
    const v = this.scope.lookup(name);
    if (v === undefined) {
      // TVM declares string dimensions of signatures; elsewhere they are declared on first use too
      const nv = primVar(name, "int64");
      this.funcScope.define(name, nv);
      return nv;
    }
    if (v.kind !== "Var") return ctx.fail(`"${name}" is not a symbolic shape variable`, at);
    return v;
  }

  /** Parses the whole function. */
  func(def: FunctionDefNode, nested = false): Function {
    const ctx: ParseContext = this.ctx;
    let isPure = true;
    let isPrivate = nested;
    for (const d of def.decorators) {
      if (!isRelaxFunctionDecorator(d)) {
        ctx.fail(`Unexpected decorator ${describeExpr(d)} on a Relax function`, d);
      }
      if (d.kind === "Call") {
        const a = bindArgs(ctx, d, ["pure", "private", "check_well_formed"], 0);
        const pu = a.byName.get("pure");
        if (pu) isPure = expectBool(ctx, pu, "pure");
        const pr = a.byName.get("private");
        if (pr) isPrivate = expectBool(ctx, pr, "private");
        const wf = a.byName.get("check_well_formed");
        if (wf) expectBool(ctx, wf, "check_well_formed");
      }
    }
    this.prelude(def.body);
    const ret = def.returns ? parseSInfo(this, def.returns, true) : undefined;
    const params = def.params.map((prm) => {
      if (this.funcScope.hasOwn(prm.name) && this.funcScope.lookup(prm.name)?.kind !== "Var") {
        ctx.fail(`Duplicate parameter "${prm.name}"`, prm);
      }
      const v = rvar(prm.name, parseSInfo(this, prm.annotation, true));
      this.funcScope.define(prm.name, v);
      return v;
    });
    const body = this.seq(def.body, "function");
    return ctx.guard(def, () =>
      relaxFunction(params, body.seq, {
        ...(ret ? { retStructInfo: ret } : {}),
        isPure,
        attrs: withGlobalSymbol(this.attrs, def.name, isPrivate),
        isPrivate,
      }));
  }

  // -------------------------------------------------------------------------- statements

  /**
   * Parses statements into a SeqExpr. A function body ends with `return`; an if branch ends
   * with an assignment whose value becomes the branch result.
   */
  private seq(
    list: readonly StmtNode[],
    mode: "function" | "_then" | "_else",
  ): { seq: SeqExpr; name: string; ann: StructInfo | undefined } {
    const ctx: ParseContext = this.ctx;
    const savedBlocks = this.blocks;
    const savedBindings = this.bindings;
    this.blocks = [];
    this.bindings = [];
    try {
      let result: Expr | undefined;
      let name = "";
      let ann: StructInfo | undefined;
      list.forEach((s, i) => {
        const last = i === list.length - 1;
        if (result !== undefined) ctx.fail("Statements after return are not allowed", s);
        if (mode === "function" && s.kind === "Return") {
          if (!s.value) ctx.fail("A Relax function must return a value", s);
          result = evalRelax(this, s.value);
          return;
        }
        if (mode !== "function" && last) {
          const r = this.branchResult(s, mode);
          result = r.value;
          name = r.name;
          ann = r.ann;
          return;
        }
        ctx.guard(s, () => this.stmt(s));
      });
      if (result === undefined) {
        const at = list[list.length - 1] ?? { line: 1, col: 1 };
        if (mode === "function") ctx.fail("A Relax function must end with a return statement", at);
        ctx.fail("Each branch of an if must end by assigning its result to a variable", at);
      }
      this.flush();
      return { seq: seqExpr(this.blocks, result), name, ann };
    } finally {
      this.blocks = savedBlocks;
      this.bindings = savedBindings;
    }
  }

  /** Closes the current plain binding block. */
  private flush(): void {
    if (this.bindings.length > 0) this.blocks.push(bindingBlock(this.bindings));
    this.bindings = [];
  }

  private stmt(s: StmtNode): void {
    const ctx: ParseContext = this.ctx;
    switch (s.kind) {
      case "Pass":
      case "Import":
        return;
      case "ExprStmt":
        return this.exprStmt(s.value);
      case "Assign":
        return this.assign(s, s.target, s.value, undefined);
      case "AnnAssign": {
        if (!s.value) return ctx.fail("A Relax variable declaration needs a value", s);
        return this.assign(s, s.target, s.value, parseSInfo(this, s.annotation));
      }
      case "With":
        return this.withStmt(s);
      case "If":
        return this.ifStmt(s);
      case "Return":
        return ctx.fail("Return is only allowed at the end of a function", s);
      case "AugAssign":
        return ctx.fail(`Augmented assignment "${s.op}=" is not supported in Relax`, s);
      case "For":
      case "While":
        return ctx.fail("Loops are not supported in Relax functions", s);
      case "Assert":
        return ctx.fail("assert is not supported in Relax functions: use R.assert_op", s);
      case "FunctionDef": {
        if (!s.decorators.some(isRelaxFunctionDecorator)) {
          return ctx.fail(
            `A function inside a Relax function must be decorated with @R.function`,
            s,
          );
        }
        const fn = new RelaxParser(ctx, this.mod, this.scope).func(s, true);
        const v = this.newVar(s.name, fn.structInfo, s);
        this.bindings.push(varBinding(v, fn));
        this.scope.define(s.name, v);
        return;
      }
      case "ClassDef":
        return ctx.fail("Classes are not supported inside a function", s);
      default:
        s satisfies never;
    }
  }

  private exprStmt(e: ExprNode): void {
    const ctx: ParseContext = this.ctx;
    if (e.kind === "Constant" && typeof e.value === "string") return; // docstring
    if (e.kind === "Call") {
      const name = dottedName(e.func);
      if (name === "R.func_attr") {
        if (this.scope !== this.funcScope) {
          ctx.fail("R.func_attr must be at the top level of the function body", e);
        }
        const a = bindArgs(ctx, e, ["attrs"]);
        this.attrs = {
          ...this.attrs,
          ...toAttrDict(ctx, a.byName.get("attrs")!, (x) => this.ev.expr(x)),
        };
        return;
      }
      if (name === "R.output") {
        if (!this.dataflow) ctx.fail("R.output must be the last statement of a dataflow block", e);
        return; // handled by the dataflow block
      }
    }
    const value = evalRelax(this, e, VOID);
    this.bindings.push(varBinding(rvar("_", VOID), value));
  }

  private assign(
    at: StmtNode,
    target: ExprNode,
    value: ExprNode,
    ann: StructInfo | undefined,
  ): void {
    const ctx: ParseContext = this.ctx;
    if (target.kind === "Tuple") {
      // `n, m = T.int64(), T.int64()`
      if (value.kind === "Tuple" && value.elts.length === target.elts.length) {
        target.elts.forEach((t, i) => {
          if (t.kind !== "Name" || !this.symbolicDecl(t.id, value.elts[i]!)) {
            ctx.fail(
              "Only symbolic variables such as n, m = T.int64(), T.int64() can be unpacked",
              t,
            );
          }
        });
        return;
      }
      return ctx.fail(
        "Unpacking assignments are not supported in Relax: index the tuple, as in a = t[0]",
        target,
      );
    }
    if (target.kind !== "Name") return ctx.fail(`Cannot assign to ${describeExpr(target)}`, target);
    const name = target.id;
    if (this.symbolicDecl(name, value)) return;
    if (value.kind === "Name") {
      const b = this.scope.lookup(value.id);
      if (b?.kind === "ModuleAlias" || (b === undefined && value.id === this.mod.name)) {
        this.scope.define(name, { kind: "ModuleAlias" });
        return;
      }
    }
    if (value.kind === "Call" && dottedName(value.func) === "R.match_cast") {
      const a = bindArgs(ctx, value, ["value", "struct_info"]);
      const v = evalRelax(this, a.byName.get("value")!);
      const sinfo = parseSInfo(this, a.byName.get("struct_info")!);
      const nv = this.newVar(name, ann ?? sinfo, at);
      this.bindings.push(matchCast(nv, v, sinfo));
      this.scope.define(name, nv);
      return;
    }
    const v = evalRelax(this, value, ann);
    const nv = this.newVar(name, ann ?? v.structInfo, at);
    this.bindings.push(varBinding(nv, v));
    this.scope.define(name, nv);
  }

  /** A binding variable: a dataflow variable inside a dataflow block unless it is an output. */
  private newVar(name: string, sinfo: StructInfo, at: StmtNode): AnyVar {
    const df = this.dataflow;
    if (df && !(df.outputs.has(name) && df.last.get(name) === at)) return dataflowVar(name, sinfo);
    return rvar(name, sinfo);
  }

  /** `n = T.int64()`: a symbolic variable, declared by the prelude scan. */
  private symbolicDecl(name: string, value: ExprNode): boolean {
    const d = symbolicDecl(this.ctx, value);
    if (!d) return false;
    const existing = this.scope.lookup(name);
    if (existing?.kind === "Var") {
      if (existing.dtype !== d.dtype) {
        this.ctx.fail(
          `Symbolic variable "${name}" is ${existing.dtype}, redeclared as ${d.dtype}`,
          value,
        );
      }
      return true;
    }
    this.scope.define(name, d.isSize ? sizeVar(name, d.dtype) : primVar(name, d.dtype));
    return true;
  }

  private withStmt(s: WithNode): void {
    const ctx: ParseContext = this.ctx;
    const c = s.context;
    if (c.kind !== "Call" || dottedName(c.func) !== "R.dataflow") {
      return ctx.fail(`Expected "with R.dataflow():", got ${describeExpr(c)}`, c);
    }
    bindArgs(ctx, c, []);
    if (s.target) ctx.fail("R.dataflow() does not bind a name", s.target);
    if (this.dataflow) ctx.fail("Dataflow blocks cannot be nested", c);
    // the outputs named by the final R.output(...)
    const outputs = new Set<string>();
    const lastStmt = s.body[s.body.length - 1];
    const outCall = lastStmt?.kind === "ExprStmt" && lastStmt.value.kind === "Call" &&
        dottedName(lastStmt.value.func) === "R.output"
      ? lastStmt.value
      : undefined;
    const outNodes = outCall?.args ?? [];
    if (outCall?.keywords[0]) {
      ctx.fail("R.output takes variables, not keyword arguments", outCall.keywords[0]);
    }
    for (const o of outNodes) {
      if (o.kind !== "Name") ctx.fail(`R.output expects variables, got ${describeExpr(o)}`, o);
      else outputs.add(o.id);
    }
    const last = new Map<string, StmtNode>();
    s.body.forEach((st, i) => {
      if (
        st.kind === "ExprStmt" && st.value.kind === "Call" &&
        dottedName(st.value.func) === "R.output" && i !== s.body.length - 1
      ) {
        ctx.fail("R.output must be the last statement of a dataflow block", st);
      }
      if (st.kind === "FunctionDef") last.set(st.name, st);
      if ((st.kind === "Assign" || st.kind === "AnnAssign") && st.target.kind === "Name") {
        last.set(st.target.id, st);
      }
      if (st.kind === "If") ctx.fail("If statements are not allowed inside a dataflow block", st);
    });
    for (const o of outNodes) {
      if (o.kind === "Name" && !last.has(o.id)) {
        ctx.fail(`R.output: "${o.id}" is not bound in this dataflow block`, o);
      }
    }
    this.flush();
    const outer = this.scope;
    this.scope = outer.child();
    this.dataflow = { outputs, last };
    try {
      for (const st of s.body) ctx.guard(st, () => this.stmt(st));
      this.blocks.push(dataflowBlock(this.bindings));
      this.bindings = [];
      const inner = this.scope;
      for (const o of outputs) outer.define(o, inner.lookup(o)!);
    } finally {
      this.scope = outer;
      this.dataflow = undefined;
    }
  }

  private ifStmt(s: IfNode): void {
    const ctx: ParseContext = this.ctx;
    if (!s.orelse) return ctx.fail("An if statement in Relax needs an else branch", s);
    const cond = evalRelax(this, s.test);
    const branch = (list: readonly StmtNode[], suffix: "_then" | "_else") => {
      const saved = this.scope;
      this.scope = saved.child();
      try {
        return this.seq(list, suffix);
      } finally {
        this.scope = saved;
      }
    };
    const t = branch(s.body, "_then");
    const f = branch(s.orelse, "_else");
    if (t.name !== f.name) {
      ctx.fail(
        `Both branches of the if must assign the same variable last, got "${t.name}" and "${f.name}"`,
        s,
      );
    }
    const ann = t.ann ?? f.ann;
    const value = ctx.guard(s, () => ifExpr(cond, t.seq, f.seq, ann));
    const nv = rvar(t.name, ann ?? value.structInfo);
    this.bindings.push(varBinding(nv, value));
    this.scope.define(t.name, nv);
  }

  /** The final `y = value` of a branch: a leaf or tuple value is the result; else it is bound. */
  private branchResult(
    s: StmtNode,
    suffix: "_then" | "_else",
  ): { value: Expr; name: string; ann: StructInfo | undefined } {
    const ctx: ParseContext = this.ctx;
    if ((s.kind !== "Assign" && s.kind !== "AnnAssign") || s.target.kind !== "Name" || !s.value) {
      return ctx.fail("Each branch of an if must end by assigning its result to a variable", s);
    }
    const name = s.target.id;
    const ann = s.kind === "AnnAssign" ? parseSInfo(this, s.annotation) : undefined;
    if (s.value.kind === "Call" && dottedName(s.value.func) === "R.match_cast") {
      const a = bindArgs(ctx, s.value, ["value", "struct_info"]);
      const v = evalRelax(this, a.byName.get("value")!);
      const sinfo = parseSInfo(this, a.byName.get("struct_info")!);
      const nv = rvar(name + suffix, ann ?? sinfo);
      this.bindings.push(matchCast(nv, v, sinfo));
      return { value: nv, name, ann };
    }
    const v = evalRelax(this, s.value, ann);
    if (isLeafOrTuple(v)) return { value: v, name, ann };
    const nv = rvar(name + suffix, ann ?? v.structInfo);
    this.bindings.push(varBinding(nv, v));
    return { value: nv, name, ann };
  }
}

function isLeafOrTuple(e: Expr): boolean {
  switch (e.kind) {
    case "relax.Call":
    case "relax.If":
    case "relax.SeqExpr":
    case "relax.Function":
    case "relax.TupleGetItem":
      return false;
    default:
      return true;
  }
}

/** `T.int64()` (optionally `is_size_var=True`) as a symbolic variable declaration. */
function symbolicDecl(
  ctx: ParseContext,
  value: ExprNode,
): { dtype: DType; isSize: boolean } | undefined {
  if (value.kind !== "Call" || value.args.length > 0) return undefined;
  const fn = dottedName(value.func);
  const t = fn?.startsWith("T.") ? fn.slice(2) : undefined;
  if (!t || !isScalarDType(t)) return undefined;
  const a = bindArgs(ctx, value, ["is_size_var"], 0);
  const sz = a.byName.get("is_size_var");
  return { dtype: t, isSize: sz ? expectBool(ctx, sz, "is_size_var") : false };
}
