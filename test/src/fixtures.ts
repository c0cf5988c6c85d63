import { fileURLToPath } from "node:url";

/** Where the test setup writes built fixture plugin folders (each usable as a plugins folder). */
const BUILD_ROOT = fileURLToPath(new URL("../.build/", import.meta.url));

export type FixtureSet = "plugins" | "hostile" | "go";

export const fixturePaths = {
  buildRoot: BUILD_ROOT,
  /** The folder holding one built plugin folder per fixture of the set. */
  folder(set: FixtureSet): string {
    return `${BUILD_ROOT}${set}`;
  },
  plugin(set: FixtureSet, name: string): string {
    return `${BUILD_ROOT}${set}/${name}`;
  },
};
