/**
 * The hardware limit beside the service: each served encoder's forward time
 * on onnxruntime-web (as served) and onnxruntime-node (native CPU) on the
 * same real input, their ratio and output difference, and the MACs per item
 * from the ONNX graph.
 *
 * @module
 */
import { join } from "node:path";
import type { EnsuredEncoder } from "../../lib/weights/ensure_encoders.ts";
import { countMacs, type MacCount } from "./onnx_macs.ts";
import { type ForwardResult, measureForward } from "./forward_time.ts";
import { round2 } from "./stats.ts";

/** One encoder on one input shape, web vs node. */
export interface LimitResult {
  encoder: string;
  /** Items in the batch (YAMNet patches run batched, as the service runs them). */
  batch: number;
  dims: number[];
  macsPerItem: MacCount;
  web: ForwardResult | { error: string };
  node: ForwardResult | { error: string };
  /** web median / node median (same threads), when both ran. */
  ratio?: number;
  /** Achieved GMAC/s: macsPerItem.total * batch / median. */
  webGmacPerS?: number;
  nodeGmacPerS?: number;
  /** Largest |web - node| over the output, and the output's largest |value|. */
  maxAbsDiff?: number;
  maxAbsValue?: number;
}

/** A real input for an encoder: float32 values and dims (batch first). */
export interface LimitInput {
  encoder: EnsuredEncoder;
  data: Float32Array;
  dims: number[];
}

/**
 * Times each input on both backends with `threads` threads.
 *
 * @param inputs Encoder, tensor and dims per case.
 * @param options Threads, warm-up and iterations.
 * @returns One result per input.
 */
export async function measureLimit(
  inputs: readonly LimitInput[],
  options: { threads: number; warmup: number; iterations: number },
): Promise<LimitResult[]> {
  const dir = await Deno.makeTempDir({ prefix: "amodal-limit-" });
  const results: LimitResult[] = [];
  try {
    for (const [i, input] of inputs.entries()) {
      const inputPath = join(dir, `input${i}.f32`);
      await Deno.writeFile(inputPath, new Uint8Array(input.data.buffer, input.data.byteOffset, input.data.byteLength));
      const macs = countMacs(await Deno.readFile(input.encoder.onnxPath));
      const run = async (backend: "web" | "node") => {
        try {
          return await measureForward({
            backend,
            threads: options.threads,
            modelPath: input.encoder.onnxPath,
            inputPath,
            dims: input.dims,
            output: "embedding",
            warmup: options.warmup,
            iterations: options.iterations,
            outputPath: join(dir, `out${i}_${backend}.f32`),
          });
        } catch (error) {
          return { error: error instanceof Error ? error.message : String(error) };
        }
      };
      const web = await run("web");
      const node = await run("node");
      const batch = input.dims[0]!;
      const result: LimitResult = {
        encoder: input.encoder.card.name,
        batch,
        dims: input.dims,
        macsPerItem: macs,
        web,
        node,
      };
      const gmacs = (r: ForwardResult) => round2((macs.total * batch) / (r.medianMs / 1000) / 1e9);
      if ("medianMs" in web) result.webGmacPerS = gmacs(web);
      if ("medianMs" in node) result.nodeGmacPerS = gmacs(node);
      if ("medianMs" in web && "medianMs" in node) {
        result.ratio = round2(web.medianMs / node.medianMs);
        let diff = 0;
        let max = 0;
        for (let j = 0; j < web.output.length; j++) {
          diff = Math.max(diff, Math.abs(web.output[j]! - (node.output[j] ?? NaN)));
          max = Math.max(max, Math.abs(web.output[j]!));
        }
        result.maxAbsDiff = diff;
        result.maxAbsValue = max;
      }
      // Outputs served their purpose (the difference); keep the JSON small.
      if ("output" in web) delete (web as Partial<typeof web>).output;
      if ("output" in node) delete (node as Partial<typeof node>).output;
      results.push(result);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  return results;
}
