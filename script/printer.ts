/**
 * The TVMScript printer: prints any IR node (an `IRModule`, a PrimFunc, a Relax function,
 * expression or StructInfo, a PrimExpr, a statement, a buffer, ...) as the text Apache TVM's
 * printer produces for the same construct, so that the parser reads it back to an equal node.
 *
 * Importing this module makes it the printer behind `String(mod)` and the IR's error messages
 * (there, nodes other than modules print without the metadata section).
 *
 * @example
 * ```ts
 * import { printTVMScript } from "./script/printer.ts";
 * console.log(printTVMScript(mod)); // "# from tvm.script import ir as I\n..."
 * ```
 *
 * Departures from TVM, all where TVM's own text would not read back: a `LetStmt`, `AssertStmt`,
 * `AllocBuffer` or `DeclBuffer` that is not the last statement of its sequence prints as a `with`
 * scope (`with T.LetStmt(v) as x:`, `with T.Assert(c, "m"):`, `with T.alloc_buffer(...) as A:`,
 * `with T.decl_buffer(...) as A:`), as TVM did while these statements had bodies; non-scalar
 * constants print in a JSON metadata section (see {@link ./printer/module.ts}); names that are
 * Python keywords get a suffix (`in_1`).
 *
 * @module
 */

import { registerNodePrinter } from "../ir/display.ts";
import { add, type Buffer, isPrimExpr, type Range } from "../ir/expr.ts";
import type { IRModule } from "../ir/module.ts";
import type { Binding, BindingBlock, Expr } from "../ir/relax/expr.ts";
import type { StructInfo } from "../ir/relax/struct_info.ts";
import type { PrimFunc } from "../ir/tir/prim_func.ts";
import type { BufferRegion, IterVar, MatchBufferRegion, Stmt } from "../ir/tir/stmt.ts";
import {
  attr,
  block,
  call,
  comment,
  type Doc,
  exprStmt,
  id,
  index,
  int,
  isExprDoc,
  list,
  str,
  tuple,
} from "./printer/doc.ts";
import { docToPython } from "./printer/doc_printer.ts";
import { Docsifier, type Token } from "./printer/docsifier.ts";
import { metadataLine, moduleDoc } from "./printer/module.ts";
import { relaxCallDoc } from "./printer/relax_call.ts";
import {
  constantDoc,
  moduleAliasDoc,
  relaxVarDoc,
  shapeVarDoc,
  structInfoDoc,
} from "./printer/relax_expr.ts";
import {
  bindingBlockDoc,
  bindingDoc,
  ifDoc,
  relaxFunctionDoc,
  seqExprStmts,
} from "./printer/relax_func.ts";
import { bufferRefDoc, bufferRegionDoc, matchBufferDoc } from "./printer/tir_buffer.ts";
import { primExprDoc } from "./printer/tir_expr.ts";
import { primFuncDoc } from "./printer/tir_func.ts";
import { stmtDoc } from "./printer/tir_stmt.ts";

/** Options of {@link printTVMScript}. */
export interface PrintOptions {
  /**
   * Print the metadata section that holds non-scalar constants (default `true`); when false,
   * a comment says it was omitted and the text cannot be parsed back.
   */
  readonly showMeta?: boolean;
  /** Spaces per indentation level (default 4). */
  readonly indent?: number;
}

/** Every node the printer knows, besides PrimExprs. */
type Node =
  | Stmt
  | PrimFunc
  | Buffer
  | Range
  | IterVar
  | BufferRegion
  | MatchBufferRegion
  | Expr
  | Binding
  | BindingBlock
  | StructInfo
  | IRModule;

const ITER_TYPE = { spatial: "DataPar", reduce: "CommReduce", scan: "Ordered", opaque: "Opaque" };

function rangeDoc(r: Range, d: Docsifier): Doc {
  const tok = d.token();
  const prefix = tok === "relax" ? d.R("Range") : tok === "tir" ? d.T("Range") : d.I("Range");
  return call(prefix, [d.expr(r.min), d.expr(add(r.min, r.extent))]);
}

function describe(node: unknown): string {
  if (node === null) return "null";
  if (typeof node !== "object") return `a ${typeof node}`;
  const kind = (node as { kind?: unknown }).kind;
  return kind === undefined ? "an object without a kind" : `a node of kind "${String(kind)}"`;
}

function dispatch(node: unknown, d: Docsifier): Doc {
  if (isPrimExpr(node)) return primExprDoc(node, d);
  const n = node as Node;
  switch (n.kind) {
    case "For":
    case "SBlock":
    case "SBlockRealize":
    case "BufferStore":
    case "SeqStmt":
    case "IfThenElse":
    case "LetStmt":
    case "Evaluate":
    case "AllocBuffer":
    case "DeclBuffer":
    case "AssertStmt":
    case "While":
      return stmtDoc(n, d);
    case "PrimFunc":
      return primFuncDoc(n, d);
    case "Buffer":
      return bufferRefDoc(n, d);
    case "Range":
      return rangeDoc(n, d);
    case "IterVar":
      return call(d.T("iter_var"), [
        d.expr(n.var),
        d.expr(n.dom),
        str(ITER_TYPE[n.iterKind]),
        str(""),
      ]);
    case "BufferRegion":
      return bufferRegionDoc(n, d);
    case "MatchBufferRegion":
      return matchBufferDoc(n, d);
    case "relax.Var":
    case "relax.DataflowVar":
      return relaxVarDoc(n, d);
    case "relax.Constant":
      return constantDoc(n, d);
    case "relax.Tuple":
      return n.fields.length === 0 ? call(d.R("tuple")) : tuple(n.fields.map((x) => d.expr(x)));
    case "relax.TupleGetItem":
      return index(d.expr(n.tuple), [int(n.index)]);
    case "relax.ShapeExpr":
      return call(d.R("shape"), [list(n.values.map((v) => shapeVarDoc(v, d)))]);
    case "relax.PrimValue":
      return call(d.R("prim_value"), [d.expr(n.value)]);
    case "relax.StringImm":
      return call(d.R("str"), [str(n.value)]);
    case "relax.DataTypeImm":
      return call(d.R("dtype"), [str(n.value)]);
    case "relax.Op":
      return call(d.I("Op"), [str(n.name)]);
    case "GlobalVar": {
      const tok = d.token();
      if (d.moduleFunctions?.has(n.name)) {
        const mod = tok === "relax" ? moduleAliasDoc(d, d.moduleName) : id(d.moduleName);
        return attr(mod, n.name);
      }
      return tok === "relax" || tok === "tir" ? id(n.name) : call(d.I("GlobalVar"), [str(n.name)]);
    }
    case "relax.ExternFunc":
      return call(d.R("ExternFunc"), [str(n.globalSymbol)]);
    case "relax.Call":
      return relaxCallDoc(n, d);
    case "relax.If":
      return ifDoc(n, d);
    case "relax.SeqExpr":
      return block(seqExprStmts(n, d, false));
    case "relax.Function":
      return relaxFunctionDoc(n, d);
    case "VarBinding":
    case "MatchCast":
      return bindingDoc(n, d);
    case "BindingBlock":
    case "DataflowBlock":
      return bindingBlockDoc(n, d);
    case "ObjectStructInfo":
    case "PrimStructInfo":
    case "ShapeStructInfo":
    case "TensorStructInfo":
    case "TupleStructInfo":
    case "FuncStructInfo":
      return structInfoDoc(n, d);
    case "IRModule":
      return moduleDoc(n, d);
    default:
      n satisfies never;
      throw new Error(`Cannot print ${describe(node)} as TVMScript`);
  }
}

/** The dialect a node prints in when printed on its own. */
function rootToken(node: object): Token {
  if (isPrimExpr(node)) return "tir";
  const kind = String((node as { kind?: unknown }).kind);
  if (kind === "IRModule" || kind === "Range" || kind === "GlobalVar") return "ir";
  if (
    kind.startsWith("relax.") || kind.endsWith("StructInfo") || kind === "VarBinding" ||
    kind === "MatchCast" || kind === "BindingBlock" || kind === "DataflowBlock"
  ) return "relax";
  return "tir";
}

const METADATA_OMITTED = "Metadata omitted. Use show_meta=True in script() method to show it.";

/**
 * Prints an IR node as TVMScript: an `IRModule`, `PrimFunc`, Relax `Function`, any Relax
 * expression, binding or StructInfo, any PrimExpr, TIR statement, `Buffer`, `Range`, `IterVar`
 * or buffer region. Variables that the node uses but does not define print by name (statements
 * also declare them first, as TVM does). The text has no trailing newline.
 *
 * @example
 * ```ts
 * const i = primVar("i"), j = primVar("j");
 * printTVMScript(i.mul(4).add(j)); // "i * 4 + j"
 * ```
 */
export function printTVMScript(node: unknown, options: PrintOptions = {}): string {
  if (node === null || typeof node !== "object") {
    throw new Error(`Cannot print ${describe(node)} as TVMScript: expected an IR node`);
  }
  const cfg = { indent: options.indent ?? 4, showMeta: options.showMeta ?? true };
  const d = new Docsifier(cfg, dispatch);
  const token = rootToken(node);
  const root = d.newFrame(token === "relax" ? "relax" : token === "tir" ? "tir" : "ir");
  return d.withFrame(root, () => {
    if (token === "tir") d.setCommonPrefix(node);
    const doc = d.asDoc(node);
    if (isExprDoc(doc)) {
      // Like TVM's non-verbose mode: an expression prints alone, without its free variables.
      root.stmts.length = 0;
      root.stmts.push(exprStmt(doc));
    } else if (doc.k === "block") {
      root.stmts.push(...doc.stmts);
    } else {
      root.stmts.push(doc);
    }
    if (d.metadata.size > 0) {
      if (cfg.showMeta) {
        root.stmts.push(comment("Metadata"), { k: "raw", text: metadataLine(d.metadata) });
      } else root.stmts.push(comment(METADATA_OMITTED));
    }
    return docToPython(block(root.stmts), cfg.indent);
  }, token);
}

// `String(mod)` shows a module in full, metadata included; other nodes (quoted in error
// messages) leave the constants' data out.
registerNodePrinter((node) =>
  printTVMScript(node, { showMeta: (node as { kind?: unknown } | null)?.kind === "IRModule" })
);
