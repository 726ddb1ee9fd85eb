// Every program of the corpus, in the order the test runs them.
import { curlProgram } from "./curl.js";
import { gitProgram } from "./git.js";
import { sqlite } from "./sqlite.js";
import { tarProgram } from "./tar.js";
import type { Program } from "./types.js";

export const CORPUS: Program[] = [sqlite, gitProgram, tarProgram, curlProgram];
