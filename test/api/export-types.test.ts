// exportPolicy()'s output has its format's type: this file must compile under tsc --strict (it is part of
// the build), and the run checks the values agree with the types.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { exportPolicy } from "../../src/index.js";

/** Compiles only when A and B are the same type. */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const same = <A, B>(x: Same<A, B>) => x;

const POLICY = { defaultAction: "allow", rules: [{ names: ["bpf"], action: "errno EPERM" }] };

describe("exportPolicy() types per format", () => {
  it("text formats give a string, bpf a Buffer; the format as an argument or an option", () => {
    const c = exportPolicy(POLICY, { format: "libseccomp-c" });
    same<typeof c.output, string>(true);
    const lines: string[] = c.output.split("\n");
    const oci = exportPolicy(POLICY, "oci").output;
    same<typeof oci, string>(true);
    const bpf = exportPolicy(POLICY, "bpf").output;
    same<typeof bpf, Buffer>(true);
    const k8s = exportPolicy(POLICY, { format: "k8s", name: "demo" }).output;
    same<typeof k8s, string>(true);
    // a format only known at run time keeps the union
    const any = exportPolicy(POLICY, "systemd" as "systemd" | "bpf").output;
    same<typeof any, string | Buffer>(true);
    assert.ok(lines.length > 1);
    assert.equal(typeof oci, "string");
    assert.ok(Buffer.isBuffer(bpf));
    assert.equal(bpf.length % 8, 0);
  });
});
