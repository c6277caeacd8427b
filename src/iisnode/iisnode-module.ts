/**
 * The iisnode pipeline module: the 'execute' step that hands requests mapped to iisnode to
 * the application host.
 */
import type { Outcome, PipelineModule } from '../http/pipeline-module.js';
import type { RequestContext } from '../http/request-context.js';
import type { AppHost } from './app-host.js';

/** createIisnodeModule builds the iisnode handler step of a site around its application host. */
export function createIisnodeModule(appHost: AppHost): PipelineModule {
  return {
    id: 'iisnode',
    phase: 'execute',
    handle: (ctx: RequestContext): Outcome | Promise<Outcome> => (ctx.handler === 'iisnode' ? appHost.handle(ctx).then(finish) : 'continue'),
  };
}

function finish(): Outcome {
  return 'finish';
}
