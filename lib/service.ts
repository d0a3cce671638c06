/**
 * Prepares everything a request needs, without HTTP: encoders imported and verified, model facts
 * read, API keys loaded, the inference runner started. `main.ts` and `serve.ts` put the HTTP surface
 * (`routes/app.ts`) on top.
 *
 * The runner: images are decoded in the main isolate (`./worker/decode_first.ts`), inference runs in
 * `config.workers` Workers (`./worker/pool.ts`) or, with 0, in the main isolate (`./worker/in_isolate.ts`).
 * What `config.warmup` names starts loading in the background once the runner takes jobs (a request that
 * arrives first waits for those loads, which it needs anyway); everything else loads on first use.
 *
 * @module
 */
import type { Config } from "./config.ts";
import type { ImagePreprocess } from "./encoders/card.ts";
import type { EncoderFiles } from "./pipeline.ts";
// Static, not lazy: pool.ts keeps Deno's Web Worker at import, before sharp-wasm (loaded by whoever decodes an image
// first) replaces globalThis.Worker with Node's.
import { type JobRunner, WorkerPool } from "./worker/pool.ts";
import { ensureEncoders } from "./weights/ensure_encoders.ts";
import { readServiceInfo, type ServiceInfo } from "./service_info.ts";
import { readKeyHashes } from "./http/api_keys.ts";
import { DecodeFirst } from "./worker/decode_first.ts";

/** What serves jobs: run them, report load and what is loaded, stop. */
export interface ServiceRunner extends JobRunner {
  /** Stops the workers (if any) and fails queued jobs. */
  close(): void;
}

/** What {@linkcode prepareService} readies. */
export interface PreparedService {
  pool: ServiceRunner;
  info: ServiceInfo;
  /** sha256 digests of accepted API keys; undefined = open service. */
  keyHashes?: Uint8Array[];
}

/** Options of {@linkcode prepareService}. */
export interface PrepareOptions {
  /** Receives progress lines. @default console.error */
  log?: (line: string) => void;
  /** Worker module to run (tests pass one with fault injection). @default ./worker/inference_worker.ts */
  workerUrl?: URL;
}

/**
 * Readies encoders, model facts and the inference runner.
 *
 * @param config Service configuration.
 * @param options Logging and the worker module.
 * @returns The runner, model facts and API key digests.
 */
export async function prepareService(config: Config, options: PrepareOptions = {}): Promise<PreparedService> {
  const log = options.log ?? ((line: string) => console.error(line));
  const encoders = await ensureEncoders({
    cacheDir: config.cacheDir,
    weightsDir: config.weightsDir,
    names: [config.audioEncoder, config.imageEncoder],
    log,
  });
  const audio = encoders[config.audioEncoder];
  const image = encoders[config.imageEncoder];
  if (!audio || !image) throw new Error(`Unknown encoder: ${config.audioEncoder} / ${config.imageEncoder}`);
  const info = await readServiceInfo(config, [audio.card, image.card]);
  const keyHashes = config.apiKeysFile ? await readKeyHashes(config.apiKeysFile) : undefined;
  const joint = info.joint !== undefined;
  const { runner: inner, ready } = config.workers > 0
    ? startPool(config, { audio, image }, joint, options)
    : await startInIsolate(config, { audio, image }, joint);
  const geometry = image.card.preprocess as ImagePreprocess;
  const pool = new DecodeFirst(inner, {
    decode: {
      maxPixels: config.maxImagePixels,
      image: { size: geometry.size, centralFraction: geometry.centralFraction },
    },
    timeoutMs: config.requestTimeoutMs,
    queueSize: config.queueSize,
    log,
  });
  log(
    `${config.workers > 0 ? `${config.workers} inference worker(s)` : "in-isolate inference"}, warm-up: ${
      config.warmup.join(", ") || "none"
    }`,
  );
  try {
    await ready;
  } catch (error) {
    pool.close();
    throw error;
  }
  if (config.warmup.includes("image")) {
    // In the background, like the workers' warm-up: a request that arrives first joins sharp's load in progress.
    import("./worker/warmup_inputs.ts").then(async (m) => pool.warmUp(await m.warmupImageFile())).catch((error) =>
      log(`sharp warm-up failed: ${error instanceof Error ? error.message : error}`)
    );
  }
  return { pool, info, ...(keyHashes ? { keyHashes } : {}) };
}

/** A runner and the promise of its warm-up. */
interface Started {
  runner: ServiceRunner;
  ready: Promise<void>;
}

function startPool(config: Config, encoders: EncoderFiles, joint: boolean, options: PrepareOptions): Started {
  const pool = new WorkerPool({
    workerUrl: options.workerUrl ?? new URL("./worker/inference_worker.ts", import.meta.url),
    init: { type: "init", config, encoders, joint, warmup: config.warmup },
    size: config.workers,
    queueSize: config.queueSize,
    timeoutMs: config.requestTimeoutMs,
  });
  return { runner: pool, ready: pool.ready() };
}

async function startInIsolate(
  config: Config,
  encoders: EncoderFiles,
  joint: boolean,
): Promise<Started> {
  const { InIsolateRunner } = await import("./worker/in_isolate.ts");
  const runner = await InIsolateRunner.create({ config, encoders, joint });
  for (const modality of config.warmup) runner.warmUp(modality).catch(() => {});
  return { runner, ready: Promise.resolve() };
}
