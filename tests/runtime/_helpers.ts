/**
 * Test helpers for the runtime tests: seeded random data, closeness checks, the devices.
 *
 * @module
 */

import type { Device } from "../../runtime/device.ts";
import { cpu } from "../../runtime/js/device.ts";
import { webgpu, type WebGPUDevice } from "../../runtime/webgpu/device.ts";

/** A seeded generator of floats in [0, 1). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` random float32 values in ±[lo, hi] (never zero), seeded. */
export function randomF32(n: number, seed: number, lo = 0.1, hi = 2): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => (r() < 0.5 ? -1 : 1) * (lo + (hi - lo) * r()));
}

/** Asserts `|got - want| <= atol + rtol * |want|` elementwise, naming the first bad index. */
export function assertClose(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  options: { rtol?: number; atol?: number; what?: string } = {},
): void {
  const { rtol = 1e-5, atol = 1e-6, what = "result" } = options;
  if (got.length !== want.length) {
    throw new Error(`${what}: length ${got.length}, expected ${want.length}`);
  }
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!, w = want[i]!;
    if (Number.isNaN(w) && Number.isNaN(g)) continue;
    if (g === w) continue;
    if (!(Math.abs(g - w) <= atol + rtol * Math.abs(w))) {
      throw new Error(`${what}[${i}] = ${g}, expected ${w} (first of ${got.length})`);
    }
  }
}

/** Asserts that `fn` throws an error whose message contains `text`. */
export function assertThrowsMsg(fn: () => unknown, text: string): void {
  try {
    fn();
  } catch (e) {
    const m = (e as Error).message;
    if (!m.includes(text)) throw new Error(`Expected an error containing\n  ${text}\ngot\n  ${m}`);
    return;
  }
  throw new Error(`Expected an error containing "${text}", but nothing was thrown`);
}

/** Asserts that `p` rejects with an error whose message contains `text`. */
export async function assertRejectsMsg(p: Promise<unknown>, text: string): Promise<void> {
  try {
    await p;
  } catch (e) {
    const m = (e as Error).message;
    if (!m.includes(text)) throw new Error(`Expected an error containing\n  ${text}\ngot\n  ${m}`);
    return;
  }
  throw new Error(`Expected a rejection containing "${text}"`);
}

let gpuPromise: Promise<WebGPUDevice | undefined> | undefined;

/** The shared WebGPU device of the test run, or undefined (with a printed reason) without one. */
export function gpuDevice(): Promise<WebGPUDevice | undefined> {
  return gpuPromise ??= (async () => {
    const d = await webgpu().catch((e) => {
      console.log(`WebGPU tests skipped: ${(e as Error).message}`);
      return undefined;
    });
    if (!d) console.log("WebGPU tests skipped: navigator.gpu.requestAdapter() gave no adapter");
    return d;
  })();
}

/** The devices to run kernel tests on: the CPU, and the GPU when there is one. */
export async function devices(): Promise<Device[]> {
  const g = await gpuDevice();
  return g ? [cpu(), g] : [cpu()];
}

/** Test options for tests that touch WebGPU (its device keeps resources and ops alive). */
export const GPU_TEST = { sanitizeOps: false, sanitizeResources: false } as const;
