/**
 * The error case of a module's outcome (STYLE 10): a request that fails is answered by the
 * engine's one error step (pipeline/error-step.ts), which picks the page (plain status,
 * iisnode's developer page, the configuration error page) from the error and the client.
 * httpErrors-style custom pages attach to that one step.
 */
import { ERRORS, NodehostError, type ErrorCode } from '../errors.js';

/** WorkerFailure is what the iisnode handler adds to an error for iisnode's page rules (spec/iisnode.md 2.9). */
export interface WorkerFailure {
  readonly devErrorsEnabled: boolean;
  /** True when a worker process had been chosen (or started) for this request. */
  readonly isProcessAssigned: boolean;
  /** The worker's stderr tail, '' when it wrote nothing. */
  readonly stderrTail: string;
}

/** NO_WORKER_DIAGNOSTICS is the WorkerFailure of an iisnode failure before any process was involved. */
export const NO_WORKER_DIAGNOSTICS: WorkerFailure = Object.freeze({ devErrorsEnabled: false, isProcessAssigned: false, stderrTail: '' });

/** ErrorPageOptions refine the page of an error. */
export interface ErrorPageOptions {
  /**
   * A sentence any client may see in place of the status's friendly sentence (for example,
   * which query parameter is missing). The error's own message is detail for logs and for
   * loopback developer pages only, unless `isMessagePublic`.
   */
  readonly publicMessage?: string;
  /** The error's message names settings and nothing internal: every client gets it (plain text). */
  readonly isMessagePublic?: boolean;
  /** The error is in a configuration file (web.config, iisnode.yml, a rewrite rule): the configuration error page. */
  readonly isConfigError?: boolean;
  /** Set by the iisnode handler. */
  readonly worker?: WorkerFailure;
}

/** ErrorOutcome is a module's answer "this request fails with `error`". */
export class ErrorOutcome {
  readonly kind = 'error';
  readonly error: NodehostError;
  readonly page: ErrorPageOptions;

  constructor(error: NodehostError, page: ErrorPageOptions = {}) {
    this.error = error;
    this.page = page;
  }
}

/**
 * fail builds an error outcome from an error, or from a code (its summary becomes the
 * detail). The result is returned by a module, or given to `ctx.sendError` by a handler that
 * fails after its step has returned.
 */
export function fail(error: NodehostError | ErrorCode, page?: ErrorPageOptions): ErrorOutcome {
  return new ErrorOutcome(typeof error === 'string' ? new NodehostError(error, ERRORS[error].summary) : error, page);
}
