/**
 * HostMetrics is `/metrics` (docs/admin.md) of one host process, in Prometheus text format
 * through prom-client. Nothing is counted here: each metric is collected when scraped, from the
 * plain snapshots the rest of nodehost keeps (STYLE 15): the request counters of the 'log'
 * phase (modules/request-metrics), the applications' stats, /proc for the workers, the access
 * logs' and compression's totals, the listeners' handshake counts and certificates, and the
 * event-loop delay of this process. Several host processes are merged by the primary with
 * prom-client's AggregatorRegistry.aggregate over what each front door's `json()` returns.
 */
import { relative, sep } from 'node:path';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Registry } from 'prom-client';
import type { ApplicationStats } from '../iisnode/application.js';
import { compressionTotals } from '../modules/compression/compression-totals.js';
import { CACHE_RESULTS, DURATION_BUCKETS_S, type RequestMetricsSnapshot } from '../modules/request-metrics/request-metrics.js';
import { readProcessUsage } from './proc-stat.js';

/** SiteMetrics is one site's part of a scrape: its root (application labels are URL paths below it), its request counters and its applications. */
export interface SiteMetrics {
  readonly root: string;
  /** The URL path of an entry script, when the site maps URLs to folders other than its root (applications); undefined: below the root. */
  readonly urlOf?: ((script: string) => string | undefined) | undefined;
  readonly requests: RequestMetricsSnapshot;
  readonly apps: readonly ApplicationStats[];
  /** The site's access log, when it writes one. */
  readonly accessLog?: { readonly bytesWritten: number; readonly dropped: number } | undefined;
}

/** ListenerMetrics is one listening port's part of a scrape. */
export interface ListenerMetrics {
  readonly port: number;
  readonly protocol: 'http' | 'https';
  /** TLS handshakes completed with a new session (`full`) and resuming one. */
  readonly handshakes: { readonly full: number; readonly resumed: number };
  /** The certificates it presents now: per binding host (`*`: the default certificate), when each expires. */
  readonly certificates: readonly { readonly name: string; readonly notAfterMs: number }[];
}

/** MetricsSource is what HostMetrics reads on a scrape. */
export interface MetricsSource {
  /** This host process (0 when it is the only one). */
  readonly hostProcess: number;
  sites(): readonly SiteMetrics[];
  listeners(): readonly ListenerMetrics[];
}

type Labels = Record<string, string | number>;
/** One sample: `metricName` names a histogram's `_bucket`, `_sum` and `_count` lines. */
interface Sample {
  readonly value: number;
  readonly labels: Labels;
  readonly metricName?: string;
}
type Values = Sample[];
type MetricType = 'counter' | 'gauge' | 'histogram';
/** MetricsJson is one process's metrics as prom-client's getMetricsAsJSON gives them. */
export type MetricsJson = readonly {
  readonly name: string;
  readonly help: string;
  readonly type: string;
  readonly aggregator: string;
  readonly values: readonly Sample[];
}[];
type Aggregator = 'sum' | 'max' | 'first' | 'omit' | 'average' | 'min';

/** SnapshotMetric is a prom-client metric whose values are computed from snapshots at scrape time. */
class SnapshotMetric {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  readonly aggregator: Aggregator;
  readonly #collect: () => Values;

  constructor(name: string, help: string, type: MetricType, collect: () => Values, aggregator: Aggregator = 'sum') {
    this.name = name;
    this.help = help;
    this.type = type;
    this.aggregator = aggregator;
    this.#collect = collect;
  }

  get(): { name: string; help: string; type: MetricType; aggregator: Aggregator; values: Values } {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.#collect() };
  }
}

const STATUS_CLASSES = ['other', '1xx', '2xx', '3xx', '4xx', '5xx'];

/** appLabel is an application's label: its entry script's URL path below the site root ('' for responses no application made). */
function appLabel(site: SiteMetrics, script: string): string {
  if (script === '') return '';
  return site.urlOf?.(script) ?? `/${relative(site.root, script).split(sep).join('/')}`;
}

/** HostMetrics: `text()` for a scrape of this process, `json()` for the primary to merge; `close()` stops the event-loop monitor. */
export class HostMetrics {
  readonly #source: MetricsSource;
  /**
   * The event-loop delay monitor, started by the first scrape: it wakes the process every 20 ms,
   * so a host nobody scrapes sleeps while it is idle.
   */
  #loop: IntervalHistogram | undefined = undefined;
  /** The registry, made at the first scrape: prom-client is loaded only by a host that is scraped. */
  #registry: Promise<Registry> | undefined = undefined;

  constructor(source: MetricsSource) {
    this.#source = source;
  }

  /** registry is the prom-client registry of this process's metrics (every metric is collected at scrape time from the source). */
  registry(): Promise<Registry> {
    if (this.#loop === undefined) {
      this.#loop = monitorEventLoopDelay({ resolution: 20 });
      this.#loop.enable();
    }
    this.#registry ??= import('prom-client').then(({ Registry }) => this.#register(new Registry()));
    return this.#registry;
  }

  #register(registry: Registry): Registry {
    const add = (name: string, help: string, type: MetricType, collect: () => Values, aggregator?: Aggregator) =>
      registry.registerMetric(new SnapshotMetric(name, help, type, collect, aggregator) as never);
    add(
      'nodehost_requests_total',
      'Responses by site, application (entry script URL; "" for static files and other handlers) and status class.',
      'counter',
      () => this.#requests(),
    );
    add('nodehost_request_duration_seconds', 'Time from the request head to the closed response, per application.', 'histogram', () => this.#durations());
    add(
      'nodehost_app_full_responses_total',
      'Requests an application answered 503 because it could not take them, by substatus: 1002 (every process had maxConcurrentRequestsPerProcess active requests), 1001 (it was shutting down).',
      'counter',
      () => this.#full(),
    );
    add(
      'nodehost_output_cache_requests_total',
      'Requests the output cache answered, by result: hit, miss (fetched and maybe stored), collapsed (shared a fetch in flight), stale (served while revalidating).',
      'counter',
      () => this.#cache(),
    );
    add('nodehost_active_requests', 'Requests in flight on the serving generation of each application.', 'gauge', () => this.#perApp((app) => app.active));
    add('nodehost_app_generation', 'Number of the serving generation of each application.', 'gauge', () => this.#perApp((app) => app.generation), 'max');
    add('nodehost_app_recycles_total', 'Recycles started, per application.', 'counter', () => this.#perApp((app) => app.recycles));
    add('nodehost_app_failed_recycles_total', 'Recycles (deploys) whose new generation could not start, per application.', 'counter', () =>
      this.#perApp((app) => app.failedRecycles),
    );
    add(
      'nodehost_upstream_connections',
      'Open connections to the workers of the serving generation, by state: idle (kept alive for reuse) or busy.',
      'gauge',
      () => this.#upstream(),
    );
    add('nodehost_worker_processes', 'Worker processes of the serving generation by state.', 'gauge', () => this.#processStates());
    add(
      'nodehost_worker_restarts_total',
      'Worker processes started to replace another, by reason (exit, start-failure, max-requests, memory, event-loop, heap).',
      'counter',
      () => this.#restarts(),
    );
    add('nodehost_worker_resident_memory_bytes', 'Resident memory of each worker process.', 'gauge', () => this.#usage('rss'));
    add('nodehost_worker_cpu_seconds_total', 'User and system CPU time of each worker process.', 'counter', () => this.#usage('cpu'));
    add(
      'nodehost_received_bytes_total',
      "Bytes read from clients, heads and bodies, per site (a connection's bytes count for the site of its next logged response).",
      'counter',
      () => this.#perSite((site) => site.requests.bytesIn),
    );
    add('nodehost_sent_bytes_total', "Bytes written to clients, heads and bodies, per site (the access log's sc-bytes).", 'counter', () =>
      this.#perSite((site) => site.requests.bytesOut),
    );
    add(
      'nodehost_compression_identity_bytes_total',
      'Bytes compressed (before encoding), per coding: dynamic compression and encoded static answers.',
      'counter',
      () => this.#compression('identityBytes'),
    );
    add(
      'nodehost_compression_encoded_bytes_total',
      'Bytes compression produced (after encoding), per coding; the ratio to nodehost_compression_identity_bytes_total is the compression ratio.',
      'counter',
      () => this.#compression('encodedBytes'),
    );
    add('nodehost_access_log_written_bytes_total', 'Bytes written to access log files, per site.', 'counter', () =>
      this.#perSite((site) => site.accessLog?.bytesWritten),
    );
    add(
      'nodehost_access_log_dropped_lines_total',
      'Access log lines dropped because the disk could not keep up or could not be written, per site.',
      'counter',
      () => this.#perSite((site) => site.accessLog?.dropped),
    );
    add('nodehost_tls_handshakes_total', 'TLS handshakes completed, per https port, by session: new (full handshake) or resumed.', 'counter', () =>
      this.#handshakes(),
    );
    add(
      'nodehost_tls_certificate_expiry_timestamp_seconds',
      'When each certificate an https port presents expires (Unix time), per binding host name ("*": the default certificate).',
      'gauge',
      () => this.#certificates(),
      'max',
    );
    add('nodehost_host_event_loop_delay_seconds', 'Event-loop delay of each host process (quantiles since the first scrape).', 'gauge', () =>
      this.#loopDelay(),
    );
    return registry;
  }

  /** text renders this process's metrics. */
  async text(): Promise<string> {
    return (await this.registry()).metrics();
  }

  /** json is this process's metrics for AggregatorRegistry.aggregate. */
  async json(): Promise<MetricsJson> {
    return (await (await this.registry()).getMetricsAsJSON()) as unknown as MetricsJson;
  }

  /** close stops the event-loop monitor. Idempotent. */
  close(): void {
    this.#loop?.disable();
  }

  #requests(): Values {
    const values: Values = [];
    for (const source of this.#source.sites()) {
      const { requests } = source;
      const site = requests.site;
      for (const { script, counts } of requests.apps) {
        counts.byClass.forEach((value, index) => {
          if (value > 0) values.push({ value, labels: { site, app: appLabel(source, script), status_class: STATUS_CLASSES[index]! } });
        });
      }
    }
    return values;
  }

  #durations(): Values {
    const values: Values = [];
    const name = 'nodehost_request_duration_seconds';
    for (const source of this.#source.sites()) {
      const { requests } = source;
      for (const { script, counts } of requests.apps) {
        const labels: Labels = { site: requests.site, app: appLabel(source, script) };
        let cumulative = 0;
        DURATION_BUCKETS_S.forEach((le, index) => {
          cumulative += counts.buckets[index]!;
          values.push({ metricName: `${name}_bucket`, value: cumulative, labels: { ...labels, le } });
        });
        values.push({ metricName: `${name}_bucket`, value: counts.count, labels: { ...labels, le: '+Inf' } });
        values.push({ metricName: `${name}_sum`, value: counts.durationSumNs / 1e9, labels });
        values.push({ metricName: `${name}_count`, value: counts.count, labels });
      }
    }
    return values;
  }

  #cache(): Values {
    const values: Values = [];
    for (const source of this.#source.sites()) {
      const { site, apps } = source.requests;
      for (const { script, counts } of apps) {
        counts.cache.forEach((value, index) => {
          if (value > 0) values.push({ value, labels: { site, app: appLabel(source, script), result: CACHE_RESULTS[index]! } });
        });
      }
    }
    return values;
  }

  #full(): Values {
    return this.#source.sites().flatMap((source) =>
      source.requests.apps
        .filter(({ script }) => script !== '')
        .flatMap(({ script, counts }) => {
          const labels = { site: source.requests.site, app: appLabel(source, script) };
          return [
            { value: counts.full, labels: { ...labels, substatus: '1002' } },
            { value: counts.closing, labels: { ...labels, substatus: '1001' } },
          ];
        }),
    );
  }

  /** eachApp calls `visit` with every application of every site and its base labels. */
  #eachApp(visit: (app: ApplicationStats, labels: Labels) => void): void {
    for (const source of this.#source.sites()) {
      for (const app of source.apps) visit(app, { site: source.requests.site, app: appLabel(source, app.script) });
    }
  }

  #perApp(read: (app: ApplicationStats) => number): Values {
    const values: Values = [];
    this.#eachApp((app, labels) => values.push({ value: read(app), labels }));
    return values;
  }

  /** perSite is one sample per site; undefined leaves a site out. */
  #perSite(read: (site: SiteMetrics) => number | undefined): Values {
    const values: Values = [];
    for (const source of this.#source.sites()) {
      const value = read(source);
      if (value !== undefined) values.push({ value, labels: { site: source.requests.site } });
    }
    return values;
  }

  #upstream(): Values {
    const values: Values = [];
    this.#eachApp((app, labels) => {
      values.push({ value: app.upstreamConnections.idle, labels: { ...labels, state: 'idle' } });
      values.push({ value: app.upstreamConnections.busy, labels: { ...labels, state: 'busy' } });
    });
    return values;
  }

  #compression(side: 'identityBytes' | 'encodedBytes'): Values {
    return Object.entries(compressionTotals).map(([encoding, totals]) => ({ value: totals[side], labels: { encoding } }));
  }

  #handshakes(): Values {
    return this.#source
      .listeners()
      .filter((listener) => listener.protocol === 'https')
      .flatMap(({ port, handshakes }) => [
        { value: handshakes.full, labels: { port, session: 'new' } },
        { value: handshakes.resumed, labels: { port, session: 'resumed' } },
      ]);
  }

  #certificates(): Values {
    return this.#source
      .listeners()
      .flatMap(({ port, certificates }) =>
        certificates
          .filter(({ notAfterMs }) => Number.isFinite(notAfterMs))
          .map(({ name, notAfterMs }) => ({ value: notAfterMs / 1000, labels: { port, name } })),
      );
  }

  #processStates(): Values {
    const values: Values = [];
    this.#eachApp((app, labels) => {
      const byState = new Map<string, number>();
      for (const process of app.processes) byState.set(process.state, (byState.get(process.state) ?? 0) + 1);
      for (const [state, value] of byState) values.push({ value, labels: { ...labels, state } });
    });
    return values;
  }

  #restarts(): Values {
    const values: Values = [];
    this.#eachApp((app, labels) => {
      for (const [reason, value] of Object.entries(app.restartsByReason)) values.push({ value, labels: { ...labels, reason } });
    });
    return values;
  }

  #usage(which: 'rss' | 'cpu'): Values {
    const values: Values = [];
    this.#eachApp((app, labels) => {
      for (const process of app.processes) {
        if (process.pid <= 0) continue;
        const usage = readProcessUsage(process.pid);
        values.push({ value: which === 'rss' ? usage.rssBytes : usage.cpuSeconds, labels: { ...labels, pid: process.pid } });
      }
    });
    return values;
  }

  #loopDelay(): Values {
    const host = this.#source.hostProcess;
    const loop = this.#loop!;
    return [
      { value: loop.percentile(50) / 1e9, labels: { host_process: host, quantile: '0.5' } },
      { value: loop.percentile(99) / 1e9, labels: { host_process: host, quantile: '0.99' } },
      { value: loop.max / 1e9, labels: { host_process: host, quantile: '1' } },
    ];
  }
}

/** mergeMetrics renders the metrics of several host processes as one scrape (counters and gauges summed per label set). */
export async function mergeMetrics(parts: readonly MetricsJson[]): Promise<string> {
  const { AggregatorRegistry } = await import('prom-client');
  return AggregatorRegistry.aggregate(parts as never).metrics();
}

/** METRICS_CONTENT_TYPE is the Content-Type of a scrape: prom-client's `Registry.PROMETHEUS_CONTENT_TYPE`, written out so that it costs no prom-client at start. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
