/**
 * tvmts: an ML compiler in TypeScript on Deno, after Apache TVM's Unity flow.
 *
 * - `tir`: TIR expressions, buffers, statements and PrimFuncs.
 * - `relax`, `R`, `op`, {@link BlockBuilder}: the graph IR, its StructInfo, operators and builder.
 * - `te`: the tensor-expression DSL that produces PrimFuncs.
 * - {@link IRModule}, structural equality, well-formedness, and passes ({@link modulePass},
 *   {@link sequential}), schedules ({@link Schedule}) and schedule rules ({@link Fallback}).
 *
 * @example
 * ```ts
 * import { BlockBuilder, op, R, tir } from "./mod.ts";
 * const n = tir.sizeVar("n", "int64");
 * const bb = new BlockBuilder();
 * const x = R.tensor([n, 4], "float32", "x");
 * bb.function("main", { x }, () => bb.dataflow(() => bb.emitOutput(op.nn.relu(x))));
 * const mod = bb.get();
 * ```
 *
 * @module
 */
export * from "./ir/dtype.ts";
export * as tir from "./ir/tir/mod.ts";
export * as relax from "./ir/relax/mod.ts";
export * as R from "./ir/relax/r.ts";
export * as op from "./ir/relax/op/mod.ts";
export * as te from "./ir/te/mod.ts";
export * as dpl from "./ir/relax/dpl/mod.ts";
export * as arith from "./ir/arith/mod.ts";
export { BlockBuilder } from "./ir/relax/block_builder.ts";
export type { BuildFunctionOptions } from "./ir/relax/block_builder.ts";
export * from "./ir/module.ts";
export * from "./ir/visit.ts";
export * from "./ir/structural.ts";
export * from "./ir/well_formed.ts";
export * from "./transform/pass.ts";
export * from "./transform/instruments.ts";
export * from "./transform/target.ts";
export * from "./transform/schedule/mod.ts";
export * from "./transform/dlight/mod.ts";
export * as lowering from "./transform/tir/mod.ts";
export * from "./transform/relax/mod.ts";
export * from "./script/mod.ts";

// Top-level type names for the IR nodes that public signatures mention (the namespaces above
// also hold them). Relax names that would clash with TIR's carry an `R` prefix; the te DSL's
// tensor is `TeTensor`.
export type {
  ArithKind,
  Binary,
  BinaryKind,
  Broadcast,
  Buffer,
  BufferLoad,
  Call,
  Cast,
  CmpKind,
  FloatImm,
  IntImm,
  Let,
  LogicKind,
  Not,
  PrimExpr,
  PrimExprLike,
  PrimExprOps,
  Ramp,
  Range,
  Select,
  StorageScope,
  StringImm,
  Var,
} from "./ir/expr.ts";
export type {
  AllocBuffer,
  AssertStmt,
  Attrs,
  AttrValue,
  BufferRegion,
  BufferStore,
  DeclBuffer,
  Evaluate,
  For,
  ForKind,
  IfThenElse,
  IterKind,
  IterVar,
  LetStmt,
  MatchBufferRegion,
  SBlock,
  SBlockRealize,
  SeqStmt,
  Stmt,
  ThreadTag,
  While,
} from "./ir/tir/stmt.ts";
export type { PrimFunc, PrimFuncParam } from "./ir/tir/prim_func.ts";
export type {
  AnyVar,
  Binding,
  BindingBlock,
  Constant,
  DataflowVar,
  DataTypeImm,
  Expr,
  ExternFunc,
  Function,
  GlobalVar,
  If,
  MatchCast,
  NDArray,
  Op,
  PrimValue,
  RCall,
  RStringImm,
  RVar,
  SeqExpr,
  ShapeExpr,
  Tuple,
  TupleGetItem,
  VarBinding,
} from "./ir/relax/expr.ts";
export type {
  FuncStructInfo,
  ObjectStructInfo,
  PrimStructInfo,
  ShapeStructInfo,
  StructInfo,
  TensorStructInfo,
  TupleStructInfo,
} from "./ir/relax/struct_info.ts";
export type {
  ComputeOp,
  Operation as TeOperation,
  PlaceholderOp,
  Tensor as TeTensor,
} from "./ir/te/tensor.ts";
export type { CommReducer, Reduce } from "./ir/te/reduce.ts";
export { Tensor } from "./runtime/tensor.ts";
export type { TensorData, TensorOptions } from "./runtime/tensor.ts";
export * from "./runtime/device.ts";
export { webgpu, WebGPUDevice } from "./runtime/webgpu/device.ts";
export type { WebGPUDeviceOptions } from "./runtime/webgpu/device.ts";
export { cpu, CpuDevice } from "./runtime/js/device.ts";
export * from "./runtime/kernel.ts";
export * from "./runtime/build.ts";
export * from "./runtime/registry.ts";
export { Executable } from "./runtime/vm/executable.ts";
export type { ExecutableParts, LoadOptions, VMConstant } from "./runtime/vm/executable.ts";
export { Shape, Storage } from "./runtime/vm/value.ts";
export type { VMValue } from "./runtime/vm/value.ts";
export { VirtualMachine } from "./runtime/vm/interpreter/virtual_machine.ts";
export type { VirtualMachineOptions } from "./runtime/vm/interpreter/virtual_machine.ts";
export type {
  CompiledKernel,
  KernelBufferParam,
  KernelExpr,
  KernelExprOp,
  KernelParam,
  KernelScalarParam,
  KernelStage,
  KernelUniform,
  KernelVar,
  KernelWorkspace,
  UniformType,
} from "./runtime/kernel_abi.ts";
export type { FuncEntry, Instr, Operand, VMFunction } from "./runtime/vm/bytecode.ts";
export type { CpuStorage } from "./runtime/js/device.ts";
export type { GpuStorage } from "./runtime/webgpu/device.ts";
export type { PooledBuffer } from "./runtime/webgpu/buffer_pool.ts";
export type {
  InferFn,
  LegalizeContext,
  LegalizeFn,
  OpDef,
  OpPattern,
} from "./ir/relax/op/registry.ts";
export type {
  AndPatternNode,
  AttrPatternNode,
  CallPatternNode,
  Capture,
  ConstantPatternNode,
  DTypePatternNode,
  ExprPatternNode,
  ExternFuncPatternNode,
  GlobalVarPatternNode,
  Match,
  MatchOptions,
  NotPatternNode,
  OpPatternNode,
  OrPatternNode,
  Pattern,
  PatternConstraints,
  PatternMethods,
  PatternNode,
  ShapeExprPatternNode,
  ShapePatternNode,
  StructInfoPatternNode,
  TupleGetItemPatternNode,
  TuplePatternNode,
  UseEdge,
  VarPatternNode,
  WildcardNode,
} from "./ir/relax/dpl/mod.ts";
export { PatternSeq } from "./ir/relax/dpl/mod.ts";
export { cpuConstantEvaluator } from "./runtime/constant_evaluator.ts";
