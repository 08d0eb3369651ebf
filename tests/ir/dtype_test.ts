import assert from "node:assert/strict";
import {
  allocTypedArray,
  dtypeBits,
  dtypeBytes,
  dtypeCode,
  elementDType,
  f16Bits,
  f16Value,
  intRange,
  lanes,
  parseDType,
  withLanes,
} from "../../ir/dtype.ts";

Deno.test("parseDType accepts scalars, vectors, handle and void", () => {
  for (
    const s of [
      "bool",
      "int8",
      "int64",
      "uint32",
      "float16",
      "float64",
      "float32x4",
      "handle",
      "void",
    ]
  ) {
    assert.equal(parseDType(s), s);
  }
});

Deno.test("parseDType rejects unknown types", () => {
  assert.throws(() => parseDType("float128"), { message: 'Unknown dtype "float128"' });
  assert.throws(() => parseDType("float32x1"), { message: 'Unknown dtype "float32x1"' });
  assert.throws(() => parseDType(""), { message: 'Unknown dtype ""' });
});

Deno.test("dtype properties", () => {
  assert.equal(dtypeBits("float16"), 16);
  assert.equal(dtypeBytes("float32x4"), 16);
  assert.equal(dtypeBytes("bool"), 1);
  assert.equal(lanes("int32x8"), 8);
  assert.equal(elementDType("int32x8"), "int32");
  assert.equal(withLanes("float32", 4), "float32x4");
  assert.equal(withLanes("float32x4", 1), "float32");
  assert.equal(dtypeCode("uint8"), "uint");
  assert.equal(dtypeCode("int8"), "int");
  assert.deepEqual(intRange("int8"), { min: -128n, max: 127n });
  assert.deepEqual(intRange("uint16"), { min: 0n, max: 65535n });
  assert.throws(() => intRange("float32"), {
    message: 'intRange: "float32" is not an integer type',
  });
  assert.throws(() => withLanes("handle", 4), { message: 'Cannot vectorize dtype "handle"' });
});

Deno.test("allocTypedArray picks a host array per dtype", () => {
  assert.ok(allocTypedArray("float32", 3) instanceof Float32Array);
  assert.ok(allocTypedArray("float16", 3) instanceof Uint16Array);
  assert.ok(allocTypedArray("int64", 3) instanceof BigInt64Array);
  assert.ok(allocTypedArray("bool", 3) instanceof Uint8Array);
  assert.throws(() => allocTypedArray("handle", 1), {
    message: 'Cannot allocate host storage for dtype "handle"',
  });
});

Deno.test("float16 conversion round-trips representable values and rounds to nearest even", () => {
  for (const x of [0, 1, -2, 0.5, 65504, 6.103515625e-5, 5.960464477539063e-8, -1.5]) {
    assert.equal(f16Value(f16Bits(x)), x);
  }
  assert.equal(f16Value(f16Bits(1 + 2 ** -11)), 1); // tie rounds to even
  assert.equal(f16Value(f16Bits(1 + 3 * 2 ** -11)), 1 + 2 ** -9);
  assert.equal(f16Value(f16Bits(1e6)), Infinity);
  assert.ok(Number.isNaN(f16Value(f16Bits(NaN))));
  // random values within half precision's relative error
  for (let i = 0; i < 200; i++) {
    const x = (Math.random() - 0.5) * 1000;
    assert.ok(Math.abs(f16Value(f16Bits(x)) - x) <= Math.abs(x) * 2 ** -11 + 1e-7);
  }
});
