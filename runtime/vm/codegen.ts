/**
 * VM code generation: Relax functions, after the build's lowering passes (`CallTIRRewrite`,
 * `StaticPlanBlockMemory`, `VMShapeLower`), become bytecode. Variables get registers (a
 * binding of a variable or constant reuses the operand, without a copy); calls of PrimFuncs,
 * Relax functions, packed functions and memory operators become `call` instructions; `If`
 * becomes `if`/`goto`.
 *
 * @module
 */

import type { IRModule } from "../../ir/module.ts";
import type { AnyVar, Constant, Expr, Function, SeqExpr } from "../../ir/relax/expr.ts";
import type { FuncEntry, Instr, Operand, VMFunction } from "./bytecode.ts";
import type { VMConstant } from "./executable.ts";

/** Bytecode, function table and constants of a module. */
export interface VMCode {
  /** The bytecode functions. */
  readonly functions: readonly VMFunction[];
  /** The function table. */
  readonly funcTable: readonly FuncEntry[];
  /** The constant pool. */
  readonly constants: readonly VMConstant[];
}

/** Operators and the builtins they become (`null`: no instruction). */
const OP_BUILTINS: { readonly [op: string]: string | null } = {
  "relax.builtin.alloc_tensor": "vm.builtin.alloc_tensor",
  "relax.memory.alloc_storage": "vm.builtin.alloc_storage",
  "relax.memory.alloc_tensor": "vm.builtin.alloc_tensor_from_storage",
  "relax.memory.kill_storage": "vm.builtin.kill_storage",
  "relax.memory.kill_tensor": null,
  "relax.null_value": "vm.builtin.null_value",
  "relax.shape_of": "vm.builtin.shape_of",
};

const NEEDS_PASS: { readonly [op: string]: string } = {
  "relax.call_tir": "CallTIRRewrite",
  "relax.call_dps_packed": "CallTIRRewrite",
};

class ModuleCodegen {
  readonly funcTable: FuncEntry[] = [];
  readonly constants: VMConstant[] = [];
  readonly #entries = new Map<string, number>();
  readonly #consts = new Map<string, number>();
  readonly #tensors = new Map<Constant, number>();
  readonly #vmIndex: Map<string, number>;

  constructor(readonly mod: IRModule) {
    this.#vmIndex = new Map(
      [...mod.functions].filter(([, f]) => f.kind === "relax.Function").map(([n], i) => [n, i]),
    );
  }

  entry(kind: "vm" | "prim" | "packed", name: string): number {
    const key = `${kind}:${name}`;
    let i = this.#entries.get(key);
    if (i === undefined) {
      i = this.funcTable.length;
      this.funcTable.push(
        kind === "vm" ? { kind, name, index: this.#vmIndex.get(name)! } : { kind, name },
      );
      this.#entries.set(key, i);
    }
    return i;
  }

  /** The table entry of module function `name`. */
  global(name: string, where: string): number {
    const f = this.mod.functions.get(name);
    if (!f) throw new Error(`${where}: the module has no function "${name}"`);
    return this.entry(f.kind === "PrimFunc" ? "prim" : "vm", name);
  }

  constant(c: VMConstant): number {
    const key = JSON.stringify(c);
    let i = this.#consts.get(key);
    if (i === undefined) {
      i = this.constants.length;
      this.constants.push(c);
      this.#consts.set(key, i);
    }
    return i;
  }

  tensor(c: Constant): number {
    let i = this.#tensors.get(c);
    if (i === undefined) {
      i = this.constants.length;
      this.constants.push({ kind: "tensor", value: c.data });
      this.#tensors.set(c, i);
    }
    return i;
  }
}

class FunctionCodegen {
  readonly code: Instr[] = [];
  numRegs: number;
  readonly #loc = new Map<AnyVar, Operand>();
  /** How many variables share each register (a kill must not clear a shared one). */
  readonly #sharers = new Map<number, number>();

  constructor(readonly m: ModuleCodegen, readonly name: string, readonly f: Function) {
    f.params.forEach((p, i) => this.#bind(p, { kind: "reg", index: i }));
    this.numRegs = f.params.length;
  }

  run(): VMFunction {
    const ret = this.#expr(this.f.body);
    this.code.push({ op: "ret", value: ret });
    return {
      name: this.name,
      params: this.f.params.map((p) => p.name),
      numRegs: this.numRegs,
      code: this.code,
    };
  }

  #fail(what: string): never {
    throw new Error(`Cannot build "${this.name}": ${what}`);
  }

  #bind(v: AnyVar, o: Operand): void {
    this.#loc.set(v, o);
    if (o.kind === "reg") this.#sharers.set(o.index, (this.#sharers.get(o.index) ?? 0) + 1);
  }

  #reg(): number {
    return this.numRegs++;
  }

  #call(func: number, args: readonly Operand[], dst = this.#reg()): Operand {
    this.code.push({ op: "call", dst, func, args });
    return { kind: "reg", index: dst };
  }

  #builtin(name: string, args: readonly Operand[], dst?: number): Operand {
    return this.#call(this.m.entry("packed", name), args, dst);
  }

  #asReg(o: Operand): number {
    return o.kind === "reg"
      ? o.index
      : (this.#builtin("vm.builtin.copy", [o]) as { index: number }).index;
  }

  /** The operand holding the value of `e`, emitting the code that computes it. */
  #expr(e: Expr): Operand {
    switch (e.kind) {
      case "relax.Var":
      case "relax.DataflowVar": {
        const o = this.#loc.get(e);
        if (!o) this.#fail(`variable "${e.name}" is used before it is defined`);
        return o;
      }
      case "relax.Constant":
        return { kind: "const", index: this.m.tensor(e) };
      case "relax.ShapeExpr": {
        const dims = e.values.map((v) => v.kind === "IntImm" ? v.value : undefined);
        if (dims.some((d) => d === undefined)) {
          this.#fail("a symbolic shape is left; run VMShapeLower first");
        }
        return { kind: "const", index: this.m.constant({ kind: "shape", dims: dims as number[] }) };
      }
      case "relax.PrimValue": {
        const v = e.value;
        if (v.kind === "IntImm" || v.kind === "FloatImm") return { kind: "imm", value: v.value };
        return this.#fail("a symbolic R.prim_value is left; run VMShapeLower first");
      }
      case "relax.StringImm":
      case "relax.DataTypeImm":
        return { kind: "const", index: this.m.constant({ kind: "string", value: e.value }) };
      case "GlobalVar":
      case "relax.ExternFunc":
        return this.#fail("functions as values are not supported by the VM");
      case "relax.Tuple":
        return this.#builtin("vm.builtin.make_tuple", e.fields.map((x) => this.#expr(x)));
      case "relax.TupleGetItem":
        return this.#builtin("vm.builtin.tuple_getitem", [this.#expr(e.tuple), {
          kind: "imm",
          value: e.index,
        }]);
      case "relax.Call":
        return this.#callExpr(e);
      case "relax.If":
        return this.#ifExpr(e);
      case "relax.SeqExpr":
        return this.#seq(e);
      case "relax.Op":
        return this.#fail(`operator "${e.name}" is used as a value`);
      case "relax.Function":
        return this.#fail("local functions (closures) are not supported by the VM");
      default:
        e satisfies never;
        return this.#fail("unknown expression");
    }
  }

  #callExpr(e: Extract<Expr, { kind: "relax.Call" }>): Operand {
    const op = e.op;
    const args = () => e.args.map((a) => this.#expr(a));
    switch (op.kind) {
      case "GlobalVar":
        return this.#call(this.m.global(op.name, `Cannot build "${this.name}"`), args());
      case "relax.ExternFunc":
        return this.#call(this.m.entry("packed", op.globalSymbol), args());
      case "relax.Op": {
        if (op.name === "relax.vm.kill_object") {
          const x = e.args[0];
          const o = x && (x.kind === "relax.Var" || x.kind === "relax.DataflowVar")
            ? this.#loc.get(x)
            : undefined;
          if (
            o?.kind === "reg" && this.#sharers.get(o.index) === 1 && o.index >= this.f.params.length
          ) {
            this.#builtin("vm.builtin.null_value", [], o.index);
          }
          return { kind: "imm", value: 0 };
        }
        if (Object.hasOwn(OP_BUILTINS, op.name)) {
          const b = OP_BUILTINS[op.name];
          return b === null ? { kind: "imm", value: 0 } : this.#builtin(b!, args());
        }
        const pass = NEEDS_PASS[op.name];
        if (pass) this.#fail(`it still calls "${op.name}"; run ${pass} first`);
        return this.#fail(`it still calls operator "${op.name}"; legalize it first (LegalizeOps)`);
      }
      default:
        return this.#fail(`calling a ${op.kind} value is not supported by the VM`);
    }
  }

  #ifExpr(e: Extract<Expr, { kind: "relax.If" }>): Operand {
    const cond = this.#builtin("vm.builtin.read_if_cond", [this.#expr(e.cond)]) as {
      index: number;
    };
    const dst = this.#reg();
    const ifAt = this.code.length;
    this.code.push({ op: "if", cond: cond.index, falseOffset: 0 });
    this.#builtin("vm.builtin.copy", [this.#expr(e.thenBranch)], dst);
    const gotoAt = this.code.length;
    this.code.push({ op: "goto", offset: 0 });
    const elseAt = this.code.length;
    this.#builtin("vm.builtin.copy", [this.#expr(e.elseBranch)], dst);
    this.code[ifAt] = { op: "if", cond: cond.index, falseOffset: elseAt - ifAt };
    this.code[gotoAt] = { op: "goto", offset: this.code.length - gotoAt };
    return { kind: "reg", index: dst };
  }

  #seq(s: SeqExpr): Operand {
    for (const blk of s.blocks) {
      for (const b of blk.bindings) {
        if (b.kind === "MatchCast") {
          this.#fail(`R.match_cast of "${b.var.name}" is left; run VMShapeLower first`);
        }
        this.#bind(b.var, this.#expr(b.value));
      }
    }
    return this.#expr(s.body);
  }
}

/** Bytecode for every Relax function of `mod` (which must be lowered for the VM). */
export function codegenVM(mod: IRModule): VMCode {
  const m = new ModuleCodegen(mod);
  const functions: VMFunction[] = [];
  for (const [name, f] of mod.functions) {
    if (f.kind !== "relax.Function") continue;
    functions.push(new FunctionCodegen(m, name, f).run());
  }
  return { functions, funcTable: m.funcTable, constants: m.constants };
}
