/**
 * RequestMetrics counts the site's responses for `/metrics` (docs/admin.md): by application and
 * status class, a duration histogram per application, output cache answers, the 503s of
 * applications that could not take a request (503.1002 full, NH_ERR_APP_FULL; 503.1001 shutting
 * down, NH_ERR_APP_RECYCLING), and the bytes the site's connections read and wrote (head and
 * body, counted on the connection the way the access log's sc-bytes is: what a connection moved
 * since its previous response was logged goes to the site of this one). The 'log' phase module records each closed response into plain
 * integer arrays (a Map lookup by entry script and a short bucket scan, no label strings, no
 * allocation after the first response of an application); the control API reads `snapshot()`
 * when it is scraped (STYLE 11 and 15).
 */
import type { PipelineModule } from '../../http/pipeline-module.js';
import { http2ConnectionOf } from '../../http/http2-connection-of.js';
import { monotonicMs } from '../../http/monotonic-ms.js';
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
  /** 503.1001: the application was shutting down (stopped, or the host draining) and took no new request. */
  closing = 0;
  /** Output cache answers by CACHE_RESULTS index: hit, miss, collapsed, stale. */
  readonly cache: number[] = [0, 0, 0, 0];
}

/** CACHE_RESULTS are the output cache's answers counted per application, in `AppRequestCounts.cache` order. */
export const CACHE_RESULTS = ['hit', 'miss', 'collapsed', 'stale'] as const;

/** Bytes a connection had read and written when its previous response was logged. */
interface CountedBytes {
  read: number;
  written: number;
}
const countedBytes = new WeakMap<object, CountedBytes>();

/** CountedSocket is what the counters read of a connection (net.Socket's `_bytesDispatched` included). */
interface CountedSocket {
  readonly bytesRead: number | undefined;
  readonly bytesWritten: number | undefined;
  readonly writableLength: number;
  readonly _bytesDispatched?: number;
}

/**
 * writtenBytes is what a connection has written: the bytes handed to the system plus those
 * queued, as node's `bytesWritten` counts them but without its copy of the write queue on
 * every call (undefined when the socket cannot tell, e.g. destroyed).
 */
function writtenBytes(socket: CountedSocket): number | undefined {
  const dispatched = socket._bytesDispatched;
  return typeof dispatched === 'number' ? dispatched + socket.writableLength : socket.bytesWritten;
}

/** RequestMetricsSnapshot is what a scrape reads: one entry per entry script. */
export interface RequestMetricsSnapshot {
  readonly site: string;
  /** Bytes the site's connections read (requests) and wrote (responses), heads included. */
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly apps: readonly { readonly script: string; readonly counts: AppRequestCounts }[];
}

/** RequestMetrics holds a site's counters; `record(ctx)` is the per-response step. */
export class RequestMetrics {
  readonly site: string;
  readonly #apps = new Map<string, AppRequestCounts>();
  #bytesIn = 0;
  #bytesOut = 0;

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
    if (status === 503) {
      if (ctx.substatus === 1002) counts.full++;
      else if (ctx.substatus === 1001) counts.closing++;
    }
    const cache = ctx.cacheResult;
    if (cache !== '') counts.cache[cache === 'hit' ? 0 : cache === 'miss' ? 1 : cache === 'collapsed' ? 2 : 3]!++;
    const ns = (monotonicMs() - ctx.startTime) * 1e6;
    let bucket = 0;
    while (bucket < BUCKET_BOUNDS_NS.length && ns > BUCKET_BOUNDS_NS[bucket]!) bucket++;
    counts.buckets[bucket]!++;
    counts.durationSumNs += ns;
    counts.count++;
    // HTTP/2: the streams of a session share its connection (the session's own socket, while it lasts).
    let socket: CountedSocket | undefined = ctx.req.socket as CountedSocket;
    if (ctx.req.httpVersionMajor === 2) {
      const connection = http2ConnectionOf(ctx.req);
      socket = connection === undefined || connection.destroyed ? undefined : (connection.socket as CountedSocket);
    }
    if (socket == null) return;
    let counted = countedBytes.get(socket);
    if (counted === undefined) {
      counted = { read: 0, written: 0 };
      countedBytes.set(socket, counted);
    }
    const read = socket.bytesRead ?? counted.read;
    const written = writtenBytes(socket) ?? counted.written;
    this.#bytesIn += read - counted.read;
    this.#bytesOut += written - counted.written;
    counted.read = read;
    counted.written = written;
  }

  /** snapshot returns the live counters (read them at once; they keep moving). */
  snapshot(): RequestMetricsSnapshot {
    return { site: this.site, bytesIn: this.#bytesIn, bytesOut: this.#bytesOut, apps: [...this.#apps].map(([script, counts]) => ({ script, counts })) };
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
