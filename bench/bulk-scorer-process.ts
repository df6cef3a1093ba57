/**
 * A scorer alone in its process, as a Lambda runs it without a fan-out: it
 * scores one bulk file (every part in this process, one after another) from
 * a stack running elsewhere, then prints its peak RSS (VmHWM). Started by
 * bench/bulk-files.ts:
 *
 *   node --import tsx bench/bulk-scorer-process.ts <endpoint> <bucket> <key> <model>
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../functions/scorer/domain/ports.js';
import { createDynamoDbClient, createS3Client } from '../functions/scorer/store/aws-clients.js';
import { createDynamoDbDeploymentStore } from '../functions/scorer/store/dynamodb-deployment-store.js';
import { createStoredScorer } from '../functions/scorer/wiring.js';
import { LOCAL_CREDENTIALS } from '../infra/local/auth/local-credentials.js';
import { DEFAULT_TABLES } from '../infra/local/provision.js';

const [endpoint, bucket, key, model] = process.argv.slice(2) as [string, string, string, string];
const quiet: Logger = { info: () => {}, warn: () => {}, error: (m, f) => console.error(m, f) };
const connection = { region: 'us-east-1', endpoint, credentials: LOCAL_CREDENTIALS };
const s3 = createS3Client(connection);
const db = createDynamoDbClient(connection);
const binding = { id: 'dep-bulk-bench-alone', name: 'bulk-bench-alone', model, source: { bucket, prefix: '' }, target: { bucket: `${bucket}-out`, prefix: '' } };
await createDynamoDbDeploymentStore(db, DEFAULT_TABLES.deploymentsTable).upsert({ ...binding, description: 'bench', framework: 'onnx' });
const scorer = createStoredScorer({ s3, db, ...DEFAULT_TABLES, log: quiet }, binding, join('layers/models', model));
await scorer.warmUp();
const started = performance.now();
const [result] = await scorer.scoreObjects([{ bucket, key }]);
const seconds = (performance.now() - started) / 1000;
const peak = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))![1]!;
console.log(JSON.stringify({ result, seconds, peakRssMiB: Number(peak) / 1024 }));
s3.destroy();
db.destroy();
