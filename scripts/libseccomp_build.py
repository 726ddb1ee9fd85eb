#!/usr/bin/python3
"""Builds a filter with libseccomp (python3-seccomp) from a JSON description on stdin; writes raw BPF.

Input: {"default": u32, "badarch": u32, "arches": ["x86_64", ...], "optimize": 1|2, "out": PATH,
        "rules": [{"syscall": NAME, "action": u32, "conds": [{"arg": N, "op": "==", "value": "123", "mask": "0"}]}]}
Output (stdout, JSON): {"skipped": [names libseccomp does not know]}
Only the test suite and the benchmark use this: it is the differential oracle, not part of sysfence.
"""
import json
import sys

import seccomp

ARCH = {"x86_64": seccomp.Arch.X86_64, "i386": seccomp.Arch.X86, "x32": seccomp.Arch.X32, "aarch64": seccomp.Arch.AARCH64,
        "arm": seccomp.Arch.ARM, "riscv64": seccomp.Arch.RISCV64, "ppc64le": seccomp.Arch.PPC64LE, "s390x": seccomp.Arch.S390X}
OPS = {"==": seccomp.EQ, "!=": seccomp.NE, "<": seccomp.LT, "<=": seccomp.LE, ">": seccomp.GT, ">=": seccomp.GE, "&==": seccomp.MASKED_EQ}

spec = json.load(sys.stdin)
# The bindings take actions as C ints: pass SECCOMP_RET_* values above 0x7fffffff as negative numbers.
signed = lambda v: v - (1 << 32) if v >= (1 << 31) else v
spec["default"] = signed(spec["default"])
spec["badarch"] = signed(spec["badarch"])
for r in spec["rules"]:
    r["action"] = signed(r["action"])
f = seccomp.SyscallFilter(spec["default"])
f.set_attr(seccomp.Attr.ACT_BADARCH, spec["badarch"])
if spec.get("optimize"):
    f.set_attr(seccomp.Attr.CTL_OPTIMIZE, spec["optimize"])
wanted = [ARCH[a] for a in spec["arches"]]
for a in wanted:
    if not f.exist_arch(a):
        f.add_arch(a)
if not any(int(a) % (1 << 32) == int(seccomp.system_arch()) % (1 << 32) for a in wanted):
    f.remove_arch(seccomp.Arch.NATIVE)
skipped = set()
for r in spec["rules"]:
    args = []
    for c in r["conds"]:
        if c["op"] == "&==":
            args.append(seccomp.Arg(c["arg"], seccomp.MASKED_EQ, int(c["mask"]), int(c["value"])))
        else:
            args.append(seccomp.Arg(c["arg"], OPS[c["op"]], int(c["value"])))
    try:
        f.add_rule(r["action"], r["syscall"], *args)
    except (ValueError, RuntimeError) as e:
        skipped.add(r["syscall"])
with open(spec["out"], "wb") as out:
    f.export_bpf(out)
# Names this libseccomp cannot resolve on an arch (newer syscalls than it knows): callers skip those numbers.
unknown = {}
for name in sorted({r["syscall"] for r in spec["rules"]}):
    for a in spec["arches"]:
        try:
            ok = seccomp.resolve_syscall(ARCH[a], name) >= 0
        except Exception:
            ok = False
        if not ok:
            unknown.setdefault(a, []).append(name)
print(json.dumps({"skipped": sorted(skipped), "unknown": unknown}))
