/**
 * Pictures of MNIST-style inputs for the deployment page: a record holding
 * 28x28 images (in any layout the demo models take) is shown as small images
 * beside the predicted class, the argmax of the result.
 */
import type { DigitPreview } from './api-types.js';

const SIDE = 28;
const PIXELS = SIDE * SIDE;
/** A record with more samples than this shows the first ones only. */
const MAX_IMAGES = 8;

/** The images of the first record value shaped [N,28,28,1], [N,1,28,28], [N,28,28], [N,784] or [28,28]. */
export function findDigitImages(record: unknown): number[][] | undefined {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return undefined;
  for (const value of Object.values(record)) {
    const images = imagesOf(value);
    if (images) return images;
  }
  return undefined;
}

export function digitPreview(record: unknown, result: unknown): DigitPreview | undefined {
  const images = findDigitImages(record);
  if (!images) return undefined;
  const classes = predictedClasses(result, images.length);
  return { images, ...(classes ? { classes } : {}) };
}

/**
 * One class per sample: the Keras format's own `prediction_classes` column,
 * otherwise the argmax of the first `count` score vectors of the result (the
 * first output's rows, in the named-tensor and TensorFlow formats).
 */
export function predictedClasses(result: unknown, count: number): number[] | undefined {
  const keras = findKerasResult(result);
  if (keras) {
    const column = keras.fields.indexOf('prediction_classes');
    const { values } = keras;
    // One sample: values is [prediction, class, probability]; N samples: N such rows.
    const classes = typeof values[column] === 'number' ? [values[column]] : values.map((row) => (Array.isArray(row) ? row[column] : undefined));
    return classes.length === count && classes.every((c): c is number => typeof c === 'number') ? classes.map(Number) : undefined;
  }
  const vectors: number[][] = [];
  collectVectors(result, vectors, count);
  return vectors.length === count ? vectors.map(argmax) : undefined;
}

function imagesOf(value: unknown): number[][] | undefined {
  const shape = shapeOf(value);
  if (!shape) return undefined;
  const flat = (value as unknown[]).flat(Infinity) as number[];
  const key = shape.join(',');
  let samples: number;
  if (key === `${SIDE},${SIDE}`) samples = 1;
  else if (shape.length === 4 && shape.slice(1).join(',') === `${SIDE},${SIDE},1`) samples = shape[0]!;
  else if (shape.length === 4 && shape.slice(1).join(',') === `1,${SIDE},${SIDE}`) samples = shape[0]!;
  else if (shape.length === 3 && shape.slice(1).join(',') === `${SIDE},${SIDE}`) samples = shape[0]!;
  else if (shape.length === 2 && shape[1] === PIXELS) samples = shape[0]!;
  else return undefined;
  if (samples < 1) return undefined;
  // Every layout above stores one sample's 784 pixels contiguously, row by row.
  return Array.from({ length: Math.min(samples, MAX_IMAGES) }, (_, i) => toGrey(flat.slice(i * PIXELS, (i + 1) * PIXELS)));
}

/** The dimensions of a regular nested array of finite numbers, or undefined. */
function shapeOf(value: unknown): number[] | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  if (value.every((v) => typeof v === 'number' && Number.isFinite(v))) return [value.length];
  const inner = value.map(shapeOf);
  const first = inner[0];
  if (!first || inner.some((s) => !s || s.join(',') !== first.join(','))) return undefined;
  return [value.length, ...first];
}

/** Whatever the scaling (0..1, 0..255, (p - 127.5) / 128), the darkest value is black and the brightest white. */
function toGrey(pixels: number[]): number[] {
  let min = Infinity;
  let max = -Infinity;
  for (const p of pixels) {
    if (p < min) min = p;
    if (p > max) max = p;
  }
  const range = max - min;
  return pixels.map((p) => (range > 0 ? Math.round(((p - min) / range) * 255) : 0));
}

function findKerasResult(value: unknown): { fields: string[]; values: unknown[] } | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const candidate = value as { fields?: unknown; values?: unknown };
  if (Array.isArray(candidate.fields) && candidate.fields.includes('prediction_classes') && Array.isArray(candidate.values)) {
    return { fields: candidate.fields as string[], values: candidate.values };
  }
  for (const inner of Object.values(value)) {
    const found = findKerasResult(inner);
    if (found) return found;
  }
  return undefined;
}

/** Depth first: arrays of at least two numbers, the score rows of a classifier. */
function collectVectors(value: unknown, into: number[][], limit: number): void {
  if (into.length >= limit || typeof value !== 'object' || value === null) return;
  if (Array.isArray(value) && value.length >= 2 && value.every((v) => typeof v === 'number')) {
    into.push(value as number[]);
    return;
  }
  for (const inner of Object.values(value)) collectVectors(inner, into, limit);
}

function argmax(row: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}
