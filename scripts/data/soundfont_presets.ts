/**
 * Lists the presets of an SF2/SF3 soundfont, as the renderer's synthesizer
 * (spessasynth, `./synth.ts`) parses them, so the list is what rendering sees.
 *
 * @module
 */
import { loadSoundBank } from "./synth.ts";

/** One preset header. */
export interface SoundfontPreset {
  /** Preset name as stored (trimmed). */
  name: string;
  /** MIDI bank (128 = percussion kits). */
  bank: number;
  /** MIDI program 0-127. */
  program: number;
}

/**
 * Reads every preset of a soundfont.
 *
 * @param path Path of an `.sf2` or `.sf3` file.
 * @returns Presets sorted by bank then program.
 * @throws {Deno.errors.NotFound} naming the file when it is missing.
 * @throws {SyntaxError} naming the file when it is not a sound bank.
 *
 * @example
 * ```ts
 * const presets = await readSoundfontPresets("TimGM6mb.sf3");
 * presets.find((p) => p.bank === 0 && p.program === 0)?.name; // "Acoustic Grand Piano"
 * ```
 */
export async function readSoundfontPresets(path: string): Promise<SoundfontPreset[]> {
  const bank = await loadSoundBank(path);
  return bank.presets
    .map((p) => ({ name: p.name.trim(), bank: p.isGMGSDrum ? 128 : p.bankMSB, program: p.program }))
    .sort((a, b) => a.bank - b.bank || a.program - b.program);
}
