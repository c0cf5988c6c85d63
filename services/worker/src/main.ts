/** The worker role of `tonearm start`. */
import { createWorker, type Worker, type WorkerOptions } from "./worker.js";

export async function startWorker(options: WorkerOptions): Promise<Worker> {
  const worker = createWorker(options);
  await worker.start();
  return worker;
}
