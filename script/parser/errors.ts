/**
 * The typed error of the TVMScript parser: a message with the `line:col` where it happened,
 * the source line and a caret under the column.
 *
 * @module
 */

/** A position in the source text (1-based line and column). */
export interface SourcePos {
  readonly line: number;
  readonly col: number;
}

/** Options of {@link TVMScriptParseError}. */
export interface ParseErrorOptions {
  /** The file name shown in the full text (default `"<tvmscript>"`). */
  readonly fileName?: string;
  /** The text of the line the error is on. */
  readonly sourceLine?: string;
}

/**
 * An error in TVMScript text. `message` reads `<what went wrong> at <line>:<col>`;
 * {@link TVMScriptParseError.format} (also `toString()` and the top of `stack`) shows
 * `<file>:<line>:<col>`, the source line and a caret under the column.
 */
export class TVMScriptParseError extends Error {
  /** 1-based line of the error. */
  readonly line: number;
  /** 1-based column of the error. */
  readonly col: number;
  /** The file name given to the parser (or `"<tvmscript>"`). */
  readonly fileName: string;
  /** The source line the error is on (without its newline). */
  readonly sourceLine: string;
  /** The message without the location. */
  readonly reason: string;

  /** Makes an error for `reason` at `pos`. */
  constructor(reason: string, pos: SourcePos, options: ParseErrorOptions = {}) {
    super(`${reason} at ${pos.line}:${pos.col}`);
    this.name = "TVMScriptParseError";
    this.reason = reason;
    this.line = pos.line;
    this.col = pos.col;
    this.fileName = options.fileName ?? "<tvmscript>";
    this.sourceLine = options.sourceLine ?? "";
    this.stack = `${this.format()}\n${this.stack ?? ""}`;
  }

  /** The full text: `file:line:col: error: reason`, the source line and a caret line. */
  format(): string {
    const caretPad = this.sourceLine.slice(0, Math.max(0, this.col - 1)).replace(/[^\t]/g, " ");
    return `${this.fileName}:${this.line}:${this.col}: error: ${this.reason}\n${this.sourceLine}\n${caretPad}^`;
  }

  /** Same as {@link TVMScriptParseError.format}. */
  override toString(): string {
    return this.format();
  }
}

/** Source text with its lines, to make located errors. */
export class SourceText {
  /** The lines of the text. */
  readonly lines: readonly string[];

  /** Splits `text` into lines; `fileName` is shown in errors. */
  constructor(readonly text: string, readonly fileName: string) {
    this.lines = text.split(/\r\n|\r|\n/);
  }

  /** An error for `reason` at `pos`, quoting the source line. */
  error(reason: string, pos: SourcePos): TVMScriptParseError {
    return new TVMScriptParseError(reason, pos, {
      fileName: this.fileName,
      sourceLine: this.lines[pos.line - 1] ?? "",
    });
  }
}
