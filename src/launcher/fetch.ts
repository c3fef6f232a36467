/**
 * `cli.ts --join` with no app file: find a peer of the grid (a bootstrap address, or over
 * mDNS), ask it for the job's code (see `mesh/code.ts`), and write it where this peer can run
 * it. The node that asks is a short-lived one of its own, listening nowhere: it is never found
 * or dialled, and the peer that serves the job starts fresh once the code is here.
 *
 * @module
 */
import type { Libp2p } from "libp2p";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { installBundle, type InstalledBundle } from "../code/bundle.ts";
import { logger } from "../log.ts";
import { type CodeOffer, fetchCode } from "../mesh/code.ts";
import { type ConnectionLimits, createNode, DEFAULT_LIMITS, stopNode } from "../mesh/node.ts";
import { loadMeshDeps } from "../mesh/deps-bundle.ts";
import type { Entry } from "./entry.ts";

const { multiaddr } = await loadMeshDeps();
const log = logger("join");

/** Where to look for the grid. */
export interface FetchOptions {
  grid: string;
  key: Uint8Array;
  /** Peers of the grid to ask, in turn; empty: whoever mDNS finds under `discovery`. */
  bootstrap: string[];
  discovery?: string;
  limits?: ConnectionLimits;
  /** Aborting it gives up (the promise rejects). */
  signal?: AbortSignal;
}

/** The job's code, installed: run it as the entry; `drop()` when the job is over. */
export interface FetchedEntry {
  entry: Entry;
  offer: CodeOffer;
  drop(): void;
}

/**
 * Fetch the job's code from the grid and install it.
 * @throws {Error} every bootstrap address failed (the error of the last one, for `dialError`)
 */
export async function fetchEntry(options: FetchOptions): Promise<FetchedEntry> {
  const node = await createNode({
    key: options.key,
    listen: [],
    limits: options.limits,
    discovery: options.bootstrap.length === 0 ? options.discovery : undefined,
  });
  try {
    const offer = options.bootstrap.length > 0
      ? await fromBootstrap(node, options)
      : await fromLan(node, options);
    const installed: InstalledBundle = installBundle(offer);
    log.info(
      `fetched the job's code (${offer.code.byteLength} bytes, sha256 ${offer.hash.slice(0, 12)}…)`,
    );
    const entry = { path: fileURLToPath(installed.url), url: installed.url, hash: offer.app };
    return { entry, offer, drop: installed.drop };
  } finally {
    // Not awaited: Deno's libp2p never finishes stopping (see `stopNode`).
    void stopNode(node);
  }
}

function maxFrame(options: FetchOptions): number {
  return options.limits?.maxFrameBytes ?? DEFAULT_LIMITS.maxFrameBytes;
}

async function fromBootstrap(node: Libp2p, options: FetchOptions): Promise<CodeOffer> {
  let last: unknown;
  for (const addr of options.bootstrap) {
    try {
      const connection = await node.dial(multiaddr(addr));
      return await fetchCode(connection, options.grid, maxFrame(options));
    } catch (err) {
      last = err;
      log.debug(`Cannot fetch the job's code from ${addr}: ${(err as Error).message}`);
    }
  }
  throw last;
}

/** Ask each peer mDNS finds, until one answers; wait for one as long as it takes. */
function fromLan(node: Libp2p, options: FetchOptions): Promise<CodeOffer> {
  const got = Promise.withResolvers<CodeOffer>();
  log.info(`waits for a job of grid "${options.grid}" on the LAN (pid ${process.pid})`);
  const asked = new Set<string>();
  node.addEventListener("peer:discovery", async (e) => {
    const id = e.detail.id.toString();
    if (asked.has(id)) return;
    asked.add(id);
    try {
      // The peer store has the addresses mDNS found.
      const connection = await node.dial(e.detail.id);
      got.resolve(await fetchCode(connection, options.grid, maxFrame(options)));
    } catch (err) {
      log.debug(`Cannot fetch the job's code from ${id}: ${(err as Error).message}`);
      asked.delete(id);
    }
  });
  options.signal?.addEventListener("abort", () => got.reject(new Error("stopped")), {
    once: true,
  });
  return got.promise;
}
