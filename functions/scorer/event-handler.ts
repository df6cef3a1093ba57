/**
 * The scorer's handler shell, shared by Lambda (handler.ts adds its
 * observability middlewares) and the local stack, so both run exactly the same
 * handler. Its own module so the local stack does not import Lambda's
 * observability: the X-Ray SDK behind the tracer installs a process-wide async
 * hook (cls-hooked) that taxes every promise of the process.
 */
import middy from '@middy/core';
import { handleInvocation } from './domain/invocation.js';
import type { Scorer } from './domain/scorer.js';

export function createHandler(getScorer: () => Scorer) {
  return middy(async (event: unknown) => handleInvocation(getScorer(), event));
}
