/**
 * `ThreadSync`: inserts workgroup barriers (`T.tvm_storage_sync("shared")`) where threads of a
 * workgroup communicate through shared memory (TVM's `ThreadSync("shared")`).
 *
 * @module
 */

import { callIntrin, type PrimExpr, stringImm, type Var } from "../../ir/expr.ts";
import type { PrimFunc } from "../../ir/tir/prim_func.ts";
import { evaluate, type Stmt } from "../../ir/tir/stmt.ts";
import { visitPrimExpr, visitStmt } from "../../ir/visit.ts";
import { type Pass, primFuncPass } from "../pass.ts";
import { exprEqual, funcName } from "./_util.ts";

/** The barrier statement `T.tvm_storage_sync("shared")`. */
export function storageSync(scope = "shared"): Stmt {
  return evaluate(callIntrin("tir.tvm_storage_sync", [stringImm(scope)], "int32"));
}

/** Whether `s` is a `tvm_storage_sync` barrier. */
function isSync(s: Stmt): boolean {
  return s.kind === "Evaluate" && s.value.kind === "Call" && s.value.op === "tir.tvm_storage_sync";
}

/** One access of a shared buffer. */
interface Access {
  readonly data: Var;
  readonly write: boolean;
  readonly indices: readonly PrimExpr[];
  /** Thread axes (with more than one thread) in scope where the access happens. */
  readonly scope: readonly string[];
  /** Thread axes the indices depend on. */
  readonly uses: ReadonlySet<string>;
}

/**
 * What a statement does to shared memory, for the statements around it: the accesses that may
 * happen before its first barrier (`entry`), those that may still be unsynchronized when it
 * ends (`exit`), and whether every path through it passes a barrier (`syncs`). When `syncs` is
 * false, `exit` holds every access of paths without a barrier.
 */
interface Summary {
  readonly entry: readonly Access[];
  readonly exit: readonly Access[];
  readonly syncs: boolean;
}

const EMPTY: Summary = { entry: [], exit: [], syncs: false };
const SYNCED: Summary = { entry: [], exit: [], syncs: true };

/** The pseudo thread axis of values read from memory (not uniform in WGSL's eyes). */
const LOADED = "<load>";

function leaf(acc: readonly Access[]): Summary {
  return acc.length === 0 ? EMPTY : { entry: acc, exit: acc, syncs: false };
}

/** `a` then `b`. */
function then(a: Summary, b: Summary): Summary {
  return {
    entry: a.syncs ? a.entry : [...a.entry, ...b.entry],
    exit: b.syncs ? b.exit : [...a.exit, ...b.exit],
    syncs: a.syncs || b.syncs,
  };
}

/** `a` or `b`. */
function either(a: Summary, b: Summary): Summary {
  return {
    entry: [...a.entry, ...b.entry],
    exit: [...a.exit, ...b.exit],
    syncs: a.syncs && b.syncs,
  };
}

function sameIndices(a: Access, b: Access): boolean {
  return a.indices.length === b.indices.length &&
    a.indices.every((x, i) => exprEqual(x, b.indices[i]!));
}

/** Whether the indices of `a` tell every thread in scope apart. */
function perThread(a: Access): boolean {
  return a.scope.every((t) => a.uses.has(t));
}

/**
 * Whether `b`, after `a` with no barrier between, may race with it: the same shared buffer, one
 * of them a write, unless both are the same per-thread location (identical indices that depend
 * on every thread axis in scope, so each thread touches its own element).
 */
function conflicts(a: Access, b: Access): boolean {
  if (a.data !== b.data || (!a.write && !b.write)) return false;
  return !(sameIndices(a, b) && perThread(a) && perThread(b));
}

function anyConflict(before: readonly Access[], after: readonly Access[]): boolean {
  return before.some((a) => after.some((b) => conflicts(a, b)));
}

class Planner {
  /** Thread axes bound around the current statement, with their extents. */
  readonly #axes: { tag: string; unit: boolean }[] = [];
  /** The thread axes each variable depends on (thread indices, and lets or loops over them). */
  readonly #tagsOf = new Map<Var, ReadonlySet<string>>();
  /** Whether the current statement runs inside a kernel (under a thread-bound loop). */
  #inKernel = 0;

  constructor(
    readonly shared: ReadonlySet<Var>,
    readonly name: string,
    /** The workgroup's size along each `threadIdx` axis (the widest loop bound to it). */
    readonly widths: ReadonlyMap<string, number>,
  ) {}

  /**
   * The thread axes `e` depends on, plus {@link LOADED} when it reads memory (WGSL counts a
   * value loaded from storage or workgroup memory as non-uniform).
   */
  #tags(e: PrimExpr): Set<string> {
    const out = new Set<string>();
    visitPrimExpr(e, (x) => {
      if (x.kind === "BufferLoad") out.add(LOADED);
      if (x.kind === "Var") { for (const t of this.#tagsOf.get(x) ?? []) out.add(t); }
    });
    return out;
  }

  /** Whether `e` may differ between the threads of a workgroup. */
  #varies(e: PrimExpr): boolean {
    return this.#tags(e).size > 0;
  }

  #scope(): string[] {
    return [...new Set(this.#axes.filter((a) => !a.unit).map((a) => a.tag))];
  }

  /** The shared-memory reads in `e`. */
  #reads(e: PrimExpr, out: Access[]): void {
    visitPrimExpr(e, (x) => {
      if (x.kind !== "BufferLoad" || !this.shared.has(x.buffer.data)) return;
      out.push(this.#access(x.buffer.data, false, x.indices));
    });
  }

  #access(data: Var, write: boolean, indices: readonly PrimExpr[]): Access {
    const uses = new Set<string>();
    for (const i of indices) for (const t of this.#tags(i)) uses.add(t);
    return { data, write, indices, scope: this.#scope(), uses };
  }

  #exprs(es: readonly PrimExpr[]): Summary {
    const acc: Access[] = [];
    for (const e of es) this.#reads(e, acc);
    return leaf(acc);
  }

  /** Plans `s`; `canSync`: barriers may go here (every thread of the workgroup gets here). */
  stmt(s: Stmt, canSync: boolean): [Stmt, Summary] {
    switch (s.kind) {
      case "SeqStmt": {
        const [seq, sum] = this.#seq(s.seq, canSync);
        return [seq ?? s, sum];
      }
      case "For":
        return this.#for(s, canSync);
      case "IfThenElse": {
        const cond = this.#exprs([s.cond]);
        const uniform = canSync && !this.#varies(s.cond);
        const [t, ts] = this.stmt(s.then, uniform);
        const [e, es] = s.else ? this.stmt(s.else, uniform) : [undefined, EMPTY];
        const out = t === s.then && e === s.else ? s : { ...s, then: t, else: e };
        return [out, then(cond, either(ts, es))];
      }
      case "LetStmt": {
        const tags = this.#tags(s.value);
        if (tags.size > 0) this.#tagsOf.set(s.var, tags);
        const value = this.#exprs([s.value]);
        const [body, bs] = this.stmt(s.body, canSync);
        return [body === s.body ? s : { ...s, body }, then(value, bs)];
      }
      case "BufferStore": {
        const acc: Access[] = [];
        this.#reads(s.value, acc);
        for (const i of s.indices) this.#reads(i, acc);
        if (this.shared.has(s.buffer.data)) acc.push(this.#access(s.buffer.data, true, s.indices));
        return [s, leaf(acc)];
      }
      case "Evaluate":
        return [s, isSync(s) ? SYNCED : this.#exprs([s.value])];
      case "AllocBuffer":
      case "DeclBuffer": {
        const [body, bs] = this.stmt(s.body, canSync);
        return [body === s.body ? s : { ...s, body }, bs];
      }
      case "AssertStmt": {
        const cond = this.#exprs([s.cond]);
        const [body, bs] = this.stmt(s.body, canSync);
        return [body === s.body ? s : { ...s, body }, then(cond, bs)];
      }
      case "While": {
        const uniform = canSync && !this.#varies(s.cond);
        const cond = this.#exprs([s.cond]);
        const [body, bs] = this.#loopBody(s.body, uniform, cond);
        return [body === s.body ? s : { ...s, body }, then(cond, either(bs, EMPTY))];
      }
      case "SBlock":
      case "SBlockRealize": {
        const b = s.kind === "SBlock" ? s : s.block;
        throw new Error(
          `Cannot insert thread barriers into "${this.name}": it still contains block "${b.name}"; lower its blocks first`,
        );
      }
      default:
        s satisfies never;
        throw new Error("unreachable");
    }
  }

  /** A sequence: a barrier goes before each statement that races with what precedes it. */
  #seq(stmts: readonly Stmt[], canSync: boolean): [Stmt | undefined, Summary] {
    const out: Stmt[] = [];
    let sum = EMPTY;
    let pending: readonly Access[] = [];
    let changed = false;
    for (const x of stmts) {
      const [y, ys] = this.stmt(x, canSync);
      if (y !== x) changed = true;
      if (canSync && this.#inKernel > 0 && anyConflict(pending, ys.entry)) {
        out.push(storageSync());
        sum = then(sum, SYNCED);
        pending = [];
        changed = true;
      }
      out.push(y);
      sum = then(sum, ys);
      pending = ys.syncs ? ys.exit : [...pending, ...ys.exit];
    }
    return [changed ? { kind: "SeqStmt", seq: out } : undefined, sum];
  }

  /**
   * A loop body: planned as a sequence, then, when the end of one iteration races with the start
   * of the next (the k loop of a tiled matmul overwriting tiles others still read), a barrier
   * goes at its end.
   */
  #loopBody(body: Stmt, canSync: boolean, head: Summary): [Stmt, Summary] {
    const [b, bs0] = this.stmt(body, canSync);
    const bs = then(head, bs0);
    if (!canSync || this.#inKernel === 0 || !anyConflict(bs.exit, bs.entry)) return [b, bs];
    const seq = b.kind === "SeqStmt" ? [...b.seq, storageSync()] : [b, storageSync()];
    return [{ kind: "SeqStmt", seq }, then(bs, SYNCED)];
  }

  #for(s: Extract<Stmt, { kind: "For" }>, canSync: boolean): [Stmt, Summary] {
    const tag = s.threadTag;
    if (s.forKind === "thread_binding" && tag && !tag.startsWith("vthread")) {
      const unit = s.extent.kind === "IntImm" && s.extent.value === 1;
      const isThread = tag.startsWith("threadIdx");
      if (isThread) this.#tagsOf.set(s.loopVar, new Set([tag]));
      this.#axes.push({ tag, unit: unit || !isThread });
      // a loop narrower than the workgroup runs on some threads only: no barrier inside
      const full = !isThread ||
        (s.extent.kind === "IntImm" && s.extent.value === this.widths.get(tag));
      this.#inKernel++;
      try {
        // Every thread (or block) runs the body once: no loop-carried races.
        const [body, bs] = this.stmt(s.body, canSync && full);
        return [body === s.body ? s : { ...s, body }, bs];
      } finally {
        this.#inKernel--;
        this.#axes.pop();
      }
    }
    const bounds = this.#exprs([s.min, s.extent]);
    const uniform = canSync && !this.#varies(s.min) && !this.#varies(s.extent);
    const tags = new Set([...this.#tags(s.min), ...this.#tags(s.extent)]);
    if (tags.size > 0) this.#tagsOf.set(s.loopVar, tags);
    const [body, bs] = this.#loopBody(s.body, uniform, EMPTY);
    const out = body === s.body ? s : { ...s, body };
    const runs = s.extent.kind === "IntImm" && s.extent.value > 0;
    return [out, then(bounds, runs ? bs : either(bs, EMPTY))];
  }
}

/** The data variables of the shared-memory allocations in `s`. */
function sharedData(s: Stmt): Set<Var> {
  const out = new Set<Var>();
  visitStmt(s, {
    stmt: (x) => {
      const bufs = x.kind === "AllocBuffer"
        ? [x.buffer]
        : x.kind === "SBlockRealize"
        ? x.block.allocBuffers
        : x.kind === "SBlock"
        ? x.allocBuffers
        : [];
      for (const b of bufs) if (b.scope.startsWith("shared")) out.add(b.data);
    },
  });
  return out;
}

/** Inserts the barriers of {@link threadSync} into one PrimFunc. */
export function threadSyncPrimFunc(
  f: PrimFunc,
  options: { readonly name?: string } = {},
): PrimFunc {
  const shared = sharedData(f.body);
  if (shared.size === 0) return f;
  const widths = new Map<string, number>();
  visitStmt(f.body, {
    stmt: (x) => {
      if (x.kind !== "For" || !x.threadTag?.startsWith("threadIdx")) return;
      const w = x.extent.kind === "IntImm" ? x.extent.value : Infinity;
      widths.set(x.threadTag, Math.max(widths.get(x.threadTag) ?? 0, w));
    },
  });
  const [body] = new Planner(shared, funcName(f, options.name), widths).stmt(f.body, true);
  return body === f.body ? f : { ...f, body };
}

/**
 * Inserts workgroup barriers into lowered TIR (TVM's `ThreadSync("shared")`): a
 * `T.tvm_storage_sync("shared")` goes before a statement that touches a shared buffer that
 * other threads touched since the last barrier, when one of the two accesses writes, and at
 * the end of a loop body whose end races with the start of the next iteration (a tiled
 * matmul's k loop overwriting the tiles that other threads still read):
 *
 * ```
 * for k0 in range(8):                      for k0 in range(8):
 *   A_shared[tx] = A[k0 * 64 + tx]            A_shared[tx] = A[k0 * 64 + tx]
 *   for k1 in range(64):              =>      T.tvm_storage_sync("shared")
 *     acc[0] += A_shared[k1]                  for k1 in range(64):
 *                                               acc[0] += A_shared[k1]
 *                                             T.tvm_storage_sync("shared")
 * ```
 *
 * Barriers go only where every thread of the workgroup arrives: never inside a branch or loop
 * whose condition or bounds depend on the thread index or on a value read from memory, nor in
 * a thread loop narrower than the workgroup (there the whole branch or loop counts as one
 * statement, and the barrier goes around it). Two accesses of the same element by the same
 * thread (identical indices that depend on every thread axis in scope) need no barrier.
 * Functions without shared allocations are returned unchanged.
 */
export const threadSync: Pass = primFuncPass(
  "ThreadSync",
  (f, name) => threadSyncPrimFunc(f, { name }),
);
