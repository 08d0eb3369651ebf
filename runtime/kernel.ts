/**
 * Compiling a lowered PrimFunc for a target, and launching the result on a device with
 * tensors and numbers, checking every argument against the kernel's signature.
 *
 * @example
 * ```ts
 * const gpu = await webgpu();
 * const k = compileKernel(lowered, gpu.target);
 * const a = Tensor.from(x, [8, 64], { device: gpu });
 * const c = Tensor.empty([8, 64], { device: gpu });
 * launchKernel(k, [a, a, c]);
 * console.log(await c.toArray());
 * ```
 *
 * @module
 */

import { isInt, isUInt } from "../ir/dtype.ts";
import type { PrimFunc } from "../ir/tir/prim_func.ts";
import type { Target } from "../transform/target.ts";
import { type Device, type DeviceStorage, targetKindOf } from "./device.ts";
import { generateJs } from "./js/codegen.ts";
import { type CompiledKernel, evalKernelExpr, formatShape, type KernelExpr } from "./kernel_abi.ts";
import { formatDims, Tensor } from "./tensor.ts";
import { generateWgsl } from "./webgpu/codegen.ts";

export type { CompiledKernel } from "./kernel_abi.ts";

/** Options of {@link compileKernel}. */
export interface CompileKernelOptions {
  /** The kernel's name (default: the `global_symbol` attribute, else `"kernel"`). */
  readonly name?: string;
}

/**
 * Generates code for a lowered PrimFunc (no blocks; thread-bound loops; flat buffers): WGSL for
 * a `webgpu` target, JavaScript for a `js` target.
 */
export function compileKernel(
  f: PrimFunc,
  target: Target,
  options: CompileKernelOptions = {},
): CompiledKernel {
  switch (target.kind) {
    case "webgpu":
      return generateWgsl(f, target, options);
    case "js":
      return generateJs(f, target, options);
    default:
      target.kind satisfies never;
      throw new Error(`Unknown target "${target.kind}"`);
  }
}

/** An argument of a kernel: a tensor for a buffer parameter, a number for a scalar. */
export type KernelArg = Tensor | number | boolean;

/** Options of {@link launchKernel} and {@link bindKernelArgs}. */
export interface LaunchOptions {
  /** The device to run on; by default the device of the tensor arguments. */
  readonly device?: Device;
}

/** Checked arguments, ready for `Device.dispatch`. */
export interface BoundArgs {
  /** The device the arguments live on. */
  readonly device: Device;
  /** Storage of the buffer parameters, in parameter order. */
  readonly buffers: readonly DeviceStorage[];
  /** Values of the kernel's variables, in order. */
  readonly values: readonly number[];
}

function describe(x: unknown): string {
  if (x instanceof Tensor) return "a tensor";
  if (typeof x === "number" || typeof x === "boolean") return `the ${typeof x} ${x}`;
  return x === undefined ? "undefined" : x === null ? "null" : `a ${typeof x}`;
}

/**
 * Checks arguments against a kernel's signature and derives its variables: the argument count,
 * the kind, dtype and rank of each argument, constant dimensions, agreement of symbolic
 * dimensions (`n` of `A` and of `B`), the device, and 32-bit limits on WebGPU. Errors name the
 * parameter, the expected and the actual value.
 */
export function bindKernelArgs(
  kernel: CompiledKernel,
  args: readonly KernelArg[],
  options: LaunchOptions = {},
): BoundArgs {
  const k = `Kernel "${kernel.name}"`;
  if (args.length !== kernel.params.length) {
    throw new Error(
      `${k} expects ${kernel.params.length} arguments (${
        kernel.params.map((p) => p.name).join(", ")
      }), got ${args.length}`,
    );
  }
  let device = options.device;
  let deviceFrom = "options.device is";
  const values: Record<string, number> = {};
  const buffers: DeviceStorage[] = [];
  // Tensors first: their shapes define the symbolic variables.
  kernel.params.forEach((p, i) => {
    if (p.kind !== "buffer") return;
    const a = args[i];
    if (!(a instanceof Tensor)) {
      throw new Error(`${k}: parameter "${p.name}" expects a tensor, got ${describe(a)}`);
    }
    if (a.disposed) throw new Error(`${k}: parameter "${p.name}" was disposed`);
    if (!device) {
      device = a.device;
      deviceFrom = `"${p.name}" is on`;
    } else if (a.device !== device) {
      throw new Error(
        `${k}: parameter "${p.name}" is on ${a.device.name}, but ${deviceFrom} ${device.name}`,
      );
    }
    if (a.dtype !== p.dtype) {
      throw new Error(`${k}: parameter "${p.name}" expects ${p.dtype}, got ${a.dtype}`);
    }
    if (a.rank !== p.shape.length) {
      throw new Error(
        `${k}: parameter "${p.name}" expects rank ${p.shape.length} ${
          formatShape(p.shape)
        }, got rank ${a.rank} ${formatDims(a.shape)}`,
      );
    }
    p.shape.forEach((d, j) => {
      if (typeof d === "string" && values[d] === undefined) values[d] = a.shape[j]!;
    });
    buffers.push(a.storage);
  });
  kernel.params.forEach((p, i) => {
    if (p.kind !== "scalar") return;
    const a = args[i];
    if (typeof a !== "number" && typeof a !== "boolean") {
      throw new Error(`${k}: parameter "${p.name}" expects a number, got ${describe(a)}`);
    }
    const v = Number(a);
    if ((isInt(p.dtype) || isUInt(p.dtype)) && !Number.isInteger(v)) {
      throw new Error(`${k}: parameter "${p.name}" expects an integer (${p.dtype}), got ${v}`);
    }
    const name = kernel.vars[p.var]!.name;
    if (values[name] !== undefined && values[name] !== v) {
      throw new Error(
        `${k}: parameter "${p.name}" is ${v}, but the shapes give ${name} = ${values[name]}`,
      );
    }
    values[name] = v;
  });
  if (!device) throw new Error(`${k} has no tensor arguments: pass the device in the options`);
  const want = targetKindOf(device.kind);
  if (want !== kernel.target) {
    throw new Error(
      `${k} was compiled for ${kernel.target}, but its arguments are on ${device.name} (${want})`,
    );
  }
  // Every dimension must match, now that all variables are known.
  kernel.params.forEach((p, i) => {
    if (p.kind !== "buffer") return;
    const a = args[i] as Tensor;
    const expected = p.shape.map((d) => evalDim(kernel, d, values));
    if (expected.some((d, j) => d !== a.shape[j])) {
      const symbolic = p.shape.some((d) => typeof d !== "number");
      throw new Error(
        `${k}: parameter "${p.name}" expects shape ${formatShape(p.shape)}${
          symbolic ? ` = ${formatDims(expected)}` : ""
        }, got ${formatDims(a.shape)}`,
      );
    }
    if (kernel.target === "webgpu" && a.size >= 2 ** 31) {
      throw new Error(
        `${k}: parameter "${p.name}" has ${a.size} elements, more than 32-bit indexing allows`,
      );
    }
  });
  const out = kernel.vars.map((v) => {
    const x = values[v.name];
    if (x === undefined) throw new Error(`${k}: cannot determine "${v.name}" from the arguments`);
    const [lo, hi] = isUInt(v.dtype) ? [0, 2 ** 32] : [-(2 ** 31), 2 ** 31];
    if (kernel.target === "webgpu" && isInt(v.dtype) && (x < lo || x >= hi)) {
      throw new Error(`${k}: ${v.name} = ${x} does not fit in 32 bits`);
    }
    return x;
  });
  return { device, buffers, values: out };
}

function evalDim(kernel: CompiledKernel, d: KernelExpr, values: Record<string, number>): number {
  try {
    return evalKernelExpr(d, values);
  } catch {
    throw new Error(`Kernel "${kernel.name}": cannot evaluate dimension ${formatShape([d])}`);
  }
}

/**
 * Checks the arguments and runs the kernel on their device. On WebGPU the dispatch is recorded
 * and runs when results are read (`toArray`) or the device is synced.
 */
export function launchKernel(
  kernel: CompiledKernel,
  args: readonly KernelArg[],
  options: LaunchOptions = {},
): void {
  const { device, buffers, values } = bindKernelArgs(kernel, args, options);
  device.dispatch(kernel, buffers, values);
}

/** Compiles the kernel on a device ahead of its first launch (a WebGPU pipeline, built asynchronously). */
export function prepareKernel(kernel: CompiledKernel, device: Device): Promise<void> {
  return device.prepare(kernel);
}
