/**
 * The CPU device: tensors in host typed arrays, kernels compiled to JavaScript.
 *
 * Running a JS kernel compiles its source with `new Function`, i.e. evaluates generated code.
 * Kernels produced by `compileKernel` are safe; do not dispatch kernels from untrusted files.
 *
 * @module
 */

import { allocTypedArray, type ScalarDType, type TypedArray } from "../../ir/dtype.ts";
import { makeTarget, type Target } from "../../transform/target.ts";
import type { Device, DeviceStorage } from "../device.ts";
import type { CompiledKernel } from "../kernel_abi.ts";

/** Storage of the CPU device: a host typed array. */
export class CpuStorage implements DeviceStorage {
  /** Creates storage over `array`. */
  constructor(
    readonly device: CpuDevice,
    readonly dtype: ScalarDType,
    readonly size: number,
    readonly array: TypedArray,
  ) {}
}

type JsKernel = (bufs: readonly TypedArray[], vals: readonly number[]) => void;

/** A device that runs kernels as JavaScript over typed arrays, synchronously. */
export class CpuDevice implements Device {
  /** Always `"cpu"`. */
  readonly kind = "cpu" as const;
  /** `"cpu"`. */
  readonly name = "cpu";
  /** The `js` target. */
  readonly target: Target = makeTarget("js");
  #kernels = new Map<string, JsKernel>();

  /** Allocates zeroed storage. */
  alloc(dtype: ScalarDType, size: number): CpuStorage {
    return new CpuStorage(this, dtype, size, allocTypedArray(dtype, size));
  }

  /** Copies `data` into the storage. */
  write(storage: DeviceStorage, data: TypedArray): void {
    const s = this.#own(storage);
    if (data.length !== s.size) {
      throw new Error(`Cannot write ${data.length} elements into storage of ${s.size}`);
    }
    (s.array as Float64Array).set(data as Float64Array);
  }

  /** A copy of the storage's contents. */
  read(storage: DeviceStorage): Promise<TypedArray> {
    return Promise.resolve(this.#own(storage).array.slice());
  }

  /** Nothing to do: the garbage collector reclaims host arrays. */
  free(storage: DeviceStorage): void {
    this.#own(storage);
  }

  /** Compiles the kernel's JavaScript (see the module note on evaluating generated code). */
  prepare(kernel: CompiledKernel): Promise<void> {
    try {
      this.#compile(kernel);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Runs the kernel to completion. */
  dispatch(
    kernel: CompiledKernel,
    buffers: readonly DeviceStorage[],
    values: readonly number[],
  ): void {
    const fn = this.#compile(kernel);
    fn(buffers.map((b) => this.#own(b).array), values);
  }

  /** Nothing is ever pending on the CPU. */
  sync(): Promise<void> {
    return Promise.resolve();
  }

  #compile(kernel: CompiledKernel): JsKernel {
    if (kernel.target !== "js") {
      throw new Error(
        `Kernel "${kernel.name}" was compiled for ${kernel.target}, not for the cpu device`,
      );
    }
    let fn = this.#kernels.get(kernel.source);
    if (!fn) {
      fn = new Function(kernel.source)() as JsKernel;
      this.#kernels.set(kernel.source, fn);
    }
    return fn;
  }

  #own(storage: DeviceStorage): CpuStorage {
    if (!(storage instanceof CpuStorage) || storage.device !== this) {
      throw new Error(`Storage on ${storage.device.name} cannot be used on the cpu device`);
    }
    return storage;
  }
}

let shared: CpuDevice | undefined;

/** The shared CPU device (the default device of tensors). */
export function cpu(): CpuDevice {
  return shared ??= new CpuDevice();
}
