// Where the tests find the built examples: each test builds what changed first, so an edited
// example is tested as edited. The examples run on @tonearm/plugin-testkit.
import { existsSync } from "node:fs";
import { buildExamples, EXAMPLES_BUILD_DIR, GO_SUFFIX } from "../../scripts/build-examples.mjs";

/** Builds the example if its sources changed and answers its built plugin folder. */
export async function exampleFolder(name: string): Promise<string> {
  await buildExamples({ only: [name], quiet: true });
  return `${EXAMPLES_BUILD_DIR}${name}`;
}

/** The folder of the example's Go build, or undefined when no Go toolchain is available to build it. */
export async function goExampleFolder(name: string): Promise<string | undefined> {
  const goName = `${name}${GO_SUFFIX}`;
  const { skipped } = await buildExamples({ only: [goName], quiet: true });
  return skipped.includes(goName) || !existsSync(`${EXAMPLES_BUILD_DIR}${goName}/plugin.wasm`) ? undefined : `${EXAMPLES_BUILD_DIR}${goName}`;
}

/** The folder every example is built into: a plugins folder. */
export const EXAMPLES_FOLDER = EXAMPLES_BUILD_DIR;
