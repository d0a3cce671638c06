// The try-it page: send a file (picked, dropped, recorded or photographed) to /v1/classify and show the answer,
// then place the file on the map of the joint space (/joint_map.json) with its joint vector from /v1/embed.
// Plain browser JavaScript: no build step, no dependency, nothing loaded from elsewhere.
const $ = (id) => document.getElementById(id);

async function classify(blob, name) {
  $("status").textContent = `Listening to / looking at ${name} ...`;
  $("result").hidden = true;
  const started = performance.now();
  let res;
  try {
    res = await fetch("/v1/classify", { method: "POST", body: blob });
  } catch (error) {
    $("status").textContent = `The service could not be reached (${error.message}).`;
    return;
  }
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    $("status").textContent = `${name}: ${body.detail ?? `HTTP ${res.status}`}`;
    return;
  }
  $("status").textContent = `${name}: done in ${Math.round(performance.now() - started)} ms.`;
  show(body, res.headers);
  await placeOnMap(blob, body);
}

function show(body, headers) {
  $("label").textContent = body.label ?? "no instrument";
  $("score").textContent = body.label ? `${Math.round(body.score * 100)} %` : "";
  $("reason").hidden = !body.reason;
  $("reason").textContent = body.reason ?? "";
  $("modality").textContent = body.modality === "audio" && body.audio
    ? `a sound (${body.audio.analysedSeconds.toFixed(1)} s analysed${body.audio.truncated ? ", cut" : ""})`
    : body.modality === "image"
    ? "a picture"
    : body.modality;
  const stages = (headers.get("server-timing") ?? "").split(",").map((s) => s.trim()).filter(Boolean)
    .map((s) => s.replace(/;dur=([\d.]+)/, (_, ms) => ` ${Math.round(Number(ms))} ms`));
  $("timings").textContent = headers.get("x-cache") === "hit" ? "from the cache (seen before)" : stages.join(", ");
  $("model").textContent = body.model;
  const chart = $("chart");
  chart.replaceChildren(
    ...body.scores.slice(0, 8).map(({ label, score }) => {
      const item = document.createElement("li");
      const name = document.createElement("span");
      name.textContent = label;
      const bar = document.createElement("span");
      bar.className = "bar";
      bar.style.width = `${Math.max(0.5, score * 100)}%`;
      bar.setAttribute("aria-hidden", "true");
      const value = document.createElement("span");
      value.className = "value";
      value.textContent = `${(score * 100).toFixed(1)} %`;
      item.append(name, bar, value);
      return item;
    }),
  );
  $("result").hidden = false;
}

function pick(input) {
  input.addEventListener("change", () => {
    const file = input.files?.[0];
    if (file) classify(file, file.name);
    input.value = "";
  });
}

pick($("file"));
pick($("camera"));

const drop = $("drop");
drop.addEventListener("click", () => $("file").click());
drop.addEventListener("keydown", (event) => {
  if (event.key === "Enter" || event.key === " ") {
    event.preventDefault();
    $("file").click();
  }
});
drop.addEventListener("dragover", (event) => {
  event.preventDefault();
  drop.classList.add("over");
});
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  drop.classList.remove("over");
  const file = event.dataTransfer?.files?.[0];
  if (file) classify(file, file.name);
});

// Recording needs a secure context and a MediaRecorder; the button hides where the browser has neither.
const record = $("record");
if (!navigator.mediaDevices?.getUserMedia || typeof MediaRecorder === "undefined") record.hidden = true;
record.addEventListener("click", async () => {
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (error) {
    $("status").textContent = `The microphone is not available (${error.message}).`;
    return;
  }
  const recorder = new MediaRecorder(stream);
  const chunks = [];
  recorder.ondataavailable = (event) => chunks.push(event.data);
  recorder.onstop = () => {
    stream.getTracks().forEach((track) => track.stop());
    record.setAttribute("aria-pressed", "false");
    classify(new Blob(chunks, { type: recorder.mimeType }), "your recording");
  };
  record.setAttribute("aria-pressed", "true");
  $("status").textContent = "Recording for 5 seconds ...";
  recorder.start();
  setTimeout(() => recorder.stop(), 5000);
});

// ---- The map of the joint space ----
// models/joint_map.json (deno task map) holds each label's centre for sounds and for pictures, projected to 2-D,
// and the projection itself; the page projects the file's joint vector the same way. The vector comes from
// POST /v1/embed?space=joint (base64 float32): the public API, as any client would ask for it.

const SVG = "http://www.w3.org/2000/svg";
const MODALITY_NAMES = { audio: "sounds", image: "pictures" };
let mapPromise;

function loadMap() {
  mapPromise ??= fetch("/joint_map.json").then((res) => (res.ok ? res.json() : null)).catch(() => null);
  return mapPromise;
}

/** Little-endian float32 from base64 (the service's `encoding=base64`). */
function float32(base64) {
  const bytes = Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0));
  const view = new DataView(bytes.buffer);
  return Array.from({ length: bytes.length / 4 }, (_, i) => view.getFloat32(i * 4, true));
}

/** The map's projection: L2-normalise, subtract the mean, one dot product per axis. */
function project(projection, vector) {
  const norm = Math.hypot(...vector) || 1;
  return projection.components.map((row) =>
    row.reduce((sum, w, i) => sum + w * (vector[i] / norm - projection.mean[i]), 0)
  );
}

async function placeOnMap(blob, answer) {
  const map = await loadMap();
  $("map-section").hidden = !map;
  if (!map) return;
  let point;
  let note = "";
  if (map.model !== answer.model) {
    note = `This map belongs to model ${map.model}, the answer came from ${answer.model}: ` +
      "your file is not placed on it (the map is rebuilt with deno task map).";
  } else {
    try {
      const res = await fetch("/v1/embed?space=joint&encoding=base64", { method: "POST", body: blob });
      const body = await res.json().catch(() => ({}));
      if (res.ok && body.model === map.model) point = project(map.projection, float32(body.embedding));
      else note = `Your file could not be placed (${body.detail ?? `HTTP ${res.status}`}).`;
    } catch (error) {
      note = `Your file could not be placed (${error.message}).`;
    }
  }
  drawMap(map, point, answer.label);
  describeMap(map, point, answer, note);
}

function svg(name, attributes, text) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

function drawMap(map, point, label) {
  const pad = 40;
  const xs = map.centroids.map((c) => c.x).concat(point ? [point[0]] : []);
  const ys = map.centroids.map((c) => c.y).concat(point ? [point[1]] : []);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  // One scale for both axes (distances on the map mean something); the height follows the map's shape.
  const width = 640;
  const scale = (width - 2 * pad) / (x1 - x0 || 1);
  const height = Math.round(Math.min(560, Math.max(320, (y1 - y0) * scale + 2 * pad)));
  const fit = Math.min(scale, (height - 2 * pad) / (y1 - y0 || 1));
  const px = (x) => pad + (x - x0) * fit + ((width - 2 * pad) - (x1 - x0) * fit) / 2;
  // Screen y grows downwards; the map's y grows upwards.
  const py = (y) => height - pad - (y - y0) * fit - ((height - 2 * pad) - (y1 - y0) * fit) / 2;
  const root = svg("svg", {
    id: "map-svg",
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    tabindex: 0,
    "aria-labelledby": "map-title",
    "aria-describedby": "map-summary",
  });
  root.append(svg("title", { id: "map-title" }, "Map of the joint space: instrument centres and your file"));
  const byLabel = new Map();
  for (const c of map.centroids) byLabel.set(c.label, { ...byLabel.get(c.label), [c.modality]: c });
  const markers = [];
  const groups = [];
  for (const [name, pair] of byLabel) {
    const group = svg("g", { class: name === label ? "centre chosen" : "centre", "data-label": name });
    const [a, b] = [pair.audio, pair.image];
    if (a && b) group.append(svg("line", { x1: px(a.x), y1: py(a.y), x2: px(b.x), y2: py(b.y) }));
    if (a) group.append(svg("circle", { cx: px(a.x), cy: py(a.y), r: 5 }));
    if (b) group.append(svg("rect", { x: px(b.x) - 4.5, y: py(b.y) - 4.5, width: 9, height: 9 }));
    for (const c of [a, b]) if (c) markers.push({ x: px(c.x) - 6, y: py(c.y) - 6, w: 12, h: 12 });
    groups.push({ name, group, anchors: [a, b].filter(Boolean).sort((p, q) => q.y - p.y) });
    root.append(group);
  }
  const taken = [...markers];
  if (point) {
    const [x, y] = [px(point[0]), py(point[1])];
    const input = svg("g", { id: "map-input" });
    input.append(svg("path", { d: `M ${x} ${y - 9} L ${x + 9} ${y} L ${x} ${y + 9} L ${x - 9} ${y} Z` }));
    input.append(svg("text", { x: x + 12, y: y + 4 }, "your file"));
    taken.push({ x: x - 10, y: y - 10, w: 84, h: 20 });
    root.append(input);
  }
  // Names go beside a marker of their instrument, at the first spot (above, below, right, left) that no other
  // name or marker holds; text width is estimated (12 px type, ~6.8 px a character).
  const overlaps = (r) => taken.some((t) => r.x < t.x + t.w && t.x < r.x + r.w && r.y < t.y + t.h && t.y < r.y + r.h);
  for (const { name, group, anchors } of groups) {
    const w = name.length * 6.8, h = 13;
    const spots = anchors.flatMap((c) => {
      const [x, y] = [px(c.x), py(c.y)];
      return [
        { x: x - w / 2, y: y - 8 - h },
        { x: x - w / 2, y: y + 8 },
        { x: x + 8, y: y - h / 2 },
        { x: x - 8 - w, y: y - h / 2 },
      ];
    });
    const spot = spots.find((r) => !overlaps({ ...r, w, h })) ?? spots[0];
    taken.push({ ...spot, w, h });
    group.append(svg("text", { x: spot.x, y: spot.y + h - 3 }, name));
  }
  $("map-plot").replaceChildren(root);
}

function describeMap(map, point, answer, note) {
  const kind = answer.modality === "image" ? "picture" : answer.modality === "audio" ? "sound" : "file";
  const distance = (c) => Math.hypot(c.x - point[0], c.y - point[1]);
  let text = note;
  if (point) {
    const nearest = [...map.centroids].sort((a, b) => distance(a) - distance(b)).slice(0, 3)
      .map((c) => `${c.label} ${MODALITY_NAMES[c.modality]}`);
    text = `Your ${kind} falls nearest to the centres of ${nearest[0]}, ${nearest[1]} and ${nearest[2]}.`;
  }
  const { nearestCentroid2d: flat, nearestCentroid128d: full } = map.fidelity;
  $("map-summary").textContent = `${text} A flat map keeps only part of the space: a sample file's nearest centre ` +
    `of its own kind is its instrument ${Math.round(flat * 100)} % of the time on the map, ` +
    `${Math.round(full * 100)} % in the full ${map.projection.mean.length}-dimensional space.`;
  const share = Math.round((map.projection.explained[0] + map.projection.explained[1]) * 100);
  $("map-caption").textContent = `Centres of ${map.sample.items.audio} sounds and ${map.sample.items.image} ` +
    `pictures (model ${map.model}), projected by PCA of the centres (${share} % of their variance).`;
  const rows = new Map();
  for (const c of map.centroids) rows.set(c.label, { ...rows.get(c.label), [c.modality]: c });
  const cell = (text) => {
    const td = document.createElement("td");
    td.textContent = text;
    return td;
  };
  const at = (c) => (c ? `${c.x.toFixed(2)}, ${c.y.toFixed(2)} (${c.n} files)` : "none");
  const away = (c) => (c && point ? distance(c).toFixed(2) : "–");
  $("map-table").tBodies[0].replaceChildren(
    ...[...rows].map(([name, pair]) => {
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = name;
      tr.append(th, cell(at(pair.audio)), cell(at(pair.image)), cell(`${away(pair.audio)}, ${away(pair.image)}`));
      return tr;
    }),
  );
}
