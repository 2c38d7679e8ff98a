/**
 * Whether to trace, read from the standard OpenTelemetry variables (CONTRACT
 * §10): on when an OTLP endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), unless OTEL_SDK_DISABLED=true or
 * OTEL_TRACES_EXPORTER=none. Off, no @opentelemetry module is loaded: the SDK
 * is behind a dynamic import of otel.ts, and the pipeline talks to spans.ts,
 * a no-op until then.
 */

export interface Tracing {
  /** Exports the spans still queued and stops the SDK; main.ts calls it when draining. */
  shutdown(): Promise<void>;
}

/**
 * The OTEL_* variables docs/config.md lists (the SDK reads most of them itself): kept here so the doc test
 * holds the table to a list that lives next to the code reading them.
 */
export const TRACING_VARIABLES: readonly string[] = [
  'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
  'OTEL_EXPORTER_OTLP_TIMEOUT', 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', 'OTEL_EXPORTER_OTLP_COMPRESSION',
  'OTEL_EXPORTER_OTLP_TRACES_COMPRESSION', 'OTEL_SERVICE_NAME', 'OTEL_RESOURCE_ATTRIBUTES', 'OTEL_TRACES_SAMPLER',
  'OTEL_TRACES_SAMPLER_ARG', 'OTEL_BSP_SCHEDULE_DELAY', 'OTEL_BSP_MAX_QUEUE_SIZE', 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE',
  'OTEL_BSP_EXPORT_TIMEOUT', 'OTEL_TRACES_EXPORTER', 'OTEL_SDK_DISABLED',
];

const set = (v: string | undefined): boolean => v !== undefined && v.trim() !== '';

export function tracingEnabled(env: NodeJS.ProcessEnv): boolean {
  if (env['OTEL_SDK_DISABLED']?.trim().toLowerCase() === 'true') return false;
  const exporters = (env['OTEL_TRACES_EXPORTER'] ?? '').split(',').map((x) => x.trim()).filter((x) => x !== '');
  if (exporters.length > 0 && exporters.every((x) => x === 'none')) return false;
  return set(env['OTEL_EXPORTER_OTLP_ENDPOINT']) || set(env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']);
}

/**
 * Starts tracing when configured; null when off. Must run before the first fastify instance and the first
 * upstream request exist (see otel.ts). Throws on a setting we cannot honour (an exporter other than otlp,
 * the grpc protocol), which main.ts turns into a refused start. `env` is the process environment: the SDK
 * reads the rest of the OTEL_* variables (endpoint, headers, sampler, OTEL_BSP_*) from process.env itself.
 */
export async function startTracing(env: NodeJS.ProcessEnv): Promise<Tracing | null> {
  if (!tracingEnabled(env)) return null;
  const exporters = (env['OTEL_TRACES_EXPORTER'] ?? 'otlp').split(',').map((x) => x.trim()).filter((x) => x !== '');
  const other = exporters.find((x) => x !== 'otlp' && x !== 'none');
  if (other !== undefined) throw new Error(`OTEL_TRACES_EXPORTER: ${other} is not supported (otlp or none)`);
  const { startOtel } = await import('./otel.js');
  return startOtel(env);
}
