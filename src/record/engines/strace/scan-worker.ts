// A scanner thread's entry: scans the slices of a strace log it is given, in the order given (always
// ascending), and sends each one's decoded events (StraceAdapter) to the main thread, which feeds them to
// the ProfileBuilder in file order.
import { parentPort, workerData } from "node:worker_threads";
import { transferList } from "../../events.js";
import { StraceAdapter } from "./adapter.js";
import type { ScanJob, ScannerMessage, ScanOrder } from "./scan-protocol.js";
import { SliceReader } from "./slices.js";

const job = workerData as ScanJob;
const adapter = new StraceAdapter(job.needs);
const reader = new SliceReader(job.file);

parentPort?.on("message", (m: ScanOrder) => {
  if (m.type === "stop") {
    reader.close();
    parentPort?.close();
    return;
  }
  reader.scan(m.from, m.to, (buf, start, end, first) => adapter.scan(buf, start, end, m.slice, first));
  const result = adapter.endSlice(m.slice);
  const message: ScannerMessage = { type: "slice", result };
  parentPort?.postMessage(message, transferList(result.events));
});
