/**
 * TVMScript: the text form of every IRModule, in Apache TVM's syntax.
 *
 * ```ts
 * import { parseTVMScript, printTVMScript } from "./script/mod.ts";
 * const mod = parseTVMScript(text);
 * console.log(printTVMScript(mod));
 * ```
 *
 * @module
 */
export * from "./printer.ts";
export * from "./parser/mod.ts";
