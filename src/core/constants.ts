/**
 * Shared constants (`shared.setConst`) across the grid. A broadcast is a wave with echo: the
 * peer that sets constants sends them on each link; each peer passes a wave it has not seen to
 * its other links and acknowledges to the peer it came from once every one of those has
 * (a peer that has seen it acknowledges at once). The broadcast is complete when the setter's
 * links have acknowledged: every peer reachable then has the constants. A peer that links
 * later gets every constant on its new links.
 *
 * @module
 */
import type { Core } from "./context.ts";
import type { Links } from "./links.ts";
import type { PeerId } from "./messages.ts";

type Entries = [name: string, value: Uint8Array][];

/** A broadcast passing through this peer. */
interface Wave {
  /** Whom to acknowledge once `waiting` is empty; none where it started. */
  parent: PeerId | undefined;
  /** The executor's id for a broadcast that started here. */
  localId: number | undefined;
  waiting: Set<PeerId>;
}

/** The constants of one peer (see the module doc). */
export class Constants {
  readonly #c: Core;
  readonly #links: Links;
  #values = new Map<string, Uint8Array>();
  #waves = new Map<string, Wave>();
  #seen = new Set<string>();
  #next = 0;

  constructor(core: Core, links: Links) {
    this.#c = core;
    this.#links = links;
  }

  /** The executor sets constants (its broadcast `localId`). */
  set(localId: number, entries: Entries): void {
    for (const [name, value] of entries) this.#values.set(name, value);
    const wave = `${this.#c.id}/${++this.#next}`;
    this.#seen.add(wave);
    this.#start(wave, undefined, localId, entries);
  }

  /** A new link: it gets every constant known here. */
  linked(id: PeerId): void {
    if (this.#values.size > 0) this.#links.send(id, { t: "const", entries: [...this.#values] });
  }

  /** Constants from `from`, part of broadcast `wave` or not. */
  received(from: PeerId, wave: string | undefined, entries: Entries): void {
    for (const [name, value] of entries) {
      if (this.#values.has(name)) continue;
      this.#values.set(name, value);
      this.#c.post({ t: "const", name, value });
    }
    if (wave === undefined) return;
    if (this.#seen.has(wave)) {
      this.#links.send(from, { t: "constAck", wave });
      return;
    }
    this.#seen.add(wave);
    this.#start(wave, from, undefined, entries);
  }

  acked(from: PeerId, wave: string): void {
    this.#waves.get(wave)?.waiting.delete(from);
    this.#check(wave);
  }

  /** A lost peer holds no broadcast up. */
  lost(id: PeerId): void {
    for (const [wave, w] of this.#waves) if (w.waiting.delete(id)) this.#check(wave);
  }

  #start(wave: string, parent: PeerId | undefined, localId: number | undefined, entries: Entries) {
    const waiting = new Set<PeerId>();
    for (const id of this.#links.linkedInOrder()) {
      if (id === parent) continue;
      if (this.#links.send(id, { t: "const", wave, entries })) waiting.add(id);
    }
    this.#waves.set(wave, { parent, localId, waiting });
    this.#check(wave);
  }

  #check(wave: string): void {
    const w = this.#waves.get(wave);
    if (w === undefined || w.waiting.size > 0) return;
    this.#waves.delete(wave);
    if (w.parent !== undefined) this.#links.send(w.parent, { t: "constAck", wave });
    if (w.localId !== undefined) this.#c.post({ t: "constDone", id: w.localId });
  }
}
