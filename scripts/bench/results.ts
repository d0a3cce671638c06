/**
 * The shape of one `deno task bench` run (the JSON file under bench/results/), shared by the runner
 * (`main.ts`) and the report writer (`report.ts`).
 *
 * @module
 */
import type { machineInfo } from "./machine.ts";
import type { LatencyResult } from "./http_latency.ts";
import type { LoadResult } from "./load.ts";
import type { LimitResult } from "./limit.ts";

/** One target and its measured value. */
export interface TargetCheck {
  name: string;
  target: string;
  measured: string;
  met: boolean;
}

/** Everything one run measured (the JSON file). */
export interface BenchResults {
  timestamp: string;
  mode: "full" | "quick";
  machine: ReturnType<typeof machineInfo>;
  loadAverage: { start: number[]; end: number[] };
  /** Service settings of the measured server (defaults unless overridden by env). */
  service: { workers: number; threads: number; backend: string; endpoint: string };
  sources: { photo: string; recording: string };
  inputs: { name: string; description: string; bytes: number }[];
  coldStart: { cachedMs: number[]; cachedMedianMs: number; emptyCacheMs?: number; emptyCacheError?: string };
  latency: Record<string, LatencyResult>;
  load: {
    mixed: LoadResult[];
    mixedInputs: string[];
    images: Record<string, LoadResult>;
    /** The load generator against an empty Hono route: its own ceiling. */
    ceiling?: LoadResult;
    error?: string;
  };
  peakRssMb: number;
  /** RSS of the first cold-started server right after its first answer (issue 13: <= 250 MB). */
  rssAfterStartMb?: number;
  limit: LimitResult[];
  levers?: LeverResult[];
  forwardLevers?: ForwardLever[];
  targets: TargetCheck[];
}

/** One service variant in the levers section. */
export interface LeverResult {
  name: string;
  env: Record<string, string>;
  coldStartMs: number;
  p50Ms: Record<string, number>;
  imagesPerSecondC4: number;
  errorsC4: number;
  peakRssMb: number;
  loadAverage: number[];
}

/** One encoder forward setting in the levers section. */
export interface ForwardLever {
  encoder: string;
  batch: number;
  backend: "web" | "node";
  threads: number;
  foldWeights: boolean;
  medianMs: number | null;
  minMs: number | null;
  error?: string;
}
