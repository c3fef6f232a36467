/**
 * Leveled, namespaced logging with a per-peer prefix, written to stderr.
 * `-v` (or `DEBUG=scoop:*`) turns on debug output, `-q` keeps only errors.
 *
 * @module
 */
import { appendFileSync } from "node:fs";
import process from "node:process";

/** Log levels, most severe first. */
export const LEVELS = ["error", "warn", "info", "debug"] as const;
/** One of {@link LEVELS}. */
export type Level = typeof LEVELS[number];

/** A component logger. Arguments are joined with spaces; Errors print their stack at debug. */
export interface Logger {
  error(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  info(...args: unknown[]): void;
  debug(...args: unknown[]): void;
}

interface LogState {
  level: number;
  prefix: string;
  sink: (line: string) => void;
  /** The file lines are appended to (`--log FILE`), passed on to the peers and threads started. */
  file?: string;
}

const KEY = Symbol.for("scoop.log");
const state: LogState = ((globalThis as { [KEY]?: LogState })[KEY] ??= {
  level: /(^|,)scoop(:\*|$)/.test(process.env.DEBUG ?? "") ? 3 : 1,
  prefix: "",
  sink: (line) => process.stderr.write(line + "\n"),
});

/**
 * Set the level (`"info"` shows info, warn and error), the peer prefix, or the output: a sink,
 * or a file every line is appended to (one write per line, so the peers of a host can share
 * one file).
 */
export function configureLog(
  options: { level?: Level; prefix?: string; sink?: (line: string) => void; file?: string },
): void {
  if (options.level !== undefined) state.level = LEVELS.indexOf(options.level);
  if (options.prefix !== undefined) state.prefix = options.prefix;
  if (options.sink !== undefined) state.sink = options.sink;
  if (options.file !== undefined) {
    const file = options.file;
    state.file = file;
    state.sink = (line) => appendFileSync(file, line + "\n");
  }
}

/** The file log lines go to (see {@link configureLog}), if any. */
export function logFile(): string | undefined {
  return state.file;
}

/** The current level. */
export function logLevel(): Level {
  return LEVELS[state.level];
}

function format(arg: unknown): string {
  if (arg instanceof Error) {
    return state.level >= 3 && arg.stack ? arg.stack : `${arg.name}: ${arg.message}`;
  }
  return typeof arg === "string" ? arg : inspectValue(arg);
}

function inspectValue(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * A line for the user, `scoop: <text>` on stderr, shown unless `-q`: what the launcher says of
 * the job (a peer that died, joined, was refused). Not a component's log line: it does not go
 * to `--log FILE`, and carries no peer prefix.
 */
export function notice(text: string): void {
  if (state.level >= 1) process.stderr.write(`scoop: ${text}\n`);
}

/** A logger for one component, e.g. `logger("mesh")` prints `scoop:mesh [ab12cd] …`. */
export function logger(component: string): Logger {
  const emit = (level: number, args: unknown[]) => {
    if (level > state.level) return;
    const tag = level === 0 ? "error" : level === 1 ? "warn" : level === 2 ? "info" : "debug";
    state.sink(
      `scoop:${component}${state.prefix ? ` [${state.prefix}]` : ""} ${tag}: ` +
        args.map(format).join(" "),
    );
  };
  return {
    error: (...a) => emit(0, a),
    warn: (...a) => emit(1, a),
    info: (...a) => emit(2, a),
    debug: (...a) => emit(3, a),
  };
}
