/**
 * `VirtualMachine`: runs an {@link Executable} on a device.
 *
 * ```ts
 * const exec = build(mod, { target: "webgpu" });
 * const vm = new VirtualMachine(exec, await webgpu());
 * const y = await vm.run("main", x) as Tensor;   // a Relax function
 * await vm.run("add", a, b, c);                  // a PrimFunc, destination-passing
 * console.log(await y.toArray());
 * ```
 *
 * One `run` records every kernel into the device's pending work (on WebGPU: one command
 * encoder and compute pass, with bind groups and uniform buffers cached by the device) and
 * submits it once at the end; nothing is read back unless a registered function or an `If` on
 * a tensor needs it, or the caller awaits `toArray()`. Before running, the VM checks the
 * argument count and that every registered function the call may reach exists, and the
 * function's first instructions check the arguments against its parameters, so bad input fails
 * before any kernel is recorded.
 *
 * Memory: tensors a run returns belong to the caller (`dispose()` frees them). Everything else a
 * run allocates is released when the function returns, into a cache keyed by allocation site:
 * the next run at the same shapes reuses the same buffers (so WebGPU reuses its bind groups).
 * {@link VirtualMachine.releaseMemory} frees that cache. A failed run frees what it allocated.
 *
 * @module
 */

import type { ScalarDType } from "../../../ir/dtype.ts";
import type { Device, DeviceStorage } from "../../device.ts";
import { targetKindOf } from "../../device.ts";
import { type KernelArg, launchKernel } from "../../kernel.ts";
import type { KernelExpr } from "../../kernel_abi.ts";
import { getRegisteredFunction, type PackedFunction } from "../../registry.ts";
import { Tensor } from "../../tensor.ts";
import type { Operand, VMFunction } from "../bytecode.ts";
import { type Builtin, type BuiltinContext, BUILTINS } from "../builtins.ts";
import type { Executable } from "../executable.ts";
import { describeValue, Shape, type VMValue } from "../value.ts";

/** Options of {@link VirtualMachine}. */
export interface VirtualMachineOptions {
  /** Functions for `R.call_packed` / `R.call_dps_packed` that take precedence over the registry. */
  readonly functions?: { readonly [name: string]: PackedFunction };
}

type Resolved =
  | { readonly kind: "builtin"; readonly fn: Builtin }
  | { readonly kind: "packed"; readonly fn: PackedFunction };

/** What one `run` shares across its frames. */
interface RunState {
  /** The constant pool on the device. */
  readonly constants: readonly VMValue[];
  /** Packed functions by function table index. */
  readonly resolved: readonly (Resolved | undefined)[];
}

function isThenable(x: unknown): x is PromiseLike<VMValue | void> {
  return typeof (x as { then?: unknown } | null)?.then === "function";
}

/** Device storage of every tensor reachable from a value. */
function storagesOf(v: VMValue, out: Set<DeviceStorage>): Set<DeviceStorage> {
  if (v instanceof Tensor) {
    if (!v.disposed) out.add(v.storage);
  } else if (Array.isArray(v)) {
    for (const x of v as readonly VMValue[]) storagesOf(x, out);
  }
  return out;
}

/** Runs the functions of an executable on a device. */
export class VirtualMachine {
  /** The executable. */
  readonly executable: Executable;
  /** The device kernels run on and tensors live on. */
  readonly device: Device;
  readonly #functions: { readonly [name: string]: PackedFunction };
  #ready: Promise<VMValue[]> | undefined;
  #constants: VMValue[] = [];
  readonly #programs = new Map<string, KernelExpr>();
  readonly #reach = new Map<VMFunction, number[]>();
  readonly #cache = new Map<string, { dtype: ScalarDType; size: number; free: DeviceStorage[] }>();

  /** A VM for `exec` on `device`; the device must run the executable's target. */
  constructor(exec: Executable, device: Device, options: VirtualMachineOptions = {}) {
    const kind = targetKindOf(device.kind);
    if (kind !== exec.target) {
      throw new Error(
        `The executable was built for ${exec.target}, but ${device.name} runs ${kind} kernels`,
      );
    }
    this.executable = exec;
    this.device = device;
    this.#functions = options.functions ?? {};
  }

  /**
   * Runs function `name` (a Relax function, or a PrimFunc in destination-passing style) on
   * `args`: tensors on this VM's device, numbers for `R.Prim` parameters, `Shape`s and arrays
   * for tuples. Resolves to the function's result (`undefined` for a PrimFunc).
   */
  async run(name: string, ...args: VMValue[]): Promise<VMValue | undefined> {
    const exec = this.executable;
    const fn = exec.functions.get(name);
    const kernel = fn ? undefined : exec.kernels.get(name);
    if (!fn && !kernel) {
      throw new Error(
        `The executable has no function "${name}" (it has: ${
          exec.functionNames().join(", ") || "none"
        })`,
      );
    }
    if (fn && args.length !== fn.params.length) {
      throw new Error(
        `Function "${name}" expects ${fn.params.length} arguments (${
          fn.params.join(", ")
        }), got ${args.length}`,
      );
    }
    const constants = await this.#prepare();
    try {
      if (!fn) {
        this.#callPrim(name, args);
        return undefined;
      }
      const run: RunState = { constants, resolved: this.#resolve(fn) };
      // What the run returns belongs to the caller.
      return await this.#invoke(fn, args, new Map(), run);
    } finally {
      (this.device as { flush?: () => void }).flush?.();
    }
  }

  /** Compiles the kernels and uploads the constants, once. */
  #prepare(): Promise<VMValue[]> {
    if (!this.#ready) {
      const exec = this.executable;
      this.#ready = (async () => {
        await Promise.all([...exec.kernels.values()].map((k) => this.device.prepare(k)));
        this.#constants = exec.constants.map((c): VMValue => {
          switch (c.kind) {
            case "tensor":
              return Tensor.from(c.value.data, c.value.shape, {
                dtype: c.value.dtype as Tensor["dtype"],
                device: this.device,
              });
            case "shape":
              return new Shape(c.dims);
            case "string":
            case "number":
              return c.value;
            default:
              c satisfies never;
              return null;
          }
        });
        return this.#constants;
      })();
      this.#ready.catch(() => this.#ready = undefined);
    }
    return this.#ready;
  }

  /**
   * The packed functions `fn` may call (directly or through other VM functions), by function
   * table index; throws naming one that is missing.
   */
  #resolve(fn: VMFunction): (Resolved | undefined)[] {
    const exec = this.executable;
    const table = exec.funcTable;
    let packed = this.#reach.get(fn);
    if (!packed) {
      const seen = new Set<VMFunction>();
      const found = new Set<number>();
      const walk = (f: VMFunction) => {
        if (seen.has(f)) return;
        seen.add(f);
        for (const ins of f.code) {
          if (ins.op !== "call") continue;
          const e = table[ins.func]!;
          if (e.kind === "packed") found.add(ins.func);
          else if (e.kind === "vm") walk(exec.functionAt(e.index));
        }
      };
      walk(fn);
      packed = [...found];
      this.#reach.set(fn, packed);
    }
    const resolved: (Resolved | undefined)[] = [];
    for (const i of packed) {
      const name = table[i]!.name;
      const b = BUILTINS.get(name);
      if (b) {
        resolved[i] = { kind: "builtin", fn: b };
        continue;
      }
      if (name.startsWith("vm.builtin.")) {
        throw new Error(`Function "${fn.name}" calls unknown VM builtin "${name}"`);
      }
      const f = Object.hasOwn(this.#functions, name)
        ? this.#functions[name]
        : getRegisteredFunction(name);
      if (!f) {
        throw new Error(
          `Function "${fn.name}" calls "${name}", which is not registered (register it with registerFunction("${name}", fn))`,
        );
      }
      resolved[i] = { kind: "packed", fn: f };
    }
    return resolved;
  }

  #callPrim(name: string, args: readonly VMValue[]): void {
    const kernel = this.executable.kernels.get(name)!;
    const flat: KernelArg[] = [];
    args.forEach((a, i) => {
      if (a instanceof Shape) flat.push(...a.dims);
      else if (a instanceof Tensor || typeof a === "number" || typeof a === "boolean") flat.push(a);
      else {throw new Error(
          `PrimFunc "${name}": argument ${i} must be a tensor or a number, got ${describeValue(a)}`,
        );}
    });
    launchKernel(kernel, flat, { device: this.device });
  }

  /** Storage for allocation site `site`: last run's when it fits, else new. */
  #acquire(site: string, dtype: ScalarDType, size: number): DeviceStorage {
    const e = this.#cache.get(site);
    const s = e && e.dtype === dtype && e.size === size ? e.free.pop() : undefined;
    return s ?? this.device.alloc(dtype, size);
  }

  /** Keeps released storage for the next allocation at `site` (only the latest size). */
  #recycle(site: string, s: DeviceStorage): void {
    let e = this.#cache.get(site);
    if (!e || e.dtype !== s.dtype || e.size !== s.size) {
      if (e) { for (const x of e.free) this.device.free(x); }
      e = { dtype: s.dtype, size: s.size, free: [] };
      this.#cache.set(site, e);
    }
    e.free.push(s);
  }

  /**
   * Frees the memory the VM keeps between runs: the storage of intermediates (kept so that the
   * next run reuses the same buffers, and the device its bind groups) and the constants. The
   * VM stays usable; the next run allocates again.
   */
  releaseMemory(): void {
    for (const e of this.#cache.values()) for (const s of e.free) this.device.free(s);
    this.#cache.clear();
    for (const c of this.#constants) if (c instanceof Tensor) c.dispose();
    this.#constants = [];
    this.#ready = undefined;
  }

  async #invoke(
    fn: VMFunction,
    args: readonly VMValue[],
    parentOwned: Map<DeviceStorage, string>,
    run: RunState,
  ): Promise<VMValue> {
    const { constants, resolved } = run;
    const exec = this.executable;
    const table = exec.funcTable;
    const regs: VMValue[] = new Array(fn.numRegs).fill(null);
    args.forEach((a, i) => regs[i] = a);
    // Storage this frame allocated, with its allocation site.
    const owned = new Map<DeviceStorage, string>();
    let pc = 0;
    const ctx: BuiltinContext = {
      device: this.device,
      programs: this.#programs,
      alloc: (dtype, size) => {
        const site = `${fn.name}:${pc}`;
        const s = this.#acquire(site, dtype, size);
        owned.set(s, site);
        return s;
      },
      release: (s) => {
        const site = owned.get(s);
        if (site === undefined) return;
        owned.delete(s);
        this.#recycle(site, s);
      },
    };
    const read = (o: Operand): VMValue => {
      switch (o.kind) {
        case "reg":
          return regs[o.index]!;
        case "imm":
          return o.value;
        case "const":
          return constants[o.index]!;
        default:
          o satisfies never;
          return null;
      }
    };
    try {
      const code = fn.code;
      for (;;) {
        const ins = code[pc]!;
        switch (ins.op) {
          case "call": {
            const argv = ins.args.map(read);
            const e = table[ins.func]!;
            let r: VMValue | void | PromiseLike<VMValue | void>;
            if (e.kind === "vm") {
              r = this.#invoke(exec.functionAt(e.index), argv, owned, run);
            } else if (e.kind === "prim") {
              this.#callPrim(e.name, argv);
              r = null;
            } else {
              const res = resolved[ins.func];
              if (!res) {
                throw new Error(`Function "${fn.name}" calls "${e.name}", which was not resolved`);
              }
              r = res.kind === "builtin" ? res.fn(ctx, argv) : res.fn(...argv);
            }
            const v = isThenable(r) ? await r : r;
            if (ins.dst >= 0) regs[ins.dst] = v ?? null;
            pc++;
            break;
          }
          case "ret": {
            const value = read(ins.value);
            const keep = storagesOf(value, new Set());
            for (const [s, site] of owned) {
              if (keep.has(s)) parentOwned.set(s, site);
              else this.#recycle(site, s);
            }
            owned.clear();
            return value;
          }
          case "goto":
            pc += ins.offset;
            break;
          case "if":
            pc += regs[ins.cond] ? 1 : ins.falseOffset;
            break;
          default:
            ins satisfies never;
            throw new Error(`Unknown instruction in "${fn.name}"`);
        }
      }
    } catch (e) {
      for (const s of owned.keys()) this.device.free(s);
      throw e;
    }
  }
}
