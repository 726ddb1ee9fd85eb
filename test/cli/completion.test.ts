// Shell completion completes option values from the lists the parsers check against (cli/option-values.ts
// and the modules that own engines, export formats, presets, architectures): asked of a real bash with
// COMP_WORDS/COMP_CWORD set, as bash's programmable completion calls it.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { EXPORT_FORMATS } from "../../src/export/export.js";
import { PRESETS } from "../../src/install/run-policy.js";
import { ENGINE_CHOICES } from "../../src/record/engine.js";
import { CLI_PATH, runCli } from "../helpers/cli.js";
import { REPO } from "../helpers/paths.js";

const script = (shell: string) => {
  const r = spawnSync(process.execPath, [CLI_PATH, "completion", shell], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
};
const BASH = script("bash");
const dir = mkdtempSync(join(tmpdir(), "sysfence-completion-"));
mkdirSync(join(dir, "policies"));
writeFileSync(join(dir, "policies", "server.yaml"), "");

/** What bash's completion offers for a command line whose last word is being completed. */
function ask(line: string): string[] {
  const words = line.split(" ").map((w) => `'${w}'`);
  const r = spawnSync(
    "bash",
    [
      "-c",
      `${BASH}\nCOMP_WORDS=(${words.join(" ")}); COMP_CWORD=$((\${#COMP_WORDS[@]}-1)); _sysfence; printf '%s\\n' "\${COMPREPLY[@]}"`,
    ],
    { encoding: "utf8", cwd: dir },
  );
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split("\n").filter(Boolean).sort();
}
const sorted = (l: readonly string[]) => [...l].sort();

describe("completion of option values", () => {
  it("bash offers each option's values, not file names", () => {
    assert.deepEqual(ask("sysfence report --format "), sorted(["text", "md", "html", "json"]));
    assert.deepEqual(ask("sysfence report --format h"), ["html"]);
    assert.deepEqual(ask("sysfence generate --phase "), ["all", "work"]);
    assert.deepEqual(ask("sysfence generate --args s"), ["safe", "strict"]);
    assert.deepEqual(ask("sysfence generate --unseen "), sorted(["errno", "log", "kill"]));
    assert.deepEqual(ask("sysfence generate --thread-role w"), ["workers"]);
    assert.deepEqual(ask("sysfence diff --static o"), ["off", "on"]);
    assert.deepEqual(ask("sysfence record --engine "), sorted(ENGINE_CHOICES));
    assert.deepEqual(ask("sysfence hook --engine "), ["bpf", "ftrace"]);
    assert.deepEqual(ask("sysfence run --preset "), sorted(Object.keys(PRESETS)));
    assert.deepEqual(ask("sysfence export --format "), sorted(EXPORT_FORMATS));
    assert.deepEqual(ask("sysfence compile --format d"), ["disasm"]);
    assert.deepEqual(ask("sysfence dump --format "), sorted(["text", "json", "bpf"]));
    assert.deepEqual(ask("sysfence analyze --arch "), ["aarch64", "x86_64"]);
    assert.ok(ask("sysfence compile --arch ").includes("riscv64"));
    assert.deepEqual(ask("sysfence check --input-format o"), ["oci"]);
    assert.deepEqual(ask("sysfence audit --source j"), ["journal"]);
    assert.deepEqual(ask("sysfence completion "), ["bash", "fish", "zsh"]);
  });

  it("--option=value: bash splits at '=', the value is still completed", () => {
    assert.deepEqual(ask("sysfence report --format = "), sorted(["text", "md", "html", "json"]));
    assert.deepEqual(ask("sysfence report --format = j"), ["json"]);
  });

  it("options whose value is a file, or a source that may be a file, still complete file names", () => {
    assert.deepEqual(ask("sysfence report -o pol"), ["policies"]);
    assert.deepEqual(ask("sysfence report pol"), ["policies"]);
    assert.deepEqual(ask("sysfence generate --source p"), ["policies"]);
    assert.deepEqual(ask("sysfence generate --source d"), ["dmesg"]);
    // emu's --args are call arguments, not generate's argument modes
    assert.ok(!ask("sysfence emu --args ").includes("safe"));
  });

  it("the values offered are the values the parsers accept", async () => {
    const policy = `${REPO}examples/server-policy.yaml`;
    for (const f of ask("sysfence report --format ")) {
      const r = await runCli("report", "--format", f, policy);
      assert.equal(r.code, 0, `report --format ${f}: ${r.stderr}`);
    }
    for (const f of ask("sysfence diff --format ")) {
      const r = await runCli("diff", "--format", f, policy, policy);
      assert.equal(r.code, 0, `diff --format ${f}: ${r.stderr}`);
    }
    for (const f of ask("sysfence compile --format ").filter((x) => x !== "bpf")) {
      const r = await runCli("compile", "--format", f, policy);
      assert.equal(r.code, 0, `compile --format ${f}: ${r.stderr}`);
    }
    const bad = await runCli("report", "--format", "pdf", policy);
    assert.equal(bad.code, 2);
  });

  it("every option whose help lists its values (a | b | c) has them in zsh and fish too", () => {
    const fish = script("fish");
    let listed = 0;
    for (const line of fish.split("\n")) {
      const d = / -d '((?:[a-z0-9-]+(?: \([^)]*\))? \| )+[a-z0-9-]+)/.exec(line);
      if (!d || !/ -r/.test(line)) continue;
      listed++;
      const helpWords = d[1].split(" | ").map((w) => w.replace(/ \(.*$/, ""));
      const offered = / -a '([^']*)'/.exec(line)?.[1].split(" ") ?? [];
      for (const w of helpWords) assert.ok(offered.includes(w), `${line}: ${w} not offered`);
    }
    assert.ok(listed >= 8, `${listed} options list their values`);
    assert.match(fish, /__fish_seen_subcommand_from completion' -a 'bash zsh fish'/);
    const zsh = script("zsh");
    assert.match(zsh, /'--format\[text \| md \| html \| json\]:value:\(text md html json\)'/);
    // record's --engine offers every engine the parser takes (ENGINE_CHOICES), in its order
    assert.ok(zsh.includes(`]:value:(${ENGINE_CHOICES.join(" ")})'`), zsh);
    assert.match(zsh, /'-o, --output|'--output\[[^\]]*\]:value:_files'/);
  });
});
