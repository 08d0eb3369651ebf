/**
 * `Tensor`: an n-dimensional array on a device (the CPU by default, or a WebGPU device).
 *
 * @module
 */

import { allocTypedArray, f16Bits, type ScalarDType, type TypedArray } from "../ir/dtype.ts";
import type { Device, DeviceStorage } from "./device.ts";
import { cpu } from "./js/device.ts";

/** Options of {@link Tensor.from} and {@link Tensor.empty}. */
export interface TensorOptions {
  /** Element type; by default inferred from the typed array (`float32` for plain numbers). */
  readonly dtype?: ScalarDType;
  /** Where the tensor lives; the shared CPU device by default. */
  readonly device?: Device;
}

/** Values {@link Tensor.from} accepts. */
export type TensorData = TypedArray | readonly number[] | readonly boolean[];

function inferDType(data: TensorData): ScalarDType {
  if (data instanceof Float32Array) return "float32";
  if (data instanceof Float64Array) return "float64";
  if (data instanceof Int32Array) return "int32";
  if (data instanceof Int16Array) return "int16";
  if (data instanceof Int8Array) return "int8";
  if (data instanceof Uint32Array) return "uint32";
  if (data instanceof Uint16Array) return "uint16";
  if (data instanceof Uint8Array) return "uint8";
  if (data instanceof BigInt64Array) return "int64";
  return typeof data[0] === "boolean" ? "bool" : "float32";
}

/** Formats a shape as `(2, 3)`. */
export function formatDims(shape: readonly number[]): string {
  return `(${shape.join(", ")}${shape.length === 1 ? "," : ""})`;
}

/**
 * Converts values to the host layout of `dtype` (`allocTypedArray`'s: float16 as bit patterns,
 * bool as bytes, int64 as bigints). A `Uint16Array` given for float16 is taken as bit patterns.
 */
export function toHostArray(data: TensorData, dtype: ScalarDType): TypedArray {
  const n = data.length;
  const out = allocTypedArray(dtype, n);
  if (dtype === "float16" && !(data instanceof Uint16Array)) {
    for (let i = 0; i < n; i++) out[i] = f16Bits(Number(data[i]));
  } else if (dtype === "int64") {
    const o = out as BigInt64Array;
    if (data instanceof BigInt64Array) o.set(data);
    else for (let i = 0; i < n; i++) o[i] = BigInt(Math.trunc(Number(data[i])));
  } else if (data instanceof BigInt64Array) {
    for (let i = 0; i < n; i++) out[i] = Number(data[i]);
  } else if (dtype === "bool") {
    for (let i = 0; i < n; i++) out[i] = data[i] ? 1 : 0;
  } else {
    (out as Float64Array).set(data as ArrayLike<number>);
  }
  return out;
}

/** An n-dimensional array of one dtype on one device. */
export class Tensor {
  /** The extent of each dimension. */
  readonly shape: readonly number[];
  /** The element type. */
  readonly dtype: ScalarDType;
  /** The device holding the data. */
  readonly device: Device;
  #storage: DeviceStorage | undefined;

  /** Wraps device storage as a tensor of `shape` (use {@link Tensor.from} or {@link Tensor.empty}). */
  constructor(storage: DeviceStorage, shape: readonly number[]) {
    const n = shape.reduce((a, b) => a * b, 1);
    if (n !== storage.size) {
      throw new Error(
        `Shape ${formatDims(shape)} has ${n} elements, but the storage holds ${storage.size}`,
      );
    }
    this.shape = Object.freeze([...shape]);
    this.dtype = storage.dtype;
    this.device = storage.device;
    this.#storage = storage;
  }

  /**
   * A tensor holding a copy of `data` (row-major) on `options.device`.
   *
   * @example
   * ```ts
   * const x = Tensor.from([1, 2, 3, 4, 5, 6], [2, 3]);                 // float32 on the CPU
   * const y = Tensor.from(new Int32Array(6), [2, 3], { device: gpu }); // int32 on a GPU
   * ```
   */
  static from(data: TensorData, shape: readonly number[], options: TensorOptions = {}): Tensor {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) {
        throw new Error(`Tensor.from: invalid shape ${formatDims(shape)}`);
      }
    }
    const n = shape.reduce((a, b) => a * b, 1);
    if (data.length !== n) {
      throw new Error(
        `Tensor.from: ${data.length} values do not fill shape ${formatDims(shape)} (${n} elements)`,
      );
    }
    const dtype = options.dtype ?? inferDType(data);
    const device = options.device ?? cpu();
    const storage = device.alloc(dtype, n);
    device.write(storage, toHostArray(data, dtype));
    return new Tensor(storage, shape);
  }

  /** A tensor with unspecified contents (zeros on the CPU). */
  static empty(shape: readonly number[], options: TensorOptions = {}): Tensor {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) {
        throw new Error(`Tensor.empty: invalid shape ${formatDims(shape)}`);
      }
    }
    const device = options.device ?? cpu();
    return new Tensor(
      device.alloc(options.dtype ?? "float32", shape.reduce((a, b) => a * b, 1)),
      shape,
    );
  }

  /** The number of elements. */
  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  /** The number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }

  /** Whether {@link dispose} was called. */
  get disposed(): boolean {
    return this.#storage === undefined;
  }

  /** The device memory (throws once disposed). */
  get storage(): DeviceStorage {
    if (!this.#storage) throw new Error(`${this} was disposed`);
    return this.#storage;
  }

  /**
   * The contents as a new host array (float16 as `Uint16Array` bit patterns, bool as
   * `Uint8Array`, int64 as `BigInt64Array`). On WebGPU this waits for queued kernels.
   */
  toArray(): Promise<TypedArray> {
    return this.device.read(this.storage);
  }

  /** A copy on `device`, or this tensor itself when it already lives there. */
  async to(device: Device): Promise<Tensor> {
    if (device === this.device) return this;
    const host = await this.toArray();
    const storage = device.alloc(this.dtype, this.size);
    device.write(storage, host);
    return new Tensor(storage, this.shape);
  }

  /** Releases the device memory. Using the tensor afterwards throws. */
  dispose(): void {
    if (this.#storage) this.device.free(this.#storage);
    this.#storage = undefined;
  }

  /** `Tensor((2, 3), float32, cpu)`. */
  toString(): string {
    return `Tensor(${formatDims(this.shape)}, ${this.dtype}, ${this.device.kind})`;
  }
}
