/** Starts the embedded stack on free ports in a temp folder and helps tests drop and await files. */
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Logger } from '../../functions/scorer/domain/ports.js';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../infra/local/local-stack.js';

export const quietLog: Logger = { info: () => {}, warn: () => {}, error: () => {} };

export function startTestStack(options: Partial<LocalStackOptions> & Pick<LocalStackOptions, 'dataDir' | 'modelsRoot'>): Promise<LocalStack> {
  return startLocalStack({ edgePort: 0, log: quietLog, retryDelaysMs: [10, 20], ...options });
}

export async function drop(stack: LocalStack, bucket: string, key: string, body: string | Uint8Array): Promise<string> {
  const response = await stack.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  return response.ETag!.replace(/"/g, '');
}

export interface StoredOutcome {
  body: string;
  json: any;
  metadata: Record<string, string>;
  eTag: string;
}

export async function readOutcome(stack: LocalStack, bucket: string, key: string): Promise<StoredOutcome | undefined> {
  try {
    const response = await stack.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const body = await response.Body!.transformToString();
    return { body, json: JSON.parse(body), metadata: response.Metadata ?? {}, eTag: response.ETag! };
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
    throw error;
  }
}

/** Waits until the stack has finished every event, then reads the outcome. */
export async function outcomeOf(stack: LocalStack, bucket: string, key: string): Promise<StoredOutcome> {
  await stack.idle();
  const outcome = await readOutcome(stack, bucket, key);
  if (!outcome) throw new Error(`no outcome at s3://${bucket}/${key}`);
  return outcome;
}

export async function exists(stack: LocalStack, bucket: string, key: string): Promise<boolean> {
  try {
    await stack.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch {
    return false;
  }
}

export async function readSource(stack: LocalStack, bucket: string, key: string): Promise<Uint8Array> {
  const response = await stack.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return response.Body!.transformToByteArray();
}
