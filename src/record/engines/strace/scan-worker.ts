// A scanner thread's entry: reads its slices of a strace log and sends each one's decoded events
// (StraceAdapter) to the main thread, which feeds them to the ProfileBuilder in file order.
import { parentPort, workerData } from "node:worker_threads";
import { transferList } from "../../events.js";
import { StraceAdapter } from "./adapter.js";
import type { CreditMessage, ScanJob, ScannerMessage } from "./scan-protocol.js";
import { SliceReader } from "./slices.js";

const job = workerData as ScanJob;
const adapter = new StraceAdapter(job.needs);
const reader = new SliceReader(job.file);
let next = job.first;
let credit = job.window;

function send(m: ScannerMessage, transfer: ArrayBuffer[] = []): void {
  parentPort?.postMessage(m, transfer);
}

function pump(): void {
  while (credit > 0 && next < job.slices.length) {
    const [from, to] = job.slices[next];
    reader.scan(from, to, (buf, start, end, first) => adapter.scan(buf, start, end, next, first));
    const result = adapter.endSlice(next);
    send({ type: "slice", result }, transferList(result.events));
    credit--;
    next += job.stride;
  }
  if (next >= job.slices.length) {
    reader.close();
    send({ type: "done" });
  }
}
parentPort?.on("message", (m: CreditMessage) => {
  credit += m.slices;
  if (next < job.slices.length) pump();
});
pump();
