/**
 * Which addresses a peer tells others, and the name it is found under on the LAN. No libp2p
 * here: the launcher reads these before it loads the mesh.
 *
 * @module
 */
import { createHash } from "node:crypto";

/**
 * The mDNS service name of a grid: derived from its name and key (never the key itself), so
 * that peers of other grids or keys on the same LAN do not even see each other.
 */
export function discoveryTag(grid: string, key: Uint8Array): string {
  const h = createHash("sha256").update("scoop/mdns/v1\0").update(grid).update("\0").update(key);
  return `_scoop-${h.digest("hex").slice(0, 20)}._udp.local`;
}

/** Whether a multiaddr's host is a loopback or unspecified address. */
export function isLocal(addr: string): boolean {
  return /^\/ip4\/(127\.|0\.0\.0\.0\/)|^\/ip6\/(::1?|0:0:0:0:0:0:0:[01])\//.test(addr);
}

/**
 * The addresses worth telling other peers: without loopback ones (a remote peer dialling
 * 127.0.0.1 reaches itself) and unspecified ones, unless there is nothing else (a grid on one
 * host's loopback).
 */
export function reachable(addrs: readonly string[]): string[] {
  const out = addrs.filter((a) => !isLocal(a));
  return out.length > 0 ? out : [...addrs];
}
