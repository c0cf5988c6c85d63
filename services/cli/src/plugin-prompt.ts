/** Reading an operator's answer to a yes/no question. */
import { createInterface } from "node:readline";

/**
 * The first line of `input`, trimmed; `""` when the input ends first (no terminal, closed stdin),
 * which every question reads as "no".
 */
export function readAnswer(input: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve) => {
    const lines = createInterface({ input, terminal: false });
    let answered = false;
    lines.once("line", (line) => {
      answered = true;
      resolve(line.trim());
      lines.close();
    });
    lines.once("close", () => {
      if (!answered) resolve("");
    });
  });
}
