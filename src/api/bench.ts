// `sysfence bench`: what a filter costs per system call and on a whole workload (observe/bench.ts measures).
export {
  type BenchCall,
  type BenchResult,
  benchPolicy,
  benchWorkload,
} from "../observe/bench.js";
