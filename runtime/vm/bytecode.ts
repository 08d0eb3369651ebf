/**
 * The VM's bytecode: four instructions over a register file, as in TVM's Relax VM.
 *
 * - `call dst func args...`: calls entry `func` of the executable's function table (a bytecode
 *   function, a compiled PrimFunc, or a packed function: a VM builtin or a function of the
 *   registry) and stores the result in register `dst` (`-1` discards it);
 * - `ret value`: returns from the function;
 * - `goto offset`: jumps `offset` instructions (relative);
 * - `if cond falseOffset`: goes on with the next instruction when register `cond` holds a true
 *   value, else jumps `falseOffset` instructions.
 *
 * Operands are registers, immediate numbers, or constants of the executable's pool. Everything
 * is plain JSON-able data.
 *
 * @module
 */

/** An instruction operand. */
export type Operand =
  | { readonly kind: "reg"; readonly index: number }
  | { readonly kind: "imm"; readonly value: number }
  | { readonly kind: "const"; readonly index: number };

/** A VM instruction. */
export type Instr =
  | {
    readonly op: "call";
    readonly dst: number;
    readonly func: number;
    readonly args: readonly Operand[];
  }
  | { readonly op: "ret"; readonly value: Operand }
  | { readonly op: "goto"; readonly offset: number }
  | { readonly op: "if"; readonly cond: number; readonly falseOffset: number };

/** A bytecode function. Its parameters arrive in registers `0 .. params.length - 1`. */
export interface VMFunction {
  /** The function's name. */
  readonly name: string;
  /** Parameter names, for messages. */
  readonly params: readonly string[];
  /** Registers the function uses (parameters included). */
  readonly numRegs: number;
  /** The code. */
  readonly code: readonly Instr[];
}

/** An entry of the function table: what a `call` instruction calls. */
export type FuncEntry =
  /** A bytecode function, by index into the executable's functions. */
  | { readonly kind: "vm"; readonly name: string; readonly index: number }
  /** A compiled PrimFunc: its kernel, by name. */
  | { readonly kind: "prim"; readonly name: string }
  /** A VM builtin (`vm.builtin.*`) or a function of the registry, resolved when called. */
  | { readonly kind: "packed"; readonly name: string };

/** `r3`, `5`, `c0` */
export function formatOperand(o: Operand): string {
  switch (o.kind) {
    case "reg":
      return `r${o.index}`;
    case "imm":
      return String(o.value);
    case "const":
      return `c${o.index}`;
    default:
      o satisfies never;
      return "?";
  }
}

/** One instruction as text: `r2 = call vm.builtin.alloc_tensor(c0, c1, 0)`. */
export function formatInstr(instr: Instr, funcTable: readonly FuncEntry[] = []): string {
  switch (instr.op) {
    case "call": {
      const f = funcTable[instr.func]?.name ?? `#${instr.func}`;
      const call = `call ${f}(${instr.args.map(formatOperand).join(", ")})`;
      return instr.dst < 0 ? call : `r${instr.dst} = ${call}`;
    }
    case "ret":
      return `ret ${formatOperand(instr.value)}`;
    case "goto":
      return `goto ${instr.offset > 0 ? "+" : ""}${instr.offset}`;
    case "if":
      return `if r${instr.cond} else ${instr.falseOffset > 0 ? "+" : ""}${instr.falseOffset}`;
    default:
      instr satisfies never;
      return "?";
  }
}

/** A function as text: a header and one numbered instruction per line. */
export function formatFunction(f: VMFunction, funcTable: readonly FuncEntry[] = []): string {
  const lines = [`vm function ${f.name}(${f.params.join(", ")}) [${f.numRegs} registers]:`];
  f.code.forEach((instr, pc) =>
    lines.push(`  ${String(pc).padStart(3)}: ${formatInstr(instr, funcTable)}`)
  );
  return lines.join("\n");
}

/**
 * Checks that a function's code stays within its registers, the function table and the
 * constant pool, that jumps land inside the function, and that the code ends with `ret` or a
 * jump; throws naming the function and instruction otherwise. Loading an executable runs it.
 */
export function validateFunction(
  f: VMFunction,
  limits: { readonly numFuncs: number; readonly numConsts: number },
): void {
  const fail = (pc: number, what: string): never => {
    throw new Error(`VM function "${f.name}", instruction ${pc}: ${what}`);
  };
  if (!Number.isInteger(f.numRegs) || f.numRegs < f.params.length) {
    throw new Error(
      `VM function "${f.name}" has ${f.numRegs} registers for ${f.params.length} parameters`,
    );
  }
  const reg = (pc: number, r: number) => {
    if (!Number.isInteger(r) || r < 0 || r >= f.numRegs) {
      fail(pc, `register ${r} is out of range (0 to ${f.numRegs - 1})`);
    }
  };
  const operand = (pc: number, o: Operand) => {
    switch (o.kind) {
      case "reg":
        return reg(pc, o.index);
      case "imm":
        if (typeof o.value !== "number") fail(pc, "an immediate must be a number");
        return;
      case "const":
        if (!Number.isInteger(o.index) || o.index < 0 || o.index >= limits.numConsts) {
          fail(pc, `constant ${o.index} is out of range (the pool has ${limits.numConsts})`);
        }
        return;
      default:
        o satisfies never;
        fail(pc, `unknown operand kind "${(o as { kind: string }).kind}"`);
    }
  };
  const target = (pc: number, off: number) => {
    const t = pc + off;
    if (!Number.isInteger(off) || t < 0 || t >= f.code.length) {
      fail(pc, `jump to ${t} leaves the function`);
    }
  };
  f.code.forEach((instr, pc) => {
    switch (instr.op) {
      case "call":
        if (instr.dst !== -1) reg(pc, instr.dst);
        if (!Number.isInteger(instr.func) || instr.func < 0 || instr.func >= limits.numFuncs) {
          fail(pc, `function ${instr.func} is out of range (the table has ${limits.numFuncs})`);
        }
        instr.args.forEach((a) => operand(pc, a));
        return;
      case "ret":
        return operand(pc, instr.value);
      case "goto":
        return target(pc, instr.offset);
      case "if":
        reg(pc, instr.cond);
        return target(pc, instr.falseOffset);
      default:
        instr satisfies never;
        fail(pc, `unknown instruction "${(instr as { op: string }).op}"`);
    }
  });
  const last = f.code[f.code.length - 1];
  if (!last || (last.op !== "ret" && last.op !== "goto")) {
    throw new Error(`VM function "${f.name}" does not end with ret`);
  }
}
