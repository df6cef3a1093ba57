/**
 * The cold-start floor for TensorFlow.js scorers: import TensorFlow.js core,
 * its wasm backend and graph-model converter and the S3 client, load an MNIST
 * CNN graph model, GET the record, predict, PUT the outcome. Bundled and run
 * by bench/cold-start.ts (the .wasm files beside the bundle, as in Lambda).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import * as tf from '@tensorflow/tfjs-core';
import { version_wasm } from '@tensorflow/tfjs-backend-wasm';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { reportFloor, floorSettings } from './floor-report.js';

const settings = floorSettings(process.env);
const s3 = new S3Client({ region: settings.region, endpoint: settings.endpoint, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
if (!version_wasm || !(await tf.setBackend('wasm'))) throw new Error('the TensorFlow.js wasm backend did not start');
const json = JSON.parse(readFileSync(join(settings.model, 'model.json'), 'utf8')) as tf.io.ModelJSON;
const weights = readFileSync(join(settings.model, json.weightsManifest[0]!.paths[0]!));
const model = await loadGraphModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0]!.weights, weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) }));
const loadedAt = performance.now();

const got = await s3.send(new GetObjectCommand({ Bucket: settings.sourceBucket, Key: settings.key }));
const record = JSON.parse(await got.Body!.transformToString()) as Record<string, unknown[]>;
const values = Float32Array.from(Object.values(record)[0]!.flat(Infinity) as number[]);
const output = model.predict(tf.tensor(values, [values.length / 784, 28, 28, 1])) as tf.Tensor;
const scores = Array.from(await output.data());
await s3.send(new PutObjectCommand({ Bucket: settings.targetBucket, Key: settings.key, Body: JSON.stringify({ [settings.key]: scores }) }));
reportFloor(loadedAt);
