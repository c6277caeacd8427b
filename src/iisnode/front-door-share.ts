/**
 * With `hostProcesses` > 1 (nodehost.yml), several front-door processes share the listening
 * socket and each owns its own workers of every application, so that a worker only ever gets
 * requests from one dispatcher and maxConcurrentRequestsPerProcess stays exact. This file says
 * how an application's processes are split between the front doors.
 */

/** FrontDoor names one front-door process: `index` from 0, `count` front doors in all. */
export interface FrontDoor {
  readonly index: number;
  readonly count: number;
}

/**
 * processShare is how many of an application's `processes` (nodeProcessCountPerApplication)
 * the front door runs: floor(processes / count), plus one for the first `processes % count`
 * front doors, and at least 1, so that every front door can serve the application (with fewer
 * processes than front doors, the application runs `count` processes in all).
 * Without a front door (hostProcesses 1) it is `processes` unchanged.
 */
export function processShare(processes: number, frontDoor: FrontDoor | undefined): number {
  if (frontDoor === undefined || frontDoor.count <= 1) return processes;
  const share = Math.floor(processes / frontDoor.count) + (frontDoor.index < processes % frontDoor.count ? 1 : 0);
  return Math.max(1, share);
}
