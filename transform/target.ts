/**
 * Compilation targets: what a schedule rule or code generator may assume about the device.
 *
 * @module
 */

/** The kinds of target the compiler generates code for. */
export type TargetKind = "webgpu" | "js";

/** A compilation target and the device limits that shape schedules and code. */
export interface Target {
  /** The kind of target. */
  readonly kind: TargetKind;
  /** Maximum threads in one workgroup (product of the workgroup size). */
  readonly maxThreadsPerBlock: number;
  /** Maximum workgroup size per dimension. */
  readonly maxThreadsPerDim: readonly [number, number, number];
  /** Bytes of workgroup (shared) memory per workgroup. */
  readonly maxSharedMemoryBytes: number;
  /** Maximum workgroups per dispatch dimension. */
  readonly maxGridDim: number;
  /** Storage buffers one kernel may bind. */
  readonly maxStorageBuffers: number;
  /** Whether `f16` arithmetic is available (`shader-f16`). */
  readonly supportsF16: boolean;
  /** Whether subgroup operations are available. */
  readonly supportsSubgroups: boolean;
  /**
   * Whether the adapter is a software fallback (llvmpipe, lavapipe): there workgroup barriers
   * are expensive, so rules prefer register tiling to shared-memory staging.
   */
  readonly isFallbackAdapter: boolean;
}

/** Options of {@link makeTarget}: any limit to override. */
export type TargetOptions = Partial<Omit<Target, "kind">>;

/**
 * A target with WebGPU's default limits (256 threads, 16 KiB workgroup memory, 65535 workgroups
 * per dimension, 8 storage buffers) unless overridden, e.g. by the adapter's real limits.
 */
export function makeTarget(kind: TargetKind, options: TargetOptions = {}): Target {
  return {
    kind,
    maxThreadsPerBlock: options.maxThreadsPerBlock ?? 256,
    maxThreadsPerDim: options.maxThreadsPerDim ?? [256, 256, 64],
    maxSharedMemoryBytes: options.maxSharedMemoryBytes ?? 16384,
    maxGridDim: options.maxGridDim ?? 65535,
    maxStorageBuffers: options.maxStorageBuffers ?? 8,
    supportsF16: options.supportsF16 ?? (kind === "js"),
    supportsSubgroups: options.supportsSubgroups ?? false,
    isFallbackAdapter: options.isFallbackAdapter ?? false,
  };
}
