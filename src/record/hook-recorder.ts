// The recorder an OCI hook leaves behind (`sysfence hook oci`): started detached as
// `node hook-recorder.js PID OUT ENGINE EXCLUDED-EXE`, it attaches to the container's init process (still
// runc init, before the exec of process.args), writes one byte to fd 3 once the engine sees every call,
// records until the container's process tree has ended and writes the profile. The runtime's own image
// (EXCLUDED-EXE, runc init) is not counted: the profile starts at the exec of the container's program.
import { writeSync } from "node:fs";
import { writeOutputFile } from "../util/output-file.js";
import { recordAttached } from "./attach.js";

const [pidText, out, engine, excluded] = process.argv.slice(2);
let told = false;
const tell = () => {
  if (told) return;
  told = true;
  try {
    writeSync(3, "1");
  } catch {
    // the hook gave up waiting: recording goes on
  }
};
recordAttached(Number(pidText), {
  engine: engine as "bpf" | "ftrace",
  focus: { exclude: [excluded] },
  onAttached: tell,
})
  .then((r) => {
    // the window is the container's whole life: complete when the engine lost nothing
    r.profile.complete = !r.profile.engine.lostEvents;
    r.profile.phaseBoundary = undefined;
    writeOutputFile(out, `${JSON.stringify(r.profile, null, 2)}\n`);
  })
  .catch((e: Error) => {
    process.stderr.write(`sysfence hook recorder: ${e.message}\n`);
    process.exitCode = 1;
  });
