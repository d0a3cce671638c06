/**
 * What the benchmark ran on: CPU model and flags that matter for inference,
 * cores, memory, load, runtime versions.
 *
 * @module
 */

/** Description of the benchmark host. */
export interface MachineInfo {
  cpuModel: string;
  /** Logical CPUs visible to this process. */
  cpus: number;
  /** SIMD features relevant to MLAS kernels (avx2, avx512f, avx512_vnni, ...). */
  simd: string[];
  memTotalGiB: number;
  kernel: string;
  deno: string;
  v8: string;
  /** 1, 5 and 15 minute load averages when the sample was taken. */
  loadAverage: number[];
}

/**
 * 1, 5 and 15 minute load averages from `/proc/loadavg` (other work on a
 * shared machine shows up here and explains noisy numbers).
 *
 * @returns Three numbers, or `[]` where `/proc` is missing.
 */
export function loadAverage(): number[] {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).map(Number);
  } catch {
    return [];
  }
}

/**
 * Reads `/proc/cpuinfo` and `/proc/meminfo` (Linux), with fallbacks elsewhere.
 *
 * @returns The machine description.
 */
export function machineInfo(): MachineInfo {
  let cpuinfo = "";
  let meminfo = "";
  try {
    cpuinfo = Deno.readTextFileSync("/proc/cpuinfo");
    meminfo = Deno.readTextFileSync("/proc/meminfo");
  } catch { /* not Linux */ }
  const field = (name: string) => cpuinfo.match(new RegExp(`^${name}\\s*:\\s*(.*)$`, "m"))?.[1]?.trim() ?? "";
  const flags = new Set(field("flags").split(/\s+/));
  const wanted = ["sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni", "avx512_bf16"];
  const memKb = Number(meminfo.match(/^MemTotal:\s*(\d+)/m)?.[1] ?? 0);
  return {
    cpuModel: field("model name") || "unknown",
    cpus: navigator.hardwareConcurrency,
    simd: wanted.filter((f) => flags.has(f)),
    memTotalGiB: Math.round(memKb / 1024 / 1024 * 10) / 10,
    kernel: Deno.osRelease(),
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    loadAverage: loadAverage(),
  };
}
