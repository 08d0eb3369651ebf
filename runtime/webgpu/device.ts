/**
 * The WebGPU device: tensors in pooled storage buffers, WGSL kernels in cached pipelines.
 *
 * Dispatches are recorded into one command encoder and one compute pass until something needs
 * the results (a read-back, `sync`, or a write into a buffer the pending work uses); bind groups
 * and uniform buffers are cached by content, so repeating a call with the same tensors records
 * no new GPU objects.
 *
 * @module
 */

import type { ScalarDType, TypedArray } from "../../ir/dtype.ts";
import { allocTypedArray } from "../../ir/dtype.ts";
import { makeTarget, type Target } from "../../transform/target.ts";
import type { Device, DeviceStorage } from "../device.ts";
import {
  type CompiledKernel,
  dispatchSize,
  evalKernelExpr,
  type KernelStage,
} from "../kernel_abi.ts";
import { BufferPool, type PooledBuffer } from "./buffer_pool.ts";

/** Storage of a WebGPU device: a pooled buffer. */
export class GpuStorage implements DeviceStorage {
  /** Storage of `size` elements of `dtype` in `pooled`. */
  constructor(
    readonly device: WebGPUDevice,
    readonly dtype: ScalarDType,
    readonly size: number,
    readonly pooled: PooledBuffer,
  ) {}
}

/**
 * Bytes one element takes on the GPU: bool and 8/16-bit integers widen to 32 bits (WGSL has
 * no narrower integers), float16 takes 2, 64-bit types 8.
 */
export function gpuElementBytes(dtype: ScalarDType): number {
  switch (dtype) {
    case "float16":
      return 2;
    case "int64":
    case "float64":
      return 8;
    default:
      return 4;
  }
}

function toDeviceLayout(dtype: ScalarDType, data: TypedArray): Uint8Array {
  let arr: ArrayBufferView;
  switch (dtype) {
    case "int8":
    case "int16":
      arr = Int32Array.from(data as Int8Array);
      break;
    case "bool":
    case "uint8":
    case "uint16":
      arr = Uint32Array.from(data as Uint8Array);
      break;
    default:
      arr = data;
  }
  const bytes = new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
  if (bytes.byteLength % 4 === 0) return bytes;
  const padded = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
  padded.set(bytes);
  return padded;
}

function fromDeviceLayout(dtype: ScalarDType, size: number, bytes: ArrayBuffer): TypedArray {
  const out = allocTypedArray(dtype, size);
  switch (dtype) {
    case "int8":
    case "int16":
      (out as Int16Array).set(new Int32Array(bytes, 0, size));
      break;
    case "bool":
    case "uint8":
    case "uint16":
      (out as Uint16Array).set(new Uint32Array(bytes, 0, size));
      break;
    default:
      new Uint8Array(out.buffer).set(new Uint8Array(bytes, 0, out.byteLength));
  }
  return out;
}

interface PipelineEntry {
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
  readonly id: number;
}

/** Options of {@link WebGPUDevice.create}. */
export interface WebGPUDeviceOptions {
  /** The adapter to use; by default `navigator.gpu.requestAdapter(...)`. */
  readonly adapter?: GPUAdapter;
  /** Passed to `requestAdapter` when no adapter is given. */
  readonly powerPreference?: GPUPowerPreference;
}

const LIMITS = [
  "maxStorageBuffersPerShaderStage",
  "maxBufferSize",
  "maxStorageBufferBindingSize",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
  "maxComputeWorkgroupSizeZ",
  "maxComputeWorkgroupsPerDimension",
] as const;

const CACHE_LIMIT = 1024;

/** A WebGPU device running WGSL kernels. */
export class WebGPUDevice implements Device {
  /** Always `"webgpu"`. */
  readonly kind = "webgpu" as const;
  /** The adapter's description. */
  readonly name: string;
  /** The adapter's real limits and features. */
  readonly target: Target;
  /** The underlying `GPUDevice`. */
  readonly gpu: GPUDevice;
  #storagePool: BufferPool;
  #stagingPool: BufferPool;
  #pipelines = new Map<string, PipelineEntry>();
  #compiling = new Map<string, Promise<PipelineEntry>>();
  #uniforms = new Map<string, PooledBuffer>();
  #bindGroups = new Map<string, GPUBindGroup>();
  #encoder: GPUCommandEncoder | undefined;
  #pass: GPUComputePassEncoder | undefined;
  #inFlight = new Set<PooledBuffer>();
  #deferredFree: PooledBuffer[] = [];
  #errors: string[] = [];
  #nextPipelineId = 1;
  #nextUniformId = 1;
  /** Counters for tests and profiling. */
  readonly stats = { dispatches: 0, submits: 0, pipelines: 0, bindGroups: 0, uniformBuffers: 0 };

  private constructor(gpu: GPUDevice, name: string, isFallbackAdapter: boolean) {
    this.gpu = gpu;
    this.name = name;
    const l = gpu.limits;
    this.target = makeTarget("webgpu", {
      maxThreadsPerBlock: l.maxComputeInvocationsPerWorkgroup,
      maxThreadsPerDim: [
        l.maxComputeWorkgroupSizeX,
        l.maxComputeWorkgroupSizeY,
        l.maxComputeWorkgroupSizeZ,
      ],
      maxSharedMemoryBytes: l.maxComputeWorkgroupStorageSize,
      maxGridDim: l.maxComputeWorkgroupsPerDimension,
      maxStorageBuffers: l.maxStorageBuffersPerShaderStage,
      supportsF16: gpu.features.has("shader-f16"),
      supportsSubgroups: false,
      isFallbackAdapter,
    });
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    this.#storagePool = new BufferPool(gpu, usage, "storage");
    this.#stagingPool = new BufferPool(
      gpu,
      GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      "staging",
    );
    gpu.addEventListener("uncapturederror", (e) => {
      this.#errors.push((e as GPUUncapturedErrorEvent).error.message);
    });
  }

  /**
   * Opens a device on the adapter, requesting the adapter's own limits for storage buffers,
   * buffer sizes and workgroups, and `shader-f16` when the adapter has it. Throws when there is
   * no adapter.
   */
  static async create(options: WebGPUDeviceOptions = {}): Promise<WebGPUDevice> {
    const adapter = options.adapter ??
      await globalThis.navigator?.gpu?.requestAdapter(
        options.powerPreference ? { powerPreference: options.powerPreference } : undefined,
      );
    if (!adapter) throw new Error("No WebGPU adapter is available");
    const requiredLimits: Record<string, number> = {};
    for (const k of LIMITS) requiredLimits[k] = adapter.limits[k];
    const requiredFeatures: GPUFeatureName[] = adapter.features.has("shader-f16")
      ? ["shader-f16"]
      : [];
    const gpu = await adapter.requestDevice({ requiredLimits, requiredFeatures });
    const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
    return new WebGPUDevice(
      gpu,
      info?.description || info?.vendor || "webgpu",
      info?.isFallbackAdapter === true,
    );
  }

  /** Allocates storage from the pool. */
  alloc(dtype: ScalarDType, size: number): GpuStorage {
    const bytes = size * gpuElementBytes(dtype);
    if (bytes > this.gpu.limits.maxBufferSize) {
      throw new Error(
        `Cannot allocate ${bytes} bytes: the device allows buffers of ${this.gpu.limits.maxBufferSize}`,
      );
    }
    return new GpuStorage(this, dtype, size, this.#storagePool.acquire(bytes));
  }

  /** Uploads host data (flushing first when pending work uses the buffer). */
  write(storage: DeviceStorage, data: TypedArray): void {
    const s = this.#own(storage);
    if (data.length !== s.size) {
      throw new Error(`Cannot write ${data.length} elements into storage of ${s.size}`);
    }
    if (this.#inFlight.has(s.pooled)) this.flush();
    if (s.size === 0) return;
    const bytes = toDeviceLayout(s.dtype, data);
    this.gpu.queue.writeBuffer(
      s.pooled.buffer,
      0,
      bytes.buffer as ArrayBuffer,
      bytes.byteOffset,
      bytes.byteLength,
    );
  }

  /** Reads storage back after all queued work. */
  async read(storage: DeviceStorage): Promise<TypedArray> {
    const s = this.#own(storage);
    const bytes = Math.ceil((s.size * gpuElementBytes(s.dtype)) / 4) * 4;
    if (bytes === 0) {
      this.flush();
      return allocTypedArray(s.dtype, 0);
    }
    const staging = this.#stagingPool.acquire(bytes);
    this.#endPass();
    this.#encoder ??= this.gpu.createCommandEncoder();
    this.#encoder.copyBufferToBuffer(s.pooled.buffer, 0, staging.buffer, 0, bytes);
    this.flush();
    try {
      await staging.buffer.mapAsync(GPUMapMode.READ, 0, bytes);
    } catch (e) {
      this.#throwErrors();
      throw e;
    }
    const copy = staging.buffer.getMappedRange(0, bytes).slice(0);
    staging.buffer.unmap();
    this.#stagingPool.release(staging);
    this.#throwErrors();
    return fromDeviceLayout(s.dtype, s.size, copy);
  }

  /** Returns the buffer to the pool (after the pending work that uses it is submitted). */
  free(storage: DeviceStorage): void {
    const s = this.#own(storage);
    if (this.#inFlight.has(s.pooled)) this.#deferredFree.push(s.pooled);
    else this.#storagePool.release(s.pooled);
  }

  /** Builds the kernel's pipelines asynchronously, failing with the WGSL compiler's messages. */
  async prepare(kernel: CompiledKernel): Promise<void> {
    this.#checkKernel(kernel);
    await Promise.all(kernel.stages.map((stage) => this.#prepareStage(kernel, stage)));
  }

  async #prepareStage(kernel: CompiledKernel, stage: KernelStage): Promise<void> {
    if (this.#pipelines.has(stage.source)) return;
    let p = this.#compiling.get(stage.source);
    if (!p) {
      p = this.#createPipelineAsync(kernel, stage);
      this.#compiling.set(stage.source, p);
    }
    try {
      this.#pipelines.set(stage.source, await p);
    } finally {
      this.#compiling.delete(stage.source);
    }
  }

  /** The WGSL compiler's messages (errors, warnings, info) for a shader. */
  async compilationMessages(source: string): Promise<string[]> {
    const module = this.gpu.createShaderModule({ code: source });
    const info = await module.getCompilationInfo();
    return info.messages.map((m) => `${m.type} at ${m.lineNum}:${m.linePos}: ${m.message.trim()}`);
  }

  /**
   * Records the kernel's dispatches (one per stage) into the pending compute pass, with its
   * workspaces allocated from the pool for the duration of the work.
   */
  dispatch(
    kernel: CompiledKernel,
    buffers: readonly DeviceStorage[],
    values: readonly number[],
  ): void {
    this.#checkKernel(kernel);
    const named: Record<string, number> = {};
    kernel.vars.forEach((v, i) => named[v.name] = values[i]!);
    const grids = kernel.stages.map((_, i) => dispatchSize(kernel, named, { stage: i }));
    const limit = this.gpu.limits.maxStorageBufferBindingSize;
    const params = buffers.map((b) => {
      const s = this.#own(b);
      const bytes = s.size * gpuElementBytes(s.dtype);
      if (bytes > limit) {
        throw new Error(
          `Kernel "${kernel.name}": a buffer of ${bytes} bytes exceeds the device's binding limit ${limit}`,
        );
      }
      return s.pooled;
    });
    const workspaces = kernel.workspaces.map((w) =>
      this.alloc(w.dtype, evalKernelExpr(w.size, named))
    );
    const slots = [...params, ...workspaces.map((w) => w.pooled)];
    try {
      kernel.stages.forEach((stage, i) => {
        const grid = grids[i]!;
        if (grid[0] === 0) return;
        this.#dispatchStage(kernel, stage, slots, values, grid);
      });
    } finally {
      for (const w of workspaces) this.free(w);
    }
  }

  #dispatchStage(
    kernel: CompiledKernel,
    stage: KernelStage,
    slots: readonly PooledBuffer[],
    values: readonly number[],
    grid: readonly [number, number, number],
  ): void {
    const entry = this.#pipelines.get(stage.source) ?? this.#createPipelineSync(kernel, stage);
    const pooled = stage.bindings.map((slot) => slots[slot]!);
    this.#checkAliasing(kernel, stage, pooled);
    const uniform = stage.uniforms.length > 0
      ? this.#uniformBuffer(kernel, stage, values)
      : undefined;
    const key = `${entry.id}|${pooled.map((p) => p.id).join(",")}|${uniform?.id ?? ""}`;
    let group = this.#bindGroups.get(key);
    if (!group) {
      if (this.#bindGroups.size >= CACHE_LIMIT) this.#bindGroups.clear();
      const entries: GPUBindGroupEntry[] = pooled.map((p, i) => ({
        binding: i,
        resource: { buffer: p.buffer },
      }));
      if (uniform) entries.push({ binding: pooled.length, resource: { buffer: uniform.buffer } });
      group = this.gpu.createBindGroup({ layout: entry.layout, entries, label: kernel.name });
      this.#bindGroups.set(key, group);
      this.stats.bindGroups++;
    }
    if (!this.#pass) {
      this.#encoder ??= this.gpu.createCommandEncoder();
      this.#pass = this.#encoder.beginComputePass();
    }
    this.#pass.setPipeline(entry.pipeline);
    this.#pass.setBindGroup(0, group);
    this.#pass.dispatchWorkgroups(grid[0], grid[1], grid[2]);
    for (const p of pooled) this.#inFlight.add(p);
    this.stats.dispatches++;
  }

  /** Storage buffers created and reused by the pool, and the bytes it holds. */
  get memory(): { readonly created: number; readonly reused: number; readonly bytes: number } {
    const p = this.#storagePool;
    return { created: p.created, reused: p.reused, bytes: p.bytes };
  }

  /** Submits the recorded work (no waiting). */
  flush(): void {
    this.#endPass();
    if (this.#encoder) {
      this.gpu.queue.submit([this.#encoder.finish()]);
      this.#encoder = undefined;
      this.stats.submits++;
    }
    this.#inFlight.clear();
    for (const p of this.#deferredFree) this.#storagePool.release(p);
    this.#deferredFree = [];
  }

  /** Submits recorded work and waits for the GPU to finish it, reporting device errors. */
  async sync(): Promise<void> {
    this.flush();
    await this.gpu.queue.onSubmittedWorkDone();
    this.#throwErrors();
  }

  /** Destroys every buffer and the device itself. */
  destroy(): void {
    this.flush();
    this.#storagePool.destroy();
    this.#stagingPool.destroy();
    for (const u of this.#uniforms.values()) u.buffer.destroy();
    this.#uniforms.clear();
    this.#bindGroups.clear();
    this.gpu.destroy();
  }

  #endPass(): void {
    if (this.#pass) {
      this.#pass.end();
      this.#pass = undefined;
    }
  }

  #throwErrors(): void {
    if (this.#errors.length === 0) return;
    const errs = this.#errors;
    this.#errors = [];
    throw new Error(
      `WebGPU error: ${errs[0]!.trim()}${errs.length > 1 ? ` (and ${errs.length - 1} more)` : ""}`,
    );
  }

  #checkKernel(kernel: CompiledKernel): void {
    if (kernel.target !== "webgpu") {
      throw new Error(
        `Kernel "${kernel.name}" was compiled for ${kernel.target}, not for a webgpu device`,
      );
    }
  }

  /** WebGPU forbids binding one buffer twice in a dispatch when a binding writes it. */
  #checkAliasing(
    kernel: CompiledKernel,
    stage: KernelStage,
    pooled: readonly PooledBuffer[],
  ): void {
    const names = [
      ...kernel.params.filter((p) => p.kind === "buffer").map((p) => p.name),
      ...kernel.workspaces.map((w) => w.name),
    ];
    for (let i = 0; i < pooled.length; i++) {
      for (let j = i + 1; j < pooled.length; j++) {
        if (pooled[i] !== pooled[j] || (stage.readOnly[i] && stage.readOnly[j])) continue;
        const [w, o] = stage.readOnly[i] ? [j, i] : [i, j];
        throw new Error(
          `Kernel "${kernel.name}": the tensor passed as "${
            names[stage.bindings[w]!]
          }" (written) is also passed as "${
            names[stage.bindings[o]!]
          }"; WebGPU cannot bind a written buffer twice`,
        );
      }
    }
  }

  #own(storage: DeviceStorage): GpuStorage {
    if (!(storage instanceof GpuStorage) || storage.device !== this) {
      throw new Error(`Storage on ${storage.device.name} cannot be used on ${this.name}`);
    }
    return storage;
  }

  #layout(kernel: CompiledKernel, stage: KernelStage): GPUPipelineLayout {
    const entries: GPUBindGroupLayoutEntry[] = stage.readOnly.map((ro, binding) => ({
      binding,
      visibility: GPUShaderStage.COMPUTE,
      buffer: { type: ro ? "read-only-storage" : "storage" },
    }));
    if (stage.uniforms.length > 0) {
      entries.push({
        binding: entries.length,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type: "uniform" },
      });
    }
    const layout = this.gpu.createBindGroupLayout({ entries, label: kernel.name });
    return this.gpu.createPipelineLayout({ bindGroupLayouts: [layout], label: kernel.name });
  }

  async #createPipelineAsync(kernel: CompiledKernel, stage: KernelStage): Promise<PipelineEntry> {
    this.gpu.pushErrorScope("validation");
    const layout = this.#layout(kernel, stage);
    const module = this.gpu.createShaderModule({ code: stage.source, label: kernel.name });
    let pipeline: GPUComputePipeline | undefined;
    let failure: unknown;
    try {
      pipeline = await this.gpu.createComputePipelineAsync({
        layout,
        compute: { module, entryPoint: "main" },
        label: kernel.name,
      });
    } catch (e) {
      failure = e;
    }
    const scoped = await this.gpu.popErrorScope();
    if (!pipeline) {
      const info = await module.getCompilationInfo();
      const msgs = info.messages.map((m) => m.message.trim()).join("\n");
      const why = msgs || scoped?.message || (failure as Error).message;
      throw new Error(`Kernel "${kernel.name}": cannot create its pipeline: ${why}`);
    }
    // An error in the scope that did not stop the pipeline came from other work meanwhile.
    if (scoped) this.#errors.push(scoped.message);
    this.stats.pipelines++;
    return { pipeline, layout: pipeline.getBindGroupLayout(0), id: this.#nextPipelineId++ };
  }

  #createPipelineSync(kernel: CompiledKernel, stage: KernelStage): PipelineEntry {
    const layout = this.#layout(kernel, stage);
    const module = this.gpu.createShaderModule({ code: stage.source, label: kernel.name });
    const pipeline = this.gpu.createComputePipeline({
      layout,
      compute: { module, entryPoint: "main" },
      label: kernel.name,
    });
    const entry = { pipeline, layout: pipeline.getBindGroupLayout(0), id: this.#nextPipelineId++ };
    this.#pipelines.set(stage.source, entry);
    this.stats.pipelines++;
    return entry;
  }

  #uniformBuffer(
    kernel: CompiledKernel,
    stage: KernelStage,
    values: readonly number[],
  ): PooledBuffer {
    const n = stage.uniforms.length;
    const data = new ArrayBuffer(Math.ceil((n * 4) / 16) * 16);
    const i32 = new Int32Array(data), u32 = new Uint32Array(data), f32 = new Float32Array(data);
    stage.uniforms.forEach((u, i) => {
      const v = values[u.var]!;
      if (u.type === "f32") f32[i] = v;
      else if (u.type === "u32") u32[i] = v;
      else i32[i] = v;
    });
    const key = Array.from(u32).join(",");
    let buf = this.#uniforms.get(key);
    if (buf) return buf;
    if (this.#uniforms.size >= CACHE_LIMIT) {
      this.flush();
      for (const u of this.#uniforms.values()) u.buffer.destroy();
      this.#uniforms.clear();
      this.#bindGroups.clear();
    }
    const buffer = this.gpu.createBuffer({
      size: data.byteLength,
      usage: GPUBufferUsage.UNIFORM,
      mappedAtCreation: true,
      label: `${kernel.name}:uniforms`,
    });
    new Uint8Array(buffer.getMappedRange()).set(new Uint8Array(data));
    buffer.unmap();
    buf = { buffer, size: data.byteLength, id: this.#nextUniformId++ };
    this.#uniforms.set(key, buf);
    this.stats.uniformBuffers++;
    return buf;
  }
}

/** Opens a WebGPU device, or gives `undefined` when the platform offers no adapter. */
export async function webgpu(options: WebGPUDeviceOptions = {}): Promise<WebGPUDevice | undefined> {
  if (!options.adapter && !globalThis.navigator?.gpu) return undefined;
  const adapter = options.adapter ?? await navigator.gpu.requestAdapter(
    options.powerPreference ? { powerPreference: options.powerPreference } : undefined,
  );
  if (!adapter) return undefined;
  return await WebGPUDevice.create({ ...options, adapter });
}
