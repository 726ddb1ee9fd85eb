// git: recorded `git status`; then add, commit, log, diff --stat on a terminal (TIOCGWINSZ), branch,
// checkout, tag, show, stash. Fixed identities and dates make the hashes the same in every run.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type CliProgram, must, type Step } from "./types.js";

const ENV = {
  HOME: "/nonexistent",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_AUTHOR_NAME: "Corpus",
  GIT_AUTHOR_EMAIL: "corpus@example.invalid",
  GIT_COMMITTER_NAME: "Corpus",
  GIT_COMMITTER_EMAIL: "corpus@example.invalid",
  GIT_AUTHOR_DATE: "2024-01-01T00:00:00Z",
  GIT_COMMITTER_DATE: "2024-01-01T00:00:00Z",
  GIT_PAGER: "cat",
  LC_ALL: "C",
};
const git = (name: string, args: string[], more: Partial<Step> = {}): Step => ({
  name,
  argv: ["git", ...args],
  env: ENV,
  ...more,
});

export const gitProgram: CliProgram = {
  kind: "cli",
  name: "git",
  needs: ["git", "script"],
  exes: ["git"],
  setup: (dir) => {
    must(["git", "init", "-q", "-b", "main", "."], { cwd: dir, env: ENV });
    writeFileSync(join(dir, "README"), "hello\n");
    must(["git", "add", "README"], { cwd: dir, env: ENV });
    must(["git", "commit", "-q", "-m", "first"], { cwd: dir, env: ENV });
    writeFileSync(join(dir, "README"), "hello\nworld\n");
    writeFileSync(join(dir, "new.txt"), "new file\n");
    return undefined;
  },
  record: git("status", ["status", "--short"]),
  uses: [
    git("status", ["status"]),
    git("add", ["add", "README", "new.txt"], {
      after: ["git", "status", "--short"],
    }),
    git("commit", ["commit", "-q", "-m", "second"], {
      after: ["git", "log", "--oneline"],
    }),
    git("log", ["log", "--stat", "--format=%H %s"]),
    git("diff --stat on a terminal", ["--no-pager", "diff", "--stat", "HEAD~1"], { tty: true }),
    git("branch", ["branch", "feature"], { after: ["git", "branch", "--list"] }),
    git("checkout", ["checkout", "-q", "feature"], { after: ["git", "branch", "--show-current"] }),
    git("tag", ["tag", "v1"], { after: ["git", "tag", "--list"] }),
    git("show", ["show", "--format=%s", "v1"]),
    git("rev-parse and cat-file", ["cat-file", "-p", "HEAD^{tree}"]),
  ],
};
