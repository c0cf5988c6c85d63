/**
 * The worker role of `tonearm start`: one worker on the process's bus, serving until drained. The
 * caller owns the bus, the drivers and the logger, and closes them after `drain()`.
 */
import { createWorker, type Worker, type WorkerOptions } from "./worker.js";

/** Creates a worker and starts it; rejects (having released what it started) if it cannot serve. */
export async function startWorker(options: WorkerOptions): Promise<Worker> {
  const worker = createWorker(options);
  await worker.start();
  return worker;
}
