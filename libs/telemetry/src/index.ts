/**
 * Observability of Tonearm processes: JSON logs with pino, Prometheus metrics with prom-client
 * (one registry per `Metrics`, and a /metrics endpoint), and W3C trace context for bus messages.
 */
export { LOG_LEVELS, createLogger, pluginLogger, type DestinationStream, type Logger, type LoggerOptions } from "./logger.js";
export {
  CALL_OK,
  createMetrics,
  recordPluginCall,
  type Metrics,
  type MetricsOptions,
  type PluginCallRecord,
} from "./metrics.js";
export { startMetricsServer, type ExtraRoutes, type MetricsServer, type OperationsOptions, type ReadinessProbe } from "./metrics-server.js";
export {
  TRACEPARENT_HEADER,
  childSpan,
  formatTraceparent,
  newTrace,
  parseTraceparent,
  type TraceContext,
} from "./trace.js";
