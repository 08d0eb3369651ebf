/**
 * A pool of GPU buffers reused by size class, so that tensors and staging buffers created and
 * dropped in a loop do not allocate GPU memory each time.
 *
 * @module
 */

/** A GPU buffer handed out by a {@link BufferPool}. */
export interface PooledBuffer {
  /** The GPU buffer. */
  readonly buffer: GPUBuffer;
  /** Its size in bytes (the size class). */
  readonly size: number;
  /** A number unique within the pool's device, for cache keys. */
  readonly id: number;
}

/**
 * The size class a request of `bytes` is served from: multiples of 16 up to 256 bytes, then
 * four classes per power of two (at most 25% unused).
 */
export function sizeClass(bytes: number): number {
  if (bytes <= 256) return Math.max(16, Math.ceil(bytes / 16) * 16);
  const step = 2 ** (Math.floor(Math.log2(bytes)) - 2);
  return Math.ceil(bytes / step) * step;
}

let nextId = 1;

/** Reuses GPU buffers of one usage by size class. */
export class BufferPool {
  #free = new Map<number, PooledBuffer[]>();
  #all = new Set<PooledBuffer>();
  /** Buffers created so far. */
  created = 0;
  /** Requests served from the pool. */
  reused = 0;

  /** A pool creating buffers with `usage` on `device`. */
  constructor(
    readonly device: GPUDevice,
    readonly usage: GPUBufferUsageFlags,
    readonly label = "pool",
  ) {}

  /** A buffer of at least `bytes` bytes. */
  acquire(bytes: number): PooledBuffer {
    const size = sizeClass(bytes);
    const b = this.#free.get(size)?.pop();
    if (b) {
      this.reused++;
      return b;
    }
    this.created++;
    const buffer = this.device.createBuffer({
      size,
      usage: this.usage,
      label: `${this.label}:${size}`,
    });
    const p = { buffer, size, id: nextId++ };
    this.#all.add(p);
    return p;
  }

  /** Returns a buffer for reuse. */
  release(b: PooledBuffer): void {
    let list = this.#free.get(b.size);
    if (!list) this.#free.set(b.size, list = []);
    list.push(b);
  }

  /** Bytes held by the pool (free and in use). */
  get bytes(): number {
    let n = 0;
    for (const b of this.#all) n += b.size;
    return n;
  }

  /** Destroys every buffer the pool made, in use or not. */
  destroy(): void {
    for (const b of this.#all) b.buffer.destroy();
    this.#all.clear();
    this.#free.clear();
  }
}
