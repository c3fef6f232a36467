/**
 * The launcher: this process becomes the origin peer, starts the other peers of this host as
 * child processes of the same runtime, and runs `main` as soon as the origin has loaded the
 * entry module: the other peers join while it runs, and take work from it as they come (a
 * job that needs them all first awaits `grid.waitForPeers()`). When `main` settles it stops
 * every peer and returns the exit status. A peer that dies during the job fails nothing: the
 * grid runs its tasks elsewhere, and the launcher says so in one line and starts another in its
 * place (but not a peer that died `MAX_QUICK_DEATHS` times in a row soon after starting: that
 * is a fault of the host or the program, said once). Only a peer that exits before the grid is
 * up fails the job; peers still not joined after `joinTimeout` are told of in one line. The
 * children get the grid key and the origin's address on standard input, and exit when it
 * closes: no process outlives the launcher, however it ends.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { decodeValue } from "../codec/mod.ts";
import { GridError, UsageError } from "../errors.ts";
import { decodeFailure } from "../executor/failure.ts";
import { hostname } from "node:os";
import { type Level, logFile, logger, logLevel, notice } from "../log.ts";
import type { Peer as PeerType } from "../peer/peer.ts";
import type { ProgressBar as ProgressBarType } from "./progress.ts";
import { peerEnv } from "../runtime/peer-env.ts";
import { cores, runtime, type RuntimeName, scriptCommand } from "../runtime/mod.ts";
import type { ChildConfig } from "./child.ts";
import { noSourceByEnv } from "../executor/source.ts";
import type { ConnectionLimits } from "../mesh/node.ts";
import { discoveryTag, isLocal } from "../mesh/addresses.ts";
import { entryCode, loadEntry } from "./entry.ts";
import { freshKey, toHex } from "./secret.ts";
import { keyLine, type RemoteOptions, startRemotePeers } from "./remote.ts";
import { describeExit, exitStatus } from "./exit.ts";
import { MemberNotices } from "./notices.ts";
import { outcomeLine } from "./report.ts";
import type { Dashboard, ServeOptions } from "../dashboard/mod.ts";

export { describeExit, exitStatus } from "./exit.ts";

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
  /**
   * Listen addresses of the origin; the peers started here listen on the same hosts, on ports
   * of their own. @default every interface when the key is pre-shared and mDNS is on, else
   * ["/ip4/127.0.0.1/tcp/0"]
   */
  listen?: string[];
  /** The file the key came from, if any (shown in the command that joins the grid). */
  secretFile?: string;
  /** Find and be found on the LAN over mDNS (when the key is pre-shared). @default true */
  mdns?: boolean;
  /**
   * How long all peers may take to join before the launcher says so (the job goes on), in
   * ms; `main` runs meanwhile. @default 60000
   */
  joinTimeout?: number;
  /** Show a progress bar of main's tasks on stderr (see `progress.ts`). @default false */
  progress?: boolean;
  /** Caps on inbound connections still in their handshake, on every peer started here. */
  limits?: ConnectionLimits;
  /**
   * Serve the job's live dashboard there (see `dashboard/mod.ts`); the outcome holds it, open,
   * for the caller to close (or linger first).
   */
  dashboard?: ServeOptions;
  /**
   * Peers on other hosts, started over ssh or srun once the origin is up. Without a given key,
   * the job's fresh key goes to them on standard input.
   */
  remote?: RemoteOptions;
}

/** How a launch ended. */
export interface LaunchOutcome {
  /** Process exit status: 0 when `main` resolved. */
  code: number;
  /** `main`'s value when it resolved. */
  value?: unknown;
  /** `main`'s error (or a start-up failure) when it did not. */
  error?: unknown;
  /** The job's dashboard, still open, when one was asked for. */
  dashboard?: Dashboard;
}

const CHILD_SCRIPT = new URL("./child.ts", import.meta.url).pathname;
const STOP_GRACE_MS = 3000;
/** A peer that dies this many times in a row, each within `QUICK_MS` of starting, is not restarted. */
const MAX_QUICK_DEATHS = 3;
const QUICK_MS = 10_000;
/**
 * Peers starting at once, per core: a peer's start is mostly CPU (runtime, modules, links), and
 * many at once starve the peers already running (64 started together on two cores kept the
 * origin silent past the limit at which the others take it for lost). Past it, each further
 * peer starts as an earlier one joins.
 */
const STARTING_PER_CORE = 2;

/** `addr` on any port (the peers started here listen where the origin does, each its own port). */
function anyPort(addr: string): string {
  return addr.replace(/\/(tcp|udp)\/\d+/, "/$1/0");
}

/** Start a grid of `workers` peers on this host and run the entry's `main` on it. */
export async function launch(options: LaunchOptions): Promise<LaunchOutcome> {
  const workers = options.workers;
  if (!Number.isSafeInteger(workers) || workers < 1) {
    throw new UsageError(`-n must be a positive integer, got ${workers}`);
  }
  const entry = loadEntry(options.entry);
  // Before any peer starts: a port in use is a usage error, and nothing is left to stop.
  const dashboard = options.dashboard && await openDashboard(options.entry, options.dashboard);
  const remote = options.remote?.hosts.length ? options.remote : undefined;
  // A fresh key for other hosts travels as text, on their peers' standard input.
  const key = options.key ??
    (remote ? new TextEncoder().encode(toHex(freshKey())) : freshKey());
  const remoteKey = remote && keyLine(key);
  const grid = options.grid ?? "scoop";
  // A grid with a pre-shared key is open to the LAN: on every interface, and found over mDNS.
  const lan = options.key !== undefined && options.mdns !== false;
  // Other hosts must reach it: every interface too.
  const listen = options.listen ?? (lan || remote ? ["/ip4/0.0.0.0/tcp/0"] : undefined);
  const discovery = lan ? discoveryTag(grid, key) : undefined;
  // Children start first: their runtime and module loading (most of a peer's start-up)
  // overlaps with this peer's own; they wait for their config on stdin.
  const live = new Map<ChildProcess, Promise<number>>();
  const early = Promise.withResolvers<never>();
  let ending = false;
  /** Set once the origin is up: what every child gets on stdin. */
  // deno-lint-ignore prefer-const -- set once the origin is up; the exit handlers read it before
  let configLine: string | undefined;
  /** Peers this launcher still means to have (the origin included). */
  let expected = workers + (remote?.hosts.reduce((sum, h) => sum + h.count, 0) ?? 0);
  let onExpected = () => {};
  /** Peers given up on (see MAX_QUICK_DEATHS): they no longer hold a place among the starting. */
  let given = 0;
  /** Pids of the peers started here, and of those whose exit was told of (see `notices.ts`). */
  const startedPids = new Set<number>();
  const toldPids = new Set<number>();
  const spawnPeer = (i: number, quickDeaths: number) => {
    const target = options.runtime ?? runtime;
    const [cmd, args] = scriptCommand(CHILD_SCRIPT, [entry.path], target);
    const child = spawn(cmd, args, { stdio: ["pipe", "inherit", "inherit"], env: peerEnv(target) });
    const startedAt = Date.now();
    if (child.pid !== undefined) startedPids.add(child.pid);
    const exited = new Promise<number>((resolve) => {
      child.on("exit", (code, signal) => {
        live.delete(child);
        resolve(exitStatus(code, signal));
        if (ending) return;
        const how = describeExit(code, signal);
        if (configLine === undefined) {
          early.reject(new GridError(`Cannot run the grid: peer ${i} exited with ${how}`));
          return;
        }
        const quick = Date.now() - startedAt < QUICK_MS ? quickDeaths + 1 : 0;
        if (child.pid !== undefined) toldPids.add(child.pid);
        if (quick >= MAX_QUICK_DEATHS) {
          expected--;
          given++;
          onExpected();
          process.stderr.write(
            `scoop: peer ${i} exited with ${how}, ${quick} times in a row within ` +
              `${QUICK_MS / 1000} s of starting: not started again; the job goes on without it\n`,
          );
          return;
        }
        process.stderr.write(
          `scoop: peer ${i} died (${how}); its tasks run elsewhere; starting another\n`,
        );
        spawnPeer(i, quick);
      });
      child.on("error", (err) => {
        early.reject(new GridError(`Cannot start peer ${i} (${cmd}): ${err.message}`));
        resolve(127);
      });
    });
    live.set(child, exited);
    child.stdin!.on("error", () => {}); // a child that died is reported through "exit"
    if (configLine !== undefined) child.stdin!.write(configLine);
  };
  const cap = Math.max(4, STARTING_PER_CORE * await cores());
  let spawned = 0;
  /** Start more peers while fewer than `cap` are still starting (`joined` have joined). */
  const spawnUpTo = (joined: number) => {
    while (spawned < workers - 1 && spawned - joined - given < cap) spawnPeer(++spawned, 0);
  };
  spawnUpTo(0);
  // libp2p is imported only now, while the children load: most of a peer's start-up is import.
  const { Peer } = await import("../peer/peer.ts");
  const code = entryCode(entry);
  const peer: PeerType = await Peer.start({
    entry: entry.url,
    app: entry.hash,
    grid,
    key,
    origin: true,
    listen,
    limits: options.limits,
    discovery,
    code,
  });
  // Joiners waiting on the LAN ask for the code as soon as they find this peer.
  if (discovery !== undefined) code().catch(() => {}); // a failure is told to who asks
  if (dashboard !== undefined) {
    peer.onTelemetry = (from, frame) => dashboard.telemetry(from, frame);
    peer.observe(dashboard.every);
  }
  // The origin cannot go on without its executor or main's thread: the job fails.
  peer.onStop = (reason) => {
    if (!reason.ok) early.reject(new GridError(`Cannot run the grid: ${reason.error?.message}`));
  };
  let allJoinedYet = false;
  const notices = new MemberNotices({
    here: hostname(),
    started: (pid) => startedPids.has(pid),
    toldExit: (pid) => toldPids.has(pid),
    startingElsewhere: () => remote !== undefined && !allJoinedYet,
  });
  peer.onMember = (change) => {
    if (ending) return;
    const line = notices.line(change, peer.whereabouts(change.peer));
    if (line !== undefined) notice(line);
  };
  const addrs = peer.addresses();
  log.info(`grid "${grid}" origin ${peer.id} listening on ${addrs.join(" ")}`);

  const config: ChildConfig = {
    key: toHex(key),
    grid,
    bootstrap: addrs,
    level: logLevel() as Level,
    logFile: logFile(),
    limits: options.limits,
    listen: listen?.map(anyPort),
  };
  // (A fresh key, sent to the other hosts, is known to nobody else: nothing to tell.)
  if (!isLocal(addrs[0]) && (options.key !== undefined || remote === undefined)) {
    // Open beyond this host: say how to join it, in one line (never the key itself).
    const command = [
      ...(options.secretFile === undefined ? ["SCOOP_SECRET=…"] : []),
      runtime === "deno" ? "deno run -A cli.ts" : "bun cli.ts",
      "--join",
      ...(options.secretFile === undefined ? [] : ["--secret-file", options.secretFile]),
      "--bootstrap",
      addrs[0],
      // No app file: the joiner fetches the job's code from the grid.
    ];
    const found = discovery === undefined
      ? ""
      : " (found over mDNS on this LAN; --bootstrap for others)";
    process.stderr.write(
      `scoop: grid "${grid}" is open${found}; join it from another host with: ` +
        `${command.join(" ")}\n`,
    );
  }
  configLine = JSON.stringify(config) + "\n";
  for (const child of live.keys()) child.stdin!.write(configLine);
  early.promise.catch(() => {});
  const remotePeers = remote && startRemotePeers(remote, {
    keyLine: remoteKey!,
    runtime: options.runtime ?? runtime,
    grid,
    bootstrap: addrs,
    entry: options.entry,
    level: logLevel() as Level,
    limits: options.limits,
    noSource: noSourceByEnv(),
    onLost: (n) => {
      expected -= n;
      onExpected();
      peer.peersStarted(expected);
    },
  });

  const killAll = (signal: NodeJS.Signals) => {
    // `live` holds the children that have not exited. Signals go by pid: Deno's
    // `ChildProcess.kill` sends one signal only (a second, such as the SIGKILL that follows a
    // SIGTERM to a stopped child, returns false and is never sent).
    for (const c of live.keys()) {
      try {
        if (c.pid !== undefined) process.kill(c.pid, signal);
      } catch {
        // exited meanwhile
      }
    }
  };
  const onSignal = (signal: NodeJS.Signals) => {
    ending = true;
    killAll("SIGTERM");
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  let outcome: LaunchOutcome;
  let bar: ProgressBarType | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const allJoined = new Promise<void>((resolve) => {
      const check = () => {
        spawnUpTo(peer.size - 1);
        if (peer.size >= expected) resolve();
      };
      check();
      peer.onSize = check;
      onExpected = check;
    });
    const timeout = options.joinTimeout ?? 60_000;
    // A slow start (many peers on few cores) fails nothing: `main` runs on those that came.
    timer = setTimeout(() => {
      process.stderr.write(
        `scoop: only ${peer.size} of ${expected} peers joined within ${timeout / 1000} s; ` +
          "the job goes on, and the others join as they come\n",
      );
    }, timeout);
    allJoined.then(() => {
      allJoinedYet = true;
      clearTimeout(timer);
      log.debug(`all ${expected} peers joined`);
    });
    const hasMain = await Promise.race([peer.ready, early.promise]);
    if (!hasMain) {
      throw new UsageError(
        `Cannot run ${options.entry}: it does not export a main function ` +
          `(add \`export async function main(args: string[]) { … }\`)`,
      );
    }
    log.debug(`starting main (${peer.size} of ${expected} peers joined)`);
    if (options.progress) {
      const { ProgressBar } = await import("./progress.ts");
      bar = new ProgressBar(process.stderr);
    }
    peer.onProgress = (p) => {
      bar?.update(p);
      dashboard?.progress(p);
    };
    dashboard?.started(peer.id);
    peer.startMain(options.args ?? [], expected);
    const done = await Promise.race([peer.mainDone.promise, early.promise]);
    outcome = done.ok
      ? { code: 0, value: readable(done.payload) }
      : { code: 1, error: decodeFailure(done.payload) };
  } catch (err) {
    outcome = { code: err instanceof UsageError ? 2 : 1, error: err };
  }
  bar?.stop();
  clearTimeout(timer);
  dashboard?.finished(outcome.code === 0, outcomeLine(outcome));

  ending = true;
  peer.broadcastStop();
  // Peers still starting exit at once; joined ones leave as on "stop", whichever comes first.
  killAll("SIGTERM");
  let graceTimer: ReturnType<typeof setTimeout> | undefined;
  const remoteStopped = remotePeers?.stop();
  await Promise.race([
    Promise.all(live.values()),
    new Promise((resolve) => {
      graceTimer = setTimeout(resolve, STOP_GRACE_MS);
    }),
  ]);
  clearTimeout(graceTimer);
  killAll("SIGKILL");
  await remoteStopped;
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
  await peer.stop();
  return dashboard === undefined ? outcome : { ...outcome, dashboard };
}

/** Open the job's dashboard and say where, in one line. */
async function openDashboard(entry: string, options: ServeOptions): Promise<Dashboard> {
  const { Dashboard } = await import("../dashboard/mod.ts");
  const dashboard = await Dashboard.open(entry, options);
  process.stderr.write(`scoop: dashboard at ${dashboard.url}\n`);
  return dashboard;
}

/** Main's result, or undefined where this thread cannot read it (a function sent as source). */
function readable(payload: Uint8Array): unknown {
  try {
    return decodeValue(payload);
  } catch {
    return undefined;
  }
}
