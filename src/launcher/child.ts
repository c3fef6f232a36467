/**
 * Script of a peer process started by the launcher: `<runtime> child.ts <entry>`. Its settings
 * and the grid key arrive as one JSON line on standard input (never in argv). When standard
 * input closes — the launcher exited or was killed — the peer exits too, so no process is
 * ever left behind.
 *
 * @module
 */
import process from "node:process";
import { configureLog, type Level } from "../log.ts";
import { loadEntry } from "./entry.ts";
import { joinGrid } from "./join.ts";
import { fromHex, stdinLine } from "./secret.ts";
import type { ConnectionLimits } from "../mesh/node.ts";

/** The line the launcher writes to a child's stdin. */
export interface ChildConfig {
  key: string;
  grid: string;
  bootstrap: string[];
  level: Level;
  /** `--log FILE`: where this peer's lines go too (else stderr). */
  logFile?: string;
  listen?: string[];
  limits?: ConnectionLimits;
}

async function readConfig(): Promise<ChildConfig> {
  const line = await stdinLine().catch(() => {
    throw new Error("launcher closed stdin before the config");
  });
  return JSON.parse(line) as ChildConfig;
}

async function main(): Promise<number> {
  const entryArg = process.argv[2];
  // The launcher going away ends us, however it went.
  process.stdin.on("end", () => process.exit(1));
  process.stdin.on("error", () => process.exit(1));
  process.on("SIGINT", () => process.exit(130));
  // SIGTERM is how the launcher ends the job for every peer: one that has started leaves the
  // grid as on the origin's "stop" (a second SIGTERM ends it at once); one still starting —
  // the job ended before it could join — exits at once (before this line, by default).
  const term = new AbortController();
  let joined = false;
  process.on("SIGTERM", () => joined && !term.signal.aborted ? term.abort() : process.exit(143));
  const config = await readConfig();
  process.stdin.resume();
  configureLog({ level: config.level, file: config.logFile });
  return await joinGrid({
    entry: loadEntry(entryArg),
    grid: config.grid,
    key: fromHex(config.key),
    bootstrap: config.bootstrap,
    listen: config.listen,
    limits: config.limits,
    signal: term.signal,
    onJoined: () => joined = true,
  });
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`scoop: error: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
