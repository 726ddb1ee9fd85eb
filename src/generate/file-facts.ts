// What the file layer asks the machine (file-layer.ts stays pure): an executable's interpreter, where a
// path's symlinks lead, whether it is a directory.
import { realpathSync, statSync } from "node:fs";
import { interpreterOf } from "../analyze/program-file.js";
import type { FileFacts } from "./file-layer.js";

/** FileFacts read from this machine's files. */
export const machineFileFacts: FileFacts = {
  interpreterOf,
  realpath(path: string): string | undefined {
    try {
      return realpathSync(path);
    } catch {
      return undefined;
    }
  },
  isDirectory: (path: string) => statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false,
};
