/**
 * The cold-start floor for onnxruntime scorers: the least a script can do to
 * score one S3 record: import onnxruntime-node (from the runtime layer, as the
 * scorer does) and the S3 client, load the ONNX model, GET the record,
 * predict, PUT the outcome. Bundled and run by bench/cold-start.ts.
 */
import { createRequire } from 'node:module';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { reportFloor, floorSettings } from './floor-report.js';

const ort = createRequire(import.meta.url)('onnxruntime-node') as typeof import('onnxruntime-node');
const settings = floorSettings(process.env);
const s3 = new S3Client({ region: settings.region, endpoint: settings.endpoint, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
const session = await ort.InferenceSession.create(settings.model);
const loadedAt = performance.now();

const got = await s3.send(new GetObjectCommand({ Bucket: settings.sourceBucket, Key: settings.key }));
const record = JSON.parse(await got.Body!.transformToString()) as Record<string, unknown[]>;
const values = Float32Array.from(Object.values(record)[0]!.flat(Infinity) as number[]);
const input = new ort.Tensor('float32', values, [values.length / 784, 28, 28, 1]);
const output = await session.run({ [session.inputNames[0]!]: input });
const scores = Array.from(output[session.outputNames[0]!]!.data as Float32Array);
await s3.send(new PutObjectCommand({ Bucket: settings.targetBucket, Key: settings.key, Body: JSON.stringify({ [settings.key]: scores }) }));
reportFloor(loadedAt);
