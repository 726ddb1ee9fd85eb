// The HTML reports in a real browser (headless chromium) at a desktop (1280 px) and a phone (390 px)
// width: nothing clipped, nothing running past its box or the page, no box overlapping its neighbour;
// tables have header cells. Screenshots are kept in the directory the test prints (SYSFENCE_ARTIFACTS).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ARTIFACTS, CHROMIUM, measure } from "../helpers/browser.js";
import { runCli } from "../helpers/cli.js";
import { REPO } from "../helpers/paths.js";

const PROFILE = `${REPO}examples/demo-server/profile.json`;
const POLICY = `${REPO}examples/server-policy.yaml`;
const DOCKER = `${REPO}examples/docker-default.json`;

async function html(...args: string[]): Promise<string> {
  const r = await runCli("report", "--format", "html", ...args);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

const PAGES: [string, () => Promise<string>][] = [
  ["profile", () => html(PROFILE)],
  ["policy", () => html(POLICY)],
  ["docker", () => html(DOCKER)],
  ["diff", () => html("--diff", DOCKER, POLICY)],
  ["diff-profile", () => html("--diff", PROFILE, POLICY)],
];

describe("HTML report layout in chromium", {
  skip: CHROMIUM ? false : "chromium is not installed (scripts/setup.sh)",
}, () => {
  for (const [name, make] of PAGES)
    for (const width of [1280, 390])
      it(`${name} at ${width} px: nothing clipped or overlapping`, async (t) => {
        const page = await make();
        const m = await measure(page, width, name);
        t.diagnostic(`screenshot: ${m.screenshot}`);
        assert.equal(m.viewport, width, "the page is laid out at the asked width");
        assert.deepEqual(m.problems, [], `${name} at ${width} px (screenshots in ${ARTIFACTS})`);
      });

  it("tables have header cells with a scope", async () => {
    const page = await html(PROFILE);
    const tables = page.match(/<table[\s\S]*?<\/table>/g) ?? [];
    assert.ok(tables.length >= 3);
    for (const t of tables) {
      assert.match(t, /<thead><tr><th scope="col"/, t.slice(0, 200));
      for (const row of t.match(/<tbody>[\s\S]*<\/tbody>/)?.[0].match(/<tr>.*?<\/tr>/g) ?? [])
        assert.match(row, /^<tr><th scope="row"/, row.slice(0, 200));
    }
  });
});
