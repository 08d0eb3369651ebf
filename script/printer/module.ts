/**
 * Printing of an `IRModule` (`@I.ir_module class Module:`, functions ordered as TVM orders them:
 * PrimFuncs, then Relax functions, then `main`, each group by name) and of the metadata section.
 *
 * Metadata format (the parser reads it back): after the program, a comment line `# Metadata`
 * and one line `metadata = {...}` holding a JSON object; its key `"relax.expr.Constant"` lists
 * the non-scalar constants that the program refers to as `metadata["relax.expr.Constant"][i]`,
 * each as `{"dtype": "float32", "shape": [2, 3], "data": "<base64>"}` where the data is the
 * row-major elements as little-endian bytes (float16 as its bit patterns, bool as one byte).
 *
 * @module
 */

import type { BaseFunc, IRModule } from "../../ir/module.ts";
import type { Constant } from "../../ir/relax/expr.ts";
import { call, exprStmt, type StmtDoc } from "./doc.ts";
import type { Docsifier } from "./docsifier.ts";
import { attrsDoc } from "./tir_expr.ts";

function priority(name: string, f: BaseFunc): number {
  if (name === "main") return 1000;
  return f.kind === "PrimFunc" ? 1 : 3;
}

/** Prints a module. */
export function moduleDoc(mod: IRModule, d: Docsifier): StmtDoc {
  const entries = [...mod.functions].sort(([a, fa], [b, fb]) => {
    const pa = priority(a, fa), pb = priority(b, fb);
    if (pa !== pb) return pa - pb;
    return a < b ? -1 : a > b ? 1 : 0;
  });
  const f = d.newFrame("ir");
  return d.withFrame(f, () => {
    const name = d.define(mod, f, "Module");
    d.moduleName = name.k === "id" ? name.name : "Module";
    d.moduleFunctions = new Set(mod.functions.keys());
    if (Object.keys(mod.attrs).length > 0) {
      f.stmts.push(exprStmt(call(d.I("module_attrs"), [attrsDoc(mod.attrs, d)])));
    }
    if (Object.keys(mod.globalInfos).length > 0) {
      f.stmts.push(exprStmt(call(d.I("module_global_infos"), [attrsDoc(mod.globalInfos, d)])));
    }
    for (const [gname, fn] of entries) {
      d.bindingNames.push(gname);
      try {
        const doc = d.asDoc(fn);
        // A function prints with its header lines; the module keeps only the function.
        if (doc.k === "block") f.stmts.push(doc.stmts[doc.stmts.length - 1]!);
        else f.stmts.push(doc as StmtDoc);
      } finally {
        d.bindingNames.pop();
      }
    }
    const decorator = d.I("ir_module");
    return d.withHeader({ k: "class", name: d.moduleName, decorators: [decorator], body: f.stmts });
  }, "ir");
}

function base64(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(bin);
}

function constantJson(c: Constant): string {
  const { dtype, shape, data } = c.data;
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return `{"dtype": ${JSON.stringify(dtype)}, "shape": [${shape.join(", ")}], "data": "${
    base64(bytes)
  }"}`;
}

/** The `metadata = {...}` line. */
export function metadataLine(metadata: ReadonlyMap<string, readonly unknown[]>): string {
  const parts: string[] = [];
  for (const [key, items] of metadata) {
    const values = items.map((x) => constantJson(x as Constant));
    parts.push(`${JSON.stringify(key)}: [${values.join(", ")}]`);
  }
  return `metadata = {${parts.join(", ")}}`;
}
