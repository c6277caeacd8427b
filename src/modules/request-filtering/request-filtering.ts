/**
 * The request-filtering module (spec/rewrite.md 2.6), phase 'filter'. For now it applies the
 * hidden segments; limits, file extensions, verbs and URL sequences come with later issues.
 */
import type { RequestContext } from '../../pipeline/context.js';
import type { Outcome, PipelineModule } from '../../pipeline/module.js';
import { sendError } from '../status-page.js';
import { isHiddenPath } from './is-hidden-path.js';

const NO_SEGMENTS: ReadonlySet<string> = new Set();

/**
 * filterRequest refuses the request with 404.8 ('finish') when a segment of ctx.path is hidden
 * (see isHiddenPath), and otherwise lets it through ('continue'). Without a configuration it
 * still applies the names nodehost always hides.
 */
export function filterRequest(ctx: RequestContext): Outcome {
  if (!isHiddenPath(ctx.path, ctx.config?.hiddenSegments ?? NO_SEGMENTS)) return 'continue';
  sendError(ctx, 'NH_ERR_FILTER_HIDDEN_SEGMENT');
  return 'finish';
}

/** requestFiltering is the pipeline module that runs filterRequest in the 'filter' phase. */
export const requestFiltering = {
  id: 'request-filtering',
  phase: 'filter',
  handle: filterRequest,
} as const satisfies PipelineModule;
