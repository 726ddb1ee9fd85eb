// What the file layer asks the machine (file-layer.ts stays pure): an executable's interpreter.
import { interpreterOf } from "../analyze/program-file.js";
import type { FileFacts } from "./file-layer.js";

/** FileFacts read from this machine's files. */
export const machineFileFacts: FileFacts = { interpreterOf };
