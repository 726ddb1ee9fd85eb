// mosquitto: recorded one publish and one retained read; then QoS 1 and 2, many messages, a subscriber
// getting them, and persistence: autosave writes mosquitto.db.new and renames it to mosquitto.db (mosquitto
// drops to its own user when started as root, so its directory is that user's).
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { waitForPort } from "../memcache-client.js";
import { type DaemonProgram, exec, sleep } from "./types.js";

const pub = (port: number, ...args: string[]) =>
  exec(["mosquitto_pub", "-h", "127.0.0.1", "-p", String(port), ...args]).status;
const sub = (port: number, n: number, ...args: string[]) => {
  const r = exec([
    "mosquitto_sub",
    "-h",
    "127.0.0.1",
    "-p",
    String(port),
    "-C",
    String(n),
    "-W",
    "5",
    ...args,
  ]);
  return `exit ${r.status}: ${r.stdout.trim()}`;
};

export const mosquitto: DaemonProgram = {
  kind: "daemon",
  name: "mosquitto",
  needs: ["mosquitto", "mosquitto_pub", "mosquitto_sub"],
  exes: ["mosquitto"],
  setup: (dir) => {
    exec(["chown", "mosquitto", dir]);
  },
  argv: (port, dir) => {
    const conf = join(dir, "mosquitto.conf");
    writeFileSync(
      conf,
      `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location ${dir}/\nautosave_interval 1\nlog_dest stderr\n`,
    );
    return ["mosquitto", "-c", conf];
  },
  ready: (port) => waitForPort(port, 20_000),
  recordLoad: (port) => {
    if (pub(port, "-t", "r/x", "-r", "-m", "hello") !== 0) throw new Error("mosquitto_pub failed");
    const got = sub(port, 1, "-t", "r/x");
    if (got !== "exit 0: hello") throw new Error(`mosquitto_sub: ${got}`);
  },
  uses: [
    {
      name: "retained message, QoS 1",
      run: (p) => `${pub(p, "-t", "a/b", "-r", "-q", "1", "-m", "one")} ${sub(p, 1, "-t", "a/#", "-q", "1")}`,
    },
    {
      name: "QoS 2",
      run: (p) => `${pub(p, "-t", "q2", "-r", "-q", "2", "-m", "two")} ${sub(p, 1, "-t", "q2", "-q", "2")}`,
    },
    {
      name: "50 QoS 1 messages queued for a persistent session",
      run: (p) => {
        const session = ["-c", "-i", "corpus-session", "-q", "1", "-t", "s"];
        const made = sub(p, 1, ...session, "-E");
        const sent = Array.from({ length: 50 }, (_, i) => pub(p, "-t", "s", "-q", "1", "-m", `m${i}`));
        const got = sub(p, 50, ...session);
        return `${made} ${sent.filter((s) => s === 0).length} ${got.split("\n").length}`;
      },
    },
    {
      name: "persistence: autosave renames mosquitto.db.new to mosquitto.db",
      run: async (p, dir) => {
        pub(p, "-t", "keep", "-r", "-m", "stored");
        await sleep(2500);
        return `mosquitto.db: ${existsSync(join(dir, "mosquitto.db"))}`;
      },
    },
    {
      name: "clear a retained message",
      run: (p) => `${pub(p, "-t", "a/b", "-r", "-n")} ${sub(p, 1, "-t", "q2")}`,
    },
  ],
};
