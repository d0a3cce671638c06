/**
 * Renders timed MIDI events through a SoundFont (SF2/SF3) in-process with
 * `spessasynth_core`, a pure-TypeScript synthesizer, so the dataset build
 * needs no fluidsynth or other system program.
 *
 * @module
 */
// Dataset-only dependency: a pinned inline specifier keeps it out of the service's import map.
// deno-lint-ignore no-import-prefix
import { type BasicSoundBank, SoundBankLoader, SpessaSynthProcessor } from "npm:spessasynth_core@4.3.22";

/** One timed MIDI event (seconds from the start of the render). */
export type MidiEvent =
  | { time: number; type: "program"; channel: number; program: number; bank?: number }
  | { time: number; type: "controller"; channel: number; controller: number; value: number }
  | { time: number; type: "noteOn" | "noteOff"; channel: number; note: number; velocity: number };

/** A parsed sound bank, shared by every render of one font. */
export type SoundBank = BasicSoundBank;

const BLOCK = 4096;
/**
 * Output gain. spessasynth mixes a single voice at about -20 dBFS (peak 0.1 for
 * a forte violin note), FluidSynth with `-g 0.6` about 12 dB louder; this keeps
 * rendered clips near the level the earlier fluidsynth build had.
 */
const GAIN = 4;

/**
 * Reads and parses an SF2/SF3 file.
 *
 * @param path Font file.
 * @returns The parsed bank.
 * @throws {Deno.errors.NotFound} naming the file when it is missing.
 * @throws {SyntaxError} naming the file when it is not a sound bank.
 */
export async function loadSoundBank(path: string): Promise<SoundBank> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw new Deno.errors.NotFound(`Sound bank file not found: ${path}`);
    throw error;
  }
  try {
    return SoundBankLoader.fromArrayBuffer(bytes.buffer as ArrayBuffer);
  } catch (error) {
    throw new SyntaxError(`Cannot parse sound bank ${path}: ${(error as Error).message}`);
  }
}

/**
 * Renders events to mono samples. Each call uses a fresh synthesizer, so a
 * render depends only on its bank and events (never on what ran before).
 *
 * @param bank From {@link loadSoundBank}.
 * @param events Timed events, any order; at equal times the given order is kept.
 * @param options `sampleRate` and total `seconds` to render.
 * @returns Mono samples (left and right averaged), clamped to [-1, 1].
 *
 * @example
 * ```ts
 * const bank = await loadSoundBank("TimGM6mb.sf3");
 * const samples = await renderMidi(bank, [
 *   { time: 0, type: "program", channel: 0, program: 40 },
 *   { time: 0.1, type: "noteOn", channel: 0, note: 67, velocity: 100 },
 *   { time: 0.9, type: "noteOff", channel: 0, note: 67, velocity: 0 },
 * ], { sampleRate: 16000, seconds: 1.5 });
 * ```
 */
export async function renderMidi(
  bank: SoundBank,
  events: readonly MidiEvent[],
  options: { sampleRate: number; seconds: number },
): Promise<Float32Array> {
  const synth = new SpessaSynthProcessor(options.sampleRate, { maxBufferSize: BLOCK, effectsEnabled: true });
  await synth.processorInitialized;
  synth.soundBankManager.addSoundBank(bank, "main");
  const total = Math.ceil(options.seconds * options.sampleRate);
  const left = new Float32Array(total);
  const right = new Float32Array(total);
  const ordered = events.map((e, i) => ({ e, i, at: Math.round(e.time * options.sampleRate) }))
    .sort((a, b) => a.at - b.at || a.i - b.i);
  let position = 0;
  let next = 0;
  while (position < total) {
    while (next < ordered.length && ordered[next]!.at <= position) apply(synth, ordered[next++]!.e);
    const until = next < ordered.length ? Math.min(total, ordered[next]!.at) : total;
    const count = Math.min(BLOCK, until - position);
    synth.process(left, right, position, count);
    position += count;
  }
  const mono = new Float32Array(total);
  for (let i = 0; i < total; i++) mono[i] = Math.max(-1, Math.min(1, (left[i]! + right[i]!) * 0.5 * GAIN));
  return mono;
}

function apply(synth: SpessaSynthProcessor, event: MidiEvent): void {
  switch (event.type) {
    case "program":
      // Bank select (CC0) then program change, as a MIDI file would; channel 10 (index 9) plays drum kits.
      if (event.bank !== undefined && event.bank !== 128) synth.controllerChange(event.channel, 0, event.bank);
      synth.programChange(event.channel, event.program);
      break;
    case "controller":
      synth.controllerChange(event.channel, event.controller as never, event.value);
      break;
    case "noteOn":
      synth.noteOn(event.channel, event.note, event.velocity);
      break;
    case "noteOff":
      synth.noteOff(event.channel, event.note);
      break;
  }
}
