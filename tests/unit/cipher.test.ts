import { describe, expect, test } from "bun:test";
import process from "node:process";
import { asCrypto } from "@chainsafe/libp2p-noise/crypto";
import { Uint8ArrayList } from "uint8arraylist";
import { cipherSource, nativeChaChaPoly } from "../../src/mesh/cipher.ts";

const native = await nativeChaChaPoly();
const wasm = asCrypto as unknown as NonNullable<typeof native>;

function random(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, i + 65536));
  return out;
}

describe("Noise's ChaCha20-Poly1305 from libcrypto (Bun)", () => {
  test("is found on Linux (CI installs libssl)", () => {
    if (process.platform !== "linux") return;
    expect(cipherSource).toBe("openssl");
    expect(native).toBeDefined();
  });

  test.each([0, 1, 100, 1199, 1200, 4096, 65519])(
    "seals and opens %d bytes exactly as the wasm cipher does",
    (n) => {
      if (native === undefined) throw new Error("no libcrypto cipher to test");
      const key = random(32);
      const nonce = random(12);
      const ad = random(n % 3 === 0 ? 0 : 32);
      const text = random(n);
      const sealed = native.chaCha20Poly1305Encrypt(text, nonce, ad, key);
      expect(Buffer.from(sealed)).toEqual(
        Buffer.from(wasm.chaCha20Poly1305Encrypt(text, nonce, ad, key)),
      );
      expect(Buffer.from(native.chaCha20Poly1305Decrypt(sealed, nonce, ad, key)))
        .toEqual(Buffer.from(text));
      // In place, as Noise asks: the plaintext overwrites the ciphertext's own bytes.
      const copy = sealed.slice();
      const opened = native.chaCha20Poly1305Decrypt(copy, nonce, ad, key, copy.subarray(0, n));
      expect(Buffer.from(opened)).toEqual(Buffer.from(text));
      expect(opened.buffer).toBe(copy.buffer);
    },
  );

  test("seals a list of parts (as Noise passes them) like the joined bytes", () => {
    if (native === undefined) throw new Error("no libcrypto cipher to test");
    const key = random(32);
    const nonce = random(12);
    const text = random(70_001);
    const list = new Uint8ArrayList(
      text.subarray(0, 3),
      text.subarray(3, 3),
      text.subarray(3, 65_000),
      text.subarray(65_000),
    );
    const none = new Uint8Array(0);
    expect(Buffer.from(native.chaCha20Poly1305Encrypt(list, nonce, none, key)))
      .toEqual(Buffer.from(native.chaCha20Poly1305Encrypt(text, nonce, none, key)));
  });

  test("refuses a forged message, a wrong key and a truncated one", () => {
    if (native === undefined) throw new Error("no libcrypto cipher to test");
    const key = random(32);
    const nonce = random(12);
    const sealed = native.chaCha20Poly1305Encrypt(random(300), nonce, new Uint8Array(0), key);
    const forged = sealed.slice();
    forged[150] ^= 0x40;
    const none = new Uint8Array(0);
    expect(() => native.chaCha20Poly1305Decrypt(forged, nonce, none, key)).toThrow(/Invalid/);
    expect(() => native.chaCha20Poly1305Decrypt(sealed, nonce, none, random(32))).toThrow(
      /Invalid/,
    );
    expect(() => native.chaCha20Poly1305Decrypt(sealed.subarray(0, 10), nonce, none, key))
      .toThrow(/shorter than its tag/);
  });

  test("SCOOP_CIPHER=wasm keeps the wasm cipher", async () => {
    process.env.SCOOP_CIPHER = "wasm";
    try {
      expect(await nativeChaChaPoly()).toBeUndefined();
    } finally {
      delete process.env.SCOOP_CIPHER;
    }
  });
});
