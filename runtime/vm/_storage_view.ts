/**
 * Views of the first elements of device storage, so that tensors smaller than a planned
 * storage can live in it. Devices have no view API yet, so this knows the two device kinds'
 * storage classes; other devices get `undefined` and the VM allocates separately.
 *
 * @module
 */

import type { DeviceStorage } from "../device.ts";
import { CpuStorage } from "../js/device.ts";
import { GpuStorage } from "../webgpu/device.ts";

/** Storage for the first `size` elements of `s`, or `undefined` when the device has no views. */
export function storageView(s: DeviceStorage, size: number): DeviceStorage | undefined {
  if (size === s.size) return s;
  if (s instanceof GpuStorage) return new GpuStorage(s.device, s.dtype, size, s.pooled);
  if (s instanceof CpuStorage) {
    return new CpuStorage(s.device, s.dtype, size, s.array.subarray(0, size));
  }
  return undefined;
}
