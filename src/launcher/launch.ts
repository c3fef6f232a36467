/**
 * The launcher: this process becomes the origin peer, starts the other peers of this host as
 * child processes of the same runtime, and runs `main` as soon as the origin has loaded the
 * entry module: the other peers join while it runs, and take work from it as they come (a
 * job that needs them all first awaits `grid.waitForPeers()`). When `main` settles it stops
 * every peer and returns the exit status. A peer that has not joined within `joinTimeout`,
 * or exits early, fails the job. The children get the grid key and the origin's address on
 * standard input, and exit when it closes: no process outlives the launcher, however it
 * ends.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { decodeValue } from "../codec/mod.ts";
import { GridError, UsageError } from "../errors.ts";
import { decodeFailure } from "../executor/failure.ts";
import { type Level, logger, logLevel } from "../log.ts";
import type { Peer as PeerType } from "../peer/peer.ts";
import { peerEnv } from "../runtime/peer-env.ts";
import { runtime, type RuntimeName, scriptCommand } from "../runtime/mod.ts";
import type { ChildConfig } from "./child.ts";
import { loadEntry } from "./entry.ts";
import { freshKey, toHex } from "./secret.ts";

const log = logger("launch");

/** Options of {@link launch}. */
export interface LaunchOptions {
  /** Path of the entry module. */
  entry: string;
  /** Peers on this host, the origin included. */
  workers: number;
  /** Arguments for `main`. */
  args?: string[];
  /** Grid name. @default "scoop" */
  grid?: string;
  /** Grid key; a fresh one per run when absent. */
  key?: Uint8Array;
  /** Runtime of the peers started here. @default this process's runtime */
  runtime?: RuntimeName;
  /** Listen addresses of the origin. @default ["/ip4/127.0.0.1/tcp/0"] */
  listen?: string[];
  /** How long all peers may take to join, in ms; `main` runs meanwhile. @default 60000 */
  joinTimeout?: number;
}

/** How a launch ended. */
export interface LaunchOutcome {
  /** Process exit status: 0 when `main` resolved. */
  code: number;
  /** `main`'s value when it resolved. */
  value?: unknown;
  /** `main`'s error (or a start-up failure) when it did not. */
  error?: unknown;
}

const CHILD_SCRIPT = new URL("./child.ts", import.meta.url).pathname;
const STOP_GRACE_MS = 3000;

/** Start a grid of `workers` peers on this host and run the entry's `main` on it. */
export async function launch(options: LaunchOptions): Promise<LaunchOutcome> {
  const workers = options.workers;
  if (!Number.isSafeInteger(workers) || workers < 1) {
    throw new UsageError(`-n must be a positive integer, got ${workers}`);
  }
  const entry = loadEntry(options.entry);
  const key = options.key ?? freshKey();
  const grid = options.grid ?? "scoop";
  // Children start first: their runtime and module loading (most of a peer's start-up)
  // overlaps with this peer's own; they wait for their config on stdin.
  const children: ChildProcess[] = [];
  const exits: Promise<number>[] = [];
  const early = Promise.withResolvers<never>();
  let ending = false;
  for (let i = 1; i < workers; i++) {
    const target = options.runtime ?? runtime;
    const [cmd, args] = scriptCommand(CHILD_SCRIPT, [entry.path], target);
    const env = peerEnv(target);
    const child = spawn(cmd, args, { stdio: ["pipe", "inherit", "inherit"], env });
    children.push(child);
    exits.push(
      new Promise((resolve) => {
        child.on("exit", (code, signal) => {
          const status = code ?? (signal ? 128 : 1);
          if (!ending) {
            early.reject(
              new GridError(
                `Cannot run the grid: peer ${i} exited with status ${status}${
                  signal ? ` (${signal})` : ""
                }`,
              ),
            );
          }
          resolve(status);
        });
        child.on("error", (err) => {
          early.reject(new GridError(`Cannot start peer ${i} (${cmd}): ${err.message}`));
          resolve(127);
        });
      }),
    );
    child.stdin!.on("error", () => {}); // a child that died is reported through "exit"
  }
  // libp2p is imported only now, while the children load: most of a peer's start-up is import.
  const { Peer } = await import("../peer/peer.ts");
  const peer: PeerType = await Peer.start({
    entry: entry.url,
    app: entry.hash,
    grid,
    key,
    origin: true,
    listen: options.listen,
  });
  const addrs = peer.addresses();
  log.info(`grid "${grid}" origin ${peer.id} listening on ${addrs.join(" ")}`);

  const config: ChildConfig = {
    key: toHex(key),
    grid,
    bootstrap: addrs,
    level: logLevel() as Level,
  };
  for (const child of children) child.stdin!.write(JSON.stringify(config) + "\n");
  early.promise.catch(() => {});

  const killAll = (signal: NodeJS.Signals) => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill(signal);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    ending = true;
    killAll("SIGTERM");
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  let outcome: LaunchOutcome;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const allJoined = new Promise<void>((resolve) => {
      if (peer.size >= workers) resolve();
      peer.onSize = (n) => n >= workers && resolve();
    });
    const timeout = options.joinTimeout ?? 60_000;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new GridError(
              `Cannot run the grid: only ${peer.size} of ${workers} peers joined within ${timeout}ms`,
            ),
          ),
        timeout,
      );
    });
    allJoined.then(() => {
      clearTimeout(timer);
      log.debug(`all ${workers} peers joined`);
    });
    const failed = Promise.race([early.promise, timedOut]);
    failed.catch(() => {});
    const hasMain = await Promise.race([peer.ready, failed]);
    if (!hasMain) {
      throw new UsageError(
        `Cannot run ${options.entry}: it does not export a main function ` +
          `(add \`export async function main(args: string[]) { … }\`)`,
      );
    }
    log.debug(`starting main (${peer.size} of ${workers} peers joined)`);
    peer.startMain(options.args ?? [], workers);
    const done = await Promise.race([peer.mainDone.promise, failed]);
    outcome = done.ok
      ? { code: 0, value: decodeValue(done.payload) }
      : { code: 1, error: decodeFailure(done.payload) };
  } catch (err) {
    outcome = { code: err instanceof UsageError ? 2 : 1, error: err };
  }
  clearTimeout(timer);

  ending = true;
  peer.broadcastStop();
  // Peers still starting exit at once; joined ones leave as on "stop", whichever comes first.
  killAll("SIGTERM");
  let graceTimer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.all(exits),
    new Promise((resolve) => {
      graceTimer = setTimeout(resolve, STOP_GRACE_MS);
    }),
  ]);
  clearTimeout(graceTimer);
  killAll("SIGKILL");
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
  await peer.stop();
  return outcome;
}
