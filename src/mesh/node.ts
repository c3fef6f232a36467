/**
 * The libp2p node of a peer: TCP, Noise, Yamux. The grid key is enforced during the Noise
 * handshake through a prologue derived from it: a peer with another key fails the handshake
 * and can neither join nor read anything.
 *
 * @module
 */
import { createHash } from "node:crypto";
import process from "node:process";
import type { Libp2p } from "libp2p";
import { logger } from "../log.ts";
import { runtime } from "../runtime/mod.ts";
import { nativeChaChaPoly } from "./cipher.ts";
import { DEFAULT_MAX_FRAME } from "./link.ts";
import { reachable } from "./addresses.ts";
import { loadMeshDeps } from "./deps-bundle.ts";

const { noise, noiseCrypto, yamux, tcp, mdns, createLibp2p } = await loadMeshDeps();

/** Options of {@link createNode}. */
export interface NodeOptions {
  /** Multiaddrs to listen on. @default ["/ip4/127.0.0.1/tcp/0"] */
  listen?: string[];
  /** The grid's pre-shared key; peers with another key fail the handshake. */
  key: Uint8Array;
  /** Caps on connections that have not finished their handshake. */
  limits?: ConnectionLimits;
  /**
   * Find peers on the LAN over mDNS, under this service name (see {@link discoveryTag}): only
   * peers announcing the same one are found. Unset: no discovery.
   */
  discovery?: string;
  /** Start the node at once (else the caller calls `start()`, after registering handlers). @default true */
  start?: boolean;
  /**
   * A connection from `ip` failed its Noise handshake once the other side had begun it: most
   * likely a peer with another grid key (which cannot decrypt this side's reply and hangs up).
   * Connections that never begin Noise, or time out in it, are not told of.
   */
  onNoiseFailed?: (ip: string, error: Error) => void;
}

/**
 * Caps on what other processes may make a peer hold: inbound connections that have not
 * finished their handshake (Noise with the grid's key, then the muxer), so that a stranger
 * cannot hold its sockets; and the size of one frame from a linked peer.
 */
export interface ConnectionLimits {
  /** In total. @default 256 */
  maxPending?: number;
  /** From one IP address (every peer of one host shares one). @default 64 */
  maxPendingPerAddress?: number;
  /** A connection whose handshake takes longer is closed, in ms. @default 5000 */
  handshakeTimeoutMs?: number;
  /**
   * Largest frame a linked peer may send, in bytes; a larger one closes its link. Every peer
   * of a grid should have the same (the launcher passes its own to the peers it starts).
   * @default 512 MiB
   */
  maxFrameBytes?: number;
}

/** The defaults of {@link ConnectionLimits}. */
export const DEFAULT_LIMITS: Required<ConnectionLimits> = {
  maxPending: 256,
  maxPendingPerAddress: 64,
  handshakeTimeoutMs: 5000,
  maxFrameBytes: DEFAULT_MAX_FRAME,
};

const log = logger("mesh");

/** What the gater reads of an inbound connection (libp2p's `MultiaddrConnection`). */
interface PendingConnection {
  remoteAddr: { getComponents(): { name: string; value?: string }[] };
  timeline: { upgraded?: number; close?: number };
}

/**
 * Refuses an inbound connection when its address already has `max` handshakes under way;
 * each refusal is logged once (debug: a flood would otherwise flood the log). Connections that
 * finished their handshake or closed are forgotten on each new one, so what is kept is bounded
 * by the handshakes under way.
 */
function pendingPerAddress(max: number) {
  const pending = new Map<string, Set<PendingConnection>>();
  return (maConn: PendingConnection): boolean => {
    for (const [addr, set] of pending) {
      for (const c of set) {
        if (c.timeline.upgraded !== undefined || c.timeline.close !== undefined) set.delete(c);
      }
      if (set.size === 0) pending.delete(addr);
    }
    const ip = maConn.remoteAddr.getComponents().find((c) => c.name === "ip4" || c.name === "ip6")
      ?.value ?? "?";
    let set = pending.get(ip);
    if (set === undefined) pending.set(ip, set = new Set());
    if (set.size >= max) {
      log.debug(
        `refused a connection from ${ip}: ${set.size} handshakes from it are under way ` +
          `(the cap is --max-pending-per-address ${max})`,
      );
      return true;
    }
    set.add(maConn);
    return false;
  };
}

type Encrypter = ReturnType<typeof noise>;

/** Noise, telling `onFailed` of inbound handshakes that fail (see `NodeOptions.onNoiseFailed`). */
function watchInbound(encrypter: Encrypter, onFailed?: NodeOptions["onNoiseFailed"]): Encrypter {
  if (onFailed === undefined) return encrypter;
  return (components) => {
    const inner = encrypter(components);
    const secureInbound = inner.secureInbound.bind(inner);
    inner.secureInbound = async (connection, options) => {
      try {
        return await secureInbound(connection, options);
      } catch (err) {
        const e = err as Error;
        // A handshake cut short by its timeout, or by this node stopping, refuses nobody.
        if (e.name !== "AbortError" && e.name !== "TimeoutError" && !options?.signal?.aborted) {
          const addr =
            (connection as { remoteAddr?: { getComponents(): { name: string; value?: string }[] } })
              .remoteAddr;
          const ip = addr?.getComponents().find((c) => c.name === "ip4" || c.name === "ip6")?.value;
          onFailed(ip ?? "?", e);
        }
        throw err;
      }
    };
    return inner;
  };
}

/** The Noise prologue for a grid key: both sides must hold the same key to handshake. */
export function prologueFor(key: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update("scoop/grid-key/v1\0").update(key).digest());
}

/**
 * Bun's node:crypto lacks ChaCha20-Poly1305: with Noise's defaults it dies on the first message
 * of 1200 bytes or more. There, use OpenSSL's through bun:ffi when the system has it, else the
 * WebAssembly cipher Noise ships. Elsewhere Noise's defaults (node:crypto) are fast already.
 */
const noiseCryptoForRuntime = runtime === "bun"
  ? {
    ...noiseCrypto.defaultCrypto,
    ...((await nativeChaChaPoly()) ?? {
      chaCha20Poly1305Encrypt: noiseCrypto.asCrypto.chaCha20Poly1305Encrypt,
      chaCha20Poly1305Decrypt: noiseCrypto.asCrypto.chaCha20Poly1305Decrypt,
    }),
  }
  : undefined;

/** Create and start a libp2p node for one peer. */
export async function createNode(options: NodeOptions): Promise<Libp2p> {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  return await createLibp2p({
    start: options.start ?? true,
    addresses: {
      listen: options.listen ?? ["/ip4/127.0.0.1/tcp/0"],
      // What mDNS (and identify) announce: see `reachable`.
      announceFilter: (addrs) => {
        const keep = new Set(reachable(addrs.map(String)));
        return addrs.filter((a) => keep.has(String(a)));
      },
    },
    peerDiscovery: options.discovery === undefined ? [] : [
      // Queries go out at start and every 10 s; a newcomer's query is answered by every peer,
      // and the answers are multicast: old peers hear of it at once too.
      mdns({ serviceTag: options.discovery, interval: 10_000 }),
    ],
    transports: [tcp()],
    connectionEncrypters: [watchInbound(
      noise({ prologueBytes: prologueFor(options.key), crypto: noiseCryptoForRuntime }),
      options.onNoiseFailed,
    )],
    streamMuxers: [yamux()],
    connectionManager: {
      // Every local peer is 127.0.0.1: the default of 5 inbound connections per second per IP
      // refuses most of a grid started at once.
      inboundConnectionThreshold: 10_000,
      maxIncomingPendingConnections: limits.maxPending,
      inboundUpgradeTimeout: limits.handshakeTimeoutMs,
      maxConnections: 10_000,
    },
    connectionGater: {
      denyInboundConnection: pendingPerAddress(limits.maxPendingPerAddress),
    },
  });
}

/**
 * Stopping a node aborts its dials in flight. On Bun the socket of such a dial then emits its
 * AbortError after @libp2p/tcp has removed its own error listener, as an uncaught exception
 * (seen as dozens of "AbortError: The operation was aborted" traces when a 16-peer job ends
 * while peers still dial each other). While a node stops, those are expected: ignore them.
 * Anything else is left to the application's own handler if it has one, and otherwise ends
 * the process as an uncaught exception would.
 */
function ignoreAbortError(err: Error): void {
  if (err?.name === "AbortError") return;
  if (process.listenerCount("uncaughtException") > 1) return; // the application handles it
  process.stderr.write(`${err?.stack ?? String(err)}\n`);
  process.exit(1);
}

/** Stop a node without hanging: Deno never finishes `stop()` (see LIBP2P-NOTES). */
export async function stopNode(node: Libp2p, timeoutMs = 2000): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  if (runtime === "bun") process.on("uncaughtException", ignoreAbortError);
  try {
    await Promise.race([
      Promise.resolve(node.stop()).catch(() => {}),
      new Promise((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    // The aborted sockets report on a later turn.
    await new Promise((resolve) => setTimeout(resolve, 0));
  } finally {
    clearTimeout(timer);
    process.off("uncaughtException", ignoreAbortError);
  }
}
