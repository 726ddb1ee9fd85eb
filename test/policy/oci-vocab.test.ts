import assert from "node:assert/strict";
import { test } from "node:test";
import type { ActionKind } from "../../src/abi/action.js";
import {
  OCI_ACTION_TABLE,
  OCI_ACTIONS,
  OCI_OPS,
  ociAction,
  ociActionOf,
  ociOp,
} from "../../src/policy/formats/oci/vocab.js";

const KINDS: ActionKind[] = [
  "allow",
  "kill-process",
  "kill-thread",
  "trap",
  "errno",
  "trace",
  "log",
  "user-notif",
];

test("every action kind is written as one SCMP_ACT name and reads back as itself", () => {
  for (const kind of KINDS) {
    const data = kind === "errno" || kind === "trace" ? 13 : undefined;
    const written = ociActionOf({ kind, data });
    assert.match(written.action, /^SCMP_ACT_/);
    assert.deepEqual(
      ociAction(written.action, written.errnoRet),
      data === undefined ? { kind } : { kind, data },
    );
  }
  // one name written per kind: the table has exactly one entry per kind besides read-only aliases
  const written = OCI_ACTION_TABLE.filter((a) => !("readOnly" in a)).map((a) => a.kind);
  assert.deepEqual([...written].sort(), [...KINDS].sort());
});

test("the reader takes runc's names and defaults; the writer keeps its own defaults", () => {
  assert.deepEqual(ociAction("SCMP_ACT_KILL", undefined), { kind: "kill-thread" });
  assert.deepEqual(ociAction("SCMP_ACT_ERRNO", undefined), { kind: "errno", data: 1 });
  assert.deepEqual(ociAction("SCMP_ACT_TRACE", undefined), { kind: "trace", data: 1 });
  assert.equal(ociAction("SCMP_ACT_NOPE", undefined), undefined);
  assert.deepEqual(ociActionOf({ kind: "kill-thread" }), { action: "SCMP_ACT_KILL_THREAD" });
  assert.deepEqual(ociActionOf({ kind: "errno" }), { action: "SCMP_ACT_ERRNO", errnoRet: 1 });
  assert.deepEqual(ociActionOf({ kind: "trace" }), { action: "SCMP_ACT_TRACE", errnoRet: 0 });
  assert.equal(OCI_ACTIONS.length, 9);
});

test("every SCMP_CMP operator reads as a comparison", () => {
  assert.equal(OCI_OPS.length, 7);
  for (const name of OCI_OPS) assert.ok(ociOp(name));
  assert.equal(ociOp("SCMP_CMP_MASKED_EQ"), "&==");
  assert.equal(ociOp("SCMP_CMP_EQUAL"), undefined);
});
