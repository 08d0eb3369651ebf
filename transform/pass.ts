/**
 * Passes: named, pure `IRModule => IRModule` functions, composed with {@link sequential} and run
 * under a {@link PassContext} (options, disabled passes, instruments).
 *
 * A pass that changes nothing returns the very module it was given.
 *
 * @module
 */

import type { IRModule } from "../ir/module.ts";
import { withFunction } from "../ir/module.ts";
import type { BindingBlock, Function } from "../ir/relax/expr.ts";
import type { PrimFunc } from "../ir/tir/prim_func.ts";

/** Observes pass execution (timing, printing, validation). */
export interface PassInstrument {
  /** A name for reports. */
  readonly name: string;
  /** Called before a pass runs; return `false` to skip the pass. */
  readonly shouldRun?: (pass: Pass, mod: IRModule) => boolean;
  /** Called before a pass runs. */
  readonly before?: (pass: Pass, mod: IRModule) => void;
  /** Called after a pass ran, with its input and output. */
  readonly after?: (pass: Pass, before: IRModule, after: IRModule) => void;
}

/** Options of a {@link PassContext}. */
export interface PassContextOptions {
  /** Instruments observing every pass. */
  readonly instruments?: readonly PassInstrument[];
  /** Names of passes to skip. */
  readonly disabled?: readonly string[];
  /** Free-form configuration read by passes (`"tir.unroll_max"`, ...). */
  readonly config?: { readonly [key: string]: unknown };
}

/** The context passes run in. */
export class PassContext {
  /** Instruments observing every pass. */
  readonly instruments: readonly PassInstrument[];
  /** Names of passes to skip. */
  readonly disabled: ReadonlySet<string>;
  /** Free-form configuration. */
  readonly config: { readonly [key: string]: unknown };

  /** Makes a context. */
  constructor(options: PassContextOptions = {}) {
    this.instruments = options.instruments ?? [];
    this.disabled = new Set(options.disabled ?? []);
    this.config = options.config ?? {};
  }
}

/** A named module transformation. */
export interface Pass {
  /** The pass name, as shown by instruments and used in `disabled`. */
  readonly name: string;
  /** Runs the pass without instruments; prefer {@link runPass}. */
  readonly transform: (mod: IRModule, ctx: PassContext) => IRModule;
  /** Runs the pass under a context (instruments, disabled passes); a context is made if absent. */
  (mod: IRModule, ctx?: PassContext): IRModule;
}

/** Runs `pass` on `mod` under `ctx`, honoring disabled passes and instruments. */
export function runPass(pass: Pass, mod: IRModule, ctx: PassContext = new PassContext()): IRModule {
  if (ctx.disabled.has(pass.name)) return mod;
  for (const i of ctx.instruments) if (i.shouldRun && !i.shouldRun(pass, mod)) return mod;
  for (const i of ctx.instruments) i.before?.(pass, mod);
  const out = pass.transform(mod, ctx);
  for (const i of ctx.instruments) i.after?.(pass, mod, out);
  return out;
}

/** Makes a pass from a module-level function. */
export function modulePass(name: string, fn: (mod: IRModule, ctx: PassContext) => IRModule): Pass {
  const p = ((mod: IRModule, ctx?: PassContext) => runPass(p, mod, ctx)) as Pass;
  Object.defineProperty(p, "name", { value: name });
  Object.defineProperty(p, "transform", { value: fn });
  return p;
}

/** Makes a pass that rewrites each PrimFunc of a module independently. */
export function primFuncPass(
  name: string,
  fn: (f: PrimFunc, name: string, mod: IRModule, ctx: PassContext) => PrimFunc,
): Pass {
  return modulePass(name, (mod, ctx) => {
    let out = mod;
    for (const [n, f] of mod.functions) {
      if (f.kind !== "PrimFunc") continue;
      const g = fn(f, n, mod, ctx);
      if (g !== f) out = withFunction(out, n, g);
    }
    return out;
  });
}

/** Makes a pass that rewrites each Relax function of a module independently. */
export function relaxFunctionPass(
  name: string,
  fn: (f: Function, name: string, mod: IRModule, ctx: PassContext) => Function,
): Pass {
  return modulePass(name, (mod, ctx) => {
    let out = mod;
    for (const [n, f] of mod.functions) {
      if (f.kind !== "relax.Function") continue;
      const g = fn(f, n, mod, ctx);
      if (g !== f) out = withFunction(out, n, g);
    }
    return out;
  });
}

/** Makes a pass that rewrites each dataflow block of each Relax function. */
export function dataflowBlockPass(
  name: string,
  fn: (block: BindingBlock, funcName: string, mod: IRModule, ctx: PassContext) => BindingBlock,
): Pass {
  return relaxFunctionPass(name, (f, funcName, mod, ctx) => {
    const body = f.body;
    if (body.kind !== "relax.SeqExpr") return f;
    let changed = false;
    const blocks = body.blocks.map((b) => {
      if (b.kind !== "DataflowBlock") return b;
      const nb = fn(b, funcName, mod, ctx);
      if (nb !== b) changed = true;
      return nb;
    });
    return changed ? { ...f, body: { ...body, blocks } } : f;
  });
}

/** Runs passes in order, as one pass named `name`. */
export function sequential(
  passes: readonly Pass[],
  name = "Sequential",
): Pass & { readonly passes: readonly Pass[] } {
  const p = modulePass(name, (mod, ctx) => {
    let m = mod;
    for (const q of passes) m = runPass(q, m, ctx);
    return m;
  });
  Object.defineProperty(p, "passes", { value: passes });
  return p as Pass & { readonly passes: readonly Pass[] };
}
