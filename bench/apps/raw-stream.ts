/**
 * The baseline of `payload`: a raw libp2p stream between two processes of this runtime, built
 * by the same `createNode` the grid uses (TCP + Noise with the same cipher + Yamux), with no
 * codec, no frames, no executor. The client sends M MB; the server, like a task that needs its
 * whole argument before it can start, receives all of them and then sends them back (store and
 * forward, not a pipelined echo). The round trip is timed like `payload`'s.
 *
 *     bun bench/apps/raw-stream.ts 8          # starts its own echo server process
 */
import { spawn } from "node:child_process";
import process from "node:process";
import { multiaddr } from "@multiformats/multiaddr";
import { createNode, stopNode } from "../../src/mesh/node.ts";
import { scriptCommand } from "../../src/runtime/mod.ts";
import { emit } from "./_util.ts";

const PROTOCOL = "/scoop-bench/echo/1.0.0";
const KEY = new TextEncoder().encode("bench");
const CHUNK = 64 * 1024;

type Stream = {
  send(data: Uint8Array): boolean;
  onDrain(): Promise<void>;
  addEventListener(type: "message", fn: (e: { data: { subarray(): Uint8Array } }) => void): void;
};

async function sendAll(stream: Stream, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length; off += CHUNK) {
    if (!stream.send(bytes.subarray(off, off + CHUNK))) await stream.onDrain();
  }
}

async function server(): Promise<void> {
  const node = await createNode({ key: KEY });
  await node.handle(PROTOCOL, (stream) => {
    const s = stream as unknown as Stream;
    let want = -1;
    let chunks: Uint8Array[] = [];
    let have = 0;
    s.addEventListener("message", (e) => {
      let chunk = e.data.subarray();
      if (want < 0) {
        want = new DataView(chunk.buffer, chunk.byteOffset, 4).getUint32(0);
        chunk = chunk.subarray(4);
      }
      chunks.push(chunk.slice());
      have += chunk.byteLength;
      if (have < want) return;
      const all = new Uint8Array(have);
      let off = 0;
      for (const c of chunks) {
        all.set(c, off);
        off += c.byteLength;
      }
      chunks = [];
      have = 0;
      want = -1;
      void sendAll(s, all);
    });
  });
  process.stdout.write(`${node.getMultiaddrs()[0]}\n`);
  process.stdin.resume();
  process.stdin.on("end", async () => {
    await stopNode(node);
    process.exit(0);
  });
}

async function client(mb: number, rounds: number): Promise<void> {
  const [cmd, argv] = scriptCommand(new URL(import.meta.url).pathname, ["serve"]);
  const child = spawn(cmd, argv, { stdio: ["pipe", "pipe", "inherit"] });
  const addr = await new Promise<string>((resolve) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      if (out.includes("\n")) resolve(out.trim());
    });
  });
  const node = await createNode({ key: KEY });
  const stream = await node.dialProtocol(multiaddr(addr), PROTOCOL) as unknown as Stream;
  const bytes = new Uint8Array(mb * 1024 * 1024).map((_, i) => i & 0xff);
  let received = 0;
  let done: () => void = () => {};
  stream.addEventListener("message", (e) => {
    received += e.data.subarray().byteLength;
    if (received >= bytes.length) done();
  });
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    received = 0;
    const back = new Promise<void>((resolve) => done = resolve);
    const t0 = performance.now();
    const head = new Uint8Array(4);
    new DataView(head.buffer).setUint32(0, bytes.length);
    stream.send(head);
    await sendAll(stream, bytes);
    await back;
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  emit({ mb, seconds: best, roundTripMBps: (2 * mb) / best });
  child.stdin!.end();
  await stopNode(node);
  process.exit(0);
}

if (process.argv[2] === "serve") await server();
else await client(Number(process.argv[2] ?? 8), Number(process.argv[3] ?? 5));
