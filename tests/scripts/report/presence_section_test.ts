/**
 * scripts/report/presence_section.py: the report's presence section ("no instrument", issue 18) from the
 * committed reports/presence/metrics.json: the served point per modality, the trade-off figure, the levers.
 */
import assert from "node:assert/strict";
import { py, pythonHas } from "./_python.ts";

/**
 * Runs Python `code` after presence_section.write() drew the committed metrics into a temporary folder: `metrics`,
 * `lines` (the section) and `figure` (the figure's size in bytes) are defined for it.
 */
async function drawn<T>(code: string): Promise<T> {
  const dir = await Deno.makeTempDir();
  try {
    return await py(`
import os, presence_section
metrics = json.load(open("reports/presence/metrics.json"))
lines = presence_section.write(metrics, ${JSON.stringify(dir)}, "reports/presence/tradeoff.png")
figure = os.path.getsize(os.path.join(${JSON.stringify(dir)}, "presence_tradeoff.png"))
${code}`) as T;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "presence_section.write() has the served point, the trade-off figure and every lever",
  ignore: !await pythonHas("numpy"),
  fn: async () => {
    const out = await drawn<
      { lines: string[]; levers: Record<string, string[]>; items: Record<string, number>; figure: number }
    >(`
print(json.dumps({"lines": lines, "levers": {m: list(metrics[m]["ablations"]) for m in ("audio", "image")},
                  "items": {m: metrics[m]["instrumentItems"] for m in ("audio", "image")}, "figure": figure}))
`);
    const text = out.lines.join("\n");
    assert.match(out.lines[0]!, /^## Presence/);
    for (const modality of ["audio", "image"]) {
      assert.match(text, new RegExp(`\\| ${modality} \\| \\d+\\.\\d % \\(${out.items[modality]}\\)`));
    }
    assert.match(text, /!\[presence trade-off\]\(presence_tradeoff\.png\)/);
    for (const lever of [...out.levers.audio!, ...out.levers.image!]) assert.ok(text.includes(`| ${lever} |`), lever);
    assert.ok(out.figure > 10_000);
  },
});

Deno.test({
  name: "presence_section.splice() redraws the committed report's section in place, or appends it numbered",
  ignore: !await pythonHas("numpy"),
  fn: async () => {
    const out = await drawn<{ same: boolean; appended: string }>(`
report = open("reports/latest/report.md").read()
head = report[:report.index("## 6. Presence")]
print(json.dumps({"same": presence_section.splice(report, lines) == report,
                  "appended": presence_section.splice(head.rstrip("\\n"), lines)}))
`);
    assert.ok(out.same, "report.md's presence section is what metrics.json draws");
    assert.match(out.appended, /\n## 6\. Presence: "no instrument"\n/);
  },
});
