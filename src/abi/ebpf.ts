// eBPF encoding and bpf(2) numbers. Instruction fields from include/uapi/linux/bpf_common.h (shared with
// classic BPF, re-exported from ./opcodes.js) and include/uapi/linux/bpf.h; every number below was checked
// against those headers' text (linux-libc-dev 6.1) by compiling a C program that prints it.

export {
  BPF_ADD,
  BPF_ALU,
  BPF_AND,
  BPF_B,
  BPF_DIV,
  BPF_H,
  BPF_IMM,
  BPF_JA,
  BPF_JEQ,
  BPF_JGE,
  BPF_JGT,
  BPF_JMP,
  BPF_JSET,
  BPF_K,
  BPF_LD,
  BPF_LDX,
  BPF_LSH,
  BPF_MEM,
  BPF_MOD,
  BPF_MUL,
  BPF_NEG,
  BPF_OR,
  BPF_RSH,
  BPF_ST,
  BPF_STX,
  BPF_SUB,
  BPF_W,
  BPF_X,
  BPF_XOR,
} from "./opcodes.js";

// --- Instruction fields added by eBPF (bpf.h) ---

/** Instruction class: 32-bit jumps (bpf.h BPF_JMP32). */
export const BPF_JMP32 = 0x06;
/** Instruction class: 64-bit arithmetic (bpf.h BPF_ALU64). */
export const BPF_ALU64 = 0x07;
/** Size: a double word, 64 bits (bpf.h BPF_DW). */
export const BPF_DW = 0x18;
/** Mode: atomic operation on memory, the operation in imm (bpf.h BPF_ATOMIC, formerly BPF_XADD). */
export const BPF_ATOMIC = 0xc0;
/** Atomic imm flag: also fetch the old value into src (bpf.h BPF_FETCH). */
export const BPF_FETCH = 0x01;
/** ALU operation: dst = src (bpf.h BPF_MOV). */
export const BPF_MOV = 0xb0;
/** ALU operation: sign-extending shift right (bpf.h BPF_ARSH). */
export const BPF_ARSH = 0xc0;
/** ALU operation: byte swap, the width in imm (bpf.h BPF_END). */
export const BPF_END = 0xd0;
/** BPF_END source bit: to little-endian (bpf.h BPF_TO_LE). */
export const BPF_TO_LE = 0x00;
/** BPF_END source bit: to big-endian (bpf.h BPF_TO_BE). */
export const BPF_TO_BE = 0x08;
/** Jump: != (bpf.h BPF_JNE). */
export const BPF_JNE = 0x50;
/** Jump: signed > (bpf.h BPF_JSGT). */
export const BPF_JSGT = 0x60;
/** Jump: signed >= (bpf.h BPF_JSGE). */
export const BPF_JSGE = 0x70;
/** Jump: unsigned < (bpf.h BPF_JLT). */
export const BPF_JLT = 0xa0;
/** Jump: unsigned <= (bpf.h BPF_JLE). */
export const BPF_JLE = 0xb0;
/** Jump: signed < (bpf.h BPF_JSLT). */
export const BPF_JSLT = 0xc0;
/** Jump: signed <= (bpf.h BPF_JSLE). */
export const BPF_JSLE = 0xd0;
/** Jump class operation: call a helper, its id in imm (bpf.h BPF_CALL). */
export const BPF_CALL = 0x80;
/** Jump class operation: return r0 (bpf.h BPF_EXIT). */
export const BPF_EXIT = 0x90;

/** ld_imm64 src_reg: imm is a map fd the kernel turns into the map's address (bpf.h BPF_PSEUDO_MAP_FD). */
export const BPF_PSEUDO_MAP_FD = 1;
/** ld_imm64 src_reg: imm is a map fd, the next imm an offset into its value (bpf.h BPF_PSEUDO_MAP_VALUE). */
export const BPF_PSEUDO_MAP_VALUE = 2;
/** call src_reg: imm is a pc-relative offset to a BPF function (bpf.h BPF_PSEUDO_CALL). */
export const BPF_PSEUDO_CALL = 1;

/** Registers r0 (return value) … r10 (read-only frame pointer), bpf.h enum BPF_REG_*. */
export const MAX_BPF_REG = 11;

// --- bpf(2) commands: bpf.h enum bpf_cmd ---

export const BPF_MAP_CREATE = 0;
export const BPF_MAP_LOOKUP_ELEM = 1;
export const BPF_MAP_UPDATE_ELEM = 2;
export const BPF_MAP_DELETE_ELEM = 3;
export const BPF_MAP_GET_NEXT_KEY = 4;
export const BPF_PROG_LOAD = 5;
export const BPF_OBJ_GET_INFO_BY_FD = 15;
export const BPF_RAW_TRACEPOINT_OPEN = 17;
export const BPF_BTF_LOAD = 18;
export const BPF_MAP_LOOKUP_AND_DELETE_ELEM = 21;
export const BPF_MAP_FREEZE = 22;
export const BPF_MAP_LOOKUP_BATCH = 24;
export const BPF_MAP_LOOKUP_AND_DELETE_BATCH = 25;
export const BPF_MAP_UPDATE_BATCH = 26;
export const BPF_MAP_DELETE_BATCH = 27;
export const BPF_LINK_CREATE = 28;
export const BPF_LINK_DETACH = 34;

/** Names of the commands above, for error messages. */
export const BPF_CMD_NAMES: Record<number, string> = {
  0: "BPF_MAP_CREATE",
  1: "BPF_MAP_LOOKUP_ELEM",
  2: "BPF_MAP_UPDATE_ELEM",
  3: "BPF_MAP_DELETE_ELEM",
  4: "BPF_MAP_GET_NEXT_KEY",
  5: "BPF_PROG_LOAD",
  15: "BPF_OBJ_GET_INFO_BY_FD",
  17: "BPF_RAW_TRACEPOINT_OPEN",
  18: "BPF_BTF_LOAD",
  21: "BPF_MAP_LOOKUP_AND_DELETE_ELEM",
  22: "BPF_MAP_FREEZE",
  24: "BPF_MAP_LOOKUP_BATCH",
  25: "BPF_MAP_LOOKUP_AND_DELETE_BATCH",
  26: "BPF_MAP_UPDATE_BATCH",
  27: "BPF_MAP_DELETE_BATCH",
  28: "BPF_LINK_CREATE",
  34: "BPF_LINK_DETACH",
};

/** sizeof(union bpf_attr) in linux 6.1's bpf.h; newer kernels accept it (the tail they add stays zero). */
export const BPF_ATTR_SIZE = 144;

// --- Map types: bpf.h enum bpf_map_type ---

export const BPF_MAP_TYPE_HASH = 1;
export const BPF_MAP_TYPE_ARRAY = 2;
export const BPF_MAP_TYPE_PROG_ARRAY = 3;
export const BPF_MAP_TYPE_PERF_EVENT_ARRAY = 4;
export const BPF_MAP_TYPE_PERCPU_HASH = 5;
export const BPF_MAP_TYPE_PERCPU_ARRAY = 6;
export const BPF_MAP_TYPE_LRU_HASH = 9;
export const BPF_MAP_TYPE_LRU_PERCPU_HASH = 10;
export const BPF_MAP_TYPE_RINGBUF = 27;

// --- Map update and create flags (bpf.h) ---

/** Update: create or replace (bpf.h BPF_ANY). */
export const BPF_ANY = 0;
/** Update: only create (bpf.h BPF_NOEXIST). */
export const BPF_NOEXIST = 1;
/** Update: only replace (bpf.h BPF_EXIST). */
export const BPF_EXIST = 2;
/** Create: hash maps allocate elements on demand (bpf.h BPF_F_NO_PREALLOC). */
export const BPF_F_NO_PREALLOC = 1 << 0;
/** Create: user space may mmap an array map (bpf.h BPF_F_MMAPABLE). */
export const BPF_F_MMAPABLE = 1 << 10;

// --- Program types: bpf.h enum bpf_prog_type ---

export const BPF_PROG_TYPE_SOCKET_FILTER = 1;
export const BPF_PROG_TYPE_KPROBE = 2;
export const BPF_PROG_TYPE_TRACEPOINT = 5;
export const BPF_PROG_TYPE_RAW_TRACEPOINT = 17;
export const BPF_PROG_TYPE_TRACING = 26;

// --- Attach types: bpf.h enum bpf_attach_type ---

/** A BTF-typed raw tracepoint (tp_btf), for BPF_PROG_TYPE_TRACING (bpf.h BPF_TRACE_RAW_TP). */
export const BPF_TRACE_RAW_TP = 23;
export const BPF_TRACE_FENTRY = 24;
export const BPF_TRACE_FEXIT = 25;
export const BPF_PERF_EVENT = 41;

// --- Helper ids: bpf.h enum bpf_func_id (the ___BPF_FUNC_MAPPER list, in order) ---

export const BPF_FUNC = {
  map_lookup_elem: 1,
  map_update_elem: 2,
  map_delete_elem: 3,
  probe_read: 4,
  ktime_get_ns: 5,
  trace_printk: 6,
  get_prandom_u32: 7,
  get_smp_processor_id: 8,
  tail_call: 12,
  get_current_pid_tgid: 14,
  get_current_uid_gid: 15,
  get_current_comm: 16,
  perf_event_output: 25,
  get_current_task: 35,
  probe_read_str: 45,
  get_current_cgroup_id: 80,
  get_current_ancestor_cgroup_id: 123,
  send_signal: 109,
  probe_read_user: 112,
  probe_read_kernel: 113,
  probe_read_user_str: 114,
  probe_read_kernel_str: 115,
  get_ns_current_pid_tgid: 120,
  ktime_get_boot_ns: 125,
  ringbuf_output: 130,
  ringbuf_reserve: 131,
  ringbuf_submit: 132,
  ringbuf_discard: 133,
  ringbuf_query: 134,
  d_path: 147,
  get_current_task_btf: 158,
} as const;

export type HelperName = keyof typeof BPF_FUNC;

/** Helper names by id, for the disassembler. */
export const BPF_FUNC_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(BPF_FUNC).map(([name, id]) => [id, name]),
);

// --- Ring buffer record header (bpf.h) ---

/** Header length bit: the producer has not committed the record yet (bpf.h BPF_RINGBUF_BUSY_BIT). */
export const BPF_RINGBUF_BUSY_BIT = 0x80000000;
/** Header length bit: the record was discarded (bpf.h BPF_RINGBUF_DISCARD_BIT). */
export const BPF_RINGBUF_DISCARD_BIT = 0x40000000;
/** Bytes of a record's header: u32 length with the bits above, u32 page offset (bpf.h BPF_RINGBUF_HDR_SZ). */
export const BPF_RINGBUF_HDR_SZ = 8;
/** ringbuf_output/submit flag: no wakeup (bpf.h BPF_RB_NO_WAKEUP). */
export const BPF_RB_NO_WAKEUP = 1;
/** ringbuf_output/submit flag: wake the consumer now (bpf.h BPF_RB_FORCE_WAKEUP). */
export const BPF_RB_FORCE_WAKEUP = 2;

/** Bytes of a program or map name, with its NUL (bpf.h BPF_OBJ_NAME_LEN). */
export const BPF_OBJ_NAME_LEN = 16;

// --- perf_event_open for classic tracepoints: include/uapi/linux/perf_event.h ---

/** perf_event_attr.type of a tracepoint; config is its id from tracefs (perf_event.h PERF_TYPE_TRACEPOINT). */
export const PERF_TYPE_TRACEPOINT = 2;
/** sizeof(struct perf_event_attr), PERF_ATTR_SIZE_VER8 (perf_event.h, 6.1). */
export const PERF_ATTR_SIZE = 128;
/** perf_event.h PERF_SAMPLE_RAW. */
export const PERF_SAMPLE_RAW = 1 << 10;
/** perf_event_open flag: close-on-exec fd (perf_event.h PERF_FLAG_FD_CLOEXEC). */
export const PERF_FLAG_FD_CLOEXEC = 1 << 3;
/** ioctl: _IO('$', 0) (perf_event.h PERF_EVENT_IOC_ENABLE). */
export const PERF_EVENT_IOC_ENABLE = 0x2400;
/** ioctl: _IO('$', 1) (perf_event.h PERF_EVENT_IOC_DISABLE). */
export const PERF_EVENT_IOC_DISABLE = 0x2401;
/** ioctl: _IOW('$', 8, __u32), attach a program fd (perf_event.h PERF_EVENT_IOC_SET_BPF). */
export const PERF_EVENT_IOC_SET_BPF = 0x40042408;
