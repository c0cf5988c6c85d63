/**
 * The gateway role of `tonearm start`: one gateway on the process's bus, running until stopped.
 * The caller owns the bus and the logger, and closes them after `stop()`.
 */
import { createGateway, type Gateway, type GatewayOptions } from "./gateway.js";

/** Creates a gateway and starts it; rejects if it cannot join the cluster. */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const gateway = createGateway(options);
  await gateway.start();
  return gateway;
}
