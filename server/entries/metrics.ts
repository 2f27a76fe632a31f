/** `trpc-offline-sync/metrics`: Prometheus metrics fed by the engine's events. Needs the optional peer `prom-client`. */
export {
  createMetrics,
  type SyncMetrics,
  type MetricsOptions,
  type MetricsRegistry,
} from '../metrics.js';
