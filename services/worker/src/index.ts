/** The worker service: plugin calls, agents orchestration and verification over the bus. */
export { AGENT_HEADER, createWorker, type Worker, type WorkerOptions } from "./worker.js";
export { startWorker } from "./main.js";
export { askAgents, type AgentAnswer, type AgentCall } from "./agents.js";
export { watchPluginCatalog } from "@tonearm/bus";
