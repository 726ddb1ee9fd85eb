// The eBPF toolkit: encoder, disassembler, BTF reader, maps, loader, attach, ring buffer.
export * from "./asm.js";
export * from "./disasm.js";
