/** What the cold-start floors read from their environment, and the line they report (the same one the scorer probe prints). */
import { readFileSync } from 'node:fs';

export function floorSettings(env: NodeJS.ProcessEnv) {
  const required = (name: string) => env[name] ?? (() => { throw new Error(`${name} is required`); })();
  return {
    region: env['AWS_REGION'] ?? 'us-east-1',
    endpoint: required('AWS_ENDPOINT_URL'),
    model: required('FLOOR_MODEL'),
    sourceBucket: required('SOURCE_BUCKET'),
    targetBucket: required('TARGET_BUCKET'),
    key: required('RECORD_KEY'),
  };
}

export function reportFloor(modelLoadedMs: number): void {
  const firstOutcomeMs = performance.now();
  // VmHWM is this process's own peak: getrusage's maxRSS would also count the forking parent's pages.
  const peakKb = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
  console.log(JSON.stringify({ modelLoadedMs, firstOutcomeMs, peakRssMb: Math.round(peakKb / 1024) }));
}
