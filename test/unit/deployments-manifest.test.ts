import { describe, expect, it } from 'vitest';
import { DEFAULT_CLOUD_OPTIONS, deploymentIdFor, parseDeploymentsManifest } from '../../infra/manifest/deployments-manifest.js';

const KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

const deployment = (overrides: Record<string, unknown> = {}) => ({
  name: 'd1',
  model: 'm',
  source: { bucket: 'in-bucket' },
  target: { bucket: 'out-bucket' },
  ...overrides,
});

describe('deployments manifest', () => {
  it('reads deployments with stable ids and default prefixes', () => {
    const manifest = parseDeploymentsManifest({ deployments: [deployment()] }, 'm.json');
    expect(manifest.deployments[0]).toEqual({
      id: deploymentIdFor('d1'),
      name: 'd1',
      description: '',
      model: 'm',
      source: { bucket: 'in-bucket', prefix: '' },
      target: { bucket: 'out-bucket', prefix: '' },
      cloud: DEFAULT_CLOUD_OPTIONS,
    });
    expect(deploymentIdFor('d1')).toMatch(/^dep-[0-9a-f]{16}$/);
  });

  it('reads cloud options: existing buckets, suffix filter, queued delivery, function size', () => {
    const d = deployment({
      source: { bucket: 'in-bucket', existing: true, suffix: '.json' },
      delivery: { mode: 'queued', batchSize: 50, batchWindowSeconds: 10 },
      memoryMb: 2048,
      traceAwsCalls: true,
    });
    const [spec] = parseDeploymentsManifest({ deployments: [d] }, 'm.json').deployments;
    expect(spec!.source).toEqual({ bucket: 'in-bucket', prefix: '', suffix: '.json' });
    expect(spec!.cloud).toEqual({ ...DEFAULT_CLOUD_OPTIONS, existingSource: true, delivery: 'queued', batchSize: 50, batchWindowSeconds: 10, memoryMb: 2048, traceAwsCalls: true });
    expect(DEFAULT_CLOUD_OPTIONS.traceAwsCalls).toBe(false);
  });

  it('reserves 10 concurrent scorers by default, and caps queued delivery at the reserved concurrency', () => {
    const [direct] = parseDeploymentsManifest({ deployments: [deployment()] }, 'm.json').deployments;
    expect(direct!.cloud).toMatchObject({ reservedConcurrency: 10, maxConcurrency: 10 });
    const [queued] = parseDeploymentsManifest({ deployments: [deployment({ reservedConcurrency: 40, delivery: { mode: 'queued' } })] }, 'm.json').deployments;
    expect(queued!.cloud).toMatchObject({ reservedConcurrency: 40, maxConcurrency: 40 });
    const [unreserved] = parseDeploymentsManifest({ deployments: [deployment({ reservedConcurrency: null, delivery: { mode: 'queued', maxConcurrency: 50 } })] }, 'm.json').deployments;
    expect(unreserved!.cloud).toMatchObject({ reservedConcurrency: undefined, maxConcurrency: 50 });
  });

  it('accepts a queued batch over 10 with a batching window, and any batch size for direct delivery', () => {
    const [queued] = parseDeploymentsManifest({ deployments: [deployment({ delivery: { mode: 'queued', batchSize: 100, batchWindowSeconds: 1 } })] }, 'm.json').deployments;
    expect(queued!.cloud).toMatchObject({ batchSize: 100, batchWindowSeconds: 1 });
    expect(parseDeploymentsManifest({ deployments: [deployment({ delivery: { mode: 'direct', batchSize: 100, batchWindowSeconds: 0 } })] }, 'm.json').deployments).toHaveLength(1);
  });

  it('reads the KMS key of existing SSE-KMS buckets', () => {
    const d = deployment({ source: { bucket: 'in-bucket', existing: true, kmsKeyArn: KEY_ARN }, target: { bucket: 'out-bucket', existing: true, kmsKeyArn: KEY_ARN } });
    const [spec] = parseDeploymentsManifest({ deployments: [d] }, 'm.json').deployments;
    expect(spec!.cloud).toMatchObject({ sourceKmsKeyArn: KEY_ARN, targetKmsKeyArn: KEY_ARN });
  });

  it('reads the alarm email, and rejects one that is not an address', () => {
    expect(parseDeploymentsManifest({ deployments: [], alarms: { email: 'ops@example.com' } }, 'm.json').alarmEmail).toBe('ops@example.com');
    expect(parseDeploymentsManifest({ deployments: [] }, 'm.json').alarmEmail).toBeUndefined();
    expect(() => parseDeploymentsManifest({ deployments: [], alarms: { email: 'ops' } }, 'm.json')).toThrow('m.json: alarms.email must be an email address, got "ops"');
    expect(() => parseDeploymentsManifest({ deployments: [], alarms: { sms: '+1' } }, 'm.json')).toThrow('unknown option "sms"');
  });

  it('allows one bucket with disjoint prefixes, for one deployment or several', () => {
    const d = deployment({ source: { bucket: 'b-1', prefix: 'in/' }, target: { bucket: 'b-1', prefix: 'out/' } });
    expect(parseDeploymentsManifest({ deployments: [d] }, 'm.json').deployments).toHaveLength(1);
    const e = deployment({ name: 'd2', source: { bucket: 'b-1', prefix: 'in2/' }, target: { bucket: 'b-1', prefix: 'out2/' } });
    expect(parseDeploymentsManifest({ deployments: [d, e] }, 'm.json').deployments).toHaveLength(2);
  });

  it.each([
    ['a loop through one bucket', [deployment({ target: { bucket: 'in-bucket' } })], 'outcomes would be scored again in a loop'],
    ['nested prefixes in one bucket', [deployment({ source: { bucket: 'b-1', prefix: 'in/' }, target: { bucket: 'b-1', prefix: 'in/out/' } })], 'loop'],
    ['a duplicate name', [deployment(), deployment({ source: { bucket: 'other' } })], 'used twice'],
    ['two deployments on one source', [deployment(), deployment({ name: 'd2' })], 'watch overlapping keys'],
    [
      'two deployments feeding each other (p → q, q → p)',
      [deployment({ name: 'a', source: { bucket: 'bucket-p' }, target: { bucket: 'bucket-q' } }), deployment({ name: 'b', source: { bucket: 'bucket-q' }, target: { bucket: 'bucket-p' } })],
      'the target of deployment "a" (s3://bucket-q/) overlaps the source of deployment "b" (s3://bucket-q/)',
    ],
    [
      'a chain (one deployment scoring another\'s outcomes)',
      [deployment({ name: 'a', source: { bucket: 'bucket-p' }, target: { bucket: 'bucket-q', prefix: 'out/' } }), deployment({ name: 'b', source: { bucket: 'bucket-q' }, target: { bucket: 'bucket-r' } })],
      'the target of deployment "a" (s3://bucket-q/out/) overlaps the source of deployment "b" (s3://bucket-q/)',
    ],
    ['a bad bucket name', [deployment({ source: { bucket: 'Bad_Bucket' } })], 'valid S3 bucket name'],
    ['a bad name', [deployment({ name: 'Has Spaces' })], '"name" must be'],
    ['no model', [deployment({ model: undefined })], '"model" must name a folder'],
    ['an unknown delivery mode', [deployment({ delivery: { mode: 'carrier-pigeon' } })], 'delivery.mode must be "direct" or "queued"'],
    [
      'a queued batch over 10 without a batching window (Lambda refuses it)',
      [deployment({ delivery: { mode: 'queued', batchSize: 100, batchWindowSeconds: 0 } })],
      'delivery.batchSize 100 needs delivery.batchWindowSeconds of at least 1',
    ],
    ['an SQS maxConcurrency under Lambda\'s minimum', [deployment({ delivery: { mode: 'queued', maxConcurrency: 1 } })], 'delivery.maxConcurrency must be an integer from 2 to 1000'],
    [
      'an SQS maxConcurrency above the reserved concurrency',
      [deployment({ reservedConcurrency: 5, delivery: { mode: 'queued', maxConcurrency: 20 } })],
      'delivery.maxConcurrency 20 exceeds reservedConcurrency 5',
    ],
    ['a reserved concurrency of 0 (the scorer would never run)', [deployment({ reservedConcurrency: 0 })], 'reservedConcurrency (or null for none) must be an integer from 1'],
    ['a kmsKeyArn on a bucket the stack creates', [deployment({ source: { bucket: 'in-bucket', kmsKeyArn: KEY_ARN } })], 'source.kmsKeyArn is only for an existing bucket'],
    ['a KMS alias instead of a key ARN', [deployment({ target: { bucket: 'out-bucket', existing: true, kmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:alias/data' } })], 'target.kmsKeyArn must be a KMS key ARN'],
    ['traceAwsCalls that is not a boolean', [deployment({ traceAwsCalls: 'yes' })], 'traceAwsCalls must be true or false, got "yes"'],
    ['a batch window over Lambda\'s limit', [deployment({ delivery: { mode: 'queued', batchWindowSeconds: 301 } })], 'delivery.batchWindowSeconds must be an integer from 0 to 300'],
  ])('rejects %s', (_label, deployments, message) => {
    expect(() => parseDeploymentsManifest({ deployments }, 'm.json')).toThrow(message);
  });

  it('reads usage limits and holds the manifest to its deployment limit', () => {
    const manifest = parseDeploymentsManifest({ deployments: [deployment()], limits: { model_count: 3, prediction_count: 1000 } }, 'm.json');
    expect(manifest.limits).toEqual({ modelCount: 3, predictionCount: 1000 });
    expect(() => parseDeploymentsManifest({ deployments: [deployment()], limits: { deployment_count: 0 } }, 'm.json')).toThrow('1 deployments exceed limits.deployment_count (0)');
    expect(() => parseDeploymentsManifest({ deployments: [], limits: { gpu_count: 1 } }, 'm.json')).toThrow('unknown limit "gpu_count"');
  });

  it('rejects a file without a deployments list', () => {
    expect(() => parseDeploymentsManifest({}, 'm.json')).toThrow('expected {"deployments": [...]}');
  });
});
