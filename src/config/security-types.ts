/**
 * The compiled shapes of `system.webServer/security` beyond request filtering: authentication
 * (anonymous and Basic), URL Authorization rules, ipSecurity and dynamicIpSecurity. Frozen;
 * produced by security-config.ts, read by the authentication, authorization and ip-security
 * modules.
 */
import type { BlockList } from 'node:net';
import type { SourcePosition } from '../errors.js';

/** AuthenticationConfig is the effective `<authentication>` of one URL. */
export interface AuthenticationConfig {
  /** `<anonymousAuthentication enabled>`; default true. */
  readonly anonymousEnabled: boolean;
  /** `<basicAuthentication enabled>`; default false. */
  readonly basicEnabled: boolean;
  /** `<basicAuthentication realm>`; '' (the default) means the request's host name. */
  readonly realm: string;
  /**
   * nodehost's own `forwardAuthorizationHeader` on `<basicAuthentication>`: whether node still
   * receives the `Authorization` header of an accepted Basic login. Default false.
   */
  readonly forwardAuthorizationHeader: boolean;
  /** nodehost's own `maxFailedLogins`: failures from one client address within the window before it is locked out (429). Default 10; 0 turns the limit off. */
  readonly maxFailedLogins: number;
  /** nodehost's own `failedLoginWindowSeconds`: the window the failures are counted in. Default 60. */
  readonly failedLoginWindowMs: number;
  /** nodehost's own `failedLoginLockoutSeconds`: how long a locked-out address gets 429. Default 60. */
  readonly lockoutMs: number;
}

/** AuthorizationRule is one compiled `<authorization><add>`. */
export interface AuthorizationRule {
  readonly isAllow: boolean;
  /** users="*": everyone, anonymous included. */
  readonly allUsers: boolean;
  /** users contains "?": anonymous users. */
  readonly anonymous: boolean;
  /** Lower-case user names. */
  readonly users: ReadonlySet<string>;
  /** Lower-case role names. */
  readonly roles: ReadonlySet<string>;
  /** Upper-case verbs; undefined means every verb. */
  readonly verbs: ReadonlySet<string> | undefined;
  /** Where the rule was added; undefined for the built-in "Allow *". */
  readonly source: SourcePosition | undefined;
}

/** AuthorizationConfig holds the rules in force, deny rules first (IIS URL Authorization order). */
export interface AuthorizationConfig {
  readonly rules: readonly AuthorizationRule[];
}

/** IpSecurityDenyAction is what a denied client gets: 403 (Forbidden, the default), 401, 404, or a closed connection. */
export type IpSecurityDenyAction = 'Forbidden' | 'Unauthorized' | 'NotFound' | 'AbortRequest';

/** IpRule is one compiled `<ipSecurity><add>`: an address or subnet and whether it is allowed. */
export interface IpRule {
  /** The subnet as written, for messages (`10.0.0.0/8`). */
  readonly text: string;
  readonly family: 'ipv4' | 'ipv6';
  readonly subnet: BlockList;
  readonly allowed: boolean;
}

/** IpSecurityConfig is the effective `<ipSecurity>`: the first matching entry decides, else allowUnlisted. */
export interface IpSecurityConfig {
  readonly allowUnlisted: boolean;
  readonly denyAction: IpSecurityDenyAction;
  readonly rules: readonly IpRule[];
}

/** DynamicIpSecurityConfig is the effective `<dynamicIpSecurity>`. */
export interface DynamicIpSecurityConfig {
  readonly denyAction: IpSecurityDenyAction;
  /** denyByConcurrentRequests: maxConcurrentRequests when enabled, else 0 (off). IIS default 5. */
  readonly maxConcurrentRequests: number;
  /** denyByRequestRate: maxRequests per requestIntervalInMilliseconds when enabled, else 0 (off). IIS defaults 20 per 200 ms. */
  readonly maxRequests: number;
  readonly requestIntervalMs: number;
}

/** SecurityConfig is the compiled security of one URL; a part that is off is undefined, so requests pay only for what is configured. */
export interface SecurityConfig {
  readonly authentication: AuthenticationConfig;
  readonly authorization: AuthorizationConfig;
  /** Undefined when no ipSecurity entry exists and allowUnlisted is true. */
  readonly ipSecurity: IpSecurityConfig | undefined;
  /** Undefined when neither dynamic restriction is enabled. */
  readonly dynamicIpSecurity: DynamicIpSecurityConfig | undefined;
}
