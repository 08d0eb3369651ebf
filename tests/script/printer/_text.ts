/**
 * `text` strips the first newline and the common indentation of a template literal, so that
 * expected TVMScript can be written indented in tests.
 *
 * @module
 */

/** Dedents a multi-line string literal (dropping its first and last lines when blank). */
export function text(s: string): string {
  const lines = s.split("\n");
  if (lines[0]!.trim() === "") lines.shift();
  if (lines.length > 0 && lines[lines.length - 1]!.trim() === "") lines.pop();
  const indents = lines.filter((l) => l.trim() !== "").map((l) => l.length - l.trimStart().length);
  const cut = Math.min(...indents);
  return lines.map((l) => l.slice(cut)).join("\n");
}
