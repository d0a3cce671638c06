/**
 * Signal measures of the presence stage's hard rules and features: what the
 * encoders cannot say because they normalise it away or hear it as music.
 * Audio: the level (silence), the energy on a mains comb (hum and buzz), the
 * energy in isolated sub-millisecond transients (clicks); images: the pixel
 * spread (plain colours). Each is computed on what the pipeline already has
 * (16 kHz mono samples, the encoder's RGB input).
 *
 * @module
 */
/** Length of the blocks whose loudest RMS is the clip's level: a short note in a long quiet clip still counts. */
const LEVEL_BLOCK_SECONDS = 0.1;
/** Level of digital silence, instead of -Infinity, so features stay finite. */
const LEVEL_FLOOR_DBFS = -120;
/** Rate of the samples every audio measure here reads (YAMNet's input). */
export const SAMPLE_RATE = 16000;

/**
 * Loudest RMS over 0.1 s blocks of a clip, in dBFS (full-scale sine = -3 dB).
 *
 * @param samples Mono samples in [-1, 1] at 16 kHz.
 * @returns Level in dBFS, at least -120 (digital silence, or no samples).
 *
 * @example
 * ```ts
 * signalLevelDbfs(new Float32Array(16000)); // -120
 * ```
 */
export function signalLevelDbfs(samples: Float32Array): number {
  const block = Math.round(LEVEL_BLOCK_SECONDS * SAMPLE_RATE);
  let loudest = 0;
  for (let start = 0; start < samples.length; start += block) {
    const end = Math.min(samples.length, start + block);
    let sum = 0;
    for (let i = start; i < end; i++) sum += samples[i]! * samples[i]!;
    loudest = Math.max(loudest, sum / (end - start));
  }
  return loudest > 0 ? Math.max(LEVEL_FLOOR_DBFS, 10 * Math.log10(loudest)) : LEVEL_FLOOR_DBFS;
}

/**
 * Largest per-channel standard deviation of pixel values, 0..255; 0 for a
 * plain image of any colour.
 *
 * @param pixels RGB bytes, interleaved.
 * @returns The standard deviation.
 */
export function pixelStd(pixels: Uint8Array): number {
  const n = Math.floor(pixels.length / 3);
  if (n === 0) return 0;
  let largest = 0;
  for (let c = 0; c < 3; c++) {
    let sum = 0, sq = 0;
    for (let i = c; i < 3 * n; i += 3) {
      sum += pixels[i]!;
      sq += pixels[i]! * pixels[i]!;
    }
    const mean = sum / n;
    largest = Math.max(largest, Math.sqrt(Math.max(0, sq / n - mean * mean)));
  }
  return largest;
}

/** Analysed length of {@linkcode mainsHumRatio}: enough 1 s blocks for a steady hum, few enough to stay cheap. */
const MAINS_BLOCKS = 5;
const MAINS_HARMONICS = 12;

/** Power of one frequency over a block (Goertzel), unnormalised. */
function goertzel(samples: Float32Array, start: number, end: number, hz: number): number {
  const c = 2 * Math.cos(2 * Math.PI * hz / SAMPLE_RATE);
  let s1 = 0, s2 = 0;
  for (let i = start; i < end; i++) {
    const s0 = samples[i]! + c * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - c * s1 * s2;
}

/**
 * Fraction of a clip's energy that sits exactly on a mains comb: for 50 and 60 Hz, the power at
 * the first 12 harmonics (Goertzel, 1 s blocks, so 1 Hz wide) over the blocks' total energy,
 * over up to five blocks, the larger of the two. Mains hum and buzz give nearly 1; noise about
 * 0.003; a tempered note only what leaks from its partials into the comb's 1 Hz bins. YAMNet
 * hears hum as "Music" and a bass note, so this is a signal feature it cannot give.
 *
 * @param samples Mono samples at 16 kHz.
 * @returns A fraction in [0, 1]; 0 for a clip with no energy.
 *
 * @example
 * ```ts
 * mainsHumRatio(Float32Array.from({ length: 16000 }, (_, i) => Math.sin(2 * Math.PI * 50 * i / 16000))); // ~1
 * ```
 */
export function mainsHumRatio(samples: Float32Array): number {
  const block = Math.min(samples.length, SAMPLE_RATE);
  const blocks = block === 0 ? 0 : Math.min(MAINS_BLOCKS, Math.floor(samples.length / block));
  let energy = 0;
  for (let i = 0; i < blocks * block; i++) energy += samples[i]! * samples[i]!;
  if (energy === 0) return 0;
  let best = 0;
  for (const mains of [50, 60]) {
    let on = 0;
    for (let b = 0; b < blocks; b++) {
      for (let h = 1; h <= MAINS_HARMONICS; h++) on += goertzel(samples, b * block, (b + 1) * block, h * mains);
    }
    // A sinusoid exactly on a bin has Goertzel power (A N / 2)^2 and energy N A^2 / 2: divide by N / 2.
    best = Math.max(best, on / (block / 2 * energy));
  }
  return Math.min(1, best);
}

/** Frame of {@linkcode clickRatio}: 1 ms, as long as a click and far shorter than any instrument's decay. */
const CLICK_FRAME = 16;
/**
 * How far around a frame {@linkcode clickRatio} looks for comparable energy: 2..30 ms. 30 ms is one
 * period of the lowest note in common use (C1, 32.7 Hz, a 16' organ stop): a low reed or brass note
 * is a train of pulses (a trombone's pedal B1 flat: one every 17 ms), and each must see the next.
 */
const CLICK_NEAR = 2;
const CLICK_FAR = 30;
/** How much more energy than everything 2..30 ms around it a frame must hold to count as an isolated click (10 dB). */
const CLICK_MARGIN = 10;

/**
 * Fraction of a clip's energy in isolated clicks: 1 ms frames at least ten times (10 dB) more
 * energetic than every frame 2 to 30 ms before and after them. A click, a relay's tick or vinyl
 * crackle dies within a millisecond, so nearly all its energy counts; an instrument's note rings
 * for tens of milliseconds, and a low brass note, whose waveform is a train of lip pulses, has its
 * next pulse within 30 ms, so they measure 0 (every instrument recording of the presence evidence
 * does, and all but 6 of the dataset's 20,716 clips, each a render glitch: a pop in a pad, a clip
 * cut mid-sample before near-silence). YAMNet hears sparse clicks as percussion, so no class score
 * separates them.
 *
 * @param samples Mono samples at 16 kHz.
 * @returns A fraction in [0, 1]; 0 for a clip with no energy or under 3 ms.
 *
 * @example
 * ```ts
 * const tick = new Float32Array(16000);
 * tick[8000] = 1;
 * clickRatio(tick); // 1
 * ```
 */
export function clickRatio(samples: Float32Array): number {
  const n = Math.floor(samples.length / CLICK_FRAME);
  if (n < 3) return 0;
  const energy = new Float64Array(n);
  let total = 0;
  for (let f = 0; f < n; f++) {
    let e = 0;
    for (let i = f * CLICK_FRAME; i < (f + 1) * CLICK_FRAME; i++) e += samples[i]! * samples[i]!;
    energy[f] = e;
    total += e;
  }
  if (total === 0) return 0;
  let clicks = 0;
  for (let f = 0; f < n; f++) {
    const bar = energy[f]! / CLICK_MARGIN;
    let isolated = energy[f]! > 0;
    for (let d = CLICK_NEAR; d <= CLICK_FAR && isolated; d++) {
      if ((f - d >= 0 && energy[f - d]! >= bar) || (f + d < n && energy[f + d]! >= bar)) isolated = false;
    }
    if (isolated) clicks += energy[f]!;
  }
  return clicks / total;
}

/** The signal measures of an audio clip the presence stage reads (its rules and its features). */
export interface AudioSignal {
  /** {@linkcode signalLevelDbfs} of the clip. */
  levelDbfs: number;
  /** {@linkcode mainsHumRatio} of the clip. */
  mainsRatio: number;
  /** {@linkcode clickRatio} of the clip. */
  clickRatio: number;
}

/**
 * Measures a clip once for both the hard rules and the features (the hum comb costs ~5 ms on 5 s).
 *
 * @param samples Mono samples at 16 kHz.
 * @returns Its level, mains-hum ratio and click ratio.
 *
 * @example
 * ```ts
 * audioSignal(new Float32Array(16000)); // { levelDbfs: -120, mainsRatio: 0, clickRatio: 0 }
 * ```
 */
export function audioSignal(samples: Float32Array): AudioSignal {
  return { levelDbfs: signalLevelDbfs(samples), mainsRatio: mainsHumRatio(samples), clickRatio: clickRatio(samples) };
}
