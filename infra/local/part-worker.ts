/**
 * A worker thread of the local stack's part pool (part-worker-pool.ts): loads
 * its deployment's model once, then scores the bulk-file parts it is sent
 * with the same domain function a Lambda runs (scoreBulkPart), on its own
 * S3 and DynamoDB clients. Only part items and results cross the thread line.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { BulkPartItem } from '../../functions/scorer/bulk/bulk-plan.js';
import { scoreBulkPart } from '../../functions/scorer/bulk/score-part.js';
import { ObjectChangedError, asModelLoadError, describeError } from '../../functions/scorer/domain/errors.js';
import { loadModel } from '../../functions/scorer/engines/framework-engines.js';
import { createDynamoDbClient, createS3Client } from '../../functions/scorer/store/aws-clients.js';
import { createDynamoDbUsageMeter } from '../../functions/scorer/store/dynamodb-usage-meter.js';
import { createS3ObjectStore } from '../../functions/scorer/store/s3-object-store.js';
import type { PartWorkerData, PartWorkerReply, PartWorkerRequest } from './part-worker-pool.js';

const data = workerData as PartWorkerData;
const objects = createS3ObjectStore(createS3Client(data.s3));
const usage = createDynamoDbUsageMeter(createDynamoDbClient(data.dynamoDb), data.deploymentsTable);
const loaded = loadModel(data.modelDir).catch(asModelLoadError);

parentPort!.on('message', (request: PartWorkerRequest) => {
  void score(request.item);
});

async function score(item: BulkPartItem): Promise<void> {
  let reply: PartWorkerReply;
  try {
    const result = await scoreBulkPart({ binding: data.binding, objects, usage, loaded: await loaded, maxRecordBytes: data.maxRecordBytes, microBatch: data.microBatch }, item);
    reply = { result };
  } catch (error) {
    reply = { error: describeError(error), ...(error instanceof ObjectChangedError ? { changed: { bucket: error.bucket, key: error.key, eTag: error.eTag } } : {}) };
  }
  parentPort!.postMessage(reply);
}
