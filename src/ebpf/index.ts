// The eBPF toolkit: encoder, disassembler, BTF reader, maps, loader, attach, ring buffer.
export * from "./asm.js";
export * from "./attach.js";
export * from "./btf.js";
export * from "./disasm.js";
export * from "./load.js";
export * from "./maps.js";
export * from "./ringbuf.js";
export * from "./sys.js";
