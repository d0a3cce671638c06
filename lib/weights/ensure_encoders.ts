/**
 * Makes sure converted encoders exist in `<cacheDir>/encoders/`.
 *
 * For each requested card of `models/encoders.json`: reuse
 * `<name>.onnx` when its sidecar card `<name>.json` matches the catalog card,
 * the converter version and the ONNX file's SHA-256; otherwise find the
 * TFLite file ({@linkcode resolveFile}: cache, local dir, pinned URL; hash
 * verified), convert it in-process and write both files atomically.
 *
 * @module
 */
import { join } from "node:path";
import { loadConfig } from "../config.ts";
import { CONVERTER_VERSION, tfliteToOnnx } from "../encoders/import/tflite_to_onnx.ts";
import type { EncoderCard } from "../encoders/card.ts";
import { atomicWrite } from "./atomic_write.ts";
import { ENCODERS_JSON, loadEncoderCatalog } from "./encoder_cards.ts";
import { resolveFile } from "./resolve_file.ts";
import { sha256Hex } from "./sha256.ts";

/** Options for {@linkcode ensureEncoders}. */
export interface EnsureEncodersOptions {
  /** Cache root. @default {`loadConfig().cacheDir`} */
  cacheDir?: string;
  /** Local weights directory. @default {`loadConfig().weightsDir`} */
  weightsDir?: string;
  /** Encoders to ensure. @default {all cards} */
  names?: string[];
  /** Progress messages. @default {console.error} */
  log?: (line: string) => void;
  /** Catalog file. @default {"models/encoders.json"} */
  catalogPath?: string;
  /** Fetch for the pinned-URL source; `null` = offline. @default {globalThis.fetch} */
  fetch?: typeof fetch | null;
}

/** A ready encoder. */
export interface EnsuredEncoder {
  /** The catalog card. */
  card: EncoderCard;
  /** Absolute path of the converted ONNX graph. */
  onnxPath: string;
  /** Path of the sidecar card (catalog card + conversion facts). */
  cardPath: string;
  /** Verified class-name file for `outputs.scores`, when the card has one. */
  labelsPath?: string;
}

/** Conversion facts stored in the sidecar card under `onnx`. */
export interface OnnxFacts {
  /** ONNX file name (beside the sidecar). */
  file: string;
  /** SHA-256 of the ONNX file. */
  sha256: string;
  /** Size in bytes. */
  bytes: number;
  /** {@linkcode CONVERTER_VERSION} that wrote it. */
  converter: number;
  /** Input shape ("N" = symbolic batch). */
  inputShape: (number | string)[];
  /** Output shapes by name. */
  outputShapes: Record<string, (number | string)[]>;
  /** Why the batch is fixed, if it is. */
  fixedBatchReason?: string;
  /** TFLite operators the model uses. */
  tfliteOps: string[];
}

async function reusable(
  card: EncoderCard,
  onnxPath: string,
  cardPath: string,
): Promise<boolean> {
  try {
    const side = JSON.parse(await Deno.readTextFile(cardPath));
    const { onnx, ...rest } = side as { onnx: OnnxFacts } & EncoderCard;
    if (JSON.stringify(rest) !== JSON.stringify(card)) return false;
    if (onnx?.converter !== CONVERTER_VERSION) return false;
    return await sha256Hex(await Deno.readFile(onnxPath)) === onnx.sha256;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof SyntaxError) return false;
    throw error;
  }
}

/**
 * Converts whatever requested encoder is missing or stale and returns paths.
 *
 * @param opts Directories, names, logging.
 * @returns Ready encoders by name.
 * @throws {RangeError} For a name with no card.
 * @throws {Error} When a TFLite file cannot be found with the pinned hash.
 * @example
 * ```ts
 * const { yamnet } = await ensureEncoders({ names: ["yamnet"] });
 * console.log(yamnet!.onnxPath); // /…/.cache/encoders/yamnet.onnx
 * ```
 */
export async function ensureEncoders(
  opts: EnsureEncodersOptions = {},
): Promise<Record<string, EnsuredEncoder>> {
  const cacheDir = opts.cacheDir ?? loadConfig().cacheDir;
  const weightsDir = opts.weightsDir ?? loadConfig().weightsDir;
  const log = opts.log ?? ((line: string) => console.error(line));
  const catalog = await loadEncoderCatalog(opts.catalogPath ?? ENCODERS_JSON);
  const names = opts.names ?? catalog.encoders.map((c) => c.name);
  const resolveOpts = {
    cacheDir,
    weightsDir,
    log,
    ...(opts.fetch !== undefined ? { fetch: opts.fetch } : {}),
  };
  const result: Record<string, EnsuredEncoder> = {};
  for (const name of names) {
    const card = catalog.encoders.find((c) => c.name === name);
    if (card === undefined) {
      throw new RangeError(
        `Unknown encoder "${name}"; known: ${catalog.encoders.map((c) => c.name).join(", ")}`,
      );
    }
    const onnxPath = join(cacheDir, "encoders", `${name}.onnx`);
    const cardPath = join(cacheDir, "encoders", `${name}.json`);
    if (!(await reusable(card, onnxPath, cardPath))) {
      const tflite = await resolveFile(card, resolveOpts);
      log(`importing ${name} from ${tflite.path} ...`);
      const outputs = Object.fromEntries(
        Object.entries(card.outputs).map(([key, out]) => [key, out.tensor]),
      );
      const converted = tfliteToOnnx(tflite.bytes, { outputs, name });
      const onnx: OnnxFacts = {
        file: `${name}.onnx`,
        sha256: await sha256Hex(converted.onnx),
        bytes: converted.onnx.length,
        converter: CONVERTER_VERSION,
        inputShape: converted.inputShape,
        outputShapes: converted.outputShapes,
        ...(converted.fixedBatchReason ? { fixedBatchReason: converted.fixedBatchReason } : {}),
        tfliteOps: converted.tfliteOps,
      };
      await atomicWrite(onnxPath, converted.onnx);
      await atomicWrite(cardPath, JSON.stringify({ ...card, onnx }, null, 2) + "\n");
      log(
        `wrote ${onnxPath} (${onnx.bytes} bytes, input ${JSON.stringify(onnx.inputShape)}` +
          `${onnx.fixedBatchReason ? `; batch fixed: ${onnx.fixedBatchReason}` : ""})`,
      );
    }
    const entry: EnsuredEncoder = { card, onnxPath, cardPath };
    const labels = card.outputs.scores?.labels;
    const pinned = labels === undefined ? undefined : catalog.labels[labels];
    if (labels !== undefined && pinned !== undefined) {
      entry.labelsPath = (await resolveFile({ file: labels, ...pinned }, resolveOpts)).path;
    }
    result[name] = entry;
  }
  return result;
}
