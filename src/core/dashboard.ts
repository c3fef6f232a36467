/**
 * The origin's dashboard, as the state machine sees it: a request and its answers, nothing
 * more. When a dashboard opens, the origin asks every linked peer (and each that links later)
 * for telemetry with an `observe` message; a peer that hears one from the origin tells its host,
 * which from then on hands it frames to send the origin (`report` events). Frames go unread:
 * the dashboard checks them. No dashboard, no message and no timer: the grid pays nothing.
 *
 * Peers not linked to the origin (beyond the 17 a grid links fully) send nothing.
 *
 * @module
 */
import type { Core } from "./context.ts";
import type { Links } from "./links.ts";
import type { PeerId } from "./messages.ts";

/** The shortest period a peer sends telemetry at, whatever it is asked, in ms. */
export const TELEMETRY_MIN_MS = 500;

/** One peer's part in the origin's dashboard (see the module doc). */
export class Dashboard {
  readonly #c: Core;
  readonly #links: Links;
  /** On the origin, the period asked of peers while a dashboard is open; else 0. */
  #every = 0;

  constructor(core: Core, links: Links) {
    this.#c = core;
    this.#links = links;
  }

  /** A dashboard opened on this peer (the origin): ask every peer for telemetry. */
  open(every: number): void {
    if (!this.#c.origin) return;
    this.#every = Math.max(TELEMETRY_MIN_MS, every);
    for (const id of this.#links.links) this.linked(id);
  }

  /** A link came up: a peer that links while a dashboard is open is asked too. */
  linked(id: PeerId): void {
    if (this.#every > 0) this.#links.send(id, { t: "observe", every: this.#every });
  }

  /** `from` asks for telemetry: only the origin may. */
  asked(from: PeerId, every: number): void {
    if (from !== this.#links.originId || this.#c.origin) return;
    this.#c.out.push({ type: "observe", every: Math.max(TELEMETRY_MIN_MS, every) });
  }

  /** This peer's host has a frame for the origin. */
  report(frame: Record<string, unknown>): void {
    const origin = this.#links.originId;
    if (origin !== undefined && origin !== this.#c.id) {
      this.#links.send(origin, { t: "telemetry", frame }, true);
    }
  }

  /** A frame from `from`: for the origin's dashboard, if one is open. */
  received(from: PeerId, frame: Record<string, unknown>): void {
    if (this.#every > 0) this.#c.out.push({ type: "telemetry", from, frame });
  }
}
