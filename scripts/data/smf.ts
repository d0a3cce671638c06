/**
 * A tiny Standard MIDI File (format 0) writer: enough to drive fluidsynth
 * with notes, program changes and controllers.
 *
 * @module
 */

/** One timed MIDI event. */
export type MidiEvent =
  | { time: number; type: "program"; channel: number; program: number; bank?: number }
  | { time: number; type: "controller"; channel: number; controller: number; value: number }
  | { time: number; type: "noteOn" | "noteOff"; channel: number; note: number; velocity: number };

const TICKS_PER_QUARTER = 480;
// 500000 µs per quarter (120 bpm): 960 ticks per second.
const TICKS_PER_SECOND = TICKS_PER_QUARTER * 2;

function varLength(value: number): number[] {
  const bytes = [value & 0x7f];
  while ((value >>= 7) > 0) bytes.unshift((value & 0x7f) | 0x80);
  return bytes;
}

/**
 * Encodes events (times in seconds, any order) as a format-0 SMF at 120 bpm.
 * Events at the same time keep their given order; program and controller
 * changes should be given before the notes they affect.
 *
 * @param events Timed events.
 * @returns The `.mid` file bytes.
 *
 * @example
 * ```ts
 * const mid = writeSmf([
 *   { time: 0, type: "program", channel: 0, program: 42 },
 *   { time: 0, type: "noteOn", channel: 0, note: 48, velocity: 100 },
 *   { time: 1, type: "noteOff", channel: 0, note: 48, velocity: 0 },
 * ]);
 * ```
 */
export function writeSmf(events: readonly MidiEvent[]): Uint8Array {
  const ordered = events.map((event, index) => ({ event, index, tick: Math.round(event.time * TICKS_PER_SECOND) }))
    .sort((a, b) => a.tick - b.tick || a.index - b.index);
  const track: number[] = [0x00, 0xff, 0x51, 0x03, 0x07, 0xa1, 0x20]; // tempo 500000 µs/quarter
  let last = 0;
  for (const { event, tick } of ordered) {
    track.push(...varLength(tick - last));
    last = tick;
    const ch = event.channel & 0x0f;
    if (event.type === "program") {
      if (event.bank !== undefined) {
        track.push(0xb0 | ch, 0, (event.bank >> 7) & 0x7f, 0, 0xb0 | ch, 32, event.bank & 0x7f, 0);
      }
      track.push(0xc0 | ch, event.program & 0x7f);
    } else if (event.type === "controller") {
      track.push(0xb0 | ch, event.controller & 0x7f, event.value & 0x7f);
    } else {
      track.push(event.type === "noteOn" ? 0x90 | ch : 0x80 | ch, event.note & 0x7f, event.velocity & 0x7f);
    }
  }
  track.push(0x00, 0xff, 0x2f, 0x00);
  const header = [0x4d, 0x54, 0x68, 0x64, 0, 0, 0, 6, 0, 0, 0, 1, TICKS_PER_QUARTER >> 8, TICKS_PER_QUARTER & 0xff];
  const length = track.length;
  return new Uint8Array([
    ...header,
    0x4d,
    0x54,
    0x72,
    0x6b,
    (length >>> 24) & 0xff,
    (length >>> 16) & 0xff,
    (length >>> 8) & 0xff,
    length & 0xff,
    ...track,
  ]);
}
