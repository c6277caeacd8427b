/**
 * The authentication module (phase 'authenticate'): anonymous access and Basic
 * (RFC 7617) against the site's users file. It sets ctx.authUser, authType ('Basic') and
 * authRoles, which become the AUTH_USER, AUTH_TYPE and LOGON_USER server variables.
 *
 *   Basic off, anonymous on   ──▶ continue (the Authorization header is node's business)
 *   no Basic credentials      ──▶ anonymous when enabled, else 401.2 with the challenge
 *   Basic credentials         ──▶ locked-out address: 429; good: the user; bad: 401.1 with the challenge
 *
 * A verified `Authorization` value is remembered (by its SHA-256, bounded, dropped when the
 * users file changes), so a client that logs in on every request pays the hash once.
 */
import { createHash } from 'node:crypto';
import type { AuthenticationConfig } from '../../config/security-types.js';
import { fail } from '../../http/error-outcome.js';
import type { Outcome, PipelineModule } from '../../http/pipeline-module.js';
import type { RequestContext } from '../../http/request-context.js';
import { LoginLimiter } from './login-limiter.js';
import { verifyPassword } from './password-hash.js';
import type { UserEntry, UsersFile } from './users-file.js';

/** DEFAULT_AUTHENTICATION is IIS's: anonymous on, Basic off. */
const DEFAULT_AUTHENTICATION: AuthenticationConfig = Object.freeze({
  anonymousEnabled: true,
  basicEnabled: false,
  realm: '',
  forwardAuthorizationHeader: false,
  maxFailedLogins: 10,
  failedLoginWindowMs: 60_000,
  lockoutMs: 60_000,
});

const MAX_VERIFIED = 1000;

/** authenticationOf gives the effective authentication settings of a request. */
export function authenticationOf(ctx: RequestContext): AuthenticationConfig {
  return ctx.config?.security?.authentication ?? DEFAULT_AUTHENTICATION;
}

/**
 * setChallenge adds `WWW-Authenticate: Basic realm="…", charset="UTF-8"` to the response when
 * Basic is enabled for the request's URL; the realm defaults to the host name asked for.
 */
export function setChallenge(ctx: RequestContext): void {
  const auth = authenticationOf(ctx);
  if (!auth.basicEnabled || ctx.res.headersSent) return;
  const realm = (auth.realm || ctx.serverName).replace(/["\\]/g, '\\$&');
  ctx.res.setHeader('WWW-Authenticate', `Basic realm="${realm}", charset="UTF-8"`);
}

/** parseBasicCredentials splits a Basic `Authorization` value into user and password (UTF-8); undefined when it is not Basic or malformed. */
export function parseBasicCredentials(header: string): { user: string; password: string } | undefined {
  if (header.length < 6 || header.slice(0, 6).toLowerCase() !== 'basic ') return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** AuthenticationOptions are what the module needs from the server. */
export interface AuthenticationOptions {
  /** The site's users file; undefined when nodehost.yml names none (every Basic login then fails). */
  readonly users: UsersFile | undefined;
}

/** createAuthenticationModule builds the module of one site (its limiter and cache are the site's). */
export function createAuthenticationModule(options: AuthenticationOptions): PipelineModule {
  const limiter = new LoginLimiter();
  const verified = new Map<string, UserEntry>();
  let generation = options.users?.generation ?? 0;

  const login = async (ctx: RequestContext, header: string, auth: AuthenticationConfig): Promise<Outcome> => {
    const now = Date.now();
    const lockedMs = limiter.lockedFor(ctx.remoteAddress, now);
    if (lockedMs > 0) {
      if (!ctx.res.headersSent) ctx.res.setHeader('Retry-After', String(Math.ceil(lockedMs / 1000)));
      return fail('NH_ERR_AUTH_RATE_LIMITED');
    }
    const users = options.users;
    const credentials = parseBasicCredentials(header);
    const entry = credentials === undefined ? undefined : users?.find(credentials.user);
    if (users !== undefined && users.generation !== generation) {
      generation = users.generation;
      verified.clear();
    }
    const key = createHash('sha256').update(header).digest('base64');
    let user = entry !== undefined && verified.get(key) === entry ? entry : undefined;
    if (user === undefined && entry !== undefined && (await verifyPassword(credentials!.password, entry.hash))) {
      user = entry;
      if (verified.size >= MAX_VERIFIED) verified.clear();
      verified.set(key, entry);
    }
    if (user === undefined) {
      limiter.recordFailure(ctx.remoteAddress, now, auth.maxFailedLogins, auth.failedLoginWindowMs, auth.lockoutMs);
      setChallenge(ctx);
      return fail('NH_ERR_AUTH_LOGON_FAILED');
    }
    limiter.recordSuccess(ctx.remoteAddress);
    ctx.authUser = user.name;
    ctx.authType = 'Basic';
    ctx.authRoles = user.roles;
    ctx.isAuthorizationHidden = !auth.forwardAuthorizationHeader;
    return 'continue';
  };

  return {
    id: 'authentication',
    phase: 'authenticate',
    handle(ctx: RequestContext): Outcome | Promise<Outcome> {
      const auth = authenticationOf(ctx);
      if (!auth.basicEnabled) return auth.anonymousEnabled ? 'continue' : fail('NH_ERR_AUTH_REQUIRED');
      const header = ctx.req.headers.authorization;
      if (header !== undefined && header.length > 6 && header.slice(0, 6).toLowerCase() === 'basic ') return login(ctx, header, auth);
      if (auth.anonymousEnabled) return 'continue';
      setChallenge(ctx);
      return fail('NH_ERR_AUTH_REQUIRED');
    },
  };
}
