/**
 * Noise's ChaCha20-Poly1305 on Bun: the WebAssembly cipher Noise ships against OpenSSL's
 * libcrypto through bun:ffi (src/mesh/cipher.ts), sealing and opening messages of 100 B, 1 KB
 * and one full Noise message (65,519 B). Not part of `bun run bench`.
 *
 *     bun bench/cipher.ts
 */
import { asCrypto } from "@chainsafe/libp2p-noise/crypto";
import { nativeChaChaPoly } from "../src/mesh/cipher.ts";

const native = await nativeChaChaPoly();
if (native === undefined) throw new Error("no libcrypto cipher here (Bun on Linux only)");
const wasm = asCrypto as unknown as typeof native;
const key = crypto.getRandomValues(new Uint8Array(32));
const nonce = crypto.getRandomValues(new Uint8Array(12));
const ad = new Uint8Array(0);

for (const size of [100, 1000, 65519]) {
  const text = crypto.getRandomValues(new Uint8Array(size));
  const n = Math.max(50, Math.floor(20e6 / size));
  for (const [name, c] of [["wasm", wasm], ["openssl", native]] as const) {
    let sealed = c.chaCha20Poly1305Encrypt(text, nonce, ad, key);
    let t0 = performance.now();
    for (let i = 0; i < n; i++) sealed = c.chaCha20Poly1305Encrypt(text, nonce, ad, key);
    const seal = performance.now() - t0;
    t0 = performance.now();
    for (let i = 0; i < n; i++) c.chaCha20Poly1305Decrypt(sealed, nonce, ad, key);
    const open = performance.now() - t0;
    const mbps = (ms: number) => ((size * n) / ms / 1e3).toFixed(0);
    console.log(`${size} B ${name}: seal ${mbps(seal)} MB/s, open ${mbps(open)} MB/s`);
  }
}
