// An analysis worker thread's entry (facts-pool.ts): builds the facts of each object it is sent (readElf,
// objectFacts) and sends them back in the cache entry's binary form, or the error that was thrown.
import { parentPort } from "node:worker_threads";
import { readElf } from "./elf.js";
import { objectFacts } from "./facts.js";
import { encodeFacts } from "./facts-codec.js";
import { type FactsOrder, type FactsReply, thrownError } from "./facts-protocol.js";

/** The body's own ArrayBuffer (to transfer): a body sharing a pooled buffer is copied out once. */
function ownBuffer(body: Buffer): ArrayBuffer {
  if (
    body.byteOffset === 0 &&
    body.byteLength === body.buffer.byteLength &&
    body.buffer instanceof ArrayBuffer
  )
    return body.buffer;
  const copy = new ArrayBuffer(body.byteLength);
  new Uint8Array(copy).set(body);
  return copy;
}

const port = parentPort;
port?.on("message", (m: FactsOrder) => {
  if (m.type === "stop") {
    port.close();
    return;
  }
  let reply: FactsReply;
  try {
    const body = ownBuffer(encodeFacts(objectFacts(readElf(new Uint8Array(m.bytes), m.shown))));
    reply = { type: "done", id: m.id, body };
    port.postMessage(reply, [body]);
    return;
  } catch (e) {
    reply = { type: "failed", id: m.id, error: thrownError(e) };
  }
  port.postMessage(reply);
});
port?.postMessage({ type: "ready" } satisfies FactsReply);
