/**
 * `Executable`: what `build` produces and a `VirtualMachine` runs: bytecode functions, the
 * function table their calls index, a constant pool, and one compiled kernel per PrimFunc. It
 * is plain data: {@link Executable.serialize} writes JSON and {@link Executable.load} reads it
 * back.
 *
 * Kernels for the `js` target are JavaScript source that the CPU device evaluates, so loading
 * an executable that carries them requires `{ allowJsKernels: true }`: pass it only for files
 * you trust. WGSL kernels run sandboxed on the GPU and need no such opt-in.
 *
 * @module
 */

import { allocTypedArray, type DType, isScalarDType, type TypedArray } from "../../ir/dtype.ts";
import type { NDArray } from "../../ir/relax/expr.ts";
import type { TargetKind } from "../../transform/target.ts";
import type { CompiledKernel } from "../kernel_abi.ts";
import { formatDims } from "../tensor.ts";
import { formatFunction, type FuncEntry, validateFunction, type VMFunction } from "./bytecode.ts";

/** An entry of the constant pool. */
export type VMConstant =
  | { readonly kind: "tensor"; readonly value: NDArray }
  | { readonly kind: "shape"; readonly dims: readonly number[] }
  | { readonly kind: "string"; readonly value: string }
  | { readonly kind: "number"; readonly value: number };

/** The parts of an executable. */
export interface ExecutableParts {
  /** The target its kernels were compiled for. */
  readonly target: TargetKind;
  /** Bytecode functions (the table's `vm` entries index them). */
  readonly functions: readonly VMFunction[];
  /** What `call` instructions call. */
  readonly funcTable: readonly FuncEntry[];
  /** The constant pool. */
  readonly constants: readonly VMConstant[];
  /** One compiled kernel per PrimFunc, by the PrimFunc's name. */
  readonly kernels: ReadonlyMap<string, CompiledKernel>;
}

/** Options of {@link Executable.load}. */
export interface LoadOptions {
  /**
   * Allow kernels of the `js` target, whose source the CPU device evaluates as JavaScript.
   * Only for executables from a trusted source.
   */
  readonly allowJsKernels?: boolean;
}

const FORMAT = "tvmts-executable";
const VERSION = 1;

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function bytesOf(a: TypedArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** A compiled module: bytecode, constants and kernels. */
export class Executable {
  /** The target its kernels were compiled for. */
  readonly target: TargetKind;
  /** Bytecode functions by name. */
  readonly functions: ReadonlyMap<string, VMFunction>;
  /** The function table `call` instructions index. */
  readonly funcTable: readonly FuncEntry[];
  /** The constant pool. */
  readonly constants: readonly VMConstant[];
  /**
   * One compiled kernel per PrimFunc, by name. A PrimFunc can be run through the VM
   * (`vm.run("add", a, b, c)`) or launched directly (`launchKernel(exec.kernels.get("add")!,
   * [a, b, c])`).
   */
  readonly kernels: ReadonlyMap<string, CompiledKernel>;
  readonly #byIndex: readonly VMFunction[];

  /** An executable of the given parts; checks every function's code. */
  constructor(parts: ExecutableParts) {
    this.target = parts.target;
    this.funcTable = parts.funcTable;
    this.constants = parts.constants;
    this.kernels = parts.kernels;
    this.#byIndex = parts.functions;
    const fns = new Map<string, VMFunction>();
    for (const f of parts.functions) {
      validateFunction(f, { numFuncs: parts.funcTable.length, numConsts: parts.constants.length });
      fns.set(f.name, f);
    }
    this.functions = fns;
    parts.funcTable.forEach((e, i) => {
      if (e.kind === "vm" && parts.functions[e.index]?.name !== e.name) {
        throw new Error(
          `Function table entry ${i} names VM function "${e.name}", which is missing`,
        );
      }
      if (e.kind === "prim" && !parts.kernels.has(e.name)) {
        throw new Error(
          `Function table entry ${i} names PrimFunc "${e.name}", which has no kernel`,
        );
      }
    });
    for (const [name, k] of parts.kernels) {
      if (k.target !== parts.target) {
        throw new Error(
          `Kernel "${name}" was compiled for ${k.target}, but the executable targets ${parts.target}`,
        );
      }
    }
  }

  /** The bytecode function at `index` of the functions list. */
  functionAt(index: number): VMFunction {
    const f = this.#byIndex[index];
    if (!f) throw new Error(`The executable has no VM function ${index}`);
    return f;
  }

  /** Names of everything `VirtualMachine.run` can call: Relax functions, then PrimFuncs. */
  functionNames(): string[] {
    return [...this.functions.keys(), ...this.kernels.keys()];
  }

  /** The bytecode of every function, the function table and the constants, as text. */
  toString(): string {
    const consts = this.constants.map((c, i) => `  c${i}: ${formatConstant(c)}`);
    const kernels = [...this.kernels.values()].map((k) =>
      `  ${k.name} (${k.params.map((p) => p.name).join(", ")})`
    );
    return [
      `executable for ${this.target}`,
      ...[...this.functions.values()].map((f) => formatFunction(f, this.funcTable)),
      `constants:`,
      ...consts,
      `kernels:`,
      ...kernels,
    ].join("\n");
  }

  /** The executable as JSON text (tensor constants as base64). */
  serialize(): string {
    const constants = this.constants.map((c) =>
      c.kind === "tensor"
        ? {
          kind: "tensor",
          dtype: c.value.dtype,
          shape: c.value.shape,
          data: toBase64(bytesOf(c.value.data)),
        }
        : c
    );
    return JSON.stringify({
      format: FORMAT,
      version: VERSION,
      target: this.target,
      functions: this.#byIndex,
      funcTable: this.funcTable,
      constants,
      kernels: [...this.kernels.values()],
    });
  }

  /**
   * Reads an executable written by {@link Executable.serialize}, checking its structure. An
   * executable with JavaScript kernels needs `{ allowJsKernels: true }`.
   */
  static load(text: string, options: LoadOptions = {}): Executable {
    const fail = (what: string): never => {
      throw new Error(`Cannot load executable: ${what}`);
    };
    let raw: Record<string, unknown>;
    try {
      raw = JSON.parse(text);
    } catch (e) {
      return fail(`not JSON (${(e as Error).message})`);
    }
    if (raw === null || typeof raw !== "object" || raw.format !== FORMAT) {
      fail(`not a ${FORMAT} file`);
    }
    if (raw.version !== VERSION) {
      fail(`version ${raw.version} is not supported (expected ${VERSION})`);
    }
    const target = raw.target;
    if (target !== "webgpu" && target !== "js") fail(`unknown target ${JSON.stringify(target)}`);
    for (const k of ["functions", "funcTable", "constants", "kernels"]) {
      if (!Array.isArray(raw[k])) fail(`"${k}" must be a list`);
    }
    const kernels = new Map<string, CompiledKernel>();
    for (const k of raw.kernels as CompiledKernel[]) {
      if (typeof k?.name !== "string" || typeof k.source !== "string" || !Array.isArray(k.params)) {
        fail("a kernel lacks its name, source or parameters");
      }
      if (k.target === "js" && !options.allowJsKernels) {
        fail(
          `kernel "${k.name}" is JavaScript, which running evaluates; pass { allowJsKernels: true } if you trust the file`,
        );
      }
      kernels.set(k.name, k);
    }
    const constants = (raw.constants as Record<string, unknown>[]).map((c, i): VMConstant => {
      switch (c?.kind) {
        case "tensor": {
          const dtype = String(c.dtype);
          const shape = c.shape as number[];
          if (!isScalarDType(dtype) || !Array.isArray(shape)) {
            fail(`constant ${i} is not a valid tensor`);
          }
          const n = shape.reduce((a, b) => a * b, 1);
          const data = allocTypedArray(dtype as DType, n);
          const bytes = fromBase64(String(c.data));
          if (bytes.length !== data.byteLength) {
            fail(
              `constant ${i} of shape ${
                formatDims(shape)
              } has ${bytes.length} bytes, expected ${data.byteLength}`,
            );
          }
          bytesOf(data).set(bytes);
          return { kind: "tensor", value: { dtype: dtype as DType, shape, data } };
        }
        case "shape":
        case "string":
        case "number":
          return c as unknown as VMConstant;
        default:
          return fail(`constant ${i} has unknown kind ${JSON.stringify(c?.kind)}`);
      }
    });
    try {
      return new Executable({
        target: target as TargetKind,
        functions: raw.functions as VMFunction[],
        funcTable: raw.funcTable as FuncEntry[],
        constants,
        kernels,
      });
    } catch (e) {
      return fail((e as Error).message);
    }
  }
}

/** A constant as text: `tensor (2, 3) float32`, `shape (4,)`, `"float32"`, `1.5`. */
export function formatConstant(c: VMConstant): string {
  switch (c.kind) {
    case "tensor":
      return `tensor ${formatDims(c.value.shape)} ${c.value.dtype}`;
    case "shape":
      return `shape ${formatDims(c.dims)}`;
    case "string":
      return JSON.stringify(c.value);
    case "number":
      return String(c.value);
    default:
      c satisfies never;
      return "?";
  }
}
