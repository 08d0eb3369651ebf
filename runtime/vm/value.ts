/**
 * Values the VM's registers hold and its functions take and return: tensors, shapes, tuples
 * (arrays), numbers, strings (dtypes and names), storage and the shape heap.
 *
 * @module
 */

import type { DeviceStorage } from "../device.ts";
import { formatDims, Tensor } from "../tensor.ts";

/** A shape value (`R.Shape`): a list of non-negative integers. */
export class Shape {
  /** The dimensions. */
  readonly dims: readonly number[];

  /** A shape of `dims`. */
  constructor(dims: readonly number[]) {
    this.dims = Object.freeze([...dims]);
  }

  /** `(2, 3)` */
  toString(): string {
    return formatDims(this.dims);
  }
}

/** Device memory that tensors are placed in (`R.memory.alloc_storage`). */
export class Storage {
  /** The device memory. */
  readonly storage: DeviceStorage;

  /** Wraps device memory. */
  constructor(storage: DeviceStorage) {
    this.storage = storage;
  }
}

/** A VM value. Tuples are arrays; `R.Prim` values are numbers (booleans for `bool`). */
export type VMValue =
  | Tensor
  | Shape
  | Storage
  | number
  | boolean
  | string
  | Float64Array
  | null
  | readonly VMValue[];

/** Describes a value for error messages: `a tensor of shape (7, 785) and dtype float32`. */
export function describeValue(v: unknown): string {
  if (v instanceof Tensor) return `a tensor of shape ${formatDims(v.shape)} and dtype ${v.dtype}`;
  if (v instanceof Shape) return `the shape ${v}`;
  if (v instanceof Storage) return "a storage";
  if (Array.isArray(v)) return `a tuple of ${v.length} fields`;
  if (typeof v === "number" || typeof v === "boolean") return `the ${typeof v} ${v}`;
  if (typeof v === "string") return `the string "${v}"`;
  if (v === null) return "null";
  if (v === undefined) return "undefined";
  if (v instanceof Float64Array) return "a shape heap";
  return `a ${typeof v}`;
}
