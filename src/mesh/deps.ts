/**
 * The third-party modules the mesh uses at run time, in one place, so that Bun can load them
 * from one prebuilt bytecode bundle (see `deps-bundle.ts`). Import them through
 * `loadMeshDeps()`, not from here.
 *
 * @module
 */
export { noise } from "@chainsafe/libp2p-noise";
export * as noiseCrypto from "@chainsafe/libp2p-noise/crypto";
export { yamux } from "@chainsafe/libp2p-yamux";
export { tcp } from "@libp2p/tcp";
export { mdns } from "@libp2p/mdns";
export { createLibp2p } from "libp2p";
export { multiaddr } from "@multiformats/multiaddr";
