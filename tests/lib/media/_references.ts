// deno-lint-ignore-file no-import-prefix -- test-only packages are pinned here, outside the service's import map
/**
 * Independent reference implementations the media tests compare against: `wavefile` (WAV writer/reader) and
 * `libsamplerate-js` (resampler). Pinned as literal npm specifiers rather than deno.json imports: the service never
 * loads them, so the import map (and serve.lock, all that `deno task start` installs) does not carry them; deno.lock
 * locks them.
 *
 * @module
 */
import wavefile from "npm:wavefile@11.0.0";
import LibSampleRate from "npm:@alexanderolsen/libsamplerate-js@2.1.2";

/** wavefile's WAV class. */
export const { WaveFile } = wavefile;

/** libsamplerate-js's module (its `create` makes a converter). */
export { LibSampleRate };
