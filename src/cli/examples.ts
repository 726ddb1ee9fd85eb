// Examples shown at the end of every command's --help and in the man page (one place for both).
export const EXAMPLES: Record<string, string[]> = {
  demo: ["sysfence demo", "sysfence demo --clients 16 --rounds 100"],
  run: [
    "sysfence run @default @basic-io @file-system getdents64 -- ls /",
    "sysfence run --policy memcached.yaml memcached -u nobody   # options end at the command: '--' optional",
    "sysfence run --log --policy new.yaml -- ./server   # log mode: nothing blocked, the kernel logs",
  ],
  record: [
    "sysfence record --after listen -o nginx.json -- nginx -g 'daemon off;'",
    "sysfence record -o ls.json ls -l /   # options end at the command: '--' optional",
    "sysfence record -p 1234 --duration 60 -o service.json",
    "sysfence record --from-strace app.strace -o app.json",
  ],
  generate: [
    "sysfence generate --phase all memcached.json -o memcached.yaml",
    "sysfence generate --unseen log p.json -o burnin.yaml   # burn-in, then: audit --patch, generate --finalize",
  ],
  compile: [
    "sysfence compile policy.yaml",
    "sysfence compile --arch x86_64,aarch64 --format bpf -o filter.bpf policy.yaml",
  ],
  disasm: [
    "sysfence disasm filter.bpf",
    "sysfence compile --format bpf -o - policy.yaml | sysfence disasm -",
  ],
  emu: [
    "sysfence emu policy.yaml --syscall ioctl --args 0,TIOCSTI",
    "sysfence emu filter.bpf --arch aarch64 --syscall clone --args CLONE_NEWUSER",
  ],
  syscalls: [
    "sysfence syscalls @",
    "sysfence syscalls @file-system",
    "sysfence syscalls --arch aarch64 openat",
  ],
  check: ["sysfence check policy.yaml", "kubectl get sp demo -o yaml | sysfence check -"],
  schema: ["sysfence schema > policy.schema.json"],
  fmt: ["sysfence fmt policy.yaml", "sysfence fmt -w policy.yaml"],
  bench: [
    "sysfence bench policy.yaml",
    "sysfence bench --workload 'dd if=/dev/zero of=/dev/null bs=1 count=100000' policy.yaml",
  ],
  audit: [
    "sysfence audit --since 10m --exe nginx",
    "sysfence audit --patch policy.yaml --exe memcached -o policy.yaml",
  ],
  merge: ["sysfence merge run1.json run2.json -o all.json"],
  diff: [
    "sysfence diff policy.yaml new-profile.json   # CI: exit 1 on drift",
    'sysfence diff --format md policy.yaml new.json >> "$GITHUB_STEP_SUMMARY"',
    "sysfence dump --pid $(pgrep server) | sysfence diff policy.yaml -   # the running server under the policy?",
  ],
  dump: [
    "sudo sysfence dump --pid $(pgrep server)",
    "sudo sysfence dump --pid 1234 --format bpf --filter 0 -o oldest.bpf",
  ],
  report: [
    "sysfence report policy.yaml",
    "sysfence report --format html -o report.html profile.json",
    "sysfence report --diff --format html -o diff.html old.yaml new.yaml",
  ],
  export: [
    "sysfence export nginx.policy.yaml --format oci -o nginx.json          # Docker/podman/runc (launcher runc)",
    "sysfence export nginx.policy.yaml --format bpf -o nginx.bpf           # bwrap --seccomp 9 9<nginx.bpf",
    "sysfence export p.yaml --format bpf-c --launcher exec -o launch.c     # cc launch.c -o launch; ./launch nginx",
    "sysfence export p.yaml --format systemd --log                         # a trial drop-in that only logs",
    "sysfence export p.yaml --format k8s --namespace web --pod-snippet     # SPO SeccompProfile (v1)",
  ],
  import: ["sysfence import docker-default.json -o docker.yaml", "sysfence import unit.service"],
  analyze: [
    "sysfence analyze /usr/bin/memcached",
    "sysfence analyze --arch aarch64 --sysroot /usr/aarch64-linux-gnu ./app",
  ],
  completion: [
    "sysfence completion bash > /etc/bash_completion.d/sysfence",
    "sysfence completion zsh > ~/.zfunc/_sysfence",
  ],
  man: ["sysfence man > /usr/local/share/man/man1/sysfence.1 && man sysfence"],
};
