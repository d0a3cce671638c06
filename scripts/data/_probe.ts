import { decodeAudio } from "../../lib/media/decode_audio.ts";
import { chooseClipStarts, detectOnsets } from "../../lib/dataset/onsets.ts";
const t0 = performance.now();
const d = await decodeAudio(await Deno.readFile("../shared/corpus/audio/mtgsax/saxophone/Samples__ten_f_20.flac"), {
  maxSeconds: 60,
});
console.log("decoded", d.samples.length, performance.now() - t0);
console.log(detectOnsets(d.samples), performance.now() - t0);
console.log(chooseClipStarts(d.samples), performance.now() - t0);
