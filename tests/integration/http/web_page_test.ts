// deno-lint-ignore-file no-import-prefix -- test-only packages are pinned here, outside the service's import map
/// <reference lib="dom" />
// (page.evaluate callbacks run in the browser: they use DOM types.)
import assert from "node:assert/strict";
import { join } from "node:path";
// Literal, pinned npm specifiers rather than deno.json imports: the browser is test-only, so the service's import
// map (and serve.lock, all that `deno task start` installs) never carries it; deno.lock locks it.
import chromium from "npm:@sparticuz/chromium@153.0.0";
import puppeteer, { type ElementHandle, type FileChooser } from "npm:puppeteer-core@25.16.0";
import { REPO_ROOT } from "../../../lib/config.ts";
import { serverTest, SHARED, startTestService } from "./_service.ts";
import { buildWav, int16Bytes, sine } from "../../lib/media/_audio.ts";

/** Where the screenshot is kept (gitignored), for a person to look at. */
const ARTEFACTS = join(REPO_ROOT, ".cache", "artefacts");

Deno.test(
  "the page at / classifies an uploaded photo and WAV and maps them in a real browser",
  serverTest,
  async () => {
    const service = await startTestService();
    const dir = await Deno.makeTempDir({ prefix: "amodal-web-" });
    const photoDir = join(SHARED, "corpus/images/gpiosenka/violin");
    const photo = join(photoDir, Array.from(Deno.readDirSync(photoDir)).map((e) => e.name).sort()[0]!);
    const wav = join(dir, "tone.wav");
    await Deno.writeFile(
      wav,
      buildWav({ formatTag: 1, channels: 1, rate: 16000, bits: 16, data: int16Bytes([sine(440, 16000, 2)]) }),
    );
    const browser = await puppeteer.launch({
      executablePath: await chromium.executablePath(),
      args: chromium.args,
      headless: true,
    });
    try {
      const page = await browser.newPage();
      await page.setViewport({ width: 900, height: 1100 });
      const external: string[] = [];
      page.on("request", (request) => {
        if (!request.url().startsWith(service.url)) external.push(request.url());
      });
      await page.goto(`${service.url}/`, { waitUntil: "networkidle0" });

      const upload = async (path: string, how: "picker" | "keyboard" = "picker") => {
        await page.evaluate(() => {
          document.getElementById("result")!.hidden = true;
          document.getElementById("map-plot")!.replaceChildren();
        });
        if (how === "keyboard") {
          // The drop zone opens the file chooser on Enter, as a keyboard user would reach it. Puppeteer turns on
          // file-chooser interception with a CDP command of its own, which a loaded machine can deliver after the
          // key: that dialog then opens unseen (a CI run under load timed out so). Interception stays on, so a
          // second Enter is seen.
          let chooser: FileChooser | undefined;
          for (let attempt = 0; !chooser && attempt < 2; attempt++) {
            await page.focus("#drop");
            [chooser] = await Promise.all([
              page.waitForFileChooser({ timeout: 10_000 }).catch(() => undefined),
              page.keyboard.press("Enter"),
            ]);
          }
          await chooser!.accept([path]);
        } else {
          const input = await page.$("#file") as ElementHandle<HTMLInputElement> | null;
          await input!.uploadFile(path);
        }
        await page.waitForSelector("#result:not([hidden])", { timeout: 30_000 });
        // The map comes after the answer: the page asks /v1/embed for the file's joint vector.
        await page.waitForSelector("#map-input", { timeout: 30_000 });
        return await page.evaluate(() => ({
          label: document.getElementById("label")!.textContent,
          modality: document.getElementById("modality")!.textContent,
          bars: document.querySelectorAll("#chart li .bar").length,
          widest: Math.max(...Array.from(document.querySelectorAll<HTMLElement>("#chart .bar"), (b) => b.offsetWidth)),
          timings: document.getElementById("timings")!.textContent,
          map: (() => {
            const svg = document.getElementById("map-svg")!;
            const box = svg.getBoundingClientRect();
            const point = document.querySelector("#map-input path")!.getBoundingClientRect();
            return {
              centres: svg.querySelectorAll("g.centre").length,
              sounds: svg.querySelectorAll("g.centre circle").length,
              pictures: svg.querySelectorAll("g.centre rect").length,
              chosen: Array.from(svg.querySelectorAll("g.centre.chosen"), (g) => g.getAttribute("data-label")),
              inside: point.width > 0 && point.left >= box.left && point.right <= box.right &&
                point.top >= box.top && point.bottom <= box.bottom,
              role: svg.getAttribute("role"),
              tabindex: svg.getAttribute("tabindex"),
              name: document.getElementById(svg.getAttribute("aria-labelledby")!)!.textContent,
              summary: document.getElementById("map-summary")!.textContent,
              rows: document.querySelectorAll("#map-table tbody tr").length,
            };
          })(),
        }));
      };

      const seen = await upload(photo);
      assert.equal(seen.label, "violin");
      assert.equal(seen.modality, "a picture");
      assert.equal(seen.bars, 8);
      assert.ok(seen.widest > 100, `the top bar is ${seen.widest} px wide`);
      assert.match(seen.timings ?? "", /encoder \d+ ms/);
      // The map: 18 instruments, a sound centre and a picture centre each, the answer's label marked, the photo's
      // point drawn inside the plot, and the same facts in text (accessible name, summary, table).
      assert.deepEqual(
        { centres: seen.map.centres, sounds: seen.map.sounds, pictures: seen.map.pictures, rows: seen.map.rows },
        { centres: 18, sounds: 18, pictures: 18, rows: 18 },
      );
      assert.deepEqual(seen.map.chosen, ["violin"]);
      assert.ok(seen.map.inside, "the photo's point lies inside the map");
      assert.equal(seen.map.role, "img");
      assert.equal(seen.map.tabindex, "0");
      assert.match(seen.map.name ?? "", /Map of the joint space/);
      assert.match(seen.map.summary ?? "", /^Your picture falls nearest to the centres of \w+ (sounds|pictures), /);
      await Deno.mkdir(ARTEFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTEFACTS, "web_page.png") as `${string}.png`, fullPage: true });

      const heard = await upload(wav, "keyboard");
      assert.ok(heard.label && heard.label.length > 0);
      assert.match(heard.modality ?? "", /^a sound \(2\.0 s analysed\)/);
      assert.equal(heard.bars, 8);
      assert.ok(heard.map.inside, "the sound's point lies inside the map");
      assert.match(heard.map.summary ?? "", /^Your sound falls nearest to the centres of /);
      // The map is in the tab order (just before its table's toggle), and the table opens from the keyboard.
      await page.focus("#map-section summary");
      await page.keyboard.down("Shift");
      await page.keyboard.press("Tab");
      await page.keyboard.up("Shift");
      assert.equal(await page.evaluate(() => document.activeElement?.id), "map-svg");
      await page.keyboard.press("Tab");
      await page.keyboard.press("Enter");
      assert.ok(await page.evaluate(() => document.querySelector<HTMLDetailsElement>("#map-section details")!.open));
      assert.ok(await page.evaluate(() => document.getElementById("map-table")!.getBoundingClientRect().height > 100));
      assert.deepEqual(external, [], "the page loads nothing from elsewhere");
    } finally {
      await browser.close();
      await service.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);
