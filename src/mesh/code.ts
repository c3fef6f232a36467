/**
 * The code exchange: a peer that joins with no copy of the app asks a peer of the grid for the
 * job's code on a protocol of its own, `/scoop/code/1.0.0`: one request, one answer, closed.
 * Only peers holding the grid's key get that far (the key gates every connection, see
 * `node.ts`), so only they can serve or fetch code.
 *
 * @module
 */
import type { Connection, Stream } from "@libp2p/interface";
import type { Libp2p } from "libp2p";
import { type Bundle, sha256 } from "../code/bundle.ts";
import { GridError, ProtocolError } from "../errors.ts";
import { logger } from "../log.ts";
import { Link } from "./link.ts";

const log = logger("code");

/** libp2p protocol id of the code exchange. */
export const CODE_PROTOCOL = "/scoop/code/1.0.0";

/** The job's code as a peer serves it. */
export interface CodeOffer extends Bundle {
  /** The job's app hash: what a peer running this code says in its hello. */
  app: string;
}

/** Where a peer's code comes from when asked: built on first use, then the same each time. */
export type CodeSource = () => Promise<CodeOffer>;

/** Answer code requests on `node` for grid `grid`. */
export async function serveCode(
  node: Libp2p,
  grid: string,
  source: CodeSource,
  maxFrame: number,
): Promise<void> {
  await node.handle(CODE_PROTOCOL, (stream: Stream, connection: Connection) => {
    const id = connection.remotePeer.toString();
    let answered = false;
    const link: Link = new Link(id, stream, {
      onMessages: (_l, messages) => {
        if (answered) return;
        answered = true;
        void answer(link, messages[0], grid, source);
      },
      onClose: () => {},
    }, maxFrame);
  }, { maxInboundStreams: 4 });
}

async function answer(link: Link, request: unknown, grid: string, source: CodeSource) {
  const m = request as { t?: unknown; grid?: unknown } | undefined;
  if (m?.t !== "code?" || typeof m.grid !== "string") {
    link.abort(new ProtocolError("not a code request"));
    return;
  }
  if (m.grid !== grid) {
    link.send({ t: "refuse", reason: `this peer serves grid "${grid}", not "${m.grid}"` });
  } else {
    try {
      const offer = await source();
      link.send({ t: "code", app: offer.app, hash: offer.hash, code: offer.code });
      log.debug(`sent the job's code (${offer.code.byteLength} bytes) to ${link.remote}`);
    } catch (err) {
      link.send({ t: "refuse", reason: (err as Error).message });
    }
  }
  await link.close();
}

/**
 * Ask the peer at the other end of `connection` for the job's code of grid `grid`.
 * @throws {GridError} it refused, went away, or sent code whose hash is not the one it named
 */
export async function fetchCode(
  connection: Connection,
  grid: string,
  maxFrame: number,
): Promise<CodeOffer> {
  const id = connection.remotePeer.toString();
  const stream = await connection.newStream(CODE_PROTOCOL);
  const reply = Promise.withResolvers<unknown>();
  const link = new Link(id, stream, {
    onMessages: (_l, messages) => reply.resolve(messages[0]),
    onClose: (_l, error) =>
      reply.reject(error ?? new Error("it closed the stream without an answer")),
  }, maxFrame);
  link.send({ t: "code?", grid });
  try {
    return offerOf(await reply.promise, id);
  } catch (err) {
    throw err instanceof GridError
      ? err
      : new GridError(`Cannot fetch the job's code from peer ${id}: ${(err as Error).message}`);
  } finally {
    void link.close();
  }
}

/** The checked offer in an answer. */
function offerOf(raw: unknown, from: string): CodeOffer {
  const m = raw as Record<string, unknown> | undefined;
  const fail = (why: string): never => {
    throw new GridError(`Cannot fetch the job's code from peer ${from}: ${why}`);
  };
  if (m?.t === "refuse") fail(`it refused: ${String(m.reason).slice(0, 500)}`);
  if (m?.t !== "code") fail("it answered something other than code");
  const { app, hash, code } = m as Record<string, unknown>;
  if (typeof app !== "string" || !/^[0-9a-f]{64}$/.test(app)) fail("malformed app hash");
  if (typeof hash !== "string" || !(code instanceof Uint8Array)) fail("malformed answer");
  const bytes = code as Uint8Array;
  if (sha256(bytes) !== hash) {
    fail(`the code's SHA-256 is not the ${(hash as string).slice(0, 12)}… it named`);
  }
  return { app: app as string, hash: hash as string, code: bytes };
}
