/** Prometheus metrics (prom-client), one registry per proxy instance. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();
  readonly messages = new Counter({
    name: 'mmsguard_messages_total', help: 'Messages inspected, by service, direction, action and subtype',
    labelNames: ['service', 'direction', 'action', 'subtype'] as const, registers: [this.registry],
  });
  readonly parts = new Counter({
    name: 'mmsguard_parts_scanned_total', help: 'Parts scanned (archive members count within their part)',
    labelNames: ['service'] as const, registers: [this.registry],
  });
  readonly scanSeconds = new Histogram({
    name: 'mmsguard_scan_duration_seconds', help: 'Scan time per part and engine',
    labelNames: ['engine'] as const, buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30], registers: [this.registry],
  });
  readonly inflight = new Gauge({ name: 'mmsguard_inflight_bytes', help: 'Bytes buffered right now', registers: [this.registry] });
  readonly upstreamSeconds = new Histogram({
    name: 'mmsguard_upstream_duration_seconds', help: 'Upstream round trip (until the response body is in)',
    labelNames: ['service', 'method'] as const, buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120], registers: [this.registry],
  });
  readonly upstreamErrors = new Counter({
    name: 'mmsguard_upstream_errors_total', help: 'Upstream failures by kind',
    labelNames: ['service', 'kind'] as const, registers: [this.registry],
  });
  readonly rejected = new Counter({
    name: 'mmsguard_rejected_total', help: 'Requests refused before inspection (budget, bad HTTP)',
    labelNames: ['service', 'reason'] as const, registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
