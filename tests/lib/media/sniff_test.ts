import assert from "node:assert/strict";
import { type EncodableFormat, encodeAudio } from "../../../lib/media/ffmpeg.ts";
import { sniff } from "../../../lib/media/sniff.ts";
import { buildWav, int16Bytes, sine } from "./_audio.ts";
import { CORPUS_FLAC, CORPUS_JPEG, CORPUS_PNG, corpusFile } from "./_corpus.ts";
import { encodeImage, quadrants, type WritableImageFormat } from "./_images.ts";

const ascii = (text: string) => new TextEncoder().encode(text);
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, at), at += p.length;
  return out;
};
/** An ID3v2.4 header announcing `size` bytes of (zero) frames. */
const id3 = (size: number) =>
  concat(ascii("ID3"), new Uint8Array([4, 0, 0, 0, 0, size >> 7, size & 0x7f]), new Uint8Array(size));

Deno.test("sniff() detects audio encoded by ffmpeg", async () => {
  const tone = sine(440, 16000, 0.5);
  const cases: [EncodableFormat, string][] = [
    ["mp3", "mp3"],
    ["ogg", "ogg"],
    ["opus", "ogg"],
    ["flac", "flac"],
    ["m4a", "m4a"],
    ["mp4", "mp4"],
    ["aac", "aac"],
    ["webm", "webm"],
  ];
  for (const [encoding, format] of cases) {
    const bytes = await encodeAudio(tone, 16000, encoding);
    assert.deepEqual(sniff(bytes), { modality: "audio", format }, encoding);
  }
  // An MP3 without its ID3 tag starts with a frame sync.
  const mp3 = await encodeAudio(tone, 16000, "mp3");
  assert.equal(String.fromCharCode(...mp3.subarray(0, 3)), "ID3");
  const tagLength = 10 + ((mp3[6]! << 21) | (mp3[7]! << 14) | (mp3[8]! << 7) | mp3[9]!);
  assert.deepEqual(sniff(mp3.subarray(tagLength)), { modality: "audio", format: "mp3" });
});

Deno.test("sniff() detects corpus files by content, not by name", async () => {
  const flac = await corpusFile(CORPUS_FLAC);
  assert.deepEqual(sniff(flac), { modality: "audio", format: "flac" });
  assert.deepEqual(sniff(concat(id3(20), flac)), { modality: "audio", format: "flac" }, "ID3-tagged FLAC");
  assert.deepEqual(sniff(await corpusFile(CORPUS_JPEG)), { modality: "image", format: "jpeg" });
  assert.deepEqual(sniff(await corpusFile(CORPUS_PNG)), { modality: "image", format: "png" }, "PNG named .jpg");
});

Deno.test("sniff() detects images encoded by sharp", async () => {
  const raw = { width: 16, height: 16, channels: 3 } as const;
  const formats: WritableImageFormat[] = ["jpeg", "png", "webp", "gif", "avif", "tiff"];
  for (const format of formats) {
    const bytes = await encodeImage(quadrants(16, 16), raw, format);
    assert.deepEqual(sniff(bytes), { modality: "image", format }, format);
  }
});

Deno.test("sniff() reads WAV containers and ISO-BMFF brands", () => {
  const wav = buildWav({ formatTag: 1, channels: 1, rate: 8000, bits: 16, data: int16Bytes([sine(440, 8000, 0.01)]) });
  const ftyp = (major: string, ...compatible: string[]) =>
    concat(new Uint8Array([0, 0, 0, 16 + 4 * compatible.length]), ascii(`ftyp${major}\0\0\0\0${compatible.join("")}`));
  const cases: [string, Uint8Array, ReturnType<typeof sniff>][] = [
    ["RIFF WAVE", wav, { modality: "audio", format: "wav" }],
    ["RF64 WAVE", concat(ascii("RF64"), wav.subarray(4)), { modality: "audio", format: "wav" }],
    ["ftyp M4A", ftyp("M4A ", "M4A ", "mp42", "isom"), { modality: "audio", format: "m4a" }],
    ["ftyp mp42 with M4A compatible", ftyp("mp42", "isom", "M4A "), { modality: "audio", format: "m4a" }],
    ["ftyp isom", ftyp("isom", "iso2", "avc1", "mp41"), { modality: "audio", format: "mp4" }],
    ["ftyp qt", ftyp("qt  "), { modality: "audio", format: "mov" }],
    ["ftyp isom with qt compatible", ftyp("isom", "qt  "), { modality: "audio", format: "mp4" }],
    ["ftyp avif", ftyp("avif", "mif1", "miaf"), { modality: "image", format: "avif" }],
    ["ftyp mif1 with avif compatible", ftyp("mif1", "avif"), { modality: "image", format: "avif" }],
    ["ftyp heic", ftyp("heic", "mif1", "heic"), { modality: "image", format: "heic" }],
    ["ftyp mif1 with heic compatible", ftyp("mif1", "mif1", "heic"), { modality: "image", format: "heic" }],
    ["ftyp msf1 (HEIF sequence with a primary item)", ftyp("msf1", "heic", "iso8"), {
      modality: "image",
      format: "heic",
    }],
    ["FORM AIFF", ascii("FORM\0\0\0\x04AIFF"), { modality: "audio", format: "aiff" }],
    ["FORM AIFC", ascii("FORM\0\0\0\x04AIFC"), { modality: "audio", format: "aiff" }],
    ["BigTIFF", new Uint8Array([0x49, 0x49, 0x2b, 0, 8, 0, 0, 0]), { modality: "image", format: "tiff" }],
    ["QuickTime without ftyp (moov first)", ascii("\0\0\0\x6cmoov\0\0\0\x6cmvhd"), {
      modality: "audio",
      format: "mov",
    }],
    ["QuickTime without ftyp (wide, mdat)", ascii("\0\0\0\x08wide\0\0\0\x10mdat"), {
      modality: "audio",
      format: "mov",
    }],
    ["Matroska", new Uint8Array([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81]), {
      modality: "audio",
      format: "webm",
    }],
  ];
  for (const [name, bytes, expected] of cases) assert.deepEqual(sniff(bytes), expected, name);
});

Deno.test("sniff() returns null for everything else", () => {
  const cases: [string, Uint8Array][] = [
    ["empty", new Uint8Array(0)],
    ["one byte", new Uint8Array([0xff])],
    ["text", ascii("hello, world")],
    ["JSON", ascii('{"audio": "base64..."}')],
    ["PDF", ascii("%PDF-1.7\n")],
    ["ZIP", new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0])],
    ["AVI", ascii("RIFF\0\0\0\0AVI LIST")],
    ["zeros", new Uint8Array(64)],
    ["a 'moov' atom 4 bytes long", ascii("\0\0\0\x04moov")],
    ["reserved MPEG version", new Uint8Array([0xff, 0xeb, 0x90, 0x00])],
    ["MPEG bitrate index 15", new Uint8Array([0xff, 0xfb, 0xf0, 0x00])],
  ];
  for (const [name, bytes] of cases) assert.equal(sniff(bytes), null, name);
});
