/**
 * The Relax virtual machine: bytecode, executables, builtins and the interpreter.
 *
 * @module
 */
export * from "./value.ts";
export * from "./bytecode.ts";
export * from "./executable.ts";
export * from "./codegen.ts";
export * from "./builtins.ts";
export * from "./interpreter/virtual_machine.ts";
