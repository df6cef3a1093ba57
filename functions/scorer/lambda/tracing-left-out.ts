/**
 * What a scorer built without AWS call tracing bundles in place of Powertools'
 * tracer (scorer-package.ts aliases both of its modules here): the X-Ray SDK
 * behind it costs the cold start about 5 ms to parse even when unused
 * (BENCHMARKS.md, "Cold start"). Reached only if such a build is told to trace.
 */
function leftOut(): never {
  throw new Error('this scorer was built without AWS call tracing: set "traceAwsCalls": true for its deployment in deployments.json and deploy again');
}

export class Tracer {
  constructor() {
    leftOut();
  }
}

export const captureLambdaHandler = leftOut;
