// Classify and embed a file with the amodal API from JavaScript: Node 18+ or Deno as it is, and in a browser
// the same two fetch calls with a File from <input type="file"> as the body.
//   node docs/examples/classify.mjs violin.jpg [http://localhost:8000]
import { readFile } from "node:fs/promises";
import process from "node:process";

const [path, base = "http://localhost:8000"] = process.argv.slice(2);
const file = new Blob([await readFile(path)]);

const res = await fetch(`${base}/v1/classify?top_k=3`, { method: "POST", body: file });
if (!res.ok) throw new Error((await res.json()).detail); // errors are application/problem+json
const { label, score, scores, model } = await res.json();
console.log(label, score, scores.map((s) => `${s.label} ${s.score}`).join(", "), model);
console.log("request id", res.headers.get("x-request-id"), "cache", res.headers.get("x-cache"));

// The joint-space embedding as float32, without parsing 128 JSON numbers.
const embed = await (await fetch(`${base}/v1/embed?encoding=base64`, { method: "POST", body: file })).json();
const bytes = Uint8Array.from(atob(embed.embedding), (ch) => ch.charCodeAt(0));
const vector = new Float32Array(bytes.buffer); // the bytes are little-endian, like every common CPU
console.log(embed.space, embed.dim, Array.from(vector.slice(0, 3)));
