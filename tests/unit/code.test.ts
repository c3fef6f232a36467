/**
 * The code exchange (src/mesh/code.ts) between two real libp2p nodes on loopback: a key holder
 * gets the job's code, checked against its hash; anything else is refused in one line.
 */
import { afterAll, expect, test } from "bun:test";
import type { Libp2p } from "libp2p";
import { multiaddr } from "@multiformats/multiaddr";
import { sha256 } from "../../src/code/bundle.ts";
import { type CodeOffer, fetchCode, serveCode } from "../../src/mesh/code.ts";
import { createNode, stopNode } from "../../src/mesh/node.ts";

const KEY = new TextEncoder().encode("code test key");
const MAX = 1 << 20;
const code = new TextEncoder().encode("export function main() {}\n");
const good: CodeOffer = { app: "a".repeat(64), hash: sha256(code), code };
const nodes: Libp2p[] = [];

async function server(offer: () => Promise<CodeOffer>, grid = "g"): Promise<string> {
  const node = await createNode({ key: KEY, start: false });
  await serveCode(node, grid, offer, MAX);
  await node.start();
  nodes.push(node);
  return node.getMultiaddrs()[0].toString();
}

async function ask(addr: string, grid = "g", key = KEY): Promise<CodeOffer> {
  const node = await createNode({ key, listen: [] });
  nodes.push(node);
  return await fetchCode(await node.dial(multiaddr(addr)), grid, MAX);
}

afterAll(async () => {
  await Promise.all(nodes.map((n) => stopNode(n)));
});

test("a peer with the key gets the job's code, its hash checked", async () => {
  const addr = await server(() => Promise.resolve(good));
  const got = await ask(addr);
  expect(got.app).toBe(good.app);
  expect(got.hash).toBe(good.hash);
  expect(new TextDecoder().decode(got.code)).toBe("export function main() {}\n");
});

test("code that is not what its hash says is refused", async () => {
  const addr = await server(() => Promise.resolve({ ...good, hash: sha256(new Uint8Array(1)) }));
  await expect(ask(addr)).rejects.toThrow(
    /^Cannot fetch the job's code from peer \w+: the code's SHA-256 is not the \w{12}… it named$/,
  );
});

test("a peer of another grid, or one that cannot bundle, says why", async () => {
  const other = await server(() => Promise.resolve(good), "other");
  await expect(ask(other)).rejects.toThrow(
    /it refused: this peer serves grid "other", not "g"$/,
  );
  const broken = await server(() => Promise.reject(new Error("Cannot bundle app.ts: boom")));
  await expect(ask(broken)).rejects.toThrow(/it refused: Cannot bundle app\.ts: boom$/);
});

test("without the grid's key there is no connection, so no code", async () => {
  const addr = await server(() => Promise.resolve(good));
  const err = await ask(addr, "g", new TextEncoder().encode("another key")).catch((e) => e);
  // Noise's handshake fails: the server never sees a request.
  expect(`${err.name}: ${err.message}`).toMatch(/^EncryptionFailedError: handshake/);
});
