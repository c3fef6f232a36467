/**
 * The lines that tell of the grid's membership: a peer joined, left, was lost, or was refused.
 * Pure formatting; which peer says which line where is the launcher's choice
 * (`launcher/notices.ts`).
 *
 * @module
 */
import type { MemberChange } from "../core/events.ts";

/** Where a linked peer runs, as its hello said. */
export interface Whereabouts {
  host: string;
  pid: number;
}

/** A peer id in a line for the user: `12D3…` and its last 6 characters (the log prefix). */
export function shortId(id: string): string {
  return id.length <= 12 ? id : `${id.slice(0, 4)}…${id.slice(-6)}`;
}

function peers(n: number): string {
  return n === 1 ? "1 peer" : `${n} peers`;
}

/** The host of a peer: the one its hello named, else the IP of its first address. */
export function hostOf(addrs: readonly string[], seen?: Whereabouts): string | undefined {
  if (seen !== undefined) return seen.host;
  for (const a of addrs) {
    const m = /^\/ip[46]\/([^/]+)/.exec(a);
    if (m !== null) return m[1];
  }
  return undefined;
}

/** Options of {@link describeMember}. */
export interface DescribeOptions {
  /** Peer ids in full (a log line) rather than short (a line for the user). @default false */
  fullIds?: boolean;
  /** Where the peer runs (joined only), from {@link hostOf}. */
  host?: string;
  /** This machine's host name: a peer there is on "this host". */
  here?: string;
}

/**
 * One line for a change in membership, without the `scoop: ` of a notice.
 *
 * @example Lines
 * ```ts
 * describeMember({ kind: "joined", peer: "12D3KooWabcdef", addrs: [], size: 4 }, { host: "n2" });
 * // "peer 12D3…abcdef joined (host n2, 4 peers)"
 * describeMember({ kind: "lost", peer: "12D3KooWabcdef", size: 3, requeued: 5, why: "silent 2.3 s" });
 * // "peer 12D3…abcdef lost: silent 2.3 s (3 peers); 5 of its tasks run elsewhere"
 * ```
 */
export function describeMember(change: MemberChange, options: DescribeOptions = {}): string {
  const id = (peer: string) => options.fullIds ? peer : shortId(peer);
  const who = `peer ${id(change.peer)}`;
  const tasks = change.kind !== "joined" && change.requeued > 0
    ? `; ${change.requeued} of its tasks run elsewhere`
    : "";
  switch (change.kind) {
    case "joined": {
      const host = options.host;
      const where = host === undefined
        ? ""
        : host === options.here
        ? "this host, "
        : `host ${host}, `;
      return `${who} joined (${where}${peers(change.size)})`;
    }
    case "left":
      return `${who} left (${peers(change.size)})${tasks}`;
    case "lost": {
      const why = change.from !== undefined ? `word from ${id(change.from)}` : change.why;
      return `${who} lost: ${why} (${peers(change.size)})${tasks}`;
    }
  }
}

/**
 * One line for a peer this one refused: by id when its hello came, else by the address of a
 * connection whose handshake failed.
 */
export function describeRefusal(
  who: { peer: string } | { ip: string },
  why: string,
  options: { fullIds?: boolean } = {},
): string {
  if ("ip" in who) return `refused a connection from ${who.ip}: ${why}`;
  return `refused peer ${options.fullIds ? who.peer : shortId(who.peer)}: ${why}`;
}

/** Why a connection failed its Noise handshake, as told (see `NodeOptions.onNoiseFailed`). */
export const NOISE_FAILED = "its handshake failed: another grid key?";
