/**
 * The one module that owns onnxruntime-web: session creation and runs with
 * input validation. Everything else passes plain `{data, dims}` records.
 *
 * Deno resolves `onnxruntime-web` with the "node" export condition, i.e.
 * `dist/ort.node.min.mjs`, which loads `ort-wasm-simd-threaded.wasm` from the
 * package directory in node_modules — no network access. Multi-threaded WASM
 * (`numThreads` > 1) works both under `deno run` and `deno test`.
 *
 * `backend: "node"` runs the same graph on onnxruntime-node (native MLAS,
 * several times faster on x86) for self-hosted deployments that grant
 * `--allow-ffi`; it is imported only when asked for. Both backends fold
 * the weights' `DequantizeLinear` into float initializers at load
 * (`session.disable_quant_qdq`): the converted encoders keep int8 weights
 * behind DequantizeLinear, which ONNX Runtime otherwise runs on every call
 * (and, natively, without prepacked weights): native 2.4x slower, WASM
 * YAMNet batch 1 ~1.8x slower, at the price of ~33 MB of float weights
 * (docs/performance.md).
 *
 * @module
 */
import * as ort from "onnxruntime-web";

/** A dense float32 tensor as plain data. */
export interface TensorData {
  /** Row-major values. */
  data: Float32Array;
  /** Dimensions. */
  dims: number[];
}

/** Options for {@linkcode createSession}. */
export interface SessionOptions {
  /**
   * WASM threads. ONNX Runtime reads this once per process (the first
   * session fixes it).
   * @default {2}
   */
  threads?: number;
  /**
   * Try WebGPU first when a real (not fallback/software) adapter exists;
   * falls back to WASM if there is none or the session cannot be created.
   * @default {false}
   */
  webgpu?: boolean;
  /**
   * `"web"`: onnxruntime-web (WASM, what the service ships). `"node"`:
   * onnxruntime-node, native CPU, needs `--allow-ffi`.
   * @default {"web"}
   */
  backend?: "web" | "node";
  /**
   * Fold the weights' DequantizeLinear into float initializers at load
   * (`session.disable_quant_qdq`).
   * @default {true}
   */
  foldWeights?: boolean;
  /**
   * Let idle intra-op threads spin-wait for work between operators
   * (`session.intra_op.allow_spinning`). Off by default: the service shares
   * its cores with HTTP, decoding and other workers, and a spinning thread
   * takes a core they need. Matters only with `threads > 1`.
   * @default {false}
   */
  spin?: boolean;
}

/** Session config entries (`extra`) for both backends. */
function sessionConfig(opts: SessionOptions): { session: Record<string, string> } {
  return {
    session: {
      ...(opts.foldWeights === false ? {} : { disable_quant_qdq: "1" }),
      "intra_op.allow_spinning": opts.spin ? "1" : "0",
    },
  };
}

/** An inference session over one ONNX model. */
export interface Session {
  /** Execution provider the session runs on. */
  readonly provider: "wasm" | "webgpu" | "native";
  /** Graph input names. */
  readonly inputNames: readonly string[];
  /** Graph output names. */
  readonly outputNames: readonly string[];
  /**
   * Runs the model.
   *
   * @param feeds Inputs by name; every graph input must be present.
   * @param outputs Output names to compute (default: all).
   * @returns Outputs by name.
   * @throws {TypeError} When inputs are missing or unknown (the message lists them).
   */
  run(
    feeds: Record<string, TensorData>,
    outputs?: readonly string[],
  ): Promise<Record<string, TensorData>>;
  /** Frees the native session. */
  release(): Promise<void>;
}

let configured = false;

/** Whether a hardware WebGPU adapter is available (software fallbacks do not count). */
async function hasRealGpu(): Promise<boolean> {
  // deno-lint-ignore no-explicit-any
  const gpu = (navigator as any).gpu;
  if (!gpu) return false;
  try {
    const adapter = await gpu.requestAdapter();
    return adapter !== null && adapter.isFallbackAdapter !== true;
  } catch {
    return false;
  }
}

function configure(threads: number): void {
  if (configured) return;
  ort.env.wasm.numThreads = threads;
  ort.env.logLevel = "error";
  configured = true;
}

/**
 * Creates an inference session (onnxruntime-web WASM unless `backend: "node"`).
 *
 * @param model ONNX bytes or a file path.
 * @param opts Thread count, backend (web or node), WebGPU.
 * @returns A session whose `run` validates input names.
 * @example
 * ```ts
 * const session = await createSession(".cache/encoders/yamnet.onnx");
 * const out = await session.run({ input: { data: patches, dims: [n, 96, 64] } });
 * console.log(out.embedding!.dims); // [n, 1024]
 * ```
 */
export async function createSession(
  model: Uint8Array | string,
  opts: SessionOptions = {},
): Promise<Session> {
  if (opts.backend === "node") return await createNativeSession(model, opts);
  configure(opts.threads ?? 2);
  const bytes = typeof model === "string" ? await Deno.readFile(model) : model;
  let session: ort.InferenceSession | undefined;
  let provider: Session["provider"] = "wasm";
  if (opts.webgpu && await hasRealGpu()) {
    try {
      session = await ort.InferenceSession.create(bytes, { executionProviders: ["webgpu"] });
      provider = "webgpu";
    } catch {
      // The WASM session below is the supported path; WebGPU is opportunistic.
    }
  }
  session ??= await ort.InferenceSession.create(bytes, {
    executionProviders: ["wasm"],
    graphOptimizationLevel: "all",
    extra: sessionConfig(opts),
  });
  return wrap(session, provider, ort.Tensor);
}

/**
 * onnxruntime-node (288 MB installed), loaded on first use (it needs FFI). Kept out of the import map and imported
 * through a variable so that `deno task start` neither installs nor loads it unless `AMODAL_BACKEND=node`
 * (`deno task start:node`, which also grants `--allow-ffi`).
 */
const NATIVE_ORT = "npm:onnxruntime-node@1.30.0";
/** Its API as used here: the same `onnxruntime-common` surface as onnxruntime-web (no type import, which would pull it in). */
type NativeOrt = Pick<typeof ort, "InferenceSession" | "Tensor">;
let nativeOrt: Promise<NativeOrt> | undefined;

/** Native CPU session: threads are per session (intra-op), unlike WASM's process-wide pool. */
async function createNativeSession(model: Uint8Array | string, opts: SessionOptions): Promise<Session> {
  nativeOrt ??= (import(NATIVE_ORT) as Promise<NativeOrt>).catch((error) => {
    nativeOrt = undefined;
    throw new Error(
      `Cannot load onnxruntime-node (backend "node"; start with \`deno task start:node\`, or add --allow-ffi): ${
        error instanceof Error ? error.message : error
      }`,
    );
  });
  const native = await nativeOrt;
  const bytes = typeof model === "string" ? await Deno.readFile(model) : model;
  const session = await native.InferenceSession.create(bytes, {
    executionProviders: ["cpu"],
    graphOptimizationLevel: "all",
    intraOpNumThreads: opts.threads ?? 2,
    interOpNumThreads: 1,
    extra: sessionConfig(opts),
  });
  return wrap(session as unknown as ort.InferenceSession, "native", native.Tensor as unknown as typeof ort.Tensor);
}

/** The validating {@linkcode Session} over either runtime's session. */
function wrap(session: ort.InferenceSession, provider: Session["provider"], Tensor: typeof ort.Tensor): Session {
  const inputNames = session.inputNames;
  const outputNames = session.outputNames;
  const active = session;
  return {
    provider,
    inputNames,
    outputNames,
    async run(feeds, outputs) {
      const missing = inputNames.filter((n) => !(n in feeds));
      const unknown = Object.keys(feeds).filter((n) => !inputNames.includes(n));
      if (missing.length > 0 || unknown.length > 0) {
        throw new TypeError(
          `Cannot run model: missing inputs [${missing.join(", ")}], ` +
            `unknown inputs [${unknown.join(", ")}]; expected [${inputNames.join(", ")}]`,
        );
      }
      const badOut = (outputs ?? []).filter((n) => !outputNames.includes(n));
      if (badOut.length > 0) {
        throw new TypeError(
          `Cannot run model: unknown outputs [${badOut.join(", ")}]; ` +
            `available [${outputNames.join(", ")}]`,
        );
      }
      const ortFeeds: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(feeds)) {
        const size = t.dims.reduce((a, b) => a * b, 1);
        if (size !== t.data.length) {
          throw new TypeError(
            `Cannot run model: input "${name}" has ${t.data.length} values, ` +
              `dims ${JSON.stringify(t.dims)} need ${size}`,
          );
        }
        ortFeeds[name] = new Tensor("float32", t.data, t.dims);
      }
      const result = outputs ? await session.run(ortFeeds, [...outputs]) : await session.run(ortFeeds);
      const out: Record<string, TensorData> = {};
      for (const [name, t] of Object.entries(result)) {
        out[name] = { data: t.data as Float32Array, dims: [...t.dims] };
        t.dispose();
      }
      return out;
    },
    release: () => active.release(),
  };
}
