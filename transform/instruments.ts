/**
 * Pass instruments: a timing table, printing IR around a pass, validating with `wellFormed`
 * after every pass, and dumping TVMScript to a folder, one file per step.
 *
 * ```ts
 * const timing = timingInstrument();
 * runPass(pipeline, mod, new PassContext({ instruments: [timing, wellFormedInstrument()] }));
 * console.log(timing.table());
 * ```
 *
 * @module
 */

import { displayNode } from "../ir/display.ts";
import type { IRModule } from "../ir/module.ts";
import { wellFormed } from "../ir/well_formed.ts";
import type { Pass, PassInstrument } from "./pass.ts";

/** A timing instrument: records the wall time of every pass run. */
export interface TimingInstrument extends PassInstrument {
  /** Recorded runs, in completion order (nested passes before their parent). */
  readonly records: readonly {
    readonly name: string;
    readonly ms: number;
    readonly depth: number;
  }[];
  /** The records as an aligned text table (name, ms, share of the outermost passes' total). */
  table(): string;
}

/** Records how long each pass takes; `table()` prints the result. */
export function timingInstrument(): TimingInstrument {
  const records: { name: string; ms: number; depth: number }[] = [];
  const starts: number[] = [];
  return {
    name: "Timing",
    records,
    before: () => void starts.push(performance.now()),
    after: (pass) => {
      const t0 = starts.pop() ?? performance.now();
      records.push({ name: pass.name, ms: performance.now() - t0, depth: starts.length });
    },
    table() {
      const total = records.filter((r) => r.depth === 0).reduce((a, r) => a + r.ms, 0);
      // completion order puts children before parents; print parents first
      const ordered = orderTree(records);
      const width = Math.max(5, ...ordered.map((r) => 2 * r.depth + r.name.length));
      const lines = [`${"pass".padEnd(width)}  ${"ms".padStart(9)}  ${"share".padStart(6)}`];
      for (const r of ordered) {
        const label = "  ".repeat(r.depth) + r.name;
        const share = total > 0 ? `${((r.ms / total) * 100).toFixed(1)}%` : "-";
        lines.push(`${label.padEnd(width)}  ${r.ms.toFixed(3).padStart(9)}  ${share.padStart(6)}`);
      }
      lines.push(`${"total".padEnd(width)}  ${total.toFixed(3).padStart(9)}`);
      return lines.join("\n");
    },
  };
}

/** Reorders completion-ordered records (children first) into pre-order (parents first). */
function orderTree<T extends { readonly depth: number }>(records: readonly T[]): T[] {
  // Walk backwards: a record at depth d owns the preceding records of depth > d.
  const build = (end: number, depth: number): [T[], number] => {
    const items: T[][] = [];
    let i = end;
    while (i >= 0 && records[i]!.depth >= depth) {
      const r = records[i]!;
      if (r.depth === depth) {
        const [children, next] = build(i - 1, depth + 1);
        items.unshift([r, ...children]);
        i = next;
      } else {
        i--;
      }
    }
    return [items.flat(), i];
  };
  return build(records.length - 1, 0)[0];
}

/** Options of {@link printIRInstrument}. */
export interface PrintIROptions {
  /** Print before the pass (default false). */
  readonly before?: boolean;
  /** Print after the pass (default true). */
  readonly after?: boolean;
  /** Where lines go (default `console.log`). */
  readonly log?: (text: string) => void;
}

/** Prints the module (as TVMScript) before and/or after the passes named. */
export function printIRInstrument(
  passNames: readonly string[],
  options: PrintIROptions = {},
): PassInstrument {
  const log = options.log ?? ((t: string) => console.log(t));
  const names = new Set(passNames);
  return {
    name: "PrintIR",
    before: (pass, mod) => {
      if (options.before && names.has(pass.name)) {
        log(`# IR before ${pass.name}\n${displayNode(mod)}`);
      }
    },
    after: (pass, _before, mod) => {
      if ((options.after ?? true) && names.has(pass.name)) {
        log(`# IR after ${pass.name}\n${displayNode(mod)}`);
      }
    },
  };
}

/** Thrown when a pass produces a module that is not well formed. */
export class PassWellFormedError extends Error {
  /** The pass that broke the module. */
  readonly passName: string;
  /** The messages of `wellFormed`. */
  readonly messages: readonly string[];

  /** Makes the error for `passName`. */
  constructor(passName: string, messages: readonly string[]) {
    super(
      `Pass "${passName}" produced an ill-formed module:\n${
        messages.map((m) => `  ${m}`).join("\n")
      }`,
    );
    this.name = "PassWellFormedError";
    this.passName = passName;
    this.messages = messages;
  }
}

/**
 * Runs `wellFormed` on the output of every pass (that changed the module) and throws a
 * {@link PassWellFormedError} naming the pass when it finds problems.
 */
export function wellFormedInstrument(): PassInstrument {
  return {
    name: "WellFormed",
    after: (pass: Pass, before: IRModule, after: IRModule) => {
      if (before === after) return;
      const errors = wellFormed(after);
      if (errors.length) throw new PassWellFormedError(pass.name, errors.map((e) => e.message));
    },
  };
}

/** Options of {@link dumpIRInstrument}. */
export interface DumpIROptions {
  /** Also write the module as given to the first pass, as `000_input.py` (default true). */
  readonly input?: boolean;
}

/**
 * Writes the module as TVMScript into `dir` after each pass that changed it:
 * `001_LegalizeOps.py`, `002_FuseOps.py`, ... (needs `--allow-write`).
 */
export function dumpIRInstrument(dir: string, options: DumpIROptions = {}): PassInstrument {
  let step = 0;
  let started = false;
  const write = (name: string, mod: IRModule) => {
    Deno.mkdirSync(dir, { recursive: true });
    const file = `${dir}/${String(step++).padStart(3, "0")}_${
      name.replace(/[^A-Za-z0-9_.-]/g, "_")
    }.py`;
    Deno.writeTextFileSync(file, displayNode(mod) + "\n");
  };
  return {
    name: "DumpIR",
    before: (_pass, mod) => {
      if (!started) {
        started = true;
        if (options.input ?? true) write("input", mod);
        else step++;
      }
    },
    after: (pass, before, after) => {
      if (before !== after) write(pass.name, after);
    },
  };
}
