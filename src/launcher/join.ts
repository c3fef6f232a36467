/**
 * A worker peer: joins a grid through bootstrap addresses or by finding it on the LAN (mDNS),
 * serves it (runs and steals tasks) until the origin says stop or goes away, then exits. Used
 * for the peers `cli.ts -n` starts and for `cli.ts --join`, which serves job after job.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { scriptCommand } from "../runtime/mod.ts";
import { GridError } from "../errors.ts";
import { logger } from "../log.ts";
import { Peer } from "../peer/peer.ts";
import { type Entry, entryCode } from "./entry.ts";
import type { ConnectionLimits } from "../mesh/node.ts";
import type { CodeSource } from "../mesh/code.ts";
import { fetchEntry } from "./fetch.ts";

const log = logger("join");
const CLI = fileURLToPath(new URL("../../cli.ts", import.meta.url));

/** Options of {@link joinGrid}. */
export interface JoinOptions {
  entry: Entry;
  /** The code served to peers that join without the app (default: `entry`, bundled). */
  code?: CodeSource;
  /** An executor started ahead (see `Peer.prestart`). */
  executor?: Worker;
  grid: string;
  key: Uint8Array;
  /** Addresses of peers already in the grid (at least one, unless `discovery` is set). */
  bootstrap: string[];
  /** mDNS service name to find the grid under (see `discoveryTag`); unset: no discovery. */
  discovery?: string;
  listen?: string[];
  /** Caps on inbound connections still in their handshake. */
  limits?: ConnectionLimits;
  /**
   * Aborting it makes the peer leave on purpose (its links hear it: see `Peer.bye`), resolving
   * with 0.
   */
  signal?: AbortSignal;
  /** Called once the peer has joined. */
  onJoined?: () => void;
}

/** Explain a failed dial in one line. */
export function dialError(addr: string, err: Error): GridError {
  const text = `${err.name}: ${err.message}`;
  const why = /Encryption|handshake|decrypt|prologue|ECONNRESET|reset/i.test(text)
    ? "the handshake failed: does this peer have the grid's key? (--secret-file / SCOOP_SECRET)"
    : /ECONNREFUSED|refused/i.test(text)
    ? "nothing listens there"
    : text;
  return new GridError(`Cannot join the grid at ${addr}: ${why}`, { cause: err });
}

/**
 * Join and serve until the job ends. Resolves with the process exit status.
 */
export async function joinGrid(options: JoinOptions): Promise<number> {
  const peer = await Peer.start({
    entry: options.entry.url,
    app: options.entry.hash,
    grid: options.grid,
    key: options.key,
    origin: false,
    listen: options.listen,
    limits: options.limits,
    discovery: options.discovery,
    code: options.code ?? entryCode(options.entry),
    executor: options.executor,
  });
  const stopped = Promise.withResolvers<{ ok: boolean; error?: Error }>();
  peer.onStop = (reason) => stopped.resolve(reason);
  options.signal?.addEventListener("abort", () => stopped.resolve({ ok: true }), { once: true });
  if (options.signal?.aborted) stopped.resolve({ ok: true });
  // Join only once the executor has loaded the entry module: a peer that links earlier is
  // counted in, gets told of work, and cannot take any for the time the import takes.
  try {
    await peer.ready;
  } catch (err) {
    await peer.stop();
    throw err;
  }
  let joined = false;
  let lastError: GridError | undefined;
  if (options.bootstrap.length === 0 && options.discovery !== undefined) {
    // Found over mDNS: the peers of the grid may come now or later (a job not started yet).
    log.info(`peer ${peer.id} (pid ${process.pid}) waits for grid "${options.grid}" on the LAN`);
    const met = Promise.withResolvers<void>();
    peer.onSize = (n) => n > 1 && met.resolve();
    await Promise.race([met.promise, stopped.promise]);
    joined = true;
  }
  for (const addr of options.bootstrap) {
    try {
      await peer.dial(addr);
      joined = true;
    } catch (err) {
      lastError = dialError(addr, err as Error);
      log.debug(lastError.message);
    }
  }
  if (!joined) {
    await peer.stop();
    throw lastError ?? new GridError("Cannot join the grid: no bootstrap address given");
  }
  log.info(`peer ${peer.id} (pid ${process.pid}) joined grid "${options.grid}"`);
  options.onJoined?.();
  const outcome = await stopped.promise;
  // (After the grid's "stop", the peer has left already, and says nothing more.)
  if (options.signal?.aborted) peer.bye();
  await peer.stop();
  if (!outcome.ok && outcome.error) throw outcome.error;
  return 0;
}

/**
 * `cli.ts --join -n N`: start `n` more joiners, each `cli.ts` with `args` (the same command
 * without -n), on this runtime. They end with this process: each leaves when its standard
 * input, a pipe from here, closes (see {@link tieToParent}), and a signal to this process is
 * passed on (this process handles its own, see `cli.ts`). `firstLine`, when given, is written
 * to each one's standard input first (the key, for `--secret-file -`).
 */
export function startMoreJoiners(n: number, args: string[], firstLine?: string): void {
  const children: ChildProcess[] = [];
  for (let i = 0; i < n; i++) {
    const [cmd, argv] = scriptCommand(CLI, args);
    const child = spawn(cmd, argv, {
      stdio: ["pipe", "inherit", "inherit"],
      env: { ...process.env, SCOOP_JOIN_TIED: "1" },
      // A group of its own: a Ctrl-C in the terminal reaches this process alone, which passes
      // it on once (a second signal would make a joiner exit before it says goodbye).
      detached: true,
    });
    child.stdin!.on("error", () => {});
    if (firstLine !== undefined) child.stdin!.write(firstLine + "\n");
    children.push(child);
  }
  const pass = (signal: NodeJS.Signals) => () => {
    for (const c of children) c.kill(signal);
  };
  process.on("SIGINT", pass("SIGINT"));
  process.on("SIGTERM", pass("SIGTERM"));
}

/** A joiner started by `--join -n N` leaves when the process that started it is gone. */
export function tieToParent(): void {
  if (process.env.SCOOP_JOIN_TIED !== "1") return;
  delete process.env.SCOOP_JOIN_TIED;
  process.stdin.on("end", () => process.exit(1));
  process.stdin.on("error", () => process.exit(1));
  process.stdin.resume();
}

/** Options of {@link serveGrid}: without `entry`, each job's code is fetched from the grid. */
export type ServeOptions = Omit<JoinOptions, "entry"> & { entry?: Entry; once: boolean };

/**
 * `cli.ts --join`: serve the grid job after job (a fresh peer for each), or only the first
 * (`once`). Resolves with the process exit status.
 */
export async function serveGrid(options: ServeOptions): Promise<number> {
  for (;;) {
    if (options.once) return await serveJob(options);
    try {
      await serveJob(options);
      if (options.signal?.aborted) return 0;
      log.info(`the job ended; waiting for the next one of grid "${options.grid}"`);
    } catch (err) {
      if (options.signal?.aborted) return 0;
      // A job that failed, or one that was ending as this peer met it: the next may be fine.
      log.warn(`${(err as Error).message}; waiting for the next job of grid "${options.grid}"`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

/** Serve one job: with the app given, or with the job's code fetched, then dropped. */
async function serveJob(options: ServeOptions): Promise<number> {
  if (options.entry !== undefined) return await joinGrid({ ...options, entry: options.entry });
  // The executor loads scoop's modules while the code is fetched.
  const executor = Peer.prestart();
  let fetched;
  try {
    fetched = await fetchEntry(options);
  } catch (err) {
    executor.terminate();
    if (options.signal?.aborted) return 0;
    const addr = options.bootstrap.at(-1);
    throw addr === undefined || err instanceof GridError ? err : dialError(addr, err as Error);
  }
  try {
    return await joinGrid({
      ...options,
      entry: fetched.entry,
      code: () => Promise.resolve(fetched.offer),
      executor,
    });
  } finally {
    fetched.drop();
  }
}
