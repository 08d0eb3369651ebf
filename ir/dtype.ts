/**
 * Data types of scalars and tensors, spelled as TVM spells them (`"float32"`, `"int64"`,
 * `"float32x4"` for a 4-lane vector).
 *
 * @module
 */

/** The scalar element types the compiler knows. */
export type ScalarDType =
  | "bool"
  | "int8"
  | "int16"
  | "int32"
  | "int64"
  | "uint8"
  | "uint16"
  | "uint32"
  | "float16"
  | "float32"
  | "float64";

/**
 * A data type: a scalar type, a vector of a scalar type (`"float32x4"`), `"handle"` (an opaque
 * pointer, for buffer data and packed arguments) or `"void"` (no value, or unknown in StructInfo).
 */
export type DType = ScalarDType | `${ScalarDType}x${number}` | "handle" | "void";

/** The kind of a scalar type: signed int, unsigned int, float, bool or handle. */
export type DTypeCode = "int" | "uint" | "float" | "bool" | "handle" | "void";

const scalarBits: { readonly [K in ScalarDType]: number } = {
  bool: 1,
  int8: 8,
  int16: 16,
  int32: 32,
  int64: 64,
  uint8: 8,
  uint16: 16,
  uint32: 32,
  float16: 16,
  float32: 32,
  float64: 64,
};

/** All scalar types, in a stable order. */
export const SCALAR_DTYPES: readonly ScalarDType[] = Object.keys(scalarBits) as ScalarDType[];

/** Returns whether `s` names a scalar type. */
export function isScalarDType(s: string): s is ScalarDType {
  return Object.hasOwn(scalarBits, s);
}

/**
 * Parses a dtype string, throwing on anything that is not a known type.
 *
 * @example
 * ```ts
 * parseDType("float32x4"); // "float32x4"
 * ```
 */
export function parseDType(s: string): DType {
  if (s === "handle" || s === "void" || isScalarDType(s)) return s;
  const m = /^([a-z]+\d*)x(\d+)$/.exec(s);
  if (m && isScalarDType(m[1]!) && Number(m[2]) > 1) return s as DType;
  throw new Error(`Unknown dtype "${s}"`);
}

/** The scalar element type of a (possibly vector) dtype; `handle`/`void` map to themselves. */
export function elementDType(t: DType): ScalarDType | "handle" | "void" {
  if (t === "handle" || t === "void" || isScalarDType(t)) return t;
  return t.slice(0, t.lastIndexOf("x")) as ScalarDType;
}

/** The number of vector lanes of a dtype (1 for scalars). */
export function lanes(t: DType): number {
  if (t === "handle" || t === "void" || isScalarDType(t)) return 1;
  return Number(t.slice(t.lastIndexOf("x") + 1));
}

/** The dtype with the same element type and `n` lanes. */
export function withLanes(t: DType, n: number): DType {
  const e = elementDType(t);
  if (e === "handle" || e === "void") throw new Error(`Cannot vectorize dtype "${t}"`);
  return n === 1 ? e : `${e}x${n}`;
}

/** The code (int, uint, float, bool, handle, void) of a dtype. */
export function dtypeCode(t: DType): DTypeCode {
  const e = elementDType(t);
  if (e === "handle" || e === "void" || e === "bool") return e;
  if (e.startsWith("uint")) return "uint";
  if (e.startsWith("int")) return "int";
  return "float";
}

/** Bits of one element of the dtype (bool counts 1 bit; handle 64). */
export function dtypeBits(t: DType): number {
  const e = elementDType(t);
  if (e === "handle") return 64;
  if (e === "void") return 0;
  return scalarBits[e];
}

/** Bytes one element occupies in memory (bool takes one byte). */
export function dtypeBytes(t: DType): number {
  const e = elementDType(t);
  if (e === "bool") return lanes(t);
  return (dtypeBits(t) / 8) * lanes(t);
}

/** Whether the dtype is a float type (any width, any lanes). */
export function isFloat(t: DType): boolean {
  return dtypeCode(t) === "float";
}

/** Whether the dtype is a signed or unsigned integer type. */
export function isInt(t: DType): boolean {
  const c = dtypeCode(t);
  return c === "int" || c === "uint";
}

/** Whether the dtype is unsigned. */
export function isUInt(t: DType): boolean {
  return dtypeCode(t) === "uint";
}

/** Whether the dtype is bool. */
export function isBool(t: DType): boolean {
  return dtypeCode(t) === "bool";
}

/** The range of values an integer dtype holds, as bigints. */
export function intRange(t: DType): { min: bigint; max: bigint } {
  const bits = BigInt(dtypeBits(t));
  if (isBool(t)) return { min: 0n, max: 1n };
  if (isUInt(t)) return { min: 0n, max: (1n << bits) - 1n };
  if (dtypeCode(t) === "int") return { min: -(1n << (bits - 1n)), max: (1n << (bits - 1n)) - 1n };
  throw new Error(`intRange: "${t}" is not an integer type`);
}

/** A typed array constructor suited to hold elements of a scalar dtype on the host. */
export type TypedArray =
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | Float32Array
  | Float64Array;

/**
 * Makes a typed array for `n` elements of `t`. float16 is stored as `Uint16Array` bit patterns
 * (see {@link f16Bits}), bool as `Uint8Array`.
 */
export function allocTypedArray(t: DType, n: number): TypedArray {
  switch (elementDType(t)) {
    case "bool":
    case "uint8":
      return new Uint8Array(n);
    case "int8":
      return new Int8Array(n);
    case "int16":
      return new Int16Array(n);
    case "uint16":
    case "float16":
      return new Uint16Array(n);
    case "int32":
      return new Int32Array(n);
    case "uint32":
      return new Uint32Array(n);
    case "int64":
      return new BigInt64Array(n);
    case "float32":
      return new Float32Array(n);
    case "float64":
      return new Float64Array(n);
    default:
      throw new Error(`Cannot allocate host storage for dtype "${t}"`);
  }
}

/** The IEEE half-precision bit pattern nearest to `x` (round to nearest even). */
export function f16Bits(x: number): number {
  const f32 = new Float32Array([x]);
  const u = new Uint32Array(f32.buffer)[0]!;
  const sign = (u >>> 16) & 0x8000;
  let exp = ((u >>> 23) & 0xff) - 127 + 15;
  let mant = u & 0x7fffff;
  if (((u >>> 23) & 0xff) === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  if (exp >= 0x1f) return sign | 0x7c00;
  if (exp <= 0) {
    if (exp < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - exp;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (exp << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++;
  exp = h >>> 10;
  return sign | h;
}

/** The number a half-precision bit pattern stands for. */
export function f16Value(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}
