import assert from "node:assert/strict";
import type { DeviceStorage } from "../../../runtime/device.ts";
import { CpuDevice } from "../../../runtime/js/device.ts";
import type { KernelExpr } from "../../../runtime/kernel_abi.ts";
import { Tensor } from "../../../runtime/tensor.ts";
import { type BuiltinContext, BUILTINS } from "../../../runtime/vm/builtins.ts";
import { Shape, Storage, type VMValue } from "../../../runtime/vm/value.ts";
import { MakeKind, MatchKind } from "../../../transform/relax/vm_shape_lower.ts";
import { assertRejectsMsg, assertThrowsMsg } from "../_helpers.ts";

/** A context whose allocations are tracked in `owned`. */
function context(device = new CpuDevice()): BuiltinContext & { owned: Set<DeviceStorage> } {
  const owned = new Set<DeviceStorage>();
  return {
    device,
    owned,
    programs: new Map<string, KernelExpr>(),
    alloc: (dtype, size) => {
      const s = device.alloc(dtype, size);
      owned.add(s);
      return s;
    },
    release: (s) => void owned.delete(s),
  };
}

function call(ctx: BuiltinContext, name: string, ...args: VMValue[]): VMValue | Promise<VMValue> {
  const b = BUILTINS.get(`vm.builtin.${name}`);
  if (!b) throw new Error(`no builtin ${name}`);
  return b(ctx, args);
}

const ERR = 'main: parameter "x" expects R.Tensor((n, 4), "float32")';

Deno.test("check_tensor_info accepts a matching tensor and names what is wrong otherwise", () => {
  const ctx = context();
  const x = Tensor.from(new Float32Array(8), [2, 4], { device: ctx.device });
  assert.equal(call(ctx, "check_tensor_info", x, 2, "float32", ERR), null);
  assert.equal(call(ctx, "check_tensor_info", x, -1, "void", ERR), null);
  assertThrowsMsg(
    () => call(ctx, "check_tensor_info", x, 3, "float32", ERR),
    `${ERR}, got a tensor of shape (2, 4)`,
  );
  assertThrowsMsg(
    () => call(ctx, "check_tensor_info", x, 2, "int32", ERR),
    `${ERR}, got a tensor of dtype float32`,
  );
  assertThrowsMsg(
    () => call(ctx, "check_tensor_info", 3, 2, "float32", ERR),
    `${ERR}, got the number 3`,
  );
  const other = Tensor.from(new Float32Array(8), [2, 4]);
  assertThrowsMsg(
    () => call(ctx, "check_tensor_info", other, 2, "float32", ERR),
    `${ERR}, got a tensor on another cpu device than the VM's`,
  );
  x.dispose();
  assertThrowsMsg(
    () => call(ctx, "check_tensor_info", x, 2, "float32", ERR),
    `${ERR}, got a disposed tensor`,
  );
});

Deno.test("check_shape_info, check_prim_value_info and check_tuple_info reject the wrong kind", () => {
  const ctx = context();
  assert.equal(call(ctx, "check_shape_info", new Shape([1, 2]), 2, "e"), null);
  assertThrowsMsg(
    () => call(ctx, "check_shape_info", new Shape([1]), 2, "e"),
    "e, got the shape (1,)",
  );
  assert.equal(call(ctx, "check_prim_value_info", 3, "int64", "e"), null);
  assertThrowsMsg(
    () => call(ctx, "check_prim_value_info", 1.5, "int64", "e"),
    "e, got the number 1.5",
  );
  assertThrowsMsg(
    () => call(ctx, "check_prim_value_info", "a", "float32", "e"),
    'e, got the string "a"',
  );
  assert.equal(call(ctx, "check_tuple_info", [1, 2], 2, "e"), null);
  assertThrowsMsg(() => call(ctx, "check_tuple_info", [1], 2, "e"), "e, got a tuple of 1 fields");
});

Deno.test("match_shape stores, compares and reports dimensions", () => {
  const ctx = context();
  const heap = call(ctx, "alloc_shape_heap", 2) as Float64Array;
  const x = Tensor.from(new Float32Array(12), [3, 4], { device: ctx.device });
  const { storeToHeap, assertEqualToImm, assertEqualToLoad, noOp } = MatchKind;
  call(ctx, "match_shape", x, heap, 2, storeToHeap, 0, assertEqualToImm, 4, ERR);
  assert.equal(heap[0], 3);
  call(ctx, "match_shape", new Shape([3, 9]), heap, 2, assertEqualToLoad, 0, noOp, 0, "s");
  assertThrowsMsg(
    () => call(ctx, "match_shape", x, heap, 2, storeToHeap, 0, assertEqualToImm, 5, ERR),
    `${ERR}, got a tensor of shape (3, 4)`,
  );
  const y = Tensor.from(new Float32Array(8), [2, 4], { device: ctx.device });
  assertThrowsMsg(
    () => call(ctx, "match_shape", y, heap, 2, assertEqualToLoad, 0, noOp, 0, ERR),
    `${ERR}, got a tensor of shape (2, 4) (dimension 0 must be 3)`,
  );
  assertThrowsMsg(
    () => call(ctx, "match_shape", y, heap, 1, noOp, 0, ERR),
    `${ERR}, got a tensor of shape (2, 4)`,
  );
  assertThrowsMsg(
    () => call(ctx, "match_shape", y, heap, 2, 7, 0, noOp, 0, ERR),
    "vm.builtin.match_shape: unknown match kind 7",
  );
  call(ctx, "match_prim_value", 3, heap, assertEqualToLoad, 0, "k");
  assertThrowsMsg(
    () => call(ctx, "match_prim_value", 4, heap, assertEqualToLoad, 0, "k"),
    "k, got the number 4 (it must be 3)",
  );
});

Deno.test("make_shape, make_prim_value and eval_shape_expr compute from the heap", () => {
  const ctx = context();
  const heap = Float64Array.from([5, 0]);
  call(ctx, "eval_shape_expr", heap, 1, '["add",["mul","s0",4],1]');
  assert.equal(heap[1], 21);
  assert.equal(ctx.programs.size, 1);
  const s = call(
    ctx,
    "make_shape",
    heap,
    3,
    MakeKind.loadFromHeap,
    0,
    MakeKind.useImm,
    7,
    MakeKind.loadFromHeap,
    1,
  );
  assert.ok(s instanceof Shape);
  assert.deepEqual(s.dims, [5, 7, 21]);
  assert.equal(call(ctx, "make_prim_value", heap, MakeKind.loadFromHeap, 1), 21);
  assertThrowsMsg(
    () => call(ctx, "make_shape", heap, 1, 9, 0),
    "vm.builtin.make_shape: unknown make kind 9",
  );
  assertThrowsMsg(
    () => call(ctx, "make_shape", 3, 1, 0, 0),
    "vm.builtin.make_shape: argument 0 must be the shape heap, got the number 3",
  );
});

Deno.test("allocation builtins track what the frame owns and check storage sizes", () => {
  const ctx = context();
  const t = call(ctx, "alloc_tensor", new Shape([2, 3]), "float32", 0);
  assert.ok(t instanceof Tensor);
  assert.deepEqual(t.shape, [2, 3]);
  assert.equal(ctx.owned.size, 1);
  const st = call(ctx, "alloc_storage", new Shape([48]), 0, "global", "float32");
  assert.ok(st instanceof Storage);
  assert.equal(st.storage.size, 12);
  const small = call(
    ctx,
    "alloc_tensor_from_storage",
    st,
    0,
    new Shape([2, 2]),
    "float32",
  ) as Tensor;
  const full = call(
    ctx,
    "alloc_tensor_from_storage",
    st,
    0,
    new Shape([3, 4]),
    "float32",
  ) as Tensor;
  assert.equal(full.storage, st.storage);
  assert.equal(small.size, 4);
  assertThrowsMsg(
    () => call(ctx, "alloc_tensor_from_storage", st, 0, new Shape([4, 4]), "float32"),
    "Cannot place a tensor of shape (4, 4) (16 elements) in storage of 12 elements",
  );
  assertThrowsMsg(
    () => call(ctx, "alloc_tensor_from_storage", st, 0, new Shape([2]), "int32"),
    "a int32 tensor cannot live in float32 storage",
  );
  assertThrowsMsg(
    () => call(ctx, "alloc_tensor_from_storage", st, 4, new Shape([2]), "float32"),
    "offset 4 is not supported",
  );
  assertThrowsMsg(
    () => call(ctx, "alloc_tensor", new Shape([2]), "float5", 0),
    'vm.builtin.alloc_tensor: unknown dtype "float5"',
  );
  assert.equal(ctx.owned.size, 2);
  call(ctx, "kill_storage", st);
  assert.equal(ctx.owned.size, 1);
});

Deno.test("tuple, copy and control-flow builtins", async () => {
  const ctx = context();
  const t = call(ctx, "make_tuple", 1, "a") as VMValue[];
  assert.deepEqual(t, [1, "a"]);
  assert.equal(call(ctx, "tuple_getitem", t, 1), "a");
  assertThrowsMsg(
    () => call(ctx, "tuple_getitem", t, 2),
    "index 2 is out of range for a tuple of 2 fields",
  );
  assert.equal(call(ctx, "copy", 5), 5);
  assert.equal(call(ctx, "null_value"), null);
  assert.equal(await call(ctx, "read_if_cond", 0), false);
  const one = Tensor.from([1], [], { dtype: "bool", device: ctx.device });
  assert.equal(await call(ctx, "read_if_cond", one), true);
  await assertRejectsMsg(
    Promise.resolve().then(() =>
      call(ctx, "read_if_cond", Tensor.from([1, 2], [2], { device: ctx.device }))
    ),
    "If condition must be a scalar, got a tensor of shape (2,)",
  );
  const x = Tensor.from([1, 2], [2], { device: ctx.device });
  assert.deepEqual((call(ctx, "shape_of", x) as Shape).dims, [2]);
});
