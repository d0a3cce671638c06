/**
 * The opt-in Debian extras of `deno task data --with-debian`: full-size GM
 * soundfonts and Hydrogen drum kits. The default build never needs them (it
 * renders npm soundfonts and the shared WebAudioFont banks); with the flag,
 * a missing package stops the build with the command that installs it.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { HYDROGEN_KITS } from "../dataset/label_map.ts";
import { HYDROGEN_DIR } from "./hydrogen.ts";
import { DEBIAN_SOUNDFONTS } from "./render_gm.ts";

/** Debian packages of the opt-in extras, with a file that proves each is installed. */
export const DEBIAN_EXTRAS: readonly { name: string; proof: string }[] = [
  ...DEBIAN_SOUNDFONTS.map((s) => ({ name: s.provider.slice("debian:".length), proof: s.file })),
  { name: "hydrogen-drumkits", proof: `${HYDROGEN_DIR}/${HYDROGEN_KITS[0]!.dir}/drumkit.xml` },
  { name: "hydrogen-drumkits-effects", proof: `${HYDROGEN_DIR}/belofilms_GuitarStrums/drumkit.xml` },
];

/** Names of the extras whose proof file is missing. */
export function missingDebianExtras(): string[] {
  return DEBIAN_EXTRAS.filter((p) => !existsSync(p.proof)).map((p) => p.name);
}

/**
 * Checks the opt-in extras are installed.
 *
 * @throws {Error} naming the missing packages, the files expected, and the apt-get command.
 */
export function checkDebianExtras(): void {
  const missing = DEBIAN_EXTRAS.filter((p) => !existsSync(p.proof));
  if (missing.length === 0) return;
  throw new Error(
    `--with-debian needs Debian packages that are not installed: ${
      missing.map((p) => `${p.name} (expected ${p.proof})`).join(", ")
    }.\nInstall them with:\n  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${
      missing.map((p) => p.name).join(" ")
    }\nor build without --with-debian.`,
  );
}
