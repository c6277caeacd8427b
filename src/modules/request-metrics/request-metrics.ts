/**
 * RequestMetrics counts the site's responses for `/metrics` (docs/admin.md): by application and
 * status class, a duration histogram per application, and the 503s of full applications
 * (503.1002, NH_ERR_APP_FULL). The 'log' phase module records each closed response into plain
 * integer arrays (a Map lookup by entry script and a short bucket scan, no label strings, no
 * allocation after the first response of an application); the control API reads `snapshot()`
 * when it is scraped (STYLE 11 and 15).
 */
import type { PipelineModule } from '../../http/pipeline-module.js';
import type { RequestContext } from '../../http/request-context.js';

/** DURATION_BUCKETS_S are the upper bounds of the request-duration histogram, in seconds. */
export const DURATION_BUCKETS_S: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BUCKET_BOUNDS_NS: readonly number[] = DURATION_BUCKETS_S.map((s) => s * 1e9);

/** AppRequestCounts are the counters of one application ('' for responses no application made: static files, errors). */
export class AppRequestCounts {
  /** Responses by status class: index 1 = 1xx … 5 = 5xx, 0 = anything else. */
  readonly byClass: number[] = [0, 0, 0, 0, 0, 0];
  /** Non-cumulative bucket counts; the last entry counts durations above the last bound. */
  readonly buckets: number[] = new Array<number>(DURATION_BUCKETS_S.length + 1).fill(0);
  durationSumNs = 0;
  count = 0;
  /** 503.1002: every process of the application was at maxConcurrentRequestsPerProcess. */
  full = 0;
}

/** RequestMetricsSnapshot is what a scrape reads: one entry per entry script. */
export interface RequestMetricsSnapshot {
  readonly site: string;
  readonly apps: readonly { readonly script: string; readonly counts: AppRequestCounts }[];
}

/** RequestMetrics holds a site's counters; `record(ctx)` is the per-response step. */
export class RequestMetrics {
  readonly site: string;
  readonly #apps = new Map<string, AppRequestCounts>();

  constructor(site: string) {
    this.site = site;
  }

  /** record counts one closed response. */
  record(ctx: RequestContext): void {
    const script = ctx.handler === 'iisnode' ? ctx.scriptPath : '';
    let counts = this.#apps.get(script);
    if (counts === undefined) {
      counts = new AppRequestCounts();
      this.#apps.set(script, counts);
    }
    const res = ctx.res;
    const status = res.headersSent ? res.statusCode : ctx.status || res.statusCode;
    const statusClass = (status / 100) | 0;
    counts.byClass[statusClass >= 1 && statusClass <= 5 ? statusClass : 0]!++;
    if (status === 503 && ctx.substatus === 1002) counts.full++;
    const ns = Number(process.hrtime.bigint() - ctx.startTime);
    let bucket = 0;
    while (bucket < BUCKET_BOUNDS_NS.length && ns > BUCKET_BOUNDS_NS[bucket]!) bucket++;
    counts.buckets[bucket]!++;
    counts.durationSumNs += ns;
    counts.count++;
  }

  /** snapshot returns the live counters (read them at once; they keep moving). */
  snapshot(): RequestMetricsSnapshot {
    return { site: this.site, apps: [...this.#apps].map(([script, counts]) => ({ script, counts })) };
  }
}

/** createRequestMetricsModule is the 'log' phase step that feeds `metrics`. */
export function createRequestMetricsModule(metrics: RequestMetrics): PipelineModule {
  return {
    id: 'request-metrics',
    phase: 'log',
    handle: (ctx) => {
      metrics.record(ctx);
      return 'continue';
    },
  };
}
