/**
 * Checks that the Debian packages the builder needs are installed; installs
 * them when running as root with `CI=true`, otherwise says how.
 *
 * @module
 */
import { HYDROGEN_KITS } from "../dataset/label_map.ts";
import { HYDROGEN_DIR } from "./hydrogen.ts";
import { SOUNDFONTS } from "./render_gm.ts";
import { existsSync } from "node:fs";

/** apt packages needed, with a file that proves each is installed. */
export const APT_PACKAGES: readonly { name: string; proof: string }[] = [
  { name: "fluidsynth", proof: "/usr/bin/fluidsynth" },
  { name: "sox", proof: "/usr/bin/sox" },
  ...SOUNDFONTS.map((s) => ({ name: s.package, proof: s.file })),
  { name: "hydrogen-drumkits", proof: `${HYDROGEN_DIR}/${HYDROGEN_KITS[0]!.dir}/drumkit.xml` },
  { name: "hydrogen-drumkits-effects", proof: `${HYDROGEN_DIR}/belofilms_GuitarStrums/drumkit.xml` },
];

/** Names of the packages whose proof file is missing. */
export function missingPackages(): string[] {
  return APT_PACKAGES.filter((p) => !existsSync(p.proof)).map((p) => p.name);
}

/**
 * Ensures the packages are present.
 *
 * @throws {Error} naming the apt-get command when packages are missing and
 *   cannot be installed here.
 */
export async function ensurePackages(): Promise<void> {
  let missing = missingPackages();
  if (missing.length === 0) return;
  const command = `apt-get install -y --no-install-recommends ${missing.join(" ")}`;
  const isRoot = Deno.uid() === 0;
  if (isRoot && Deno.env.get("CI") === "true") {
    console.error(`Installing: ${command}`);
    for (const args of [["update"], ["install", "-y", "--no-install-recommends", ...missing]]) {
      const { code } = await new Deno.Command("apt-get", { args, stdout: "inherit", stderr: "inherit" }).output();
      if (code !== 0) throw new Error(`apt-get ${args[0]} failed with exit code ${code}`);
    }
    missing = missingPackages();
    if (missing.length === 0) return;
  }
  throw new Error(
    `The dataset builder needs Debian packages that are not installed: ${missing.join(", ")}.\n` +
      `Install them with:\n  sudo apt-get update && sudo ${command}\n` +
      `(as root with CI=true, \`deno task data\` installs them itself).`,
  );
}
