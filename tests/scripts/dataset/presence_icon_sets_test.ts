import assert from "node:assert/strict";
import { iconSvg, loadIconSet } from "../../../scripts/data/drawings.ts";
import { ICON_SETS } from "../../../scripts/dataset/drawing_allowlist.ts";
import { PRESENCE_ICON_SETS } from "../../../scripts/dataset/presence_icon_sets.ts";
import { LABELS } from "../../../lib/labels.ts";

Deno.test("PRESENCE_ICON_SETS: every drawing exists, under a known label, in a set the dataset does not use", async () => {
  for (const set of PRESENCE_ICON_SETS) {
    assert.ok(!ICON_SETS.some((s) => s.prefix === set.prefix), `${set.prefix} is already a dataset set`);
    const icons = await loadIconSet(set.prefix);
    for (const [label, names] of Object.entries(set.drawings)) {
      assert.ok((LABELS as readonly string[]).includes(label), `${set.prefix}: unknown label ${label}`);
      for (const name of names) assert.ok(iconSvg(icons, name), `${set.prefix}:${name} is not in the set`);
    }
    // Object icons are looked up as <name><objectSuffix>: the suffix must name real icons.
    assert.ok(iconSvg(icons, `home${set.objectSuffix}`) || iconSvg(icons, `laptop${set.objectSuffix}`), set.prefix);
  }
});
