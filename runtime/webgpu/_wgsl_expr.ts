/**
 * WGSL for TIR expressions: types, literals, operators, intrinsics and the helper functions
 * they need (emitted only when used). Private to the WGSL code generator.
 *
 * @module
 */

import { type DType, elementDType, isInt, isScalarDType, isUInt, lanes } from "../../ir/dtype.ts";
import type { BufferLoad, Call, PrimExpr, Var } from "../../ir/expr.ts";
import type { StorageInfo } from "../kernel_analysis.ts";
import { flatIndex, isNonNegative } from "../codegen_util.ts";
import { laneIndex, wholeElementIndex } from "./_wgsl_vector.ts";

/** The WGSL scalar types TIR values map to. */
export type WgslType = "bool" | "i32" | "u32" | "f32" | "f16";

/** An emitted expression and its precedence (higher binds tighter). */
export interface Code {
  readonly c: string;
  readonly p: number;
}

const P_LOGIC = 0, P_REL = 1, P_ADD = 2, P_MUL = 3, P_UNARY = 4, P_PRIMARY = 5;

/** Helper functions by name: their WGSL text. */
const HELPERS: { readonly [name: string]: string } = {
  // The remainder is computed as a - (a / b) * b: signed `%` is miscompiled by some drivers
  // (llvmpipe over GL computes it as unsigned).
  tvm_truncmod_i32: `fn tvm_truncmod_i32(a: i32, b: i32) -> i32 {
  return a - (a / b) * b;
}`,
  tvm_floordiv_i32: `fn tvm_floordiv_i32(a: i32, b: i32) -> i32 {
  let q = a / b;
  let r = a - q * b;
  return select(q, q - 1i, (r != 0i) && ((r < 0i) != (b < 0i)));
}`,
  tvm_floormod_i32: `fn tvm_floormod_i32(a: i32, b: i32) -> i32 {
  let r = a - (a / b) * b;
  return select(r, r + b, (r != 0i) && ((r < 0i) != (b < 0i)));
}`,
  tvm_erf_f32:
    `// erf: Taylor series near 0, else 1 - erfc with a rational-exponential fit (|error| < 2e-7).
fn tvm_erf_f32(x: f32) -> f32 {
  let z = abs(x);
  if (z < 0.5f) {
    let z2 = x * x;
    return 1.1283791671f * x * (1.0f + z2 * (-0.3333333333f + z2 * (0.1f + z2 * (-0.0238095238f + z2 * (0.0046296296f - z2 * 0.0007575758f)))));
  }
  let t = 1.0f / (1.0f + 0.5f * z);
  let p = -1.26551223f + t * (1.00002368f + t * (0.37409196f + t * (0.09678418f + t * (-0.18628806f + t * (0.27886807f + t * (-1.13520398f + t * (1.48851587f + t * (-0.82215223f + t * 0.17087277f))))))));
  let erfc = t * exp(-z * z + p);
  return sign(x) * (1.0f - erfc);
}`,
  tvm_round_f32: `// Rounds half away from zero.
fn tvm_round_f32(x: f32) -> f32 {
  let t = trunc(x);
  return select(t, t + sign(x), abs(x - t) >= 0.5f);
}`,
  tvm_inf_f32: `fn tvm_inf_f32(sign_bit: u32) -> f32 {
  var bits = 0x7f800000u | sign_bit;
  return bitcast<f32>(bits);
}`,
  tvm_nan_f32: `fn tvm_nan_f32() -> f32 {
  var bits = 0x7fc00000u;
  return bitcast<f32>(bits);
}`,
};

/** Names the WGSL code generator must not hand out. */
export const WGSL_RESERVED: readonly string[] = [
  ...Object.keys(HELPERS),
  // keywords
  ..."alias break case const const_assert continue continuing default diagnostic discard else enable false fn for if let loop override requires return struct switch true var while"
    .split(" "),
  // reserved words
  ..."NULL Self abstract active alignas alignof as asm asm_fragment async attribute auto await become binding_array cast catch class co_await co_return co_yield coherent column_major common compile compile_fragment concept const_cast consteval constexpr constinit crate debugger decltype delete demote demote_to_helper do dynamic_cast enum explicit export extends extern external fallthrough filter final finally friend from fxgroup get goto groupshared highp impl implements import inline instanceof interface layout lowp macro macro_rules match mediump meta mod module move mut mutable namespace new nil noexcept noinline nointerpolation noperspective null nullptr of operator package packoffset partition pass patch pixelfragment precise precision premerge priv protected pub public readonly ref regardless register reinterpret_cast require resource restrict self set shared sizeof smooth snorm static static_assert static_cast std subroutine super target template this thread_local throw trait try type typedef typeid typename typeof union unless unorm unsafe unsized use using varying virtual volatile wgsl where with writeonly yield"
    .split(" "),
  // types and built-in functions the generated code uses
  ..."bool i32 u32 f32 f16 vec2 vec3 vec4 array atomic ptr abs atan bitcast ceil clamp cos exp exp2 floor inverseSqrt log log2 max min pow round select sign sin sqrt tan tanh trunc workgroupBarrier storageBarrier arrayLength"
    .split(" "),
  // names the generator declares itself
  "main",
  "Params",
  "params",
  "workgroup_id",
  "local_id",
  "num_workgroups",
];

/** Memory as the shader declares it. */
export interface WgslStorage {
  /** The WGSL name. */
  readonly name: string;
  /** The facts kernel analysis found. */
  readonly info: StorageInfo;
  /** Lanes per array element (1 for an array of scalars, else `vecN`). */
  readonly width: number;
}

/** What the expression emitter needs from the code generator. */
export interface WgslExprContext {
  readonly kernel: string;
  readonly supportsF16: boolean;
  /** The WGSL name of a variable in scope (`undefined` for an unknown variable). */
  varCode(v: Var): string | undefined;
  /**
   * The WGSL name and facts of the memory behind a data variable, and the width of its vector
   * elements (1 for an array of scalars).
   */
  storage(data: Var): WgslStorage;
  /** Variables known to be non-negative. */
  readonly nonNeg: ReadonlySet<Var>;
  /** Helper functions used so far. */
  readonly helpers: Set<string>;
  /** Set when f16 is used. */
  usesF16: boolean;
}

/** The WGSL text of the helpers in `used`, in a stable order. */
export function helperText(used: ReadonlySet<string>): string[] {
  return Object.keys(HELPERS).filter((h) => used.has(h)).map((h) => HELPERS[h]!);
}

/** The WGSL type of a TIR scalar or vector dtype (`float32x4` is `vec4<f32>`). */
export function wgslValueType(ctx: WgslExprContext, t: DType): string {
  const n = lanes(t);
  if (n === 1) return wgslType(ctx, t);
  if (n > 4) {
    throw new Error(
      `Kernel "${ctx.kernel}": ${t} values are not supported in WGSL (at most 4 lanes)`,
    );
  }
  return `vec${n}<${wgslType(ctx, elementDType(t) as DType)}>`;
}

/** The WGSL type of a TIR scalar dtype (64-bit integers become i32: indices are 32-bit). */
export function wgslType(ctx: WgslExprContext, t: DType): WgslType {
  if (!isScalarDType(t)) {
    throw new Error(
      `Kernel "${ctx.kernel}": ${t} values are not supported here in WGSL (this operation takes scalars)`,
    );
  }
  switch (t) {
    case "bool":
      return "bool";
    case "int8":
    case "int16":
    case "int32":
    case "int64":
      return "i32";
    case "uint8":
    case "uint16":
    case "uint32":
      return "u32";
    case "float16":
      if (!ctx.supportsF16) {
        throw new Error(
          `Kernel "${ctx.kernel}" uses float16, which needs the shader-f16 feature the target lacks`,
        );
      }
      ctx.usesF16 = true;
      return "f16";
    case "float32":
      return "f32";
    case "float64":
      throw new Error(`Kernel "${ctx.kernel}" uses float64, but WebGPU has no 64-bit floats`);
    default:
      t satisfies never;
      throw new Error("unreachable");
  }
}

/** The WGSL element type of storage holding `t` (bool and narrow integers widen to 32 bits). */
export function storageElemType(ctx: WgslExprContext, t: DType): WgslType {
  return t === "bool" ? "u32" : wgslType(ctx, t);
}

function helper(ctx: WgslExprContext, name: string): string {
  ctx.helpers.add(name);
  return name;
}

/** A WGSL literal for a constant of dtype `t`. */
export function literal(ctx: WgslExprContext, value: number, t: DType): Code {
  const ty = wgslType(ctx, t);
  switch (ty) {
    case "bool":
      return { c: value ? "true" : "false", p: P_PRIMARY };
    case "i32":
      if (value < -(2 ** 31) || value >= 2 ** 31) {
        throw new Error(`Kernel "${ctx.kernel}": constant ${value} (${t}) does not fit in 32 bits`);
      }
      if (value === -(2 ** 31)) return { c: "i32(-2147483648)", p: P_PRIMARY };
      return value < 0 ? { c: `-${-value}i`, p: P_UNARY } : { c: `${value}i`, p: P_PRIMARY };
    case "u32":
      if (value < 0 || value >= 2 ** 32) {
        throw new Error(`Kernel "${ctx.kernel}": constant ${value} (${t}) does not fit in 32 bits`);
      }
      return { c: `${value}u`, p: P_PRIMARY };
    case "f32":
    case "f16": {
      const v = ty === "f32" ? Math.fround(value) : Math.f16round(value);
      if (Number.isNaN(v)) return wrapF(`${helper(ctx, "tvm_nan_f32")}()`, ty);
      if (!Number.isFinite(v)) {
        return wrapF(`${helper(ctx, "tvm_inf_f32")}(${v < 0 ? "0x80000000u" : "0u"})`, ty);
      }
      let s = String(Object.is(v, -0) ? "-0" : v);
      if (!/[.e]/.test(s)) s += ".0";
      s += ty === "f32" ? "f" : "h";
      return v < 0 || Object.is(v, -0) ? { c: s, p: P_UNARY } : { c: s, p: P_PRIMARY };
    }
  }
}

function wrapF(c: string, ty: "f32" | "f16"): Code {
  return { c: ty === "f32" ? c : `f16(${c})`, p: P_PRIMARY };
}

function paren(x: Code, min: number): string {
  return x.p >= min ? x.c : `(${x.c})`;
}

const ARITH: { readonly [k: string]: readonly [string, number] } = {
  Add: ["+", P_ADD],
  Sub: ["-", P_ADD],
  Mul: ["*", P_MUL],
  Div: ["/", P_MUL],
  EQ: ["==", P_REL],
  NE: ["!=", P_REL],
  LT: ["<", P_REL],
  LE: ["<=", P_REL],
  GT: [">", P_REL],
  GE: [">=", P_REL],
};

function binop(op: string, p: number, a: Code, b: Code): Code {
  if (p === P_REL) return { c: `${paren(a, P_ADD)} ${op} ${paren(b, P_ADD)}`, p };
  return { c: `${paren(a, p)} ${op} ${paren(b, p + 1)}`, p };
}

function call(name: string, ...args: Code[]): Code {
  return { c: `${name}(${args.map((a) => a.c).join(", ")})`, p: P_PRIMARY };
}

/** Emits an expression; `env` overrides variables bound by `Let` expressions. */
export function emitExpr(ctx: WgslExprContext, e: PrimExpr, env?: ReadonlyMap<Var, Code>): Code {
  const go = (x: PrimExpr) => emitExpr(ctx, x, env);
  switch (e.kind) {
    case "Var": {
      const bound = env?.get(e);
      if (bound) return bound;
      const c = ctx.varCode(e);
      if (c === undefined) {
        throw new Error(`Kernel "${ctx.kernel}" uses variable "${e.name}" out of scope`);
      }
      return { c, p: P_PRIMARY };
    }
    case "IntImm":
    case "FloatImm":
      return literal(ctx, e.value, e.dtype);
    case "StringImm":
      throw new Error(`Kernel "${ctx.kernel}": string "${e.value}" cannot be a WGSL value`);
    case "Mod":
      if (
        wgslType(ctx, e.a.dtype) === "i32" &&
        !(isNonNegative(e.a, ctx.nonNeg) && e.b.kind === "IntImm" && e.b.value > 0)
      ) {
        return call(helper(ctx, "tvm_truncmod_i32"), go(e.a), go(e.b));
      }
      return binop("%", P_MUL, go(e.a), go(e.b));
    case "Add":
    case "Sub":
    case "Mul":
    case "Div":
    case "EQ":
    case "NE":
    case "LT":
    case "LE":
    case "GT":
    case "GE": {
      wgslValueType(ctx, e.a.dtype);
      const [op, p] = ARITH[e.kind]!;
      return binop(op, p, go(e.a), go(e.b));
    }
    case "FloorDiv":
    case "FloorMod": {
      const ty = wgslType(ctx, e.a.dtype);
      const a = go(e.a), b = go(e.b);
      const div = e.kind === "FloorDiv";
      if (ty === "f32" || ty === "f16") {
        const q = call("floor", binop("/", P_MUL, a, b));
        return div ? q : binop("-", P_ADD, a, binop("*", P_MUL, q, b));
      }
      const plain = ty === "u32" ||
        isNonNegative(e.a, ctx.nonNeg) && e.b.kind === "IntImm" && e.b.value > 0;
      if (plain) return binop(div ? "/" : "%", P_MUL, a, b);
      return call(helper(ctx, div ? "tvm_floordiv_i32" : "tvm_floormod_i32"), a, b);
    }
    case "Min":
    case "Max":
      wgslValueType(ctx, e.a.dtype);
      return call(e.kind === "Min" ? "min" : "max", go(e.a), go(e.b));
    case "And":
    case "Or": {
      // Vectors of bool combine with the non-short-circuit operators.
      const v = lanes(e.dtype) > 1;
      const op = e.kind === "And" ? (v ? "&" : "&&") : (v ? "|" : "||");
      const side = (x: PrimExpr, left: boolean) => {
        const c = go(x);
        const same = x.kind === e.kind && left;
        return same || c.p > P_LOGIC ? c.c : `(${c.c})`;
      };
      return { c: `${side(e.a, true)} ${op} ${side(e.b, false)}`, p: P_LOGIC };
    }
    case "Not":
      return { c: `!${paren(go(e.a), P_PRIMARY)}`, p: P_UNARY };
    case "Select":
      return call("select", go(e.f), go(e.t), go(e.cond));
    case "Cast":
      if (lanes(e.dtype) > 1) {
        const x = go(e.value);
        return e.dtype === e.value.dtype ? x : call(wgslValueType(ctx, e.dtype), x);
      }
      return emitCast(ctx, go(e.value), e.value.dtype, e.dtype);
    case "Let": {
      const m = new Map(env ?? []);
      m.set(e.var, { c: `(${go(e.value).c})`, p: P_PRIMARY });
      return emitExpr(ctx, e.body, m);
    }
    case "Call":
      return emitCall(ctx, e, go);
    case "BufferLoad":
      return emitLoad(ctx, e, go);
    case "Ramp": {
      // base + (0, 1, ..., n-1) * stride
      const t = wgslValueType(ctx, e.dtype);
      const iota = Array.from({ length: e.lanes }, (_, i) => literal(ctx, i, e.base.dtype).c);
      const steps = binop(
        "*",
        P_MUL,
        { c: `${t}(${iota.join(", ")})`, p: P_PRIMARY },
        go(e.stride),
      );
      return binop("+", P_ADD, call(t, go(e.base)), steps);
    }
    case "Broadcast":
      return call(wgslValueType(ctx, e.dtype), go(e.value));
    default:
      e satisfies never;
      throw new Error("unreachable");
  }
}

/** Converts `x` from dtype `from` to `to`, wrapping narrow integers as TIR does. */
export function emitCast(ctx: WgslExprContext, x: Code, from: DType, to: DType): Code {
  const src = wgslType(ctx, from), dst = wgslType(ctx, to);
  let out: Code;
  if (dst === "bool") {
    const zero = src === "bool" ? undefined : literal(ctx, 0, from);
    out = zero ? binop("!=", P_REL, x, zero) : x;
  } else if (src === dst) {
    out = x;
  } else {
    out = call(dst, x);
  }
  if (isInt(to) && !isUInt(to) && (to === "int8" || to === "int16") && from !== to) {
    const s = to === "int8" ? 24 : 16;
    return { c: `((${paren(out, P_PRIMARY)} << ${s}u) >> ${s}u)`, p: P_PRIMARY };
  }
  if ((to === "uint8" || to === "uint16") && from !== to) {
    return {
      c: `(${paren(out, P_PRIMARY)} & ${to === "uint8" ? "0xffu" : "0xffffu"})`,
      p: P_PRIMARY,
    };
  }
  return out;
}

/**
 * A reference to element `idx` (of integer dtype `t`) of storage `name` whose array elements are
 * vectors of `width` lanes (`name[idx]` when `width` is 1).
 */
export function elementRef(
  ctx: WgslExprContext,
  name: string,
  width: number,
  idx: Code,
  t: DType,
): string {
  if (width === 1) return `${name}[${idx.c}]`;
  const w = literal(ctx, width, elementDType(t) as DType).c, i = paren(idx, P_MUL + 1);
  return `${name}[${i} / ${w}][${i} % ${w}]`;
}

/**
 * The WGSL of each lane's flat index of a vector index `index` (a ramp or broadcast gives scalar
 * expressions; any other vector is indexed by lane).
 */
export function laneIndexCodes(
  index: PrimExpr,
  go: (x: PrimExpr) => Code,
): Code[] {
  const n = lanes(index.dtype);
  const whole = index.kind === "Ramp" || index.kind === "Broadcast" ? undefined : go(index);
  return Array.from({ length: n }, (_, l) => {
    const e = laneIndex(index, l);
    return e ? go(e) : { c: `${paren(whole!, P_PRIMARY)}[${l}]`, p: P_PRIMARY };
  });
}

/** A load: one element, one aligned vector element, or a gather of lanes. */
function emitLoad(ctx: WgslExprContext, e: BufferLoad, go: (x: PrimExpr) => Code): Code {
  const { name, info, width } = ctx.storage(e.buffer.data);
  const t = wgslValueType(ctx, e.dtype);
  const index = flatIndex(e.buffer, e.indices);
  const scalar = (idx: Code): Code => {
    const load = { c: elementRef(ctx, name, width, idx, index.dtype), p: P_PRIMARY };
    return info.dtype === "bool" ? binop("!=", P_REL, load, { c: "0u", p: P_PRIMARY }) : load;
  };
  const n = lanes(e.dtype);
  if (n === 1) return scalar(go(index));
  const whole = wholeElementIndex(index, width);
  if (whole) return { c: `${name}[${go(whole).c}]`, p: P_PRIMARY };
  return call(t, ...laneIndexCodes(index, go).map(scalar));
}

function emitCall(ctx: WgslExprContext, e: Call, go: (x: PrimExpr) => Code): Code {
  const args = e.args;
  const a = () => go(args[0]!);
  const ty = () => wgslType(ctx, elementDType(args[0]!.dtype) as DType);
  const one = () => literal(ctx, 1, args[0]!.dtype);
  switch (e.op) {
    case "tir.exp":
    case "tir.exp2":
    case "tir.log":
    case "tir.log2":
    case "tir.sqrt":
    case "tir.sin":
    case "tir.cos":
    case "tir.tan":
    case "tir.atan":
    case "tir.floor":
    case "tir.ceil":
    case "tir.trunc":
      ty();
      return call(e.op.slice(4), a());
    case "tir.fabs":
      ty();
      return call("abs", a());
    case "tir.nearbyint":
      ty();
      return call("round", a());
    case "tir.rsqrt":
      ty();
      return call("inverseSqrt", a());
    case "tir.pow": {
      // WGSL's pow is undefined for a negative base; TIR's (C's) is defined for an integral
      // exponent: |x|^y, negated when y is odd.
      ty();
      const x = a(), y = go(args[1]!), t = args[0]!.dtype;
      const zero = literal(ctx, 0, t), one = literal(ctx, 1, t), two = literal(ctx, 2, t);
      const half = literal(ctx, 0.5, t);
      const odd = binop(
        "==",
        P_REL,
        call(
          "abs",
          binop("-", P_ADD, y, binop("*", P_MUL, two, call("floor", binop("*", P_MUL, y, half)))),
        ),
        one,
      );
      const sign = call("select", one, { c: `-${one.c}`, p: P_UNARY }, odd);
      const negative = binop("*", P_MUL, call("pow", call("abs", x), y), sign);
      return call("select", negative, call("pow", x, y), binop(">=", P_REL, x, zero));
    }
    case "tir.log10":
      return binop("*", P_MUL, call("log2", a()), literal(ctx, 0.3010299956639812, args[0]!.dtype));
    case "tir.tanh": {
      const lim = literal(ctx, ty() === "f16" ? 10 : 20, args[0]!.dtype);
      return call("tanh", call("clamp", a(), { c: `-${lim.c}`, p: P_UNARY }, lim));
    }
    case "tir.sigmoid":
      return binop(
        "/",
        P_MUL,
        one(),
        binop("+", P_ADD, one(), call("exp", { c: `-${paren(a(), P_PRIMARY)}`, p: P_UNARY })),
      );
    case "tir.erf":
    case "tir.round": {
      const name = e.op === "tir.erf" ? "tvm_erf_f32" : "tvm_round_f32";
      return ty() === "f32"
        ? call(helper(ctx, name), a())
        : call("f16", call(helper(ctx, name), call("f32", a())));
    }
    case "tir.isnan":
    case "tir.isinf": {
      const t = ty();
      if (t !== "f32" && t !== "f16") return { c: "false", p: P_PRIMARY };
      const x = t === "f32" ? a() : call("f32", a());
      const bits = `(bitcast<u32>(${x.c}) & 0x7fffffffu)`;
      return { c: `${bits} ${e.op === "tir.isnan" ? ">" : "=="} 0x7f800000u`, p: P_REL };
    }
    case "tir.if_then_else":
      return call("select", go(args[2]!), go(args[1]!), a());
    case "tir.reinterpret": {
      const src = ty(), dst = wgslType(ctx, e.dtype);
      if (src === "bool" || dst === "bool" || (src === "f16") !== (dst === "f16")) {
        throw new Error(
          `Kernel "${ctx.kernel}": cannot reinterpret ${args[0]!.dtype} as ${e.dtype} in WGSL`,
        );
      }
      return { c: `bitcast<${dst}>(${a().c})`, p: P_PRIMARY };
    }
    case "tir.likely":
      return a();
    default:
      throw new Error(`Kernel "${ctx.kernel}": intrinsic "${e.op}" has no WGSL lowering`);
  }
}
