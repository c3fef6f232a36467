/**
 * How the wire codec was chosen: msgpackr against cbor-x, encode + decode round trips.
 * cbor-x is not a dependency; install it for this run only:
 *
 *     npm install --no-save cbor-x@1.6.9 && bun bench/codec-choice.ts
 */
import process from "node:process";
import { Packr } from "msgpackr";

type Codec = { encode(v: unknown): Uint8Array; decode(b: Uint8Array): unknown };
const cbor = await import("cbor-x" as string).catch(() => {
  console.error("cbor-x is not installed: npm install --no-save cbor-x@1.6.9");
  process.exit(2);
}) as { Encoder: new (options: Record<string, unknown>) => Codec };
const { Encoder } = cbor;
const codecs: Record<string, Codec> = {
  "msgpackr structured clone": new Packr({ structuredClone: true }),
  "msgpackr records off": new Packr({ structuredClone: true, useRecords: false }),
  "cbor-x structured clone": new Encoder({ structuredClone: true, useRecords: false }),
  "cbor-x records on": new Encoder({}),
};

let sink = 0;
/** Median rate over 5 runs of `ms` each, in operations per second. */
function rate(fn: () => void, ms: number): number {
  const rates: number[] = [];
  for (let r = 0; r < 5; r++) {
    let n = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < ms) {
      for (let i = 0; i < 16; i++) fn();
      n += 16;
      t = performance.now();
    }
    rates.push(n / ((t - t0) / 1000));
  }
  return rates.sort((a, b) => a - b)[2];
}

const records = Array.from({ length: 1000 }, (_, i) => ({
  id: i,
  name: `item-${i}`,
  x: i * 0.5,
  y: -i,
  ok: i % 2 === 0,
}));
const cases: [string, unknown][] = [
  ["42", 42],
  ["[1, 2.5, 3]", [1, 2.5, 3]],
  ["1,000 small records", records],
  ["8 MB Float64Array", new Float64Array(1 << 20).map((_, i) => i * 1.5)],
];
for (const [label, value] of cases) {
  for (const [name, c] of Object.entries(codecs)) {
    const r = rate(() => {
      const b = c.encode(value);
      sink += b.length + (c.decode(b) ? 1 : 0);
    }, 300);
    console.log(`${label.padEnd(22)} ${name.padEnd(28)} ${(1e6 / r).toFixed(2).padStart(10)} µs`);
  }
}
if (sink === 42) console.log();
