// The try-it page: send a file (picked, dropped, recorded or photographed) to /v1/classify and show the answer.
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
