/**
 * The launcher's command line: argument parsing → options → launcher; no logic of its own.
 * `cli.ts` at the repository's root loads it (after the preflight).
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { hostname, networkInterfaces } from "node:os";
import process from "node:process";
import { parseArgs } from "node:util";
import { UsageError } from "../errors.ts";
import { launch } from "./launch.ts";
import { loadEntry } from "./entry.ts";
import { discoveryTag } from "../mesh/addresses.ts";
import { configuredKey, keyFromStdin } from "./secret.ts";
import { batchHosts, type HostSlots, parseHostfile } from "./hosts.ts";
import { divideHosts, hostsFromList, isThisHost, planHosts, splitCommand } from "./plan.ts";
import type { RemoteOptions } from "./remote.ts";
import { logger } from "../log.ts";
import type { ConnectionLimits } from "../mesh/node.ts";
import { report } from "./report.ts";
import { NO_SOURCE_ENV } from "../executor/source.ts";
import { configureLog } from "../log.ts";
import { cores, type RuntimeName, runtimeVersion } from "../runtime/mod.ts";

const VERSION = "0.1.0";

const HELP = `scoop ${VERSION} — SCOOP's futures over a brokerless libp2p mesh

Usage: cli.ts [options] <entry.ts> [args for main…]
       cli.ts --join [options] [entry.ts]   (without entry.ts: the job's code comes from the grid)

Options:
  -n, --workers N       peers on this host, the origin included (default: cores); with hosts,
                        the total over them, as in SCOOP (default: their counts); with --join,
                        how many joiners to start here (default: 1)
      --hosts H [H…]    hosts to run peers on, one peer per mention (h1 h1 h2, or h1,h2); the
                        first runs the origin (here, whatever it is); the others over ssh
      --hostfile F      hosts from SCOOP's hostfile: "host [count]" per line, # comments
                        (without either, a SLURM, PBS or SGE job's hosts, when in one)
      --path DIR        working directory on the other hosts (default: this one)
      --ssh "CMD"       ssh command and options for the other hosts (default: ssh), e.g.
                        --ssh "ssh -i ~/.ssh/lab -p 2222"; in a SLURM job, srun starts them
      --join            serve a grid as a worker peer (no main): job after job, found on the
                        LAN over mDNS; or the one job of a --bootstrap address
      --once            with --join: leave when the first job ends
      --bootstrap MADDR peer address to dial (repeatable)
      --grid NAME       the grid's name (default: scoop)
      --secret-file F   the grid's pre-shared key (or SCOOP_SECRET); default: fresh per run,
                        sent to the other hosts' peers on their standard input (never in argv);
                        "-": the first line of standard input
      --listen MADDR    address to listen on (default: every interface with a pre-shared key
                        and mDNS on, else /ip4/127.0.0.1/tcp/0)
      --no-mdns         do not find (or announce) peers on the LAN over mDNS
      --runtime R       runtime of the peers started here: bun or deno (default: this one)
      --max-pending N   inbound connections still in their handshake, in all (default: 256)
      --max-pending-per-address N
                        the same, from one IP address (default: 64)
      --handshake-timeout MS
                        close a connection not through its handshake by then (default: 5000)
      --max-frame SIZE  largest frame a peer may send, in bytes or with K, M, G (default:
                        512M); give every peer of a grid the same
      --no-source       send and run no function as its source (lambdas); every peer this
                        starts gets it too (also SCOOP_NO_SOURCE=1)
  -v, --verbose         debug logging (also DEBUG=scoop:*)
  -q, --quiet           errors only, and no progress bar
      --progress        a progress bar of main's tasks on stderr even when it is not a
                        terminal (in one, it is on unless -q)
      --log FILE        append the log lines of every peer started here to FILE (not stderr)
      --dashboard [[HOST:]PORT]
                        serve a live dashboard of the job (peers, load, tasks/s, steals,
                        failures, the task tree) on 127.0.0.1 (or HOST), on PORT or a free
                        port; its URL is printed on stderr
      --dashboard-linger S
                        keep the dashboard up S seconds after the job (default: until Ctrl-C
                        when stdout is a terminal, else 0)
  -h, --help            this help
      --version         print the version

Examples:
  bun cli.ts -n 4 examples/pi.ts 2000000
  deno run -A cli.ts -n 8 app.ts
  bun cli.ts --dashboard -n 4 app.ts             # prints: scoop: dashboard at http://…
  bun cli.ts --hostfile hosts.txt app.ts        # hosts.txt: "node1 4" / "node2 4"
  sbatch -N 3 -n 12 --wrap "bun cli.ts app.ts"   # SLURM: hosts and counts from the job
  SCOOP_SECRET=s3cret bun cli.ts --join --once   # on a LAN: found over mDNS, code fetched
  SCOOP_SECRET=s3cret bun cli.ts --join --bootstrap /ip4/10.0.0.1/tcp/4001/p2p/12D3… app.ts`;

const OPTIONS = {
  workers: { type: "string", short: "n" },
  hosts: { type: "string", multiple: true },
  hostfile: { type: "string" },
  path: { type: "string" },
  ssh: { type: "string" },
  join: { type: "boolean" },
  once: { type: "boolean" },
  "no-mdns": { type: "boolean" },
  bootstrap: { type: "string", multiple: true },
  grid: { type: "string" },
  "secret-file": { type: "string" },
  listen: { type: "string", multiple: true },
  runtime: { type: "string" },
  "max-pending": { type: "string" },
  "max-pending-per-address": { type: "string" },
  "handshake-timeout": { type: "string" },
  "max-frame": { type: "string" },
  "no-source": { type: "boolean" },
  verbose: { type: "boolean", short: "v" },
  quiet: { type: "boolean", short: "q" },
  progress: { type: "boolean" },
  log: { type: "string" },
  dashboard: { type: "string" },
  "dashboard-linger": { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
} as const;

/** Split argv at the entry file: options before it are ours, everything after is main's. */
function splitAtEntry(argv: string[]): [ours: string[], entry?: string, rest?: string[]] {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") return [argv.slice(0, i), argv[i + 1], argv.slice(i + 2)];
    if (a === "--hosts") {
      while (i + 1 < argv.length && isHostWord(argv[i + 1])) i++;
      continue;
    }
    if (!a.startsWith("-") || a === "-") return [argv.slice(0, i), a, argv.slice(i + 1)];
    const name = a.startsWith("--") ? a.slice(2).split("=")[0] : a.slice(1, 2);
    const spec = Object.entries(OPTIONS).find(([long, o]) =>
      long === name || ("short" in o && o.short === name)
    )?.[1];
    const inline = a.includes("=") || (!a.startsWith("--") && a.length > 2);
    // `--dashboard` takes a value only when one follows (see `withDashboardValue`).
    if (a === "--dashboard" && !isAddressWord(argv[i + 1])) continue;
    if (spec?.type === "string" && !inline) i++;
  }
  return [argv];
}

/** A word after `--hosts` that is a host, not an option or the entry file (`app.ts`, `app.js`). */
function isHostWord(word: string): boolean {
  return !word.startsWith("-") && !/\.[cm]?[jt]sx?$/.test(word);
}

/** A word after `--dashboard` that is its value: a port, or `host:port`. */
function isAddressWord(word: string | undefined): boolean {
  return word !== undefined && /^(\S+:)?\d+$/.test(word);
}

/** `--dashboard` as parseArgs takes it: with its value glued on, empty when none follows. */
function withDashboardValue(ours: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < ours.length; i++) {
    if (ours[i] !== "--dashboard") out.push(ours[i]);
    else out.push(`--dashboard=${isAddressWord(ours[i + 1]) ? ours[++i] : ""}`);
  }
  return out;
}

/** `--hosts h1 h2` as parseArgs takes it: `--hosts=h1 --hosts=h2`. */
function gluedHosts(ours: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < ours.length; i++) {
    if (ours[i] !== "--hosts") out.push(ours[i]);
    else if (i + 1 >= ours.length || !isHostWord(ours[i + 1])) out.push("--hosts=");
    else while (i + 1 < ours.length && isHostWord(ours[i + 1])) out.push(`--hosts=${ours[++i]}`);
  }
  return out;
}

function parse(argv: string[]) {
  const [split, entry, rest] = splitAtEntry(argv);
  const ours = withDashboardValue(gluedHosts(split));
  // `-n -3` is a bad count, not a missing one: glue the value on so that it is checked as such.
  for (let i = 0; i < ours.length - 1; i++) {
    if ((ours[i] === "-n" || ours[i] === "--workers") && ours[i + 1].startsWith("-")) {
      ours.splice(i, 2, `--workers=${ours[i + 1]}`);
    }
  }
  let values;
  try {
    ({ values } = parseArgs({
      args: ours,
      options: OPTIONS,
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    const msg = (err as Error).message.split("\n")[0].replace(/\. To specify.*$/, "");
    throw new UsageError(`${msg} (see cli.ts --help)`);
  }
  return { values, entry, rest: rest ?? [], ours };
}

function positiveInt(text: string, option: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`${option} must be a positive integer, got "${text}"`);
  }
  return n;
}

/** `ours` (the launcher's options) without `-n N` / `--workers N`, in any of their spellings. */
function withoutWorkers(ours: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < ours.length; i++) {
    const a = ours[i];
    if (a === "-n" || a === "--workers") i++;
    else if (!a.startsWith("--workers=") && !/^-n.+/.test(a)) out.push(a);
  }
  return out;
}

/** A size in bytes: a whole number, or one with K, M or G (powers of 1024), as `64M`. */
export function byteSize(text: string, option = "--max-frame"): number {
  const m = /^\s*(\d+)\s*([KMG]?)i?B?\s*$/i.exec(text);
  const n = m === null ? NaN : Number(m[1]) * 1024 ** " KMG".indexOf(m[2].toUpperCase() || " ");
  // A frame's length travels in 4 bytes.
  if (!Number.isSafeInteger(n) || n < 1024 || n > 0xffffffff) {
    throw new UsageError(
      `${option} must be a size from 1K to 4095M (bytes, or with K, M or G as in 64M), got "${text}"`,
    );
  }
  return n;
}

/** `--dashboard`'s value: `""` (a free port), `PORT` or `HOST:PORT`. */
export function dashboardAddress(text: string): { host?: string; port: number } {
  const m = /^(?:(.+):)?(\d{0,5})$/.exec(text);
  const port = Number(m?.[2] || 0);
  if (m === null || port > 65535 || (m[1] !== undefined && m[2] === "")) {
    throw new UsageError(
      `--dashboard must be a port from 0 to 65535 (0 or none: a free one) or HOST:PORT, got "${text}"`,
    );
  }
  const host = m[1]?.replace(/^\[(.*)\]$/, "$1");
  return host === undefined ? { port } : { host, port };
}

/** `--dashboard-linger`'s value: seconds, or undefined (until Ctrl-C) by default in a terminal. */
function lingerSeconds(text: string | undefined): number | undefined {
  if (text === undefined) return process.stdout.isTTY ? undefined : 0;
  const s = Number(text);
  // A timer's limit: 2^31 - 1 ms, 24.8 days.
  if (text.trim() === "" || !Number.isFinite(s) || s < 0 || s > 2_147_483) {
    throw new UsageError(
      `--dashboard-linger must be a number of seconds from 0 to 2147483, got "${text}"`,
    );
  }
  return s;
}

const log = logger("cli");

/** A file the command line names, or one line saying why it cannot be read. */
function readNamed(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new UsageError(`Cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
}

/** This machine's names: its host name (and short form) and its addresses. */
function localNames(): string[] {
  const name = hostname();
  const addrs = Object.values(networkInterfaces()).flatMap((l) => (l ?? []).map((a) => a.address));
  return [name, name.split(".")[0], ...addrs];
}

/** The job's hosts: `--hostfile`, `--hosts`, or the batch job's this runs in; else none. */
function jobHosts(
  values: { hosts?: string[]; hostfile?: string },
): { hosts: HostSlots[]; via: "ssh" | "srun" } | undefined {
  if (values.hosts !== undefined && values.hostfile !== undefined) {
    throw new UsageError("--hosts and --hostfile cannot be used together");
  }
  if (values.hostfile !== undefined) {
    return { hosts: parseHostfile(readNamed(values.hostfile), values.hostfile), via: "ssh" };
  }
  if (values.hosts !== undefined) return { hosts: hostsFromList(values.hosts), via: "ssh" };
  const batch = batchHosts(process.env, readNamed);
  if (batch === undefined) return undefined;
  log.info(`${batch.scheduler} job: ${batch.hosts.map((h) => `${h.host} ${h.count}`).join(", ")}`);
  // SCOOP starts a SLURM job's peers with srun; PBS's and SGE's with ssh.
  return { hosts: batch.hosts, via: batch.scheduler === "slurm" ? "srun" : "ssh" };
}

/** Peers here and the other hosts', from the hosts and `-n` (the total over them). */
function placePeers(
  values: { hosts?: string[]; hostfile?: string; path?: string; ssh?: string },
  n: number | undefined,
): { workers?: number; remote?: RemoteOptions } {
  const job = jobHosts(values);
  if (job === undefined) {
    if (values.path !== undefined || values.ssh !== undefined) {
      throw new UsageError("--path and --ssh go with --hosts or --hostfile");
    }
    return { workers: n };
  }
  const names = localNames();
  const plan = planHosts(divideHosts(job.hosts, n), (h) => isThisHost(h, names));
  if (plan.firstElsewhere !== undefined) {
    process.stderr.write(
      `scoop: the first host ${plan.firstElsewhere} is not this machine (${hostname()}): ` +
        `the origin runs here, in place of one of its peers\n`,
    );
  }
  const ssh = splitCommand(values.ssh ?? "ssh");
  return {
    workers: plan.local,
    remote: plan.remote.length === 0
      ? undefined
      : { hosts: plan.remote, via: job.via, ssh, path: values.path },
  };
}

async function main(argv: string[]): Promise<number> {
  const { values, entry, rest, ours } = parse(argv);
  if (values.help) {
    process.stdout.write(HELP + "\n");
    return 0;
  }
  if (values.version) {
    process.stdout.write(`scoop ${VERSION} (${runtimeVersion()})\n`);
    return 0;
  }
  if (values.verbose && values.quiet) throw new UsageError("-v and -q cannot be used together");
  if (values.progress && values.quiet) {
    throw new UsageError("--progress and -q cannot be used together");
  }
  configureLog({ level: values.verbose ? "debug" : values.quiet ? "error" : "warn" });
  if (values.log !== undefined) configureLog({ file: values.log });
  const runtimeName = values.runtime;
  if (runtimeName !== undefined && runtimeName !== "bun" && runtimeName !== "deno") {
    throw new UsageError(`--runtime must be bun or deno, got "${runtimeName}"`);
  }
  const key = values["secret-file"] === "-"
    ? await keyFromStdin()
    : configuredKey(values["secret-file"]);
  const limits: ConnectionLimits = {};
  for (
    const [option, field] of [
      ["max-pending", "maxPending"],
      ["max-pending-per-address", "maxPendingPerAddress"],
      ["handshake-timeout", "handshakeTimeoutMs"],
    ] as const
  ) {
    const text = values[option];
    if (text !== undefined) limits[field] = positiveInt(text, `--${option}`);
  }
  if (values["max-frame"] !== undefined) limits.maxFrameBytes = byteSize(values["max-frame"]);
  const mdns = !values["no-mdns"];
  // Through the environment: to this process's threads and the peers it starts.
  if (values["no-source"]) process.env[NO_SOURCE_ENV] = "1";
  if (values.once && !values.join) throw new UsageError("--once goes with --join");
  if (values["dashboard-linger"] !== undefined && values.dashboard === undefined) {
    throw new UsageError("--dashboard-linger goes with --dashboard");
  }
  const dashboard = values.dashboard === undefined ? undefined : dashboardAddress(values.dashboard);
  const linger = dashboard === undefined ? 0 : lingerSeconds(values["dashboard-linger"]);
  if (values.join) {
    if (dashboard !== undefined) {
      throw new UsageError("--dashboard does not go with --join: the origin serves it");
    }
    if ([values.hosts, values.hostfile, values.path, values.ssh].some((v) => v !== undefined)) {
      throw new UsageError("--hosts, --hostfile, --path and --ssh do not go with --join");
    }
    if (key === undefined) {
      throw new UsageError("--join needs the grid's key: --secret-file F or SCOOP_SECRET");
    }
    if (!values.bootstrap?.length && !mdns) {
      throw new UsageError(
        "--join --no-mdns needs at least one --bootstrap address of a peer in the grid",
      );
    }
    const { serveGrid, startMoreJoiners, tieToParent } = await import("./join.ts");
    const grid = values.grid ?? "scoop";
    if (values.workers !== undefined) {
      // `--join -n N`: this process and N - 1 more, each the same command without -n.
      const n = positiveInt(values.workers, "-n/--workers");
      const app = entry === undefined ? [] : [entry, ...rest];
      const line = values["secret-file"] === "-" ? new TextDecoder().decode(key) : undefined;
      startMoreJoiners(n - 1, [...withoutWorkers(ours), ...app], line);
    }
    tieToParent();
    // Ctrl-C or SIGTERM: the peer leaves the grid on purpose, and the job goes on without it
    // (its peers hear it at once); a second one ends this process at once.
    const leave = new AbortController();
    let signalled: NodeJS.Signals | undefined;
    const onSignal = (signal: NodeJS.Signals) => {
      if (signalled !== undefined) process.exit(signal === "SIGINT" ? 130 : 143);
      signalled = signal;
      leave.abort();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    // Given addresses, it joins that grid's job (once); else it finds job after job on the LAN.
    const bootstrap = values.bootstrap ?? [];
    const lan = mdns && bootstrap.length === 0;
    const status = await serveGrid({
      // Without an app file, each job's code comes from the grid.
      entry: entry === undefined ? undefined : loadEntry(entry),
      grid,
      key,
      bootstrap,
      // A peer with the key is open to other hosts: on every interface.
      listen: values.listen ?? ["/ip4/0.0.0.0/tcp/0"],
      limits,
      discovery: lan ? discoveryTag(grid, key) : undefined,
      once: values.once === true || !lan,
      signal: leave.signal,
    });
    return signalled === undefined ? status : signalled === "SIGINT" ? 130 : 143;
  }
  if (entry === undefined) {
    throw new UsageError("Missing the entry file: cli.ts [options] <entry.ts> (see cli.ts --help)");
  }
  const n = values.workers === undefined ? undefined : positiveInt(values.workers, "-n/--workers");
  const { workers, remote } = placePeers(values, n);
  const outcome = await launch({
    entry,
    workers: workers ?? await cores(),
    remote,
    args: rest,
    grid: values.grid,
    key,
    secretFile: values["secret-file"],
    mdns,
    listen: values.listen,
    runtime: runtimeName as RuntimeName | undefined,
    limits,
    // In a terminal unless -q; --progress forces it (into a file, a line every 2 s).
    progress: !values.quiet && (values.progress === true || process.stderr.isTTY === true),
    dashboard,
  });
  report(outcome);
  await outcome.dashboard?.linger(linger);
  return outcome.code;
}

/** Run the launcher with `argv` (the arguments after `cli.ts`) and exit with its status. */
export function runCli(argv: string[]): Promise<never> {
  return main(argv).then(
    (code) => process.exit(code),
    (err) => {
      report({ code: err instanceof UsageError ? 2 : 1, error: err });
      process.exit(err instanceof UsageError ? 2 : 1);
    },
  );
}
