/**
 * AcmeCertificates obtains and renews the certificates of the sites with `tls: { acme: true }`
 * from an ACME directory (RFC 8555, through the acme-client library), one certificate per site
 * for every host name of its https bindings:
 *
 *   start ─▶ stored certificate? ─ from the directory, same names, not due ─▶ wait until due ─┐
 *               │ none / temporary / names changed / due                                     │
 *               ▼                                                                            │
 *             order (HTTP-01 when the site has an http binding, else TLS-ALPN-01) ◀──────────┘
 *               ├─ issued ─▶ write <site>.pem, onIssued(site) (new handshakes get it) ─▶ wait until due
 *               └─ failed ─▶ host log, retry after a backoff (acme.retryDelay, 1 min by default, doubling to 12 h)
 *
 * A certificate is due a third of its lifetime before it expires, at most 30 days before. When
 * the directory offers renewal information (ARI, renewal-info.ts), a kept certificate's window is
 * asked for at start and then as often as the directory's Retry-After says: a window that has begun
 * (a revocation coming or done) orders at once, and a point inside the window earlier than the due
 * time moves the renewal there.
 * Until a site's first certificate arrives it serves a temporary self-signed one.
 */
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import type acmeClient from 'acme-client';
import type { AcmeSettings } from '../../config/host-config.js';
import { NodehostError } from '../../errors.js';
import type { HostLog } from '../../host-log.js';
import { AcmeStore } from './acme-store.js';
import { ChallengeAnswers } from './challenge-answers.js';
import { certId, parseRenewalInfo, planRenewal, type RenewalInfo, RETRY_MIN_MS as RENEWAL_INFO_RETRY_MS } from './renewal-info.js';
import { TEMPORARY_ISSUER, temporaryCertificate } from './temporary-certificate.js';
import { lazyRequire } from '../../lazy-require.js';

// Loaded when an order needs them: a host without ACME never loads them.
const tls = lazyRequire<typeof import('node:tls')>('node:tls');
const https = lazyRequire<typeof import('node:https')>('node:https');

const RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;
/** The first wait after a failed order when acme.retryDelay is not set. */
const RETRY_MIN_MS = 60_000;
/** A directory's renewal window re-orders a certificate this process just got no sooner than this. */
const REORDER_AFTER_MS = 3600 * 1000;
const RETRY_MAX_MS = 12 * 3600 * 1000;
/** setTimeout holds at most 2^31-1 ms: a wait longer than a day is checked again after a day. */
const MAX_WAIT_MS = 24 * 3600 * 1000;

/**
 * loadAcmeClient loads acme-client on the first order: it costs about 25 MiB and a few hundred
 * milliseconds of CPU, which a host without an ACME site should not pay at every start.
 */
let acmeClientModule: Promise<typeof acmeClient> | undefined;
function loadAcmeClient(): Promise<typeof acmeClient> {
  acmeClientModule ??= import('acme-client').then((loaded) => loaded.default);
  return acmeClientModule;
}

/** AcmeSite is one site to certify. */
export interface AcmeSite {
  readonly name: string;
  /** The host names of its https bindings. */
  readonly names: readonly string[];
  /** HTTP-01 when the site has an http binding (its port 80 in production), else TLS-ALPN-01. */
  readonly challenge: 'http-01' | 'tls-alpn-01';
}

/** CertificateStatus is one site's line in the control API's status. */
export interface CertificateStatus {
  readonly site: string;
  readonly names: readonly string[];
  readonly issuer: string;
  readonly notAfter: string;
  readonly renewAt: string;
  /** `ordering` while an order is under way, `temporary` while the self-signed one serves, else `valid`. */
  readonly state: 'ordering' | 'temporary' | 'valid';
  readonly lastError?: string | undefined;
}

/** StoredCertificate is what the site's PEM file holds. */
export interface StoredCertificate {
  readonly issuer: string;
  readonly names: readonly string[];
  readonly notBefore: number;
  readonly notAfter: number;
}

/** readStored parses a site PEM's first certificate; undefined when there is none. */
function readStored(pem: string | undefined): StoredCertificate | undefined {
  const first = pem === undefined ? null : /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem);
  if (first === null) return undefined;
  try {
    const certificate = new X509Certificate(first[0]);
    const names = (certificate.subjectAltName ?? '')
      .split(', ')
      .filter((entry) => entry.startsWith('DNS:'))
      .map((entry) => entry.slice(4).toLowerCase());
    const issuer = /(?:^|\n)CN=(.*)/.exec(certificate.issuer)?.[1] ?? certificate.issuer;
    return { issuer, names, notBefore: Date.parse(certificate.validFrom), notAfter: Date.parse(certificate.validTo) };
  } catch {
    return undefined;
  }
}

/** renewAt is when a certificate is due: a third of its lifetime before it ends, at most 30 days before. */
export function renewAt(notBefore: number, notAfter: number): number {
  return notAfter - Math.min(RENEW_BEFORE_MS, (notAfter - notBefore) / 3);
}

/** orderReason says why a site needs a new certificate now (none stored, the temporary one, other names, due), or undefined when it has one to keep. */
export function orderReason(stored: StoredCertificate | undefined, names: readonly string[], now: number): string | undefined {
  if (stored === undefined || stored.issuer === TEMPORARY_ISSUER) return 'first certificate';
  if ([...stored.names].sort().join(',') !== [...names].sort().join(',')) return 'names changed';
  if (now >= renewAt(stored.notBefore, stored.notAfter)) return 'renewal';
  return undefined;
}

interface SiteState {
  readonly site: AcmeSite;
  readonly pem: string;
  timer: NodeJS.Timeout | undefined;
  isOrdering: boolean;
  retryMs: number;
  lastError: string | undefined;
  /** The directory's last renewal window for the stored certificate, and the point drawn inside it. */
  window: { readonly start: number; readonly end: number; readonly chosen: number } | undefined;
  /** When this process last stored an issued certificate (a directory's window never re-orders sooner than an hour after). */
  issuedAt: number | undefined;
}

export class AcmeCertificates {
  readonly challenges: ChallengeAnswers;
  readonly #settings: AcmeSettings;
  readonly #log: HostLog;
  readonly #store: AcmeStore;
  readonly #sites: SiteState[];
  #client: Promise<acmeClient.Client> | undefined;
  /** The directory's `renewalInfo` URL ('' when it offers none), asked once. */
  #renewalInfoUrl: Promise<string> | undefined;
  #isClosed = false;
  /** Called after a site's PEM file was replaced, so the listeners load it for new handshakes. */
  onIssued: ((site: string) => void) | undefined;

  /** The constructor writes a temporary certificate for every site that has no stored one, so the listeners can start. */
  constructor(settings: AcmeSettings, sites: readonly AcmeSite[], log: HostLog, challenges = new ChallengeAnswers()) {
    this.challenges = challenges;
    this.#settings = settings;
    this.#log = log;
    try {
      this.#store = new AcmeStore(settings.storage, settings.directory);
      this.#sites = sites.map((site) => {
        const pem = this.#store.sitePem(site.name);
        if (readStored(this.#store.read(pem)) === undefined) this.#store.write(pem, temporaryCertificate(site.names));
        return { site, pem, timer: undefined, isOrdering: false, retryMs: 0, lastError: undefined, window: undefined, issuedAt: undefined };
      });
    } catch (err) {
      throw new NodehostError('NH_ERR_ACME_STORAGE', `cannot use the acme storage ${settings.storage}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** pemFile is the file a site's certificate and key are served from. */
  pemFile(site: string): string {
    return this.#store.sitePem(site);
  }

  /** start orders what is missing or due and plans every renewal. */
  start(): void {
    for (const state of this.#sites) this.#check(state);
  }

  close(): void {
    this.#isClosed = true;
    for (const state of this.#sites) clearTimeout(state.timer);
  }

  status(): CertificateStatus[] {
    return this.#sites.map((state) => {
      const stored = readStored(this.#store.read(state.pem));
      const isTemporary = stored === undefined || stored.issuer === TEMPORARY_ISSUER;
      return {
        site: state.site.name,
        names: state.site.names,
        issuer: stored?.issuer ?? '',
        notAfter: stored === undefined ? '' : new Date(stored.notAfter).toISOString(),
        renewAt: stored === undefined || isTemporary ? '' : new Date(renewAt(stored.notBefore, stored.notAfter)).toISOString(),
        state: state.isOrdering ? 'ordering' : isTemporary ? 'temporary' : 'valid',
        ...(state.lastError === undefined ? {} : { lastError: state.lastError }),
      };
    });
  }

  /** check orders now when the stored certificate is not one to keep, else plans its renewal (the directory's renewal information, the due time). */
  #check(state: SiteState): void {
    if (this.#isClosed) return;
    const pem = this.#store.read(state.pem);
    const stored = readStored(pem);
    const reason = orderReason(stored, state.site.names, Date.now());
    if (reason === undefined) void this.#plan(state, pem!, renewAt(stored!.notBefore, stored!.notAfter));
    else void this.#order(state, reason);
  }

  /** plan asks the directory's renewal information (when it has some) and orders now or waits for the next check. */
  async #plan(state: SiteState, pem: string, due: number): Promise<void> {
    let info: RenewalInfo | undefined;
    let isUnanswered = false;
    try {
      info = await this.#renewalInfo(pem);
    } catch (err) {
      isUnanswered = true;
      this.#log.warn('renewal information failed', { site: state.site.name, message: (err as Error).message, keeps: 'the due time of its own' });
    }
    if (this.#isClosed) return;
    if (info !== undefined && (state.window?.start !== info.start || state.window.end !== info.end))
      state.window = { start: info.start, end: info.end, chosen: Math.random() };
    const now = Date.now();
    let plan = planRenewal(due, info, state.window?.chosen ?? 0, now);
    if (plan.order && due > now && state.issuedAt !== undefined && now - state.issuedAt < REORDER_AFTER_MS) {
      this.#log.warn('renewal information asks to renew a certificate issued just now', { site: state.site.name, keeps: 'the certificate it serves' });
      plan = { order: false, at: state.issuedAt + REORDER_AFTER_MS };
    }
    if (plan.order) {
      void this.#order(state, due <= now ? 'renewal' : 'renewal information', info?.explanationUrl);
      return;
    }
    // A directory that did not answer is asked again after the shortest wait, not only when the certificate is due.
    const at = isUnanswered ? Math.min(plan.at, now + RENEWAL_INFO_RETRY_MS) : plan.at;
    this.#log.info('certificate renewal planned', {
      site: state.site.name,
      checkAt: new Date(at).toISOString(),
      dueAt: new Date(due).toISOString(),
      ...(info === undefined ? {} : { windowStart: new Date(info.start).toISOString(), windowEnd: new Date(info.end).toISOString() }),
    });
    this.#wait(state, at - now);
  }

  /** renewalInfo is the directory's answer for the stored certificate; undefined when the directory has no renewal information. */
  async #renewalInfo(pem: string): Promise<RenewalInfo | undefined> {
    const acme = await loadAcmeClient();
    await this.#accountClient();
    this.#renewalInfoUrl ??= acme.axios.get(this.#settings.directory).then((reply) => {
      const url = (reply.data as { renewalInfo?: unknown } | null)?.renewalInfo;
      return typeof url === 'string' ? url : '';
    });
    this.#renewalInfoUrl.catch(() => {
      this.#renewalInfoUrl = undefined;
    });
    const url = await this.#renewalInfoUrl;
    const certificate = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
    const id = url === '' || certificate === undefined ? undefined : certId(certificate);
    if (id === undefined) return undefined;
    const reply = await acme.axios.get(`${url.replace(/\/$/, '')}/${id}`);
    const retryAfter = reply.headers['retry-after'];
    return parseRenewalInfo(reply.data, typeof retryAfter === 'string' ? retryAfter : undefined, Date.now());
  }

  #wait(state: SiteState, ms: number): void {
    clearTimeout(state.timer);
    state.timer = setTimeout(() => this.#check(state), Math.max(0, Math.min(ms, MAX_WAIT_MS)));
    state.timer.unref();
  }

  async #order(state: SiteState, reason: string, explanationUrl?: string): Promise<void> {
    const { site } = state;
    state.isOrdering = true;
    this.#log.info('certificate ordered', {
      site: site.name,
      names: site.names,
      reason,
      challenge: site.challenge,
      directory: this.#settings.directory,
      ...(explanationUrl === undefined ? {} : { explanationUrl }),
    });
    try {
      const client = await this.#accountClient();
      const acme = await loadAcmeClient();
      const [key, csr] = await acme.crypto.createCsr({ altNames: [...site.names] }, await acme.crypto.createPrivateEcdsaKey());
      const chain = await client.auto({
        csr,
        email: this.#settings.email,
        termsOfServiceAgreed: true,
        challengePriority: [site.challenge],
        // The directory checks the answer itself; a check from here would need the public DNS name to reach this host.
        skipChallengeVerification: true,
        challengeCreateFn: async (authz, challenge, keyAuthorization) => {
          if (challenge.type === 'http-01') this.challenges.setHttp(challenge.token, keyAuthorization);
          else {
            const [alpnKey, alpnCertificate] = await acme.crypto.createAlpnCertificate(authz, keyAuthorization);
            this.challenges.setTlsAlpn(authz.identifier.value, tls().createSecureContext({ key: alpnKey, cert: alpnCertificate }));
          }
        },
        challengeRemoveFn: async (authz, challenge) => {
          if (challenge.type === 'http-01') this.challenges.deleteHttp(challenge.token);
          else this.challenges.deleteTlsAlpn(authz.identifier.value);
        },
      });
      if (this.#isClosed) return;
      this.#store.write(state.pem, `${key.toString()}${chain}`);
      const stored = readStored(this.#store.read(state.pem))!;
      state.retryMs = 0;
      state.lastError = undefined;
      this.#log.info('certificate issued', {
        site: site.name,
        names: site.names,
        issuer: stored.issuer,
        notAfter: new Date(stored.notAfter).toISOString(),
        renewAt: new Date(renewAt(stored.notBefore, stored.notAfter)).toISOString(),
      });
      state.window = undefined;
      state.issuedAt = Date.now();
      this.onIssued?.(site.name);
      this.#check(state);
    } catch (err) {
      state.retryMs = Math.min(RETRY_MAX_MS, Math.max(this.#settings.retryDelayMs ?? RETRY_MIN_MS, state.retryMs * 2));
      state.lastError = (err as Error).message;
      this.#log.error('certificate order failed', {
        code: 'NH_ERR_ACME_ORDER',
        site: site.name,
        names: site.names,
        message: (err as Error).message,
        retryInMs: state.retryMs,
        keeps: 'the certificate it serves',
      });
      this.#wait(state, state.retryMs);
    } finally {
      state.isOrdering = false;
    }
  }

  /** accountClient is the directory's client with the stored account key (made and stored on first use). */
  #accountClient(): Promise<acmeClient.Client> {
    this.#client ??= (async () => {
      const acme = await loadAcmeClient();
      if (this.#settings.caFile !== undefined) {
        // A private directory's HTTPS certificate: trusted besides the usual roots (NODE_EXTRA_CA_CERTS works too).
        acme.axios.defaults.httpsAgent = new (https().Agent)({ ca: [...tls().rootCertificates, readFileSync(this.#settings.caFile, 'utf8')] });
      }
      let accountKey = this.#store.read(this.#store.accountKeyFile);
      if (accountKey === undefined) {
        accountKey = (await acme.crypto.createPrivateEcdsaKey()).toString();
        this.#store.write(this.#store.accountKeyFile, accountKey);
      }
      return new acme.Client({ directoryUrl: this.#settings.directory, accountKey });
    })();
    // A failure (an unreadable caFile) is tried again at the next order.
    this.#client.catch(() => {
      this.#client = undefined;
    });
    return this.#client;
  }
}
