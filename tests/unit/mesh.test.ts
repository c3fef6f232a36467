/**
 * The mesh on real libp2p nodes on loopback: links between two peers that dial each other at
 * the same moment (as two peers that find each other over mDNS do).
 */
import { expect, test } from "bun:test";
import { Mesh, type MeshHandlers } from "../../src/mesh/mesh.ts";

const KEY = new TextEncoder().encode("mesh test key");

/** A mesh whose links up (by peer id) are in `up`. */
async function mesh(up: Set<string>): Promise<Mesh> {
  const handlers: MeshHandlers = {
    onPeerUp: (id) => up.add(id),
    onPeerDown: (id) => up.delete(id),
    onMessage: () => {},
    onRefused: () => {},
    load: () => 0,
  };
  return await Mesh.start({ grid: "t", app: "0".repeat(64), origin: false, key: KEY }, handlers);
}

async function until(ok: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!ok() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  return ok();
}

test("two peers that dial each other at once end with one link, up on both sides", async () => {
  const failures: number[] = [];
  for (let round = 0; round < 12; round++) {
    const upA = new Set<string>();
    const upB = new Set<string>();
    const [a, b] = await Promise.all([mesh(upA), mesh(upB)]);
    try {
      const dials = [a.connect(b.id, b.addresses()), b.connect(a.id, a.addresses())];
      await Promise.allSettled(dials);
      // Without a link the test ends here (each would wait for the other for ever).
      const ok = await until(() => upA.has(b.id) && upB.has(a.id), 5000);
      if (!ok || a.peers().length !== 1 || b.peers().length !== 1) failures.push(round);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  }
  expect(failures).toEqual([]);
}, 120_000);
