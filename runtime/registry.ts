/**
 * The function registry (the FFI): JavaScript functions, or hand-written kernels, registered
 * under a name that Relax calls with `R.call_packed("name", ...)` (the function returns its
 * result) or `R.call_dps_packed("name", (args...), out_sinfo)` (the VM allocates the outputs
 * and passes them after the inputs; the function writes them).
 *
 * Adding an operator is two steps: implement it (a te compute, a TIR PrimFunc, or a function
 * registered here), then call it from Relax.
 *
 * ```ts
 * registerFunction("my.scale", async (x, out) => { ... });        // DPS: writes `out`
 * registerKernel("my.add", addWgslKernel);                          // a WGSL kernel, DPS
 * bb.emit(callDPSPacked("my.add", [x, y], R.Tensor([n], "float32")));
 * ```
 *
 * Functions receive VM values: tensors, shapes, tuples (arrays), numbers and strings. They may
 * be async (the VM awaits them), but awaiting a tensor's data flushes the pending GPU work
 * (prefer kernels to reading back). Tensors the VM passes are valid for the duration of the
 * call; a function that returns a new tensor should allocate it on the device of its inputs.
 *
 * @module
 */

import { isFloat, isUInt, type ScalarDType } from "../ir/dtype.ts";
import type { CompiledKernel, KernelExpr, KernelParam, KernelVar } from "./kernel_abi.ts";
import { type KernelArg, launchKernel } from "./kernel.ts";
import { Tensor } from "./tensor.ts";
import { Shape, type VMValue } from "./vm/value.ts";

/** A registered function. Returning `undefined` gives `null` in the VM. */
export type PackedFunction = (
  ...args: VMValue[]
) => VMValue | void | Promise<VMValue | void>;

/** Options of {@link registerFunction}. */
export interface RegisterOptions {
  /** Replace a function already registered under the name (default false: throw). */
  readonly override?: boolean;
}

const registry = new Map<string, PackedFunction>();

/** Names reserved for the VM's own builtins. */
const RESERVED = "vm.builtin.";

/**
 * Registers `fn` under `name`. Throws when the name is taken (unless `override`) or reserved
 * (`vm.builtin.*`).
 */
export function registerFunction(
  name: string,
  fn: PackedFunction,
  options: RegisterOptions = {},
): void {
  if (typeof name !== "string" || name === "") {
    throw new Error("registerFunction: the name must be a non-empty string");
  }
  if (typeof fn !== "function") {
    throw new Error(`registerFunction("${name}"): expected a function, got ${typeof fn}`);
  }
  if (name.startsWith(RESERVED)) {
    throw new Error(`registerFunction("${name}"): names starting with "${RESERVED}" are reserved`);
  }
  if (registry.has(name) && !options.override) {
    throw new Error(
      `A function named "${name}" is already registered; pass { override: true } to replace it`,
    );
  }
  registry.set(name, fn);
}

/** The function registered under `name`, or `undefined`. */
export function getRegisteredFunction(name: string): PackedFunction | undefined {
  return registry.get(name);
}

/** Removes the function registered under `name`; returns whether there was one. */
export function unregisterFunction(name: string): boolean {
  return registry.delete(name);
}

/** Names of all registered functions, sorted. */
export function listRegisteredFunctions(): string[] {
  return [...registry.keys()].sort();
}

/**
 * Registers compiled kernels (one per target; e.g. a hand-written WGSL kernel and a JS twin) as
 * a destination-passing function: the VM passes the tensors (inputs, then outputs) and any
 * numbers, and the kernel for the tensors' device is launched with them (arguments are checked
 * against the kernel's parameters). Shapes passed as arguments are expanded into their
 * dimensions. Throws if two kernels share a target.
 */
export function registerKernel(
  name: string,
  kernels: CompiledKernel | readonly CompiledKernel[],
  options: RegisterOptions = {},
): void {
  const list: readonly CompiledKernel[] = Array.isArray(kernels)
    ? kernels
    : [kernels as CompiledKernel];
  if (list.length === 0) throw new Error(`registerKernel("${name}"): no kernel given`);
  const byTarget = new Map<string, CompiledKernel>();
  for (const k of list) {
    if (byTarget.has(k.target)) {
      throw new Error(`registerKernel("${name}"): two kernels for the ${k.target} target`);
    }
    byTarget.set(k.target, k);
  }
  registerFunction(name, (...args) => {
    const flat: KernelArg[] = [];
    for (const a of args) {
      if (a instanceof Shape) flat.push(...a.dims);
      else if (a instanceof Tensor || typeof a === "number" || typeof a === "boolean") flat.push(a);
      else throw new Error(`Kernel function "${name}" takes tensors, numbers and shapes`);
    }
    const t = flat.find((a): a is Tensor => a instanceof Tensor);
    if (!t) throw new Error(`Kernel function "${name}" was called without tensors`);
    const want = t.device.kind === "cpu" ? "js" : "webgpu";
    const k = byTarget.get(want);
    if (!k) {
      throw new Error(
        `Kernel function "${name}" has no kernel for ${t.device.name} (${want}); it has: ${
          [...byTarget.keys()].join(", ")
        }`,
      );
    }
    launchKernel(k, flat);
  }, options);
}

/** A tensor parameter of a hand-written kernel. */
export interface WgslTensorParam {
  /** The parameter's name, for messages. */
  readonly name: string;
  /** The element type. */
  readonly dtype: ScalarDType;
  /** The shape: numbers and variable names (`["n", 4]`); a name's first use defines it. */
  readonly shape: readonly KernelExpr[];
  /** Whether the kernel only reads the tensor (default false). */
  readonly readOnly?: boolean;
}

/** A scalar parameter of a hand-written kernel. */
export interface WgslScalarParam {
  /** The parameter's name (also the variable name grid expressions use). */
  readonly name: string;
  /** The value's type. */
  readonly dtype: ScalarDType;
  /** Marks a scalar. */
  readonly scalar: true;
}

/** The description of a hand-written WGSL kernel, for {@link wgslKernel}. */
export interface WgslKernelSpec {
  /** The kernel's name. */
  readonly name: string;
  /**
   * WGSL with entry point `main`. Tensor parameters are `var<storage>` arrays at
   * `@group(0) @binding(i)` in parameter order; when the kernel has variables (the shape
   * variables in order of first appearance, then the scalar parameters), a `var<uniform>`
   * struct with one 4-byte member per variable in that order (`i32` for signed integers, `u32`
   * for unsigned, `f32` for floats) follows at the next binding.
   */
  readonly source: string;
  /** Parameters in call order. */
  readonly params: readonly (WgslTensorParam | WgslScalarParam)[];
  /** Threads per workgroup, as in `@workgroup_size`. */
  readonly workgroupSize: readonly [number, number, number];
  /** Workgroups to dispatch in x, y, z, as expressions over the kernel's variables. */
  readonly grid: readonly [KernelExpr, KernelExpr, KernelExpr];
}

/**
 * A compiled kernel made from hand-written WGSL, ready for {@link registerKernel} or
 * `launchKernel`.
 *
 * @example
 * ```ts
 * const k = wgslKernel({
 *   name: "scale2", workgroupSize: [64, 1, 1], grid: [["floordiv", ["add", "n", 63], 64], 1, 1],
 *   params: [{ name: "x", dtype: "float32", shape: ["n"], readOnly: true },
 *            { name: "y", dtype: "float32", shape: ["n"] }],
 *   source: `struct P { n: i32 }
 *     @group(0) @binding(0) var<storage, read> x: array<f32>;
 *     @group(0) @binding(1) var<storage, read_write> y: array<f32>;
 *     @group(0) @binding(2) var<uniform> p: P;
 *     @compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>) {
 *       let i = i32(g.x); if (i < p.n) { y[i] = 2.0 * x[i]; } }`,
 * });
 * registerKernel("my.scale2", k);
 * ```
 */
export function wgslKernel(spec: WgslKernelSpec): CompiledKernel {
  const vars: KernelVar[] = [];
  const varIndex = (name: string, dtype: ScalarDType): number => {
    let i = vars.findIndex((v) => v.name === name);
    if (i < 0) {
      i = vars.length;
      vars.push({ name, dtype });
    }
    return i;
  };
  const params: KernelParam[] = [];
  let binding = 0;
  for (const p of spec.params) {
    if ("scalar" in p) continue;
    for (const d of p.shape) if (typeof d === "string") varIndex(d, "int32");
    params.push({
      kind: "buffer",
      name: p.name,
      dtype: p.dtype,
      shape: p.shape,
      binding: binding++,
      readOnly: p.readOnly ?? false,
    });
  }
  const ordered: KernelParam[] = [];
  let b = 0;
  for (const p of spec.params) {
    if ("scalar" in p) {
      if (vars.some((v) => v.name === p.name)) {
        throw new Error(`wgslKernel "${spec.name}": scalar "${p.name}" is also a shape variable`);
      }
      ordered.push({
        kind: "scalar",
        name: p.name,
        dtype: p.dtype,
        var: varIndex(p.name, p.dtype),
      });
    } else {
      ordered.push(params[b++]!);
    }
  }
  const buffers = params as Extract<KernelParam, { kind: "buffer" }>[];
  return {
    name: spec.name,
    target: "webgpu",
    source: spec.source,
    params: ordered,
    vars,
    workspaces: [],
    stages: [{
      source: spec.source,
      bindings: buffers.map((_, i) => i),
      readOnly: buffers.map((p) => p.readOnly),
      uniforms: vars.map((v, i) => ({
        var: i,
        type: isFloat(v.dtype) ? "f32" : isUInt(v.dtype) ? "u32" : "i32",
      })),
      workgroupSize: spec.workgroupSize,
      grid: spec.grid,
      gridFold: [-1, -1, -1],
    }],
    maxGridDim: 65535,
  };
}
