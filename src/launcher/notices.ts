/**
 * Which membership changes the origin tells the user of, at the default level (unless `-q`),
 * one `scoop: ` line each on the launcher's stderr. Every peer logs every change it sees (info,
 * shown with `-v` or in `--log FILE` at that level); only the origin's lines reach the terminal
 * by default, since the peers `-n` starts share it, and a joiner's stderr is its own.
 *
 * - **joined**: a peer this launcher did not start (a `--join` from this host or another), at
 *   any time. The peers it starts are not told of one by one: a 16-peer start is one job, not
 *   15 events; a slow start is told of by the launcher's "only N of M peers joined" line. Peers
 *   it starts on other hosts are told of once all it started have joined (a late one).
 * - **left**: any peer that leaves on purpose while the job goes on (a joiner stopped with
 *   Ctrl-C or SIGTERM).
 * - **lost**: any peer declared lost (silent, or its link closed and nobody hears it), but one
 *   of the processes this launcher started whose exit it has told of already
 *   (`peer N died …; starting another`): one line per death.
 *
 * Refusals are told of by whichever peer refused (see `Peer`), not here.
 *
 * @module
 */
import type { MemberChange } from "../core/events.ts";
import { describeMember, hostOf, type Whereabouts } from "../peer/members.ts";

/** What {@link MemberNotices} needs to know of the launcher. */
export interface LauncherView {
  /** This machine's host name (as peers' hellos say theirs). */
  here: string;
  /** Whether this launcher started process `pid` on this host. */
  started(pid: number): boolean;
  /** Whether the launcher told of process `pid`'s exit already. */
  toldExit(pid: number): boolean;
  /** Whether peers this launcher started on other hosts are still to join. */
  startingElsewhere(): boolean;
}

/** The origin's choice of membership lines (see the module doc). */
export class MemberNotices {
  readonly #launcher: LauncherView;

  constructor(launcher: LauncherView) {
    this.#launcher = launcher;
  }

  /** The line to show for `change` (`seen`: the peer's hello, if it came), or none. */
  line(change: MemberChange, seen?: Whereabouts): string | undefined {
    const l = this.#launcher;
    const ours = seen !== undefined && seen.host === l.here && l.started(seen.pid);
    switch (change.kind) {
      case "joined": {
        if (ours) return undefined;
        const host = hostOf(change.addrs, seen);
        if (host !== l.here && l.startingElsewhere()) return undefined;
        return describeMember(change, { host, here: l.here });
      }
      case "left":
        return describeMember(change);
      case "lost":
        return ours && l.toldExit(seen.pid) ? undefined : describeMember(change);
    }
  }
}
