/**
 * `DeadCodeElimination`: removes functions that no entry function reaches, and bindings whose
 * values nothing uses.
 *
 * Entry functions are the externally visible ones (not private, or with a `global_symbol`)
 * plus any named in the options. A binding is kept when the function's result, a kept binding,
 * a `match_cast` or a nested function uses its variable, or when its value may have side
 * effects; the others go, and so do dataflow blocks left empty. When a function calls a
 * GlobalVar the module does not define, no function is removed.
 *
 * @module
 */

import { type BaseFunc, type IRModule, withFunction, without } from "../../ir/module.ts";
import type { AnyVar, Binding, BindingBlock, Expr, Function } from "../../ir/relax/expr.ts";
import { isVar } from "../../ir/relax/expr.ts";
import { rewriteExpr, visitExpr } from "../../ir/visit.ts";
import { modulePass, type Pass } from "../pass.ts";
import { containsImpureCall } from "./_relax_util.ts";

/** Options of {@link deadCodeElimination}. */
export interface DeadCodeEliminationOptions {
  /** Functions to keep (with everything they reach) besides the externally visible ones. */
  readonly entryFunctions?: readonly string[];
}

/** Whether a function is visible from outside the module. */
export function isExternalFunction(f: BaseFunc): boolean {
  return !f.isPrivate || typeof f.attrs["global_symbol"] === "string";
}

function callees(f: BaseFunc): string[] {
  if (f.kind === "PrimFunc") return [];
  const out = new Set<string>();
  visitExpr(f.body, (e) => {
    if (e.kind === "GlobalVar") out.add(e.name);
  });
  return [...out];
}

/** `mod` without the functions that no entry function reaches. */
export function removeUnusedFunctions(mod: IRModule, entries: ReadonlySet<string>): IRModule {
  const reachable = new Set(entries);
  const todo = [...entries];
  while (todo.length > 0) {
    const f = mod.functions.get(todo.pop()!);
    if (!f) return mod; // calls something outside the module: keep everything
    for (const c of callees(f)) {
      if (!reachable.has(c)) {
        reachable.add(c);
        todo.push(c);
      }
    }
  }
  return without(mod, ...[...mod.functions.keys()].filter((n) => !reachable.has(n)));
}

interface Usage {
  /** Variables in definition order (nested bindings before the binding holding them). */
  readonly order: AnyVar[];
  /** The variables whose bindings use each variable. */
  readonly users: Map<AnyVar, Set<AnyVar>>;
  /** Variables that must stay: results, side effects, match_cast and nested-function uses. */
  readonly exposed: Set<AnyVar>;
}

function collectUsage(f: Function, mod: IRModule): Usage {
  const u: Usage = { order: [], users: new Map(), exposed: new Set() };
  const use = (e: Expr, user: AnyVar | undefined) => {
    visitExpr(e, (x) => {
      if (x.kind === "relax.Function") {
        // Everything a nested function uses stays (as TVM treats its uses as outputs).
        visitExpr(x.body, (y) => {
          if (isVar(y)) u.exposed.add(y);
        });
        seq(x.body);
        return false;
      }
      if (x.kind === "relax.SeqExpr") {
        seq(x, user);
        return false;
      }
      if (isVar(x)) {
        if (user) {
          const s = u.users.get(x) ?? new Set();
          s.add(user);
          u.users.set(x, s);
        } else {
          u.exposed.add(x);
        }
      }
      return true;
    });
  };
  const seq = (e: Expr, user?: AnyVar) => {
    if (e.kind !== "relax.SeqExpr") return use(e, user);
    for (const block of e.blocks) {
      for (const b of block.bindings) {
        use(b.value, b.kind === "MatchCast" ? undefined : b.var);
        if (b.kind === "MatchCast" || containsImpureCall(b.value, mod)) u.exposed.add(b.var);
        u.order.push(b.var);
      }
    }
    use(e.body, user);
  };
  seq(f.body);
  return u;
}

/** `f` without the bindings nothing uses (kept: side effects and match_casts). */
export function removeUnusedBindings(f: Function, mod: IRModule): Function {
  const u = collectUsage(f, mod);
  const alive = new Set<AnyVar>();
  for (let i = u.order.length - 1; i >= 0; i--) {
    const v = u.order[i]!;
    const users = u.users.get(v);
    if (u.exposed.has(v) || (users && [...users].some((x) => alive.has(x)))) alive.add(v);
  }
  if (alive.size === u.order.length) return f;
  const original = new Set<BindingBlock>();
  visitExpr(f.body, (e) => {
    if (e.kind === "relax.SeqExpr") e.blocks.forEach((b) => original.add(b));
  });
  const body = rewriteExpr(f.body, {
    binding: (b: Binding) => (b.kind === "VarBinding" && !alive.has(b.var) ? [] : undefined),
    expr: (e) => {
      if (e.kind !== "relax.SeqExpr") return undefined;
      const blocks = e.blocks.filter((b) => b.bindings.length > 0 || original.has(b));
      return blocks.length === e.blocks.length ? undefined : { ...e, blocks };
    },
  });
  return body === f.body ? f : { ...f, body };
}

/** Runs dead-code elimination on a module (see {@link deadCodeElimination}). */
export function eliminateDeadCode(mod: IRModule, entryFunctions: readonly string[] = []): IRModule {
  const entries = new Set<string>();
  for (const n of entryFunctions) {
    if (!mod.functions.has(n)) {
      throw new Error(
        `DeadCodeElimination: entry function "${n}" is not in the module (it has: ${
          [...mod.functions.keys()].join(", ") || "none"
        })`,
      );
    }
    entries.add(n);
  }
  for (const [n, f] of mod.functions) if (isExternalFunction(f)) entries.add(n);
  let out = removeUnusedFunctions(mod, entries);
  for (const [n, f] of out.functions) {
    if (f.kind !== "relax.Function") continue;
    const g = removeUnusedBindings(f, out);
    if (g !== f) out = withFunction(out, n, g);
  }
  return removeUnusedFunctions(out, entries);
}

/**
 * The `DeadCodeElimination` pass (see the module documentation). Returns the module itself
 * when nothing is dead.
 */
export function deadCodeElimination(options: DeadCodeEliminationOptions = {}): Pass {
  return modulePass(
    "DeadCodeElimination",
    (mod) => eliminateDeadCode(mod, options.entryFunctions ?? []),
  );
}
