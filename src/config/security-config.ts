/**
 * The security sections nodehost implements besides request filtering (docs/security.md):
 * `system.webServer/security/authentication` (anonymousAuthentication, basicAuthentication),
 * `authorization` (IIS URL Authorization), `ipSecurity` and `dynamicIpSecurity`.
 * readSecurityPart reads one child of `<security>` into a section; SecurityMerge merges the
 * sections of the configuration levels and freezes them into a SecurityConfig.
 */
import { BlockList, isIP } from 'node:net';
import type { NodehostError } from '../errors.js';
import { mergeCollection, type CollectionOp, type Entry } from './collection-merge.js';
import type { AuthorizationRule, IpRule, IpSecurityDenyAction, SecurityConfig } from './security-types.js';
import { AttributeReader, configError, sourcePosition } from './xml-attributes.js';
import type { XmlElement } from './xml.js';

export type { SecurityConfig };

/** SecuritySection is what one configuration place declares (undefined: not set there). */
export interface SecuritySection {
  anonymousEnabled: boolean | undefined;
  basicEnabled: boolean | undefined;
  realm: string | undefined;
  forwardAuthorizationHeader: boolean | undefined;
  maxFailedLogins: number | undefined;
  failedLoginWindowSeconds: number | undefined;
  failedLoginLockoutSeconds: number | undefined;
  readonly authorization: CollectionOp<AuthorizationRule>[];
  ipAllowUnlisted: boolean | undefined;
  ipDenyAction: IpSecurityDenyAction | undefined;
  readonly ipRules: CollectionOp<IpRule>[];
  dynamicDenyAction: IpSecurityDenyAction | undefined;
  concurrentEnabled: boolean | undefined;
  maxConcurrentRequests: number | undefined;
  rateEnabled: boolean | undefined;
  maxRequests: number | undefined;
  requestIntervalMs: number | undefined;
}

/** newSecuritySection returns a section that sets nothing. */
export function newSecuritySection(): SecuritySection {
  return {
    anonymousEnabled: undefined,
    basicEnabled: undefined,
    realm: undefined,
    forwardAuthorizationHeader: undefined,
    maxFailedLogins: undefined,
    failedLoginWindowSeconds: undefined,
    failedLoginLockoutSeconds: undefined,
    authorization: [],
    ipAllowUnlisted: undefined,
    ipDenyAction: undefined,
    ipRules: [],
    dynamicDenyAction: undefined,
    concurrentEnabled: undefined,
    maxConcurrentRequests: undefined,
    rateEnabled: undefined,
    maxRequests: undefined,
    requestIntervalMs: undefined,
  };
}

const WHERE = 'system.webServer/security';
const DENY_ACTIONS = ['Forbidden', 'Unauthorized', 'NotFound', 'AbortRequest'] as const;
/** Authentication schemes IIS knows and nodehost does not implement: accepted so IIS files load, never used. */
const OTHER_SCHEMES: ReadonlySet<string> = new Set([
  'windowsAuthentication',
  'digestAuthentication',
  'clientCertificateMappingAuthentication',
  'iisClientCertificateMappingAuthentication',
  'formsAuthentication',
]);

/** SECURITY_PARTS are the children of `<security>` readSecurityPart reads. */
export const SECURITY_PARTS: ReadonlySet<string> = new Set(['authentication', 'authorization', 'ipSecurity', 'dynamicIpSecurity']);

/** readSecurityPart reads one child of `<security>` named in SECURITY_PARTS into `out`; problems go to `errors` with file:line. */
export function readSecurityPart(part: XmlElement, file: string, out: SecuritySection, errors: NodehostError[]): void {
  const where = `${WHERE}/${part.name}`;
  const r = new AttributeReader(file, errors, where);
  const unknown = (child: XmlElement, inside: string) =>
    errors.push(configError('NH_ERR_CONFIG_UNKNOWN_ELEMENT', file, child, `Unknown element <${child.name}> in ${inside}`));
  switch (part.name) {
    case 'authentication':
      r.checkAttributes(part, []);
      for (const child of part.children) {
        const at = new AttributeReader(file, errors, `${where}/${child.name}`);
        if (child.name === 'anonymousAuthentication') {
          at.checkAttributes(child, ['enabled', 'userName', 'password', 'logonMethod']);
          out.anonymousEnabled = at.bool(child, 'enabled', out.anonymousEnabled);
        } else if (child.name === 'basicAuthentication') {
          at.checkAttributes(child, [
            'enabled',
            'realm',
            'defaultLogonDomain',
            'logonMethod',
            'forwardAuthorizationHeader',
            'maxFailedLogins',
            'failedLoginWindowSeconds',
            'failedLoginLockoutSeconds',
          ]);
          out.basicEnabled = at.bool(child, 'enabled', out.basicEnabled);
          out.realm = child.attributes.get('realm')?.value ?? out.realm;
          out.forwardAuthorizationHeader = at.bool(child, 'forwardAuthorizationHeader', out.forwardAuthorizationHeader);
          out.maxFailedLogins = at.uint(child, 'maxFailedLogins', out.maxFailedLogins);
          out.failedLoginWindowSeconds = at.uint(child, 'failedLoginWindowSeconds', out.failedLoginWindowSeconds, 1, 86_400);
          out.failedLoginLockoutSeconds = at.uint(child, 'failedLoginLockoutSeconds', out.failedLoginLockoutSeconds, 1, 86_400);
        } else if (!OTHER_SCHEMES.has(child.name)) {
          unknown(child, where);
        }
      }
      return;
    case 'authorization':
      r.checkAttributes(part, ['bypassLoginPages']);
      readCollection(part, file, where, errors, out.authorization, ['accessType', 'users', 'roles', 'verbs'], (add) => buildAuthorizationRule(add, file, r));
      return;
    case 'ipSecurity':
      r.checkAttributes(part, ['allowUnlisted', 'denyAction', 'enableReverseDns', 'enableProxyMode']);
      out.ipAllowUnlisted = r.bool(part, 'allowUnlisted', out.ipAllowUnlisted);
      out.ipDenyAction = readDenyAction(part, r, out.ipDenyAction);
      if (r.bool(part, 'enableProxyMode', false))
        r.fail(
          part.attributes.get('enableProxyMode')!,
          `${where}: enableProxyMode is not supported by nodehost (it judges the connection's address, or the client named by a proxy listed in trustedProxies of nodehost.yml)`,
        );
      readCollection(part, file, where, errors, out.ipRules, ['ipAddress', 'subnetMask', 'domainName', 'allowed'], (add) => buildIpRule(add, r));
      return;
    case 'dynamicIpSecurity':
      r.checkAttributes(part, ['denyAction', 'enableLoggingOnlyMode', 'enableProxyMode']);
      out.dynamicDenyAction = readDenyAction(part, r, out.dynamicDenyAction);
      for (const child of part.children) {
        const at = new AttributeReader(file, errors, `${where}/${child.name}`);
        if (child.name === 'denyByConcurrentRequests') {
          at.checkAttributes(child, ['enabled', 'maxConcurrentRequests']);
          out.concurrentEnabled = at.bool(child, 'enabled', out.concurrentEnabled);
          out.maxConcurrentRequests = at.uint(child, 'maxConcurrentRequests', out.maxConcurrentRequests, 1);
        } else if (child.name === 'denyByRequestRate') {
          at.checkAttributes(child, ['enabled', 'maxRequests', 'requestIntervalInMilliseconds']);
          out.rateEnabled = at.bool(child, 'enabled', out.rateEnabled);
          out.maxRequests = at.uint(child, 'maxRequests', out.maxRequests, 1);
          out.requestIntervalMs = at.uint(child, 'requestIntervalInMilliseconds', out.requestIntervalMs, 1);
        } else {
          unknown(child, where);
        }
      }
      return;
  }
}

function readDenyAction(element: XmlElement, r: AttributeReader, fallback: IpSecurityDenyAction | undefined): IpSecurityDenyAction | undefined {
  if (!element.attributes.has('denyAction')) return fallback;
  return r.enumValue(element, 'denyAction', DENY_ACTIONS, fallback ?? 'Forbidden');
}

function readCollection<T>(
  part: XmlElement,
  file: string,
  where: string,
  errors: NodehostError[],
  into: CollectionOp<T>[],
  attributes: readonly string[],
  build: (add: XmlElement) => { key: string; value: T | undefined },
): void {
  const r = new AttributeReader(file, errors, where);
  for (const child of part.children) {
    if (child.name === 'clear') {
      into.push({ kind: 'clear', source: sourcePosition(file, child) });
    } else if (child.name === 'add' || child.name === 'remove') {
      r.checkAttributes(child, attributes);
      const { key, value } = build(child);
      if (child.name === 'remove') into.push({ kind: 'remove', key, source: sourcePosition(file, child) });
      else if (value !== undefined) into.push({ kind: 'add', key, value, source: sourcePosition(file, child) });
    } else {
      errors.push(configError('NH_ERR_CONFIG_UNKNOWN_ELEMENT', file, child, `Unknown element <${child.name}> in ${where}`));
    }
  }
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** The key of an authorization rule is all four attributes (IIS's unique key), compared without case. */
function buildAuthorizationRule(add: XmlElement, file: string, r: AttributeReader): { key: string; value: AuthorizationRule | undefined } {
  const before = r.count;
  const accessType = add.name === 'add' ? r.enumValue(add, 'accessType', ['Allow', 'Deny'] as const, 'Allow') : (add.attributes.get('accessType')?.value ?? '');
  if (add.name === 'add' && !add.attributes.has('accessType')) r.missing(add, 'accessType');
  const users = list(add.attributes.get('users')?.value);
  const roles = list(add.attributes.get('roles')?.value);
  const verbs = list(add.attributes.get('verbs')?.value).map((verb) => verb.toUpperCase());
  const key = [accessType, users.join(','), roles.join(','), verbs.join(',')].join('|').toLowerCase();
  if (add.name === 'add' && users.length === 0 && roles.length === 0) r.fail(add, `${WHERE}/authorization: <add> needs users or roles`);
  if (r.count > before) return { key, value: undefined };
  const names = users.filter((user) => user !== '*' && user !== '?').map((user) => user.toLowerCase());
  return {
    key,
    value: Object.freeze({
      isAllow: accessType === 'Allow',
      allUsers: users.includes('*'),
      anonymous: users.includes('?'),
      users: new Set(names),
      roles: new Set(roles.map((role) => role.toLowerCase())),
      verbs: verbs.length === 0 ? undefined : new Set(verbs),
      source: sourcePosition(file, add),
    }),
  };
}

/**
 * buildIpRule compiles `<add ipAddress subnetMask allowed>`: an IPv4 or IPv6 address, with a
 * subnetMask written as a mask (`255.255.0.0`, `ffff:ffff::`) or a prefix length (`16`), or a
 * CIDR ipAddress (`10.0.0.0/8`). Without a mask the entry is the one address. domainName
 * entries need reverse DNS, which nodehost does not do: they are an error.
 */
function buildIpRule(add: XmlElement, r: AttributeReader): { key: string; value: IpRule | undefined } {
  const before = r.count;
  const domainName = add.attributes.get('domainName');
  let address = add.attributes.get('ipAddress')?.value.trim() ?? '';
  let mask = add.attributes.get('subnetMask')?.value.trim() ?? '';
  const key = `${address}|${mask}|${domainName?.value ?? ''}`.toLowerCase();
  if (add.name === 'remove') return { key, value: undefined };
  if (domainName !== undefined) {
    r.fail(domainName, `${WHERE}/ipSecurity: domainName entries are not supported by nodehost (no reverse DNS); use ipAddress`);
    return { key, value: undefined };
  }
  const allowed = r.bool(add, 'allowed', false);
  const slash = address.indexOf('/');
  if (slash !== -1) {
    mask = address.slice(slash + 1);
    address = address.slice(0, slash);
  }
  const version = isIP(address);
  if (version === 0) {
    if (add.attributes.has('ipAddress'))
      r.fail(
        add.attributes.get('ipAddress')!,
        `${WHERE}/ipSecurity: ipAddress must be an IPv4 or IPv6 address, not '${add.attributes.get('ipAddress')!.value}'`,
      );
    else r.missing(add, 'ipAddress');
    return { key, value: undefined };
  }
  const bits = version === 4 ? 32 : 128;
  const prefix = mask === '' ? bits : prefixLength(mask, version);
  if (prefix === undefined || prefix > bits) {
    r.fail(
      add.attributes.get('subnetMask') ?? add,
      `${WHERE}/ipSecurity: subnetMask '${mask}' is neither a contiguous mask nor a prefix length for ${address}`,
    );
    return { key, value: undefined };
  }
  if (r.count > before) return { key, value: undefined };
  const family = version === 4 ? 'ipv4' : 'ipv6';
  const subnet = new BlockList();
  subnet.addSubnet(address, prefix, family);
  return { key, value: Object.freeze({ text: `${address}/${prefix}`, family, subnet, allowed }) };
}

/** prefixLength reads a prefix length (`24`) or a contiguous mask of the address's family (`255.255.255.0`, `ffff:ffff::`). */
function prefixLength(mask: string, version: number): number | undefined {
  if (/^\d{1,3}$/.test(mask)) return Number(mask);
  if (isIP(mask) !== version) return undefined;
  let bytes: number[];
  if (version === 4) {
    bytes = mask.split('.').map(Number);
  } else {
    const [head, tail] = mask.includes('::') ? (mask.split('::') as [string, string]) : [mask, undefined];
    const headGroups = head === '' ? [] : head.split(':');
    const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
    const groups = [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups].map((group) =>
      Number.parseInt(group, 16),
    );
    bytes = groups.flatMap((group) => [group >> 8, group & 0xff]);
  }
  let length = 0;
  let isDone = false;
  for (const byte of bytes) {
    for (let bit = 7; bit >= 0; bit--) {
      const isSet = ((byte >> bit) & 1) === 1;
      if (isSet && isDone) return undefined;
      if (isSet) length++;
      else isDone = true;
    }
  }
  return length;
}

/** BUILT_IN_RULES is IIS's applicationHost.config default: `<add accessType="Allow" users="*"/>`. */
const BUILT_IN_RULES: readonly Entry<AuthorizationRule>[] = [
  {
    key: 'allow|*||',
    value: Object.freeze({
      isAllow: true,
      allUsers: true,
      anonymous: false,
      users: new Set<string>(),
      roles: new Set<string>(),
      verbs: undefined,
      source: undefined,
    }),
    source: undefined,
  },
];

/** SecurityMerge is the security part of one level's merge state (inherited attributes, appended collections). */
export class SecurityMerge {
  private section: SecuritySection;
  private authorization: readonly Entry<AuthorizationRule>[];
  private ipRules: readonly Entry<IpRule>[];
  private frozen: SecurityConfig | undefined;

  constructor(from?: SecurityMerge) {
    this.section = from === undefined ? newSecuritySection() : { ...from.section };
    this.authorization = from?.authorization ?? BUILT_IN_RULES;
    this.ipRules = from?.ipRules ?? [];
    this.frozen = from?.frozen;
  }

  /** apply merges one place's section; duplicate keys are pushed to `errors`. */
  apply(section: SecuritySection, errors: NodehostError[]): void {
    this.frozen = undefined;
    const merged = this.section as unknown as Record<string, unknown>;
    for (const [name, value] of Object.entries(section)) if (value !== undefined && !Array.isArray(value)) merged[name] = value;
    this.authorization = mergeCollection(
      this.authorization,
      section.authorization,
      { order: 'append', section: `${WHERE}/authorization`, keyName: 'accessType/users/roles/verbs' },
      errors,
    );
    this.ipRules = mergeCollection(this.ipRules, section.ipRules, { order: 'append', section: `${WHERE}/ipSecurity`, keyName: 'ipAddress' }, errors);
  }

  /** freeze returns the compiled security of this level. */
  freeze(): SecurityConfig {
    if (this.frozen !== undefined) return this.frozen;
    const s = this.section;
    const rules = this.authorization.map((entry) => entry.value);
    const allowUnlisted = s.ipAllowUnlisted ?? true;
    const maxConcurrentRequests = s.concurrentEnabled === true ? (s.maxConcurrentRequests ?? 5) : 0;
    const maxRequests = s.rateEnabled === true ? (s.maxRequests ?? 20) : 0;
    this.frozen = Object.freeze({
      authentication: Object.freeze({
        anonymousEnabled: s.anonymousEnabled ?? true,
        basicEnabled: s.basicEnabled ?? false,
        realm: s.realm ?? '',
        forwardAuthorizationHeader: s.forwardAuthorizationHeader ?? false,
        maxFailedLogins: s.maxFailedLogins ?? 10,
        failedLoginWindowMs: (s.failedLoginWindowSeconds ?? 60) * 1000,
        lockoutMs: (s.failedLoginLockoutSeconds ?? 60) * 1000,
      }),
      // Deny rules before allow rules, each group in collection order (IIS URL Authorization).
      authorization: Object.freeze({ rules: Object.freeze([...rules.filter((rule) => !rule.isAllow), ...rules.filter((rule) => rule.isAllow)]) }),
      ipSecurity:
        this.ipRules.length === 0 && allowUnlisted
          ? undefined
          : Object.freeze({ allowUnlisted, denyAction: s.ipDenyAction ?? 'Forbidden', rules: Object.freeze(this.ipRules.map((entry) => entry.value)) }),
      dynamicIpSecurity:
        maxConcurrentRequests === 0 && maxRequests === 0
          ? undefined
          : Object.freeze({
              denyAction: s.dynamicDenyAction ?? 'Forbidden',
              maxConcurrentRequests,
              maxRequests,
              requestIntervalMs: s.requestIntervalMs ?? 200,
            }),
    });
    return this.frozen;
  }
}
