/**
 * Devices: where tensors live and kernels run. A device allocates storage, moves data in and
 * out, and dispatches compiled kernels; `WebGPUDevice` runs WGSL, `CpuDevice` runs JS kernels.
 *
 * @module
 */

import type { ScalarDType, TypedArray } from "../ir/dtype.ts";
import type { Target } from "../transform/target.ts";
import type { CompiledKernel } from "./kernel_abi.ts";

/** The kinds of device. */
export type DeviceKind = "webgpu" | "cpu";

/** Memory a device allocated for a tensor; opaque outside the device that made it. */
export interface DeviceStorage {
  /** The device that owns the memory. */
  readonly device: Device;
  /** The element type. */
  readonly dtype: ScalarDType;
  /** Number of elements. */
  readonly size: number;
}

/** A place where tensors live and kernels run. */
export interface Device {
  /** `"webgpu"` or `"cpu"`. */
  readonly kind: DeviceKind;
  /** A human-readable description (the adapter's, for WebGPU). */
  readonly name: string;
  /** What code generation may assume about this device. */
  readonly target: Target;
  /** Allocates storage for `size` elements of `dtype` (contents unspecified). */
  alloc(dtype: ScalarDType, size: number): DeviceStorage;
  /** Copies host data (laid out as `allocTypedArray(dtype)` lays it out) into storage. */
  write(storage: DeviceStorage, data: TypedArray): void;
  /** Reads storage back to a new host array, after all work queued before the call. */
  read(storage: DeviceStorage): Promise<TypedArray>;
  /** Returns storage to the device; it must not be used afterwards. */
  free(storage: DeviceStorage): void;
  /** Compiles a kernel ahead of its first dispatch (WebGPU builds its pipeline asynchronously). */
  prepare(kernel: CompiledKernel): Promise<void>;
  /**
   * Runs a kernel: `buffers` for its buffer parameters in order, `values` for its variables in
   * order. A WebGPU device allocates the kernel's workspaces itself.
   * Arguments are not checked here; `launchKernel` checks them.
   */
  dispatch(
    kernel: CompiledKernel,
    buffers: readonly DeviceStorage[],
    values: readonly number[],
  ): void;
  /** Waits until all queued work has finished, reporting any device error. */
  sync(): Promise<void>;
}

/** The target kind whose kernels a device runs. */
export function targetKindOf(kind: DeviceKind): "webgpu" | "js" {
  return kind === "cpu" ? "js" : "webgpu";
}
