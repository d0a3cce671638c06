/**
 * Generated inputs with no instrument, for the presence model: digital silence, noise floors
 * (white, pink, brown at several levels), mains hum, clicks; plain colours, gradients, noise and
 * tiny images. Each is a real file (WAV or PNG bytes) so it goes through the service's decoders.
 *
 * @module
 */
import { encodeWav } from "../../lib/media/encode_wav.ts";
import { keepAlive, loadSharp } from "../../lib/media/sharp.ts";
import { createRandom, gaussian, type Random } from "../shared/random.ts";

/** One generated negative. */
export interface GeneratedItem {
  /** Stable id, e.g. `gen/audio/white/-40dB/1`. */
  id: string;
  modality: "audio" | "image";
  /** What it is (`silence`, `white_noise`, `plain`, ...). */
  category: string;
  /** Split group: one per generator and level, so a level is never on both sides. */
  group: string;
  /** The file. */
  bytes: () => Promise<Uint8Array>;
}

const RATE = 16000;

/** Scales samples to an RMS level in dBFS (0 dB = RMS 1). */
function atLevel(samples: Float32Array, dbfs: number): Float32Array {
  let sum = 0;
  for (const v of samples) sum += v * v;
  const rms = Math.sqrt(sum / Math.max(1, samples.length));
  const gain = rms > 0 ? 10 ** (dbfs / 20) / rms : 0;
  return samples.map((v) => v * gain);
}

function white(n: number, random: Random): Float32Array {
  return Float32Array.from({ length: n }, () => gaussian(random.next));
}

/** Pink noise by Paul Kellett's economy filter over white noise. */
function pink(n: number, random: Random): Float32Array {
  let b0 = 0, b1 = 0, b2 = 0;
  return Float32Array.from({ length: n }, () => {
    const w = gaussian(random.next);
    b0 = 0.99765 * b0 + w * 0.0990460;
    b1 = 0.96300 * b1 + w * 0.2965164;
    b2 = 0.57000 * b2 + w * 1.0526913;
    return b0 + b1 + b2 + w * 0.1848;
  });
}

function brown(n: number, random: Random): Float32Array {
  let y = 0;
  return Float32Array.from({ length: n }, () => (y = 0.995 * y + 0.05 * gaussian(random.next)));
}

/** Mains hum: the fundamental and odd-heavy harmonics, as a transformer or ground loop gives. */
function hum(n: number, mains: number, random: Random): Float32Array {
  const phases = [0, 1, 2, 3, 4].map(() => random.next() * 2 * Math.PI);
  const amps = [1, 0.5, 0.35, 0.2, 0.12];
  return Float32Array.from({ length: n }, (_, i) => {
    let v = 0;
    for (let h = 0; h < amps.length; h++) {
      v += amps[h]! * Math.sin(2 * Math.PI * mains * (h + 1) * i / RATE + phases[h]!);
    }
    return v + 0.01 * gaussian(random.next);
  });
}

/** Clicks: single-sample impulses with short decays at random times (vinyl crackle, a ticking relay). */
function clicks(n: number, perSecond: number, random: Random): Float32Array {
  const out = new Float32Array(n);
  const count = Math.max(1, Math.round(perSecond * n / RATE));
  for (let c = 0; c < count; c++) {
    const at = random.int(n);
    const amp = (random.next() < 0.5 ? -1 : 1) * (0.3 + 0.7 * random.next());
    for (let k = 0; k < 40 && at + k < n; k++) out[at + k] = out[at + k]! + amp * Math.exp(-k / 6) * (k % 2 ? -1 : 1);
  }
  return out;
}

/**
 * Mains buzz: a 50/60 Hz fundamental with many harmonics falling as 1/h (a saturated transformer, a
 * ground loop through an amplifier), amplitude-wobbled slightly as real mains is.
 */
function buzz(n: number, mains: number, random: Random): Float32Array {
  const harmonics = 24;
  const phases = Array.from({ length: harmonics }, () => random.next() * 2 * Math.PI);
  const wobble = 0.3 + random.next();
  return Float32Array.from({ length: n }, (_, i) => {
    let v = 0;
    for (let h = 1; h <= harmonics && mains * h < RATE / 2; h++) {
      v += Math.sin(2 * Math.PI * mains * h * i / RATE + phases[h - 1]!) / h;
    }
    return v * (1 + 0.1 * Math.sin(2 * Math.PI * wobble * i / RATE)) + 0.01 * gaussian(random.next);
  });
}

/** A click train: one click every `1 / perSecond` s with slight jitter (a relay, a clock, a tapping fault). */
function clickTrain(n: number, perSecond: number, random: Random): Float32Array {
  const out = new Float32Array(n);
  const period = RATE / perSecond;
  for (let at = random.next() * period; at < n; at += period * (0.97 + 0.06 * random.next())) {
    const start = Math.floor(at);
    const decay = 3 + 10 * random.next();
    for (let k = 0; k < 120 && start + k < n; k++) {
      out[start + k] = out[start + k]! + Math.exp(-k / decay) * gaussian(random.next);
    }
  }
  return out;
}

/** Two-pole resonator (bandpass) over a signal, centre `hz`, bandwidth `bw` Hz. */
function resonate(x: Float32Array, hz: number, bw: number): Float32Array {
  const r = Math.exp(-Math.PI * bw / RATE);
  const a1 = 2 * r * Math.cos(2 * Math.PI * hz / RATE), a2 = -r * r;
  let y1 = 0, y2 = 0;
  return x.map((v) => {
    const y = (1 - r) * v + a1 * y1 + a2 * y2;
    y2 = y1;
    y1 = y;
    return y;
  });
}

/**
 * Speech-like noise: whispered "syllables", noise through two or three formant resonances that hop
 * per syllable, under a 3-6 Hz syllabic envelope with pauses. No pitch, so it is not singing.
 */
function speechNoise(n: number, random: Random): Float32Array {
  const out = new Float32Array(n);
  let at = 0;
  while (at < n) {
    const length = Math.round(RATE * (0.12 + 0.2 * random.next()));
    const noise = white(Math.min(length, n - at), random);
    const formants = [300 + 600 * random.next(), 900 + 1500 * random.next(), 2300 + 900 * random.next()];
    let syllable = new Float32Array(noise.length);
    for (const f of formants) {
      const band = resonate(noise, f, 80 + 120 * random.next());
      syllable = syllable.map((v, i) => v + band[i]!);
    }
    for (let i = 0; i < syllable.length; i++) {
      out[at + i] = syllable[i]! * Math.sin(Math.PI * i / syllable.length) ** 2;
    }
    // Pauses between syllables and, now and then, between words.
    at += syllable.length + Math.round(RATE * (random.next() < 0.2 ? 0.3 : 0.04) * random.next());
  }
  return out;
}

function wav(samples: Float32Array): () => Promise<Uint8Array> {
  return () => Promise.resolve(encodeWav(samples, RATE));
}

/**
 * The generated audio negatives (about 130 clips).
 *
 * @param seed Seed of every random choice.
 * @returns Items in a fixed order.
 */
export function generatedAudio(seed = "presence"): GeneratedItem[] {
  const items: GeneratedItem[] = [];
  const add = (category: string, group: string, name: string, samples: Float32Array) =>
    items.push({
      id: `gen/audio/${group}/${name}`,
      modality: "audio",
      category,
      group: `gen-${group}`,
      bytes: wav(samples),
    });
  for (const seconds of [0.01, 0.05, 0.2, 1, 2, 4, 10]) {
    add("silence", "silence", `${seconds}s`, new Float32Array(Math.round(seconds * RATE)));
  }
  const levels = [-20, -30, -40, -50, -60, -70];
  for (const [name, make] of [["white", white], ["pink", pink], ["brown", brown]] as const) {
    for (const db of levels) {
      for (const seconds of [1, 3]) {
        const random = createRandom(`${seed}:${name}:${db}:${seconds}`);
        add(`${name}_noise`, `${name}${db}`, `${seconds}s`, atLevel(make(seconds * RATE, random), db));
      }
    }
  }
  for (const mains of [50, 60]) {
    for (const db of [-25, -40, -55]) {
      const random = createRandom(`${seed}:hum:${mains}:${db}`);
      add("hum", `hum${mains}`, `${db}dB`, atLevel(hum(2 * RATE, mains, random), db));
    }
  }
  for (const perSecond of [2, 10, 50]) {
    for (const db of [-20, -40]) {
      const random = createRandom(`${seed}:clicks:${perSecond}:${db}`);
      // Clicks over a faint noise floor, as a recording would have.
      const x = clicks(2 * RATE, perSecond, random);
      const floor = atLevel(white(2 * RATE, random), db - 30);
      add("clicks", `clicks${perSecond}`, `${db}dB`, atLevel(x, db).map((v, i) => v + floor[i]!));
    }
  }
  // Round 2: the first round's hum and clicks were all taken for instruments; more variety of both,
  // and speech-like noise (speech was the largest real category the model let through).
  for (const mains of [50, 60]) {
    for (const db of [-20, -30, -40, -50]) {
      for (const seconds of [2, 5]) {
        const random = createRandom(`${seed}:buzz:${mains}:${db}:${seconds}`);
        const floor = atLevel(pink(seconds * RATE, random), db - 25 - 10 * random.next());
        add(
          "hum",
          `buzz${mains}`,
          `${db}dB-${seconds}s`,
          atLevel(buzz(seconds * RATE, mains, random), db).map((v, i) => v + floor[i]!),
        );
      }
    }
  }
  for (const perSecond of [1, 3, 8, 20]) {
    for (const db of [-20, -30, -45]) {
      const random = createRandom(`${seed}:clicktrain:${perSecond}:${db}`);
      const x = clickTrain(3 * RATE, perSecond, random);
      const floor = atLevel(pink(3 * RATE, random), db - 30);
      add("clicks", `clicktrain${perSecond}`, `${db}dB`, atLevel(x, db).map((v, i) => v + floor[i]!));
    }
  }
  for (let k = 0; k < 12; k++) {
    const random = createRandom(`${seed}:speechnoise:${k}`);
    const db = [-20, -28, -36][k % 3]!;
    const x = atLevel(speechNoise(4 * RATE, random), db);
    const floor = atLevel(pink(4 * RATE, random), db - 35);
    add("speech_noise", `speechnoise${k % 4}`, `${k}`, x.map((v, i) => v + floor[i]!));
  }
  return items;
}

function png(make: (sharp: Awaited<ReturnType<typeof loadSharp>>) => unknown): () => Promise<Uint8Array> {
  return async () => {
    const sharp = await loadSharp();
    const out = await keepAlive((make(sharp) as { png(): { toBuffer(): Promise<Uint8Array> } }).png().toBuffer());
    return new Uint8Array(out);
  };
}

function rawPng(width: number, height: number, fill: (x: number, y: number, c: number) => number) {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(fill(x, y, c))));
    }
  }
  return png((sharp) => sharp(data, { raw: { width, height, channels: 3 } }));
}

/**
 * The generated image negatives (about 50 images).
 *
 * @param seed Seed of every random choice.
 * @returns Items in a fixed order.
 */
export function generatedImages(seed = "presence"): GeneratedItem[] {
  const items: GeneratedItem[] = [];
  const add = (category: string, group: string, name: string, bytes: () => Promise<Uint8Array>) =>
    items.push({ id: `gen/image/${group}/${name}`, modality: "image", category, group: `gen-${group}`, bytes });
  const colours: [string, number[]][] = [
    ["white", [255, 255, 255]],
    ["black", [0, 0, 0]],
    ["grey", [128, 128, 128]],
    ["red", [220, 30, 30]],
    ["green", [30, 160, 60]],
    ["blue", [30, 60, 200]],
    ["yellow", [240, 220, 40]],
    ["brown", [120, 80, 40]],
  ];
  for (const [name, rgb] of colours) add("plain", "plain", name, rawPng(64, 48, (_x, _y, c) => rgb[c]!));
  for (const side of [1, 2, 4]) {
    const random = createRandom(`${seed}:tiny:${side}`);
    add("tiny", "tiny", `${side}px`, rawPng(side, side, () => random.int(256)));
  }
  for (let g = 0; g < 10; g++) {
    const random = createRandom(`${seed}:gradient:${g}`);
    const a = [0, 1, 2].map(() => random.int(256));
    const b = [0, 1, 2].map(() => random.int(256));
    const radial = g % 3 === 2;
    const angle = random.next() * Math.PI;
    add(
      "gradient",
      "gradient",
      `${radial ? "radial" : "linear"}${g}`,
      rawPng(300, 200, (x, y, c) => {
        const t = radial
          ? Math.min(1, Math.hypot(x - 150, y - 100) / 180)
          : ((x / 300) * Math.cos(angle) + (y / 200) * Math.sin(angle) + 1) / 2;
        return a[c]! + (b[c]! - a[c]!) * t;
      }),
    );
  }
  for (let n = 0; n < 12; n++) {
    const random = createRandom(`${seed}:noise:${n}`);
    const kind = ["uniform", "grey", "gaussian", "blocks"][n % 4]!;
    const block = 4 + random.int(12);
    const blocks = Array.from({ length: 64 * 64 * 3 }, () => random.int(256));
    add(
      "noise",
      `noise-${kind}`,
      `${n}`,
      kind === "grey"
        ? (() => {
          const grey = Array.from({ length: 256 * 256 }, () => random.int(256));
          return rawPng(256, 256, (x, y) => grey[y * 256 + x]!);
        })()
        : kind === "gaussian"
        ? rawPng(256, 256, () => 128 + 40 * gaussian(random.next))
        : kind === "blocks"
        ? rawPng(
          256,
          256,
          (x, y, c) => blocks[((Math.floor(y / block) % 64) * 64 + Math.floor(x / block) % 64) * 3 + c]!,
        )
        : rawPng(256, 256, () => random.int(256)),
    );
  }
  return items;
}
