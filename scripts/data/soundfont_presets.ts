/**
 * Lists the presets of an SF2/SF3 soundfont by reading its `phdr` chunk
 * (seeking past the sample data, so a 150 MB file costs a few reads).
 *
 * @module
 */

/** One preset header. */
export interface SoundfontPreset {
  /** Preset name as stored (trimmed). */
  name: string;
  /** MIDI bank (128 = percussion kits). */
  bank: number;
  /** MIDI program 0-127. */
  program: number;
}

async function readExact(file: Deno.FsFile, position: number, length: number): Promise<Uint8Array> {
  await file.seek(position, Deno.SeekMode.Start);
  const out = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const n = await file.read(out.subarray(got));
    if (n === null) throw new RangeError(`Cannot read soundfont: unexpected end at byte ${position + got}`);
    got += n;
  }
  return out;
}

const text = (bytes: Uint8Array) => String.fromCharCode(...bytes);

/**
 * Reads every preset header (except the terminal "EOP") of a soundfont.
 *
 * @param path Path of an `.sf2` or `.sf3` file.
 * @returns Presets in file order.
 * @throws {SyntaxError} when the file is not a RIFF `sfbk` file or has no `phdr` chunk.
 *
 * @example
 * ```ts
 * const presets = await readSoundfontPresets("/usr/share/sounds/sf2/TimGM6mb.sf2");
 * presets.find((p) => p.bank === 0 && p.program === 0)?.name; // "Acoustic Grand Piano"
 * ```
 */
export async function readSoundfontPresets(path: string): Promise<SoundfontPreset[]> {
  using file = await Deno.open(path);
  const head = await readExact(file, 0, 12);
  if (text(head.subarray(0, 4)) !== "RIFF" || text(head.subarray(8, 12)) !== "sfbk") {
    throw new SyntaxError(`Cannot read soundfont ${path}: not a RIFF sfbk file`);
  }
  const size = new DataView(head.buffer).getUint32(4, true) + 8;
  let position = 12;
  while (position + 8 <= size) {
    const chunk = await readExact(file, position, 12);
    const id = text(chunk.subarray(0, 4));
    const length = new DataView(chunk.buffer).getUint32(4, true);
    if (id === "LIST" && text(chunk.subarray(8, 12)) === "pdta") {
      let sub = position + 12;
      const end = position + 8 + length;
      while (sub + 8 <= end) {
        const subHead = await readExact(file, sub, 8);
        const subId = text(subHead.subarray(0, 4));
        const subLength = new DataView(subHead.buffer).getUint32(4, true);
        if (subId === "phdr") {
          const body = await readExact(file, sub + 8, subLength);
          const view = new DataView(body.buffer);
          const presets: SoundfontPreset[] = [];
          for (let r = 0; r + 38 <= subLength - 38; r += 38) {
            const rawName = body.subarray(r, r + 20);
            const zero = rawName.indexOf(0);
            presets.push({
              name: text(zero >= 0 ? rawName.subarray(0, zero) : rawName).trim(),
              program: view.getUint16(r + 20, true),
              bank: view.getUint16(r + 22, true),
            });
          }
          return presets;
        }
        sub += 8 + subLength + (subLength % 2);
      }
    }
    position += 8 + length + (length % 2);
  }
  throw new SyntaxError(`Cannot read soundfont ${path}: no phdr chunk`);
}
