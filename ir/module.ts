/**
 * `IRModule`: named Relax functions and TIR PrimFuncs side by side, plus module attributes.
 *
 * Modules are immutable: `withFunction` and `without` return new modules.
 *
 * @module
 */

import { displayNode } from "./display.ts";
import type { Function } from "./relax/expr.ts";
import type { PrimFunc } from "./tir/prim_func.ts";
import type { Attrs } from "./tir/stmt.ts";

/** A function that a module holds: a Relax function or a TIR PrimFunc. */
export type BaseFunc = Function | PrimFunc;

/** A module: functions by global name, in insertion order, and module attributes. */
export interface IRModule {
  /** The node kind. */
  readonly kind: "IRModule";
  /** The functions by global name, in insertion order. */
  readonly functions: ReadonlyMap<string, BaseFunc>;
  /** Module attributes. */
  readonly attrs: Attrs;
  /** Global infos (e.g. virtual devices), by name. */
  readonly globalInfos: Attrs;
}

/** Options of {@link irModule}. */
export interface IRModuleOptions {
  /** Module attributes. */
  readonly attrs?: Attrs;
  /** Global infos. */
  readonly globalInfos?: Attrs;
}

/** Makes a module from `name -> function` entries. */
export function irModule(
  functions: Iterable<readonly [string, BaseFunc]> | { readonly [name: string]: BaseFunc } = [],
  options: IRModuleOptions = {},
): IRModule {
  const entries: Iterable<readonly [string, BaseFunc]> = Symbol.iterator in functions
    ? functions as Iterable<readonly [string, BaseFunc]>
    : Object.entries(functions);
  const map = new Map<string, BaseFunc>();
  for (const [name, f] of entries) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new Error(`Invalid global function name "${name}": expected an identifier`);
    }
    if (map.has(name)) throw new Error(`Module already has a function named "${name}"`);
    map.set(name, f);
  }
  return makeModule(map, options.attrs ?? {}, options.globalInfos ?? {});
}

const moduleProto = {
  toString(this: IRModule): string {
    return displayNode(this);
  },
};

function makeModule(
  functions: ReadonlyMap<string, BaseFunc>,
  attrs: Attrs,
  globalInfos: Attrs,
): IRModule {
  const m = Object.create(moduleProto) as { -readonly [K in keyof IRModule]: IRModule[K] };
  m.kind = "IRModule";
  m.functions = functions;
  m.attrs = attrs;
  m.globalInfos = globalInfos;
  return m;
}

/** The function named `name`, or `undefined`. */
export function lookup(mod: IRModule, name: string): BaseFunc | undefined {
  return mod.functions.get(name);
}

/** The function named `name`; throws listing the module's functions when absent. */
export function getFunction(mod: IRModule, name: string): BaseFunc {
  const f = mod.functions.get(name);
  if (!f) {
    throw new Error(
      `Module has no function "${name}" (it has: ${
        [...mod.functions.keys()].join(", ") || "none"
      })`,
    );
  }
  return f;
}

/** A module with `name` set to `func` (added at the end, or replaced in place). */
export function withFunction(mod: IRModule, name: string, func: BaseFunc): IRModule {
  if (mod.functions.get(name) === func) return mod;
  const map = new Map(mod.functions);
  map.set(name, func);
  return makeModule(map, mod.attrs, mod.globalInfos);
}

/** A module without the functions named. */
export function without(mod: IRModule, ...names: readonly string[]): IRModule {
  if (!names.some((n) => mod.functions.has(n))) return mod;
  const map = new Map(mod.functions);
  for (const n of names) map.delete(n);
  return makeModule(map, mod.attrs, mod.globalInfos);
}

/** A module with its attributes replaced. */
export function withAttrs(mod: IRModule, attrs: Attrs): IRModule {
  return makeModule(mod.functions, attrs, mod.globalInfos);
}

/** A fresh global name based on `hint` that the module does not use yet (`f`, `f1`, `f2`, ...). */
export function freshGlobalName(mod: IRModule, hint: string): string {
  if (!mod.functions.has(hint)) return hint;
  for (let i = 1;; i++) if (!mod.functions.has(`${hint}${i}`)) return `${hint}${i}`;
}

/** Relax functions of the module, by name. */
export function relaxFunctions(mod: IRModule): [string, Function][] {
  return [...mod.functions].filter((e): e is [string, Function] => e[1].kind === "relax.Function");
}

/** PrimFuncs of the module, by name. */
export function primFuncs(mod: IRModule): [string, PrimFunc][] {
  return [...mod.functions].filter((e): e is [string, PrimFunc] => e[1].kind === "PrimFunc");
}
