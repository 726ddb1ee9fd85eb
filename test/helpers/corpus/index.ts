// Every program of the corpus, in the order the test runs them.
import { curlProgram } from "./curl.js";
import { gitProgram } from "./git.js";
import { haproxy } from "./haproxy.js";
import { lighttpd } from "./lighttpd.js";
import { mosquitto } from "./mosquitto.js";
import { postgres } from "./postgres.js";
import { pyhttp } from "./pyhttp.js";
import { redis } from "./redis.js";
import { sqlite } from "./sqlite.js";
import { tarProgram } from "./tar.js";
import type { Program } from "./types.js";

export const CORPUS: Program[] = [
  sqlite,
  gitProgram,
  tarProgram,
  curlProgram,
  redis,
  mosquitto,
  pyhttp,
  postgres,
  haproxy,
  lighttpd,
];
