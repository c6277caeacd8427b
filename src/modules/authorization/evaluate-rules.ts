/**
 * IIS URL Authorization as a pure function (docs/security.md): the rules arrive deny rules
 * first, each group in collection order, inherited ones before a level's own
 * (security-config.ts); the first rule that matches decides, and none matching denies.
 */
import type { AuthorizationRule } from '../../config/security-types.js';

/**
 * isAuthorized tells whether `user` ('' for anonymous) with `roles` (lower case) may use
 * `verb` (upper case) under `rules`. A rule matches when its verbs include the verb (no verbs:
 * all) and its users include the user (`*` everyone, `?` anonymous, names without case) or
 * its roles include one of the user's roles.
 */
export function isAuthorized(rules: readonly AuthorizationRule[], user: string, roles: readonly string[], verb: string): boolean {
  const name = user.toLowerCase();
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!;
    if (rule.verbs !== undefined && !rule.verbs.has(verb)) continue;
    if (rule.allUsers || (user === '' ? rule.anonymous : rule.users.has(name) || hasRole(rule.roles, roles))) return rule.isAllow;
  }
  return false;
}

/** isAllowAll tells whether `rules` is the single unconditional allow (IIS's default), so the module can skip the evaluation. */
export function isAllowAll(rules: readonly AuthorizationRule[]): boolean {
  const rule = rules[0];
  return rules.length === 1 && rule !== undefined && rule.isAllow && rule.allUsers && rule.verbs === undefined;
}

function hasRole(wanted: ReadonlySet<string>, roles: readonly string[]): boolean {
  if (wanted.size === 0) return false;
  for (const role of roles) if (wanted.has(role)) return true;
  return false;
}
