/**
 * The TVMScript parser: text as Apache TVM prints it (`@I.ir_module class Module:` with
 * `@T.prim_func` and `@R.function` members, or one bare function) to an `IRModule`.
 *
 * Every failure is a {@link TVMScriptParseError} with the `line:col`, the source line and a
 * caret.
 *
 * @example
 * ```ts
 * const mod = parseTVMScript(`
 * @T.prim_func
 * def add_one(A: T.Buffer((8,), "float32"), B: T.Buffer((8,), "float32")):
 *     for i in range(8):
 *         B[i] = A[i] + T.float32(1.0)
 * `);
 * ```
 *
 * @module
 */

import { type Function, type GlobalVar, globalVar } from "../../ir/relax/expr.ts";
import {
  objectSInfo,
  primSInfo,
  shapeSInfo,
  type StructInfo,
  tensorSInfo,
  tupleSInfo,
} from "../../ir/relax/struct_info.ts";
import { type BaseFunc, type IRModule, irModule } from "../../ir/module.ts";
import type { PrimFunc } from "../../ir/tir/prim_func.ts";
import type { Attrs } from "../../ir/tir/stmt.ts";
import {
  describeExpr,
  dottedName,
  type ExprNode,
  type FunctionDefNode,
  type StmtNode,
} from "./ast.ts";
import { bindArgs, ParseContext, toAttrDict } from "./context.ts";
import { SourceText, TVMScriptParseError } from "./errors.ts";
import { Metadata } from "./metadata.ts";
import {
  isRelaxFunctionDecorator,
  type ModuleInfo,
  parseRelaxFunction,
  relaxReturnInfo,
} from "./relax.ts";
import { parseModuleSyntax } from "./syntax.ts";
import { isPrimFuncDecorator, parsePrimFunc } from "./tir.ts";

export { TVMScriptParseError } from "./errors.ts";
export { RELAX_OP_NAMES } from "./relax_ops.ts";

/** Options of {@link parseTVMScript}. */
export interface ParseOptions {
  /** The file name shown in errors (default `"<tvmscript>"`). */
  readonly name?: string;
}

/**
 * Parses TVMScript text into a module. The text holds an `@I.ir_module` class, or a single
 * `@T.prim_func`/`@R.function` (which becomes a module with that one function, named by its
 * `def` name). Comment headers and `from tvm.script import ...` lines are ignored.
 */
export function parseTVMScript(text: string, options: ParseOptions = {}): IRModule {
  const src = new SourceText(text, options.name ?? "<tvmscript>");
  const ctx = new ParseContext(src);
  try {
    return parseText(ctx);
  } catch (e) {
    throw asParseError(ctx, e);
  }
}

/** Parses the text of a single function (`@T.prim_func` or `@R.function`). */
export function parseTVMScriptFunction(
  text: string,
  options: ParseOptions = {},
): PrimFunc | Function {
  const src = new SourceText(text, options.name ?? "<tvmscript>");
  const ctx = new ParseContext(src);
  try {
    const top = topLevel(ctx);
    const { defs, modules } = top;
    if (modules.length > 0 || defs.length !== 1) {
      ctx.fail(
        "Expected the text of exactly one function",
        modules[0] ?? defs[1] ?? { line: 1, col: 1 },
      );
    }
    const mod = buildModule(ctx, undefined, defs, {}, metadataOf(ctx, top));
    return [...mod.functions.values()][0]!;
  } catch (e) {
    throw asParseError(ctx, e);
  }
}

/** Anything escaping as a non-parse error becomes a parse error at the last known place. */
function asParseError(ctx: ParseContext, e: unknown): TVMScriptParseError {
  if (e instanceof TVMScriptParseError) return e;
  if (e instanceof RangeError) return ctx.error("Program is nested too deeply", ctx.last);
  const msg = e instanceof Error ? e.message : String(e);
  return ctx.error(`Internal parser error: ${msg}`, ctx.last);
}

interface TopLevel {
  readonly defs: FunctionDefNode[];
  readonly modules: StmtNode[];
  readonly stmts: readonly StmtNode[];
}

function topLevel(ctx: ParseContext): TopLevel {
  const stmts = parseModuleSyntax(ctx.src);
  const defs: FunctionDefNode[] = [];
  const modules: StmtNode[] = [];
  for (const s of stmts) {
    switch (s.kind) {
      case "Import":
      case "Pass":
        break;
      case "ExprStmt":
        if (s.value.kind !== "Constant" || typeof s.value.value !== "string") {
          ctx.fail(`Unexpected ${describeExpr(s.value)} at the top level`, s);
        }
        break;
      case "Assign":
        if (s.target.kind !== "Name" || s.target.id !== "metadata") {
          ctx.fail("Only a metadata section may be assigned at the top level", s);
        }
        break;
      case "ClassDef":
        modules.push(s);
        break;
      case "FunctionDef":
        defs.push(s);
        break;
      default:
        ctx.fail("Expected an @I.ir_module class or a function at the top level", s);
    }
  }
  return { defs, modules, stmts };
}

function metadataOf(ctx: ParseContext, { stmts }: TopLevel): Metadata {
  const m = stmts.filter((s) =>
    s.kind === "Assign" && s.target.kind === "Name" && s.target.id === "metadata"
  );
  if (m.length > 1) ctx.fail("The metadata section is given twice", m[1]!);
  const node = m[0]?.kind === "Assign" ? m[0].value : undefined;
  return new Metadata(ctx, node);
}

function parseText(ctx: ParseContext): IRModule {
  const top = topLevel(ctx);
  const { defs, modules } = top;
  const meta = metadataOf(ctx, top);
  if (modules.length + defs.length === 0) {
    ctx.fail("Expected an @I.ir_module class or a function", { line: 1, col: 1 });
  }
  if (modules.length + defs.length > 1) {
    const extra = [...modules, ...defs].sort((a, b) => a.line - b.line)[1]!;
    ctx.fail("Expected a single module or function in the text", extra);
  }
  if (defs.length === 1) return buildModule(ctx, undefined, defs, {}, meta);
  const cls = modules[0]!;
  if (cls.kind !== "ClassDef") return ctx.fail("Expected a class", cls);
  if (cls.decorators.length !== 1 || !isModuleDecorator(cls.decorators[0]!)) {
    ctx.fail(`Expected @I.ir_module on class "${cls.name}"`, cls.decorators[0] ?? cls);
  }
  let attrs: Attrs = {};
  const funcs: FunctionDefNode[] = [];
  for (const s of cls.body) {
    ctx.guard(s, () => {
      switch (s.kind) {
        case "FunctionDef":
          funcs.push(s);
          return;
        case "Pass":
        case "Import":
          return;
        case "ExprStmt": {
          const v = s.value;
          if (v.kind === "Constant" && typeof v.value === "string") return;
          if (v.kind === "Call" && dottedName(v.func) === "I.module_attrs") {
            const a = bindArgs(ctx, v, ["attrs"]);
            attrs = { ...attrs, ...toAttrDict(ctx, a.byName.get("attrs")!) };
            return;
          }
          if (v.kind === "Call" && dottedName(v.func) === "I.module_global_infos") {
            ctx.fail("Module global infos are not supported", v);
          }
          ctx.fail(`Unexpected ${describeExpr(v)} in the module body`, s);
          return;
        }
        default:
          ctx.fail("Expected function definitions in the module body", s);
      }
    });
  }
  return buildModule(ctx, cls.name, funcs, attrs, meta);
}

function isModuleDecorator(e: ExprNode): boolean {
  const d = dottedName(e.kind === "Call" ? e.func : e);
  return d === "I.ir_module" || d === "tvm.script.ir_module" || d === "ir_module" ||
    d === "ir.ir_module";
}

function buildModule(
  ctx: ParseContext,
  name: string | undefined,
  defs: readonly FunctionDefNode[],
  attrs: Attrs,
  meta: Metadata,
): IRModule {
  const names = new Set<string>();
  for (const d of defs) {
    if (names.has(d.name)) ctx.fail(`Module already has a function named "${d.name}"`, d);
    names.add(d.name);
  }
  const gvars = new Map<string, GlobalVar>();
  const retInfos = new Map<string, StructInfo | undefined>();
  const kinds = new Map<string, "tir" | "relax">();
  for (const d of defs) kinds.set(d.name, functionKind(ctx, d));
  const info: ModuleInfo = {
    name,
    functionNames: names,
    globalVar(n: string): GlobalVar {
      let g = gvars.get(n);
      if (!g) {
        g = globalVar(n, objectSInfo());
        gvars.set(n, g);
      }
      return g;
    },
    returnInfo(n: string): StructInfo | undefined {
      if (!retInfos.has(n)) {
        const d = defs.find((x) => x.name === n);
        const r = d && kinds.get(n) === "relax" ? relaxReturnInfo(ctx, d, info) : undefined;
        retInfos.set(n, r && eraseSymbolic(r));
      }
      return retInfos.get(n);
    },
    metadata: (kind, index, at) => meta.get(kind, index, at),
  };
  const entries: [string, BaseFunc][] = defs.map((d) => {
    const f = kinds.get(d.name) === "tir"
      ? parsePrimFunc(ctx, d)
      : parseRelaxFunction(ctx, d, info);
    return [d.name, f];
  });
  return ctx.guard(defs[0] ?? { line: 1, col: 1 }, () => irModule(entries, { attrs }));
}

function functionKind(ctx: ParseContext, d: FunctionDefNode): "tir" | "relax" {
  const dec = d.decorators[0];
  if (!dec) {
    return ctx.fail(`Function "${d.name}" needs a decorator: @T.prim_func or @R.function`, d);
  }
  if (isPrimFuncDecorator(dec)) return "tir";
  if (isRelaxFunctionDecorator(dec)) return "relax";
  return ctx.fail(`Expected @T.prim_func or @R.function, got ${describeExpr(dec)}`, dec);
}

/** A StructInfo without symbolic variables (they belong to the callee). */
function eraseSymbolic(s: StructInfo): StructInfo {
  const hasVar = (e: { kind: string } & object): boolean => {
    if (e.kind === "Var") return true;
    return Object.values(e).some((v) =>
      typeof v === "object" && v !== null && "kind" in v && hasVar(v as { kind: string })
    );
  };
  switch (s.kind) {
    case "TensorStructInfo":
      return s.shape && s.shape.some(hasVar) ? tensorSInfo(undefined, s.dtype, s.ndim) : s;
    case "ShapeStructInfo":
      return s.values && s.values.some(hasVar) ? shapeSInfo(undefined, s.ndim) : s;
    case "PrimStructInfo":
      return s.value && hasVar(s.value) ? primSInfo(s.dtype) : s;
    case "TupleStructInfo":
      return tupleSInfo(s.fields.map(eraseSymbolic));
    case "ObjectStructInfo":
    case "FuncStructInfo":
      return s;
    default:
      s satisfies never;
      return s;
  }
}
