/**
 * The module contract (STYLE 2): a pipeline module belongs to one phase and answers each
 * request with one of four outcomes: three plain strings, and the error case.
 */
import type { ErrorOutcome } from './error-outcome.js';
import type { RequestContext } from './request-context.js';

/** PHASES in IIS order; the engine runs them in this order, 'log' once the response has closed (its outcomes are ignored). */
export const PHASES = ['begin', 'filter', 'authenticate', 'authorize', 'rewrite', 'map-handler', 'resolve-cache', 'execute', 'log'] as const;
export type Phase = (typeof PHASES)[number];

/**
 * Outcome of a module for one request:
 * - 'continue': run the next module of this phase;
 * - 'next-phase': skip the rest of this phase;
 * - 'finish': the response is written (or being written); stop;
 * - an ErrorOutcome (error-outcome.ts): the request fails; the engine's error step answers it.
 */
export type Outcome = 'continue' | 'next-phase' | 'finish' | ErrorOutcome;

/** PipelineModule is one step of the request pipeline. `handle` must not throw for expected failures: it returns them as error outcomes. */
export interface PipelineModule {
  readonly id: string;
  readonly phase: Phase;
  /**
   * A 'log' module that reads the server's end of the connection (`ctx.localAddress`) sets this:
   * the engine then reads it when the request starts, while the socket is surely open (a
   * response may close its connection before the 'log' phase runs). Others leave it unset,
   * so a request that never asks costs no getsockname.
   */
  readonly readsLocalAddress?: boolean;
  handle(ctx: RequestContext): Outcome | Promise<Outcome>;
}
