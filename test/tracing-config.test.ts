/** When tracing is on (CONTRACT §10): the standard variables, read the way the OpenTelemetry spec reads them. */
import { describe, expect, it } from 'vitest';
import { startTracing, tracingEnabled } from '../apps/proxy/src/tracing.js';

const ENDPOINT = 'http://127.0.0.1:4318';

describe('tracingEnabled', () => {
  it('is off without an endpoint, whatever else is set', () => {
    expect(tracingEnabled({})).toBe(false);
    expect(tracingEnabled({ OTEL_SERVICE_NAME: 'mmsguard-eu1', OTEL_TRACES_EXPORTER: 'otlp' })).toBe(false);
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: '  ' })).toBe(false);
  });

  it('is on with the base endpoint or the traces endpoint alone', () => {
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT })).toBe(true);
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${ENDPOINT}/v1/traces` })).toBe(true);
  });

  it('is off with an endpoint when the SDK is disabled or the traces exporter is none', () => {
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT, OTEL_SDK_DISABLED: 'TRUE' })).toBe(false);
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT, OTEL_TRACES_EXPORTER: 'none' })).toBe(false);
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT, OTEL_SDK_DISABLED: 'false' })).toBe(true);
  });
});

describe('startTracing', () => {
  it('returns null when off, without loading the SDK', async () => {
    expect(await startTracing({})).toBeNull();
  });

  it('refuses a traces exporter other than otlp, naming the variable', async () => {
    await expect(startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT, OTEL_TRACES_EXPORTER: 'zipkin' }))
      .rejects.toThrow(/OTEL_TRACES_EXPORTER: zipkin/);
  });
});
