#!/usr/bin/python3
"""Compiles OCI runtime-spec seccomp profiles with libseccomp the way runc does (libcontainer/seccomp):
the test oracle for sysfence's OCI reader. It reads the JSON text itself (json module), not sysfence's model.

stdin: JSON {"profiles": [PROFILE_TEXT, ...]}; stdout: JSON lines, one per profile:
{"bpf": HEX} or {"error": TEXT}. Only tests use this.
"""
import json
import os
import sys
import tempfile

import seccomp

ARCH = {"SCMP_ARCH_X86_64": seccomp.Arch.X86_64, "SCMP_ARCH_X86": seccomp.Arch.X86, "SCMP_ARCH_X32": seccomp.Arch.X32,
        "SCMP_ARCH_AARCH64": seccomp.Arch.AARCH64, "SCMP_ARCH_ARM": seccomp.Arch.ARM}
OPS = {"SCMP_CMP_NE": seccomp.NE, "SCMP_CMP_LT": seccomp.LT, "SCMP_CMP_LE": seccomp.LE, "SCMP_CMP_EQ": seccomp.EQ,
       "SCMP_CMP_GE": seccomp.GE, "SCMP_CMP_GT": seccomp.GT, "SCMP_CMP_MASKED_EQ": seccomp.MASKED_EQ}


def action(name, errno_ret):
    # runc getAction: ERRNO and TRACE without errnoRet answer EPERM.
    ret = 1 if errno_ret is None else errno_ret
    return {"SCMP_ACT_ALLOW": seccomp.ALLOW, "SCMP_ACT_KILL": seccomp.KILL, "SCMP_ACT_KILL_THREAD": seccomp.KILL,
            "SCMP_ACT_KILL_PROCESS": seccomp.KILL_PROCESS, "SCMP_ACT_TRAP": seccomp.TRAP, "SCMP_ACT_LOG": seccomp.LOG,
            "SCMP_ACT_ERRNO": seccomp.ERRNO(ret), "SCMP_ACT_TRACE": seccomp.TRACE(ret)}[name]


def build(profile):
    default = action(profile["defaultAction"], profile.get("defaultErrnoRet"))
    f = seccomp.SyscallFilter(default)
    f.set_attr(seccomp.Attr.ACT_BADARCH, seccomp.KILL_PROCESS)
    arches = [ARCH[a] for a in profile.get("architectures") or ["SCMP_ARCH_X86_64"]]
    for a in arches:
        if not f.exist_arch(a):
            f.add_arch(a)
    if seccomp.Arch.X86_64 not in arches:
        f.remove_arch(seccomp.Arch.NATIVE)
    for call in profile.get("syscalls") or []:
        act = action(call["action"], call.get("errnoRet"))
        if act == default:
            continue  # runc: "Ignore it if the action matches the default action"
        args = call.get("args") or []
        indexes = [a["index"] for a in args]
        groups = [[a] for a in args] if len(set(indexes)) != len(indexes) else [args]
        for name in call["names"]:
            try:
                seccomp.resolve_syscall(seccomp.Arch.NATIVE, name)
            except Exception:
                continue  # runc skips names libseccomp does not know
            for g in groups:
                conds = [seccomp.Arg(a["index"], OPS[a["op"]], a["value"], a.get("valueTwo", 0)) for a in g]
                f.add_rule(act, name, *conds)
    with tempfile.TemporaryFile() as out:
        f.export_bpf(out)
        out.seek(0)
        return out.read().hex()


for text in json.load(sys.stdin)["profiles"]:
    try:
        print(json.dumps({"bpf": build(json.loads(text))}))
    except Exception as e:
        print(json.dumps({"error": f"{type(e).__name__}: {e}"}))
    sys.stdout.flush()
