/**
 * Noise's ChaCha20-Poly1305 on Bun, from the system's OpenSSL (libcrypto) through `bun:ffi`.
 *
 * Bun's `node:crypto` has no ChaCha20-Poly1305 (see LIBP2P-NOTES), and the WebAssembly cipher
 * Noise ships for that case runs at ~90 MB/s here: on Bun it was most of the time a large
 * argument or result spends on the wire. OpenSSL's runs at ~850 MB/s sealing and ~2.5 GB/s
 * opening (bench/RESULTS.md). When libcrypto cannot be loaded, or fails a known-answer test,
 * or `SCOOP_CIPHER=wasm` is set, the WebAssembly cipher is used as before.
 *
 * @module
 */
import process from "node:process";
import { logger } from "../log.ts";

/** The two functions of Noise's crypto interface this module replaces. */
export interface ChaChaPoly {
  chaCha20Poly1305Encrypt(
    plaintext: Uint8Array | Iterable<Uint8Array> & { byteLength: number },
    nonce: Uint8Array,
    ad: Uint8Array,
    k: Uint8Array,
  ): Uint8Array;
  chaCha20Poly1305Decrypt(
    ciphertext: Uint8Array | { subarray(): Uint8Array },
    nonce: Uint8Array,
    ad: Uint8Array,
    k: Uint8Array,
    dst?: Uint8Array,
  ): Uint8Array;
}

const TAG = 16;
/** EVP_CIPHER_CTX_ctrl commands (openssl/evp.h). */
const EVP_CTRL_AEAD_GET_TAG = 0x10;
const EVP_CTRL_AEAD_SET_TAG = 0x11;
/** Shared object names to try, newest first (the EVP calls used exist in both). */
const LIBCRYPTO = ["libcrypto.so.3", "libcrypto.so.1.1"];

type Ptr = unknown;
interface Lib {
  EVP_CIPHER_CTX_new(): Ptr;
  EVP_chacha20_poly1305(): Ptr;
  EVP_CipherInit_ex(
    ctx: Ptr,
    cipher: Ptr,
    engine: null,
    key: Uint8Array | null,
    iv: Uint8Array | null,
    enc: number,
  ): number;
  EVP_CipherUpdate(
    ctx: Ptr,
    out: Uint8Array | null,
    outl: Int32Array,
    input: Uint8Array,
    inl: number,
  ): number;
  EVP_CipherFinal_ex(ctx: Ptr, out: Uint8Array, outl: Int32Array): number;
  EVP_CIPHER_CTX_ctrl(ctx: Ptr, type: number, arg: number, ptr: Uint8Array): number;
}

/** Load libcrypto's EVP functions through bun:ffi, or undefined where that is not possible. */
async function loadLib(): Promise<Lib | undefined> {
  if (process.platform !== "linux") return undefined; // macOS aborts on unversioned libcrypto
  const spec = "bun:ffi"; // a variable, so that Deno's type checker does not resolve it
  const { dlopen, FFIType: T } = await import(spec);
  const p = T.ptr;
  const symbols = {
    EVP_CIPHER_CTX_new: { args: [], returns: p },
    EVP_chacha20_poly1305: { args: [], returns: p },
    EVP_CipherInit_ex: { args: [p, p, p, p, p, T.i32], returns: T.i32 },
    EVP_CipherUpdate: { args: [p, p, p, p, T.i32], returns: T.i32 },
    EVP_CipherFinal_ex: { args: [p, p, p], returns: T.i32 },
    EVP_CIPHER_CTX_ctrl: { args: [p, T.i32, T.i32, p], returns: T.i32 },
  };
  for (const name of LIBCRYPTO) {
    try {
      return dlopen(name, symbols).symbols as Lib;
    } catch {
      // try the next name
    }
  }
  return undefined;
}

/** The cipher over libcrypto: one encryption and one decryption context, reused. */
function openSslCipher(lib: Lib): ChaChaPoly {
  const chacha = lib.EVP_chacha20_poly1305();
  const seal = lib.EVP_CIPHER_CTX_new();
  const open = lib.EVP_CIPHER_CTX_new();
  if (!chacha || !seal || !open) throw new Error("libcrypto has no ChaCha20-Poly1305");
  if (
    lib.EVP_CipherInit_ex(seal, chacha, null, null, null, 1) !== 1 ||
    lib.EVP_CipherInit_ex(open, chacha, null, null, null, 0) !== 1
  ) throw new Error("cannot set up ChaCha20-Poly1305 in libcrypto");
  const outl = new Int32Array(1);
  const none = new Uint8Array(TAG);
  return {
    chaCha20Poly1305Encrypt(plaintext, nonce, ad, k) {
      const out = new Uint8Array(plaintext.byteLength + TAG);
      let ok = lib.EVP_CipherInit_ex(seal, null, null, k, nonce, 1) === 1;
      if (ad.byteLength > 0) ok &&= lib.EVP_CipherUpdate(seal, null, outl, ad, ad.byteLength) === 1;
      // A list of parts (Uint8ArrayList) is sealed part by part, without joining them first.
      let at = 0;
      for (const part of plaintext instanceof Uint8Array ? [plaintext] : plaintext) {
        if (part.byteLength === 0) continue;
        ok &&= lib.EVP_CipherUpdate(seal, out.subarray(at), outl, part, part.byteLength) === 1;
        at += part.byteLength;
      }
      ok &&= at === plaintext.byteLength;
      ok &&= lib.EVP_CipherFinal_ex(seal, none, outl) === 1;
      ok &&= lib.EVP_CIPHER_CTX_ctrl(seal, EVP_CTRL_AEAD_GET_TAG, TAG, out.subarray(-TAG)) === 1;
      if (!ok) throw new Error("ChaCha20-Poly1305 encryption failed in libcrypto");
      return out;
    },
    chaCha20Poly1305Decrypt(ciphertext, nonce, ad, k, dst) {
      const sealed = ciphertext instanceof Uint8Array ? ciphertext : ciphertext.subarray();
      const n = sealed.byteLength - TAG;
      if (n < 0) throw new Error("Invalid chacha20poly1305 decryption: shorter than its tag");
      // In place when Noise offers the ciphertext's own bytes (a stream cipher allows it).
      const out = dst !== undefined && dst.byteLength >= n ? dst.subarray(0, n) : new Uint8Array(n);
      let ok = lib.EVP_CipherInit_ex(open, null, null, k, nonce, 0) === 1;
      if (ad.byteLength > 0) ok &&= lib.EVP_CipherUpdate(open, null, outl, ad, ad.byteLength) === 1;
      if (n > 0) ok &&= lib.EVP_CipherUpdate(open, out, outl, sealed, n) === 1;
      ok &&= lib.EVP_CIPHER_CTX_ctrl(open, EVP_CTRL_AEAD_SET_TAG, TAG, sealed.subarray(n)) === 1;
      ok &&= lib.EVP_CipherFinal_ex(open, none, outl) === 1;
      if (!ok) throw new Error("Invalid chacha20poly1305 decryption");
      return out;
    },
  };
}

/** RFC 8439 §2.8.2: the AEAD test vector (sealed text's first and last bytes, and the tag). */
function passesKnownAnswer(c: ChaChaPoly): boolean {
  const hex = (s: string) => Uint8Array.from(s.match(/../g)!, (b) => parseInt(b, 16));
  const key = hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
  const nonce = hex("070000004041424344454647");
  const ad = hex("50515253c0c1c2c3c4c5c6c7");
  const text = new TextEncoder().encode(
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the " +
      "future, sunscreen would be it.",
  );
  const sealed = c.chaCha20Poly1305Encrypt(text, nonce, ad, key);
  const h = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  if (
    h(sealed.subarray(0, 8)) !== "d31a8d34648e60db" ||
    h(sealed.subarray(-TAG)) !== "1ae10b594f09e26a7e902ecbd0600691"
  ) return false;
  const opened = c.chaCha20Poly1305Decrypt(sealed.slice(), nonce, ad, key);
  if (h(opened) !== h(text)) return false;
  const forged = sealed.slice();
  forged[0] ^= 1;
  try {
    c.chaCha20Poly1305Decrypt(forged, nonce, ad, key);
    return false; // a forged message must not open
  } catch {
    return true;
  }
}

/** Which cipher `nativeChaChaPoly` found last ("openssl" or "wasm"), for logs and tests. */
export let cipherSource: "openssl" | "wasm" | undefined;

/**
 * OpenSSL's ChaCha20-Poly1305 for Noise on Bun, or undefined (use the WebAssembly one): not on
 * Bun, no libcrypto, a failed known-answer test, or `SCOOP_CIPHER=wasm`.
 */
export async function nativeChaChaPoly(): Promise<ChaChaPoly | undefined> {
  const log = logger("mesh");
  cipherSource = "wasm";
  if (process.env.SCOOP_CIPHER === "wasm") return undefined;
  try {
    const lib = await loadLib();
    if (lib === undefined) return undefined;
    const cipher = openSslCipher(lib);
    if (!passesKnownAnswer(cipher)) {
      log.warn("libcrypto's ChaCha20-Poly1305 failed its known-answer test: using the wasm one");
      return undefined;
    }
    cipherSource = "openssl";
    return cipher;
  } catch (err) {
    log.debug(`no libcrypto cipher (${(err as Error).message}): using the wasm one`);
    return undefined;
  }
}
