/**
 * The authorization module (phase 'authorize', run again on a rewritten URL): IIS URL
 * Authorization over the rules of the URL's configuration (evaluate-rules.ts). A denied
 * anonymous user gets 401 (with the Basic challenge when Basic is enabled there), a denied
 * authenticated user 403.
 */
import { fail } from '../../http/error-outcome.js';
import type { Outcome, PipelineModule } from '../../http/pipeline-module.js';
import type { RequestContext } from '../../http/request-context.js';
import { setChallenge } from '../authentication/basic-authentication.js';
import { isAllowAll, isAuthorized } from './evaluate-rules.js';

/** authorizeRequest applies the authorization rules of ctx's configuration; see the file comment. */
export function authorizeRequest(ctx: RequestContext): Outcome {
  const rules = ctx.config?.security?.authorization.rules;
  if (rules === undefined || isAllowAll(rules)) return 'continue';
  if (isAuthorized(rules, ctx.authUser, ctx.authRoles, ctx.req.method ?? 'GET')) return 'continue';
  // A refused user gets the page of anonymous remote clients, never a detailed one (maySeeInternals).
  ctx.isDeniedByAuthorization = true;
  if (ctx.authUser !== '') return fail('NH_ERR_AUTHZ_DENIED');
  setChallenge(ctx);
  return fail('NH_ERR_AUTHZ_ANONYMOUS_DENIED');
}

/** authorization is the pipeline module that runs authorizeRequest. */
export const authorization = {
  id: 'authorization',
  phase: 'authorize',
  handle: authorizeRequest,
} as const satisfies PipelineModule;
