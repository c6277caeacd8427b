/**
 * The IP restrictions module (phase 'begin', before anything reads the request, as IIS runs
 * them in BeginRequest): `ipSecurity` (the first entry whose subnet holds the client address
 * decides; none: allowUnlisted) answers 403.503, and `dynamicIpSecurity` (concurrent requests
 * and requests per interval, per client address) 403.502, or what denyAction says. The
 * counters belong to the site and to this front-door process; a URL whose configuration turns
 * neither on pays nothing.
 */
import { isIPv6 } from 'node:net';
import { ERRORS, type ErrorCode } from '../../errors.js';
import type { DynamicIpSecurityConfig, IpSecurityConfig, IpSecurityDenyAction } from '../../config/security-types.js';
import { fail } from '../../http/error-outcome.js';
import type { Outcome, PipelineModule } from '../../http/pipeline-module.js';
import type { RequestContext } from '../../http/request-context.js';

/** isAddressAllowed applies ipSecurity to a client address (IPv4-mapped IPv6 already unwrapped by the request context). */
export function isAddressAllowed(config: IpSecurityConfig, address: string): boolean {
  const family = isIPv6(address) ? 'ipv6' : 'ipv4';
  for (const rule of config.rules) if (rule.family === family && rule.subnet.check(address, family)) return rule.allowed;
  return config.allowUnlisted;
}

const MAX_ADDRESSES = 10_000;

interface ClientCount {
  active: number;
  windowStart: number;
  requests: number;
}

/** RequestCounters tracks dynamicIpSecurity's two counts per client address. */
export class RequestCounters {
  readonly #clients = new Map<string, ClientCount>();

  /** admit counts a request of `address` at `now` and tells whether the limits let it in; an admitted request must be released once. */
  admit(address: string, now: number, config: DynamicIpSecurityConfig): boolean {
    let client = this.#clients.get(address);
    if (client === undefined) {
      if (this.#clients.size >= MAX_ADDRESSES) this.#prune(now, config.requestIntervalMs);
      client = { active: 0, windowStart: now, requests: 0 };
      this.#clients.set(address, client);
    }
    if (config.maxRequests > 0) {
      if (now - client.windowStart >= config.requestIntervalMs) {
        client.windowStart = now;
        client.requests = 0;
      }
      client.requests++;
      if (client.requests > config.maxRequests) return false;
    }
    if (config.maxConcurrentRequests > 0 && client.active >= config.maxConcurrentRequests) return false;
    client.active++;
    return true;
  }

  /** release ends an admitted request of `address`. */
  release(address: string): void {
    const client = this.#clients.get(address);
    if (client !== undefined && client.active > 0) client.active--;
  }

  #prune(now: number, intervalMs: number): void {
    for (const [address, client] of this.#clients) if (client.active === 0 && now - client.windowStart >= intervalMs) this.#clients.delete(address);
  }
}

const STATIC_DENIALS: Record<IpSecurityDenyAction, ErrorCode> = {
  Forbidden: 'NH_ERR_IP_DENIED',
  Unauthorized: 'NH_ERR_IP_DENIED_UNAUTHORIZED',
  NotFound: 'NH_ERR_IP_DENIED_NOT_FOUND',
  AbortRequest: 'NH_ERR_IP_DENIED',
};
const DYNAMIC_DENIALS: Record<IpSecurityDenyAction, ErrorCode> = {
  Forbidden: 'NH_ERR_IP_DYNAMIC_DENIED',
  Unauthorized: 'NH_ERR_IP_DYNAMIC_DENIED_UNAUTHORIZED',
  NotFound: 'NH_ERR_IP_DYNAMIC_DENIED_NOT_FOUND',
  AbortRequest: 'NH_ERR_IP_DYNAMIC_DENIED',
};

function deny(ctx: RequestContext, action: IpSecurityDenyAction, code: ErrorCode): Outcome {
  if (action !== 'AbortRequest') return fail(code);
  // AbortRequest: the connection is closed without a response (IIS logs it as the denial's status).
  ctx.status = ERRORS[code].status;
  ctx.substatus = ERRORS[code].substatus;
  ctx.req.socket.destroy();
  return 'finish';
}

/** createIpSecurityModule builds the module of one site (its dynamic counters are the site's). */
export function createIpSecurityModule(): PipelineModule {
  const counters = new RequestCounters();
  return {
    id: 'ip-security',
    phase: 'begin',
    handle(ctx: RequestContext): Outcome {
      const security = ctx.config?.security;
      if (security === undefined) return 'continue';
      const ip = security.ipSecurity;
      if (ip !== undefined && !isAddressAllowed(ip, ctx.remoteAddress)) return deny(ctx, ip.denyAction, STATIC_DENIALS[ip.denyAction]);
      const dynamic = security.dynamicIpSecurity;
      if (dynamic === undefined) return 'continue';
      const address = ctx.remoteAddress;
      if (!counters.admit(address, Date.now(), dynamic)) return deny(ctx, dynamic.denyAction, DYNAMIC_DENIALS[dynamic.denyAction]);
      ctx.res.once('close', () => counters.release(address));
      return 'continue';
    },
  };
}
