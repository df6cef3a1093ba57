/**
 * Keras 3 `.keras` files: a zip of `config.json`, `metadata.json` and
 * `model.weights.h5` (weights laid out by keras3-weights.ts).
 *
 * The archive's directory is read first and every member we need is checked
 * against the bounds in model-file-limits.ts before a byte is inflated; the
 * weights member is then inflated in small pieces straight to a temp file
 * (h5wasm reads from the file system), stopping at its declared size, so a
 * zip bomb costs neither memory nor disk.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Unzip, UnzipInflate, unzipSync, type UnzipFileInfo } from 'fflate';
import { ModelLoadError, describeError } from '../../domain/errors.js';
import { withHdf5File } from './hdf5-weights.js';
import type { KerasModelSource } from './keras-source.js';
import { readKeras3Weights } from './keras3-weights.js';
import { assertZipArchive, compressedDataLimit } from './model-file-limits.js';

const CONFIG = 'config.json';
const METADATA = 'metadata.json';
const WEIGHTS = 'model.weights.h5';
/** Compressed bytes handed to the inflater at a time: what one step can inflate stays small even at deflate's ~1000x. */
const INFLATE_STEP = 16 * 1024;
const STORED = 0;
const DEFLATED = 8;

export async function readKerasZip(path: string, label: string): Promise<KerasModelSource> {
  const dir = mkdtempSync(join(tmpdir(), 'dropscore-keras-'));
  try {
    const weightsPath = join(dir, WEIGHTS);
    // The archive's bytes are dropped before the weights are read: only one of the two is in memory at a time.
    const { modelConfig, kerasVersion } = unpackArchive(path, label, weightsPath);
    const weightsByLayer = await withHdf5File(weightsPath, `${label} (${WEIGHTS})`, (file, budget) => readKeras3Weights(file, modelConfig, budget));
    return { modelConfig, kerasVersion, weightsByLayer, file: label };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Reads config.json and metadata.json, and writes model.weights.h5 to `weightsPath`. */
function unpackArchive(path: string, label: string, weightsPath: string): { modelConfig: Record<string, unknown>; kerasVersion: string } {
  const bytes = readFileSync(path);
  assertZipArchive(bytes, label);
  const members = listMembers(bytes, label);
  const config = members.get(CONFIG);
  const weights = members.get(WEIGHTS);
  if (!config || !weights) {
    const missing = [config ? '' : CONFIG, weights ? '' : WEIGHTS].filter(Boolean);
    throw new ModelLoadError(`${label} lacks ${missing.join(' and ')}: not a Keras 3 .keras file`);
  }
  for (const member of [config, weights, members.get(METADATA)]) if (member) checkDeclaredSize(member, bytes.length, label);
  const small = unzipSync(bytes, { filter: (file) => file.name === CONFIG || file.name === METADATA });
  let modelConfig: Record<string, unknown>;
  let kerasVersion = '';
  try {
    modelConfig = JSON.parse(new TextDecoder().decode(small[CONFIG])) as Record<string, unknown>;
    const metadata = small[METADATA];
    if (metadata) kerasVersion = String((JSON.parse(new TextDecoder().decode(metadata)) as { keras_version?: string }).keras_version ?? '');
  } catch (error) {
    throw new ModelLoadError(`${label}: config.json is not valid JSON: ${describeError(error)}`, { cause: error });
  }
  extractMember(bytes, weights, weightsPath, label);
  return { modelConfig, kerasVersion };
}

/** The archive's directory, read without inflating anything. */
function listMembers(bytes: Uint8Array, label: string): Map<string, UnzipFileInfo> {
  const members = new Map<string, UnzipFileInfo>();
  try {
    unzipSync(bytes, {
      filter: (file) => {
        members.set(file.name, file);
        return false;
      },
    });
  } catch (error) {
    throw new ModelLoadError(`${label} is not a readable zip archive: ${describeError(error)}`, { cause: error });
  }
  return members;
}

function checkDeclaredSize(member: UnzipFileInfo, fileBytes: number, label: string): void {
  if (member.compression !== STORED && member.compression !== DEFLATED) {
    throw new ModelLoadError(`${label}: ${member.name} uses zip compression method ${member.compression}; only stored and deflated members are supported`);
  }
  const limit = member.compression === STORED ? fileBytes : compressedDataLimit(fileBytes);
  if (member.originalSize > limit || (member.compression === STORED && member.originalSize !== member.size)) {
    const why = member.compression === STORED ? `a stored member cannot exceed the ${fileBytes}-byte archive` : `more than the ${limit}-byte limit for a ${fileBytes}-byte archive`;
    throw new ModelLoadError(`${label}: ${member.name} declares ${member.originalSize} bytes uncompressed, ${why}: the file is damaged or hostile (a zip bomb?)`);
  }
}

/** Streams one member to `target`, refusing data past its declared size (the directory may lie). */
function extractMember(bytes: Uint8Array, member: UnzipFileInfo, target: string, label: string): void {
  const fd = openSync(target, 'w');
  let written = 0;
  let finished = false;
  let failure: Error | undefined;
  try {
    const unzip = new Unzip((file) => {
      if (file.name !== member.name || finished || failure) return;
      file.ondata = (error, chunk, final) => {
        if (failure) return;
        if (error) {
          failure = new ModelLoadError(`${label}: ${member.name} cannot be inflated: ${describeError(error)}`, { cause: error });
          return;
        }
        written += chunk.length;
        if (written > member.originalSize) {
          failure = new ModelLoadError(`${label}: ${member.name} inflates past the ${member.originalSize} bytes the archive declares: the file is damaged or hostile`);
          file.terminate();
          return;
        }
        writeSync(fd, chunk);
        if (final) finished = true;
      };
      file.start();
    });
    unzip.register(UnzipInflate);
    for (let offset = 0; offset < bytes.length && !finished && !failure; offset += INFLATE_STEP) {
      unzip.push(bytes.subarray(offset, offset + INFLATE_STEP), offset + INFLATE_STEP >= bytes.length);
    }
  } catch (error) {
    failure ??= new ModelLoadError(`${label}: ${member.name} cannot be read from the archive: ${describeError(error)}`, { cause: error });
  } finally {
    closeSync(fd);
  }
  if (failure) throw failure;
  if (!finished || written !== member.originalSize) {
    throw new ModelLoadError(`${label}: ${member.name} holds ${written} bytes, the archive declares ${member.originalSize}: the file is damaged`);
  }
}
