/**
 * A hook through which `ir/` shows nodes as text without depending on the TVMScript printer
 * (which lives in `script/` and registers itself here when imported).
 *
 * @module
 */

/** A function that prints any IR node as text. */
export type NodePrinter = (node: unknown) => string;

let printer: NodePrinter | undefined;

/** Registers the printer used by {@link displayNode} (the TVMScript printer does this). */
export function registerNodePrinter(fn: NodePrinter): void {
  printer = fn;
}

/** Prints a node with the registered printer, or a short summary when none is registered. */
export function displayNode(node: unknown): string {
  if (printer) {
    try {
      return printer(node);
    } catch {
      // fall through to the summary
    }
  }
  if (node === null || typeof node !== "object") return String(node);
  const n = node as { kind?: unknown; name?: unknown; value?: unknown };
  const parts = [String(n.kind ?? "object")];
  if (typeof n.name === "string") parts.push(`"${n.name}"`);
  if (typeof n.value === "number" || typeof n.value === "string") parts.push(String(n.value));
  return parts.join(" ");
}
