// deno-lint-ignore-file no-import-prefix -- dataset-only packages are pinned here, outside the service's import map
/**
 * Drawings stage: renders the allowlisted icons (scripts/dataset/drawing_allowlist.ts)
 * to 224 x 224 PNGs on white with sharp (WASM), and a contact sheet to review them.
 *
 * @module
 */
import { join } from "node:path";
import { DRAWING_ALLOWLIST, ICON_SETS } from "../dataset/drawing_allowlist.ts";
import { keepAlive, loadSharp } from "../../lib/media/sharp.ts";
import type { Label } from "../../lib/labels.ts";
import { type BuildContext, cachedUnit, type Candidate, safeName } from "./common.ts";

/** Iconify JSON (the parts used). */
export interface IconifyJson {
  prefix: string;
  width?: number;
  height?: number;
  icons: Record<string, { body: string; width?: number; height?: number; left?: number; top?: number }>;
  aliases?: Record<string, { parent: string; hFlip?: boolean }>;
}

// Literal, pinned npm specifiers rather than deno.json imports: the icon sets are dataset-only, so the
// service's import map (and what `deno task start` installs) never carries them.
const LOADERS: Record<string, () => Promise<{ default: unknown }>> = {
  "emojione": () => import("npm:@iconify-json/emojione@1.2.3/icons.json", { with: { type: "json" } }),
  "emojione-monotone": () => import("npm:@iconify-json/emojione-monotone@1.2.1/icons.json", { with: { type: "json" } }),
  "emojione-v1": () => import("npm:@iconify-json/emojione-v1@1.2.3/icons.json", { with: { type: "json" } }),
  "fa6-solid": () => import("npm:@iconify-json/fa6-solid@1.2.4/icons.json", { with: { type: "json" } }),
  "fluent-emoji-flat": () => import("npm:@iconify-json/fluent-emoji-flat@1.2.6/icons.json", { with: { type: "json" } }),
  "fluent-emoji-high-contrast": () =>
    import("npm:@iconify-json/fluent-emoji-high-contrast@1.2.6/icons.json", { with: { type: "json" } }),
  "fxemoji": () => import("npm:@iconify-json/fxemoji@1.2.2/icons.json", { with: { type: "json" } }),
  "game-icons": () => import("npm:@iconify-json/game-icons@1.2.4/icons.json", { with: { type: "json" } }),
  "lucide": () => import("npm:@iconify-json/lucide@1.2.137/icons.json", { with: { type: "json" } }),
  "mdi": () => import("npm:@iconify-json/mdi@1.2.3/icons.json", { with: { type: "json" } }),
  "mingcute": () => import("npm:@iconify-json/mingcute@1.2.8/icons.json", { with: { type: "json" } }),
  "noto": () => import("npm:@iconify-json/noto@1.2.9/icons.json", { with: { type: "json" } }),
  "noto-v1": () => import("npm:@iconify-json/noto-v1@1.2.5/icons.json", { with: { type: "json" } }),
  "openmoji": () => import("npm:@iconify-json/openmoji@1.2.29/icons.json", { with: { type: "json" } }),
  "ph": () => import("npm:@iconify-json/ph@1.2.2/icons.json", { with: { type: "json" } }),
  "qlementine-icons": () => import("npm:@iconify-json/qlementine-icons@1.2.16/icons.json", { with: { type: "json" } }),
  "streamline-emojis": () => import("npm:@iconify-json/streamline-emojis@1.2.4/icons.json", { with: { type: "json" } }),
  "streamline-freehand": () =>
    import("npm:@iconify-json/streamline-freehand@1.2.1/icons.json", { with: { type: "json" } }),
  "twemoji": () => import("npm:@iconify-json/twemoji@1.2.5/icons.json", { with: { type: "json" } }),
  // The presence stage's own sets (scripts/dataset/presence_icon_sets.ts).
  "fluent": () => import("npm:@iconify-json/fluent@1.2.60/icons.json", { with: { type: "json" } }),
  "hugeicons": () => import("npm:@iconify-json/hugeicons@1.2.35/icons.json", { with: { type: "json" } }),
  "la": () => import("npm:@iconify-json/la@1.2.1/icons.json", { with: { type: "json" } }),
  "ri": () => import("npm:@iconify-json/ri@1.2.10/icons.json", { with: { type: "json" } }),
  "streamline-ultimate": () =>
    import("npm:@iconify-json/streamline-ultimate@1.2.2/icons.json", { with: { type: "json" } }),
  "tdesign": () => import("npm:@iconify-json/tdesign@1.2.19/icons.json", { with: { type: "json" } }),
};

/** Output size in pixels (the image encoders' input size). */
export const DRAWING_SIZE = 224;
const PADDING = 16;

/** Builds a standalone SVG document for an icon, or null when the set lacks it. */
export function iconSvg(set: IconifyJson, name: string): string | null {
  let hFlip = false;
  let key = name;
  for (let depth = 0; depth < 5 && !set.icons[key]; depth++) {
    const alias = set.aliases?.[key];
    if (!alias) return null;
    hFlip = hFlip !== Boolean(alias.hFlip);
    key = alias.parent;
  }
  const icon = set.icons[key];
  if (!icon) return null;
  const width = icon.width ?? set.width ?? 16;
  const height = icon.height ?? set.height ?? 16;
  const left = icon.left ?? 0;
  const top = icon.top ?? 0;
  const body = hFlip ? `<g transform="translate(${left * 2 + width} 0) scale(-1 1)">${icon.body}</g>` : icon.body;
  const size = DRAWING_SIZE - 2 * PADDING;
  const scale = size / Math.max(width, height);
  return `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" ` +
    `width="${Math.round(width * scale)}" height="${Math.round(height * scale)}" ` +
    `viewBox="${left} ${top} ${width} ${height}" color="#000000">${body}</svg>`;
}

/**
 * Loads one pinned icon set.
 *
 * @param prefix An Iconify prefix of {@linkcode ICON_SETS} or of the presence stage's own sets (`scripts/dataset/presence_icon_sets.ts`).
 * @returns The set's JSON.
 * @throws {RangeError} For a prefix with no pinned loader.
 */
export async function loadIconSet(prefix: string): Promise<IconifyJson> {
  const loader = LOADERS[prefix];
  if (!loader) throw new RangeError(`Icon set "${prefix}" has no pinned loader; known: ${Object.keys(LOADERS)}`);
  return (await loader()).default as IconifyJson;
}

/**
 * Renders an SVG document centred on a white square PNG.
 *
 * @param svg An SVG document, e.g. from {@linkcode iconSvg}.
 * @returns PNG bytes, {@linkcode DRAWING_SIZE} pixels square.
 */
export async function renderPng(svg: string): Promise<Uint8Array> {
  const sharp = await loadSharp();
  const icon = await keepAlive(
    sharp(new TextEncoder().encode(svg), { density: 72 }).png().toBuffer({ resolveWithObject: true }),
  );
  const { width, height } = icon.info;
  const left = Math.floor((DRAWING_SIZE - width) / 2);
  const top = Math.floor((DRAWING_SIZE - height) / 2);
  const png = await keepAlive(
    sharp(icon.data)
      .extend({
        left,
        top,
        right: DRAWING_SIZE - width - left,
        bottom: DRAWING_SIZE - height - top,
        background: { r: 255, g: 255, b: 255, alpha: 1 },
      })
      .flatten({ background: { r: 255, g: 255, b: 255 } })
      .png()
      .toBuffer(),
  );
  return new Uint8Array(png);
}

/**
 * Renders every allowlisted icon of the given labels.
 *
 * @param ctx Build settings.
 * @param labels Labels to render.
 * @returns Candidates, and the allowlist entries the sets do not have.
 */
export async function renderDrawings(
  ctx: BuildContext,
  labels: readonly Label[],
): Promise<{ candidates: Candidate[]; missing: string[] }> {
  const entries = labels.flatMap((label) => DRAWING_ALLOWLIST[label].map((id) => ({ label, id })));
  const sets = new Map<string, IconifyJson>();
  const out: Candidate[] = [];
  const missing: string[] = [];
  let done = 0;
  for (const { label, id } of entries) {
    const [prefix, name] = id.split(":") as [string, string];
    const info = ICON_SETS.find((s) => s.prefix === prefix);
    const loader = LOADERS[prefix];
    if (!info || !loader) throw new Error(`Cannot render drawing ${id}: icon set "${prefix}" is not in ICON_SETS`);
    const unit = `${label}:${id}`;
    const items = await cachedUnit(ctx, "drawings", unit, async () => {
      let set = sets.get(prefix);
      if (!set) sets.set(prefix, set = (await loader()).default as IconifyJson);
      const svg = iconSvg(set, name);
      if (!svg) return [];
      const path = `images/drawing/${prefix}/${label}/${safeName(name)}.png`;
      await Deno.mkdir(join(ctx.dataDir, `images/drawing/${prefix}/${label}`), { recursive: true });
      await Deno.writeFile(join(ctx.dataDir, path), await renderPng(svg));
      return [{
        id: `image/drawing/${prefix}/${label}/${name}`,
        root: "data",
        path,
        modality: "image",
        label,
        domain: "drawing",
        source: `iconify:${prefix}`,
        group: `iconify:${prefix}:${label}`,
        unit: id.replace(/-(12|16|24)$/, ""),
        origin: `npm:@iconify-json/${prefix}@${info.version}#${name} (${info.author})`,
        license: info.license,
        heldout: false,
      }];
    });
    if (items.length === 0) missing.push(id);
    // Size variants of one icon (qlementine's -16/-24) are one unit: never in two splits.
    out.push(...items.map((item) => ({ ...item, unit: id.replace(/-(12|16|24)$/, "") })));
    ctx.progress("drawings", ++done, entries.length);
  }
  return { candidates: out, missing };
}

/**
 * Writes a labelled grid of all drawings for review.
 *
 * @param ctx Build settings.
 * @param drawings Drawing candidates.
 * @returns Path of the sheet.
 */
export async function writeContactSheet(ctx: BuildContext, drawings: readonly Candidate[]): Promise<string> {
  const sharp = await loadSharp();
  const cell = 112;
  const columns = 12;
  const sorted = [...drawings].sort((a, b) => (a.label + a.id < b.label + b.id ? -1 : 1));
  const rows = Math.max(1, Math.ceil(sorted.length / columns));
  const composites = [];
  for (let i = 0; i < sorted.length; i++) {
    const item = sorted[i]!;
    const source = await Deno.readFile(join(ctx.dataDir, item.path));
    const thumb = await keepAlive(sharp(source).resize(cell, cell - 16).png().toBuffer());
    const caption = `${item.label}: ${item.unit}`.replace(/&/g, "&amp;").replace(/</g, "&lt;").slice(0, 30);
    const text = await keepAlive(
      sharp(new TextEncoder().encode(
        `<svg xmlns="http://www.w3.org/2000/svg" width="${cell}" height="16"><rect width="100%" height="100%" fill="#eee"/>` +
          `<text x="2" y="12" font-size="9" font-family="sans-serif">${caption}</text></svg>`,
      )).png().toBuffer(),
    );
    const x = (i % columns) * cell;
    const y = Math.floor(i / columns) * cell;
    composites.push({ input: thumb, left: x, top: y }, { input: text, left: x, top: y + cell - 16 });
  }
  const path = join(ctx.dataDir, "images/drawing/contact_sheet.png");
  await keepAlive(
    sharp({ create: { width: columns * cell, height: rows * cell, channels: 3, background: "#ffffff" } })
      .composite(composites).png().toFile(path),
  );
  return path;
}
