/**
 * Folding and comparing canonical tokens (see `canonical.ts`).
 *
 * @module
 */

import type { Token } from "./canonical.ts";

const f64 = new Float64Array(1);
const f64Words = new Uint32Array(f64.buffer);

function bytesOf(v: ArrayBufferView): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

function wordsOf(v: ArrayBufferView): Uint32Array | undefined {
  return v.byteOffset % 4 === 0
    ? new Uint32Array(v.buffer, v.byteOffset, v.byteLength >>> 2)
    : undefined;
}

/** Whether two views hold the same bytes. */
function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  if (a.byteLength !== b.byteLength) return false;
  const wa = wordsOf(a), wb = wordsOf(b);
  let start = 0;
  if (wa && wb) {
    for (let i = 0; i < wa.length; i++) if (wa[i] !== wb[i]) return false;
    start = wa.length * 4;
  }
  const ba = bytesOf(a), bb = bytesOf(b);
  for (let i = start; i < ba.length; i++) if (ba[i] !== bb[i]) return false;
  return true;
}

/**
 * Whether two tokens are equal: `===`, except that NaN equals NaN and byte views compare their
 * bytes (so constant data compares bitwise).
 */
export function tokensEqual(a: Token, b: Token): boolean {
  if (a === b) return true;
  if (typeof a === "number" && typeof b === "number") return a !== a && b !== b;
  if (typeof a === "object" && a !== null && typeof b === "object" && b !== null) {
    return sameBytes(a, b);
  }
  return false;
}

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Folds a token stream into a 53-bit hash, consistent with {@link tokensEqual}. */
export class TokenHasher {
  #h1 = 0x9747b28c | 0;
  #h2 = 0x2545f491 | 0;

  #word(w: number): void {
    let k = Math.imul(w, 0xcc9e2d51);
    k = Math.imul(rotl(k, 15), 0x1b873593);
    this.#h1 = (Math.imul(rotl(this.#h1 ^ k, 13), 5) + 0xe6546b64) | 0;
    let k2 = Math.imul(w ^ 0x5bd1e995, 0x85ebca6b);
    k2 = Math.imul(rotl(k2, 17), 0xc2b2ae35);
    this.#h2 = (Math.imul(rotl(this.#h2 ^ k2, 11), 9) + 0x27d4eb2f) | 0;
  }

  #string(s: string): void {
    this.#word(s.length);
    for (let i = 0; i < s.length; i += 2) this.#word(s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16));
  }

  /** Adds one token. */
  push(t: Token): void {
    switch (typeof t) {
      case "string":
        this.#word(1);
        this.#string(t);
        return;
      case "number":
        if (Number.isInteger(t) && t >= -0x80000000 && t <= 0x7fffffff) {
          this.#word(2);
          this.#word(t | 0); // -0 becomes 0, as -0 === 0
        } else {
          this.#word(3);
          f64[0] = t !== t ? NaN : t;
          this.#word(f64Words[0]!);
          this.#word(f64Words[1]!);
        }
        return;
      case "boolean":
        this.#word(t ? 4 : 5);
        return;
      case "undefined":
        this.#word(6);
        return;
      case "bigint":
        this.#word(7);
        this.#string(t.toString());
        return;
      case "object": {
        if (t === null) {
          this.#word(8);
          return;
        }
        this.#word(9);
        this.#word(t.byteLength);
        const words = wordsOf(t);
        let start = 0;
        if (words) {
          for (let i = 0; i < words.length; i++) this.#word(words[i]!);
          start = words.length * 4;
        }
        const bytes = bytesOf(t);
        for (let i = start; i < bytes.length; i++) this.#word(bytes[i]!);
        return;
      }
      default:
        t satisfies never;
    }
  }

  /** The hash of the tokens so far: a non-negative integer below 2^53. */
  digest(): number {
    const a = fmix(this.#h1 ^ 0x68e31da4);
    const b = fmix(this.#h2 ^ Math.imul(this.#h1, 0x1b873593));
    return a * 2 ** 21 + (b >>> 11);
  }
}
