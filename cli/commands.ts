/**
 * The CLI's commands: each takes parsed arguments and an open connection,
 * calls the management code, and renders its answer (a table for people,
 * JSON with --json).
 */
import { readFile } from 'node:fs/promises';
import { stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { ConfigError, DropscoreError } from '../functions/scorer/domain/errors.js';
import type { Counters, DeploymentRecord } from '../functions/scorer/domain/ports.js';
import { DEFAULT_MAX_RECORD_BYTES, recordTooLarge } from '../functions/scorer/domain/record-bytes.js';
import { scoreOnline } from '../functions/scorer/domain/score-online.js';
import { loadModel } from '../functions/scorer/engines/framework-engines.js';
import { runBackfill } from '../manage/backfill.js';
import { describeFileError, runBatch } from '../manage/batch-run.js';
import { redriveDeadLetterFiles, redriveInvocations, redriveQueue, type RedriveReport } from '../manage/redrive.js';
import { deleteDeployment, deploy, findDeployment, listDeployments, usageReport } from '../manage/deployment-admin.js';
import { readManifest } from '../manage/manifest-editor.js';
import { recount } from '../manage/recount.js';
import { scoreRemotely } from '../manage/scoring-endpoint.js';
import { addModel, listModels, showModel } from '../manage/model-catalog.js';
import { listOutcomes, readOutcome, saveOutcome } from '../manage/outcome-download.js';
import { predict } from './predict-command.js';
import type { Connection } from './connection.js';
import { createProgressReporter } from './progress.js';
import { formatLimit, formatShape, keyValues, table } from './render.js';

export interface CommandIo {
  readonly out: { write(text: string): unknown };
  readonly err: { write(text: string): unknown; isTTY?: boolean };
  readonly json: boolean;
  readonly stdin: () => Promise<Uint8Array>;
}

export interface ParsedCommand {
  readonly positionals: readonly string[];
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
}

type Handler = (args: ParsedCommand, connection: () => Promise<Connection>, io: CommandIo) => Promise<number>;

const print = (io: CommandIo, human: string, data: unknown): number => {
  io.out.write(`${io.json ? JSON.stringify(data, null, 2) : human}\n`);
  return 0;
};

function need(args: ParsedCommand, index: number, what: string): string {
  const value = args.positionals[index];
  if (!value) throw new UsageError(`missing ${what}`);
  return value;
}

function option(args: ParsedCommand, name: string, required = false): string | undefined {
  const value = args.values[name];
  if (typeof value === 'string' && value !== '') return value;
  if (required) throw new UsageError(`--${name} is required`);
  return undefined;
}

export class UsageError extends Error {}

export const COMMANDS: Record<string, Handler> = {
  async 'models list'(args, _connection, io) {
    const models = await listModels(modelsRootOf(args));
    return print(io, table(['NAME', 'FRAMEWORK', 'VERSION', 'CREATED'], models.map((m) => [m.name, m.framework, m.version, m.problem ? `(unreadable: ${m.problem})` : m.created])), models);
  },

  async 'models show'(args, _connection, io) {
    const { summary, signature, notes } = await showModel(modelsRootOf(args), need(args, 2, '<name>'));
    const rows = [...signature.inputs.map((s) => ['input', s.name, s.dtype, formatShape(s.shape)]), ...signature.outputs.map((s) => ['output', s.name, s.dtype, formatShape(s.shape)])];
    const human = `${keyValues([['name', summary.name], ['framework', `${summary.framework} (version ${summary.version})`], ['created', summary.created], ['description', summary.description]])}\n\n${table(['', 'TENSOR', 'DTYPE', 'SHAPE'], rows)}${notes.length ? `\n\n${notes.join('\n')}` : ''}`;
    return print(io, human, { ...summary, signature, notes });
  },

  async 'models add'(args, _connection, io) {
    const path = need(args, 2, '<path>');
    const { summary, signature, notes } = await addModel(modelsRootOf(args), path, {
      framework: option(args, 'framework', true)!,
      name: option(args, 'name'),
      modelCountLimit: readManifest(manifestOf(args)).limits.modelCount,
    });
    const io2 = signature.inputs.map((s) => `${s.name} ${s.dtype} ${formatShape(s.shape)}`).join(', ');
    return print(io, `added model ${summary.name} (${summary.framework}) under ${join(modelsRootOf(args), summary.name)}; inputs: ${io2}${notes.map((n) => `\n${n}`).join('')}`, { ...summary, signature, notes });
  },

  async 'deployments list'(_args, connection, io) {
    const records = await listDeployments((await connection()).ctx);
    const rows = records.map((r) => [r.name, r.status, r.model, `s3://${r.source.bucket}/${r.source.prefix}`, `s3://${r.target.bucket}/${r.target.prefix}`, String(r.counters.received), String(r.counters.scored), String(r.counters.failed)]);
    return print(io, records.length ? table(['NAME', 'STATUS', 'MODEL', 'SOURCE', 'TARGET', 'RECEIVED', 'SCORED', 'FAILED'], rows) : 'no deployments (create one with `dropscore deploy <model> --source <bucket> --target <bucket>`)', records);
  },

  async 'deployments show'(args, connection, io) {
    const record = await findDeployment((await connection()).ctx, need(args, 2, '<name|id>'));
    return print(io, describeRecord(record), record);
  },

  async 'deployments delete'(args, connection, io) {
    const result = await deleteDeployment((await connection()).ctx, need(args, 2, '<name|id>'));
    const human = result.apply ? `removed from ${manifestOf(args)}; apply with:\n  ${result.apply}` : `deleted ${result.record!.name} (status ${result.record!.status}; its buckets and outcomes are kept)`;
    return print(io, human, result);
  },

  async deploy(args, connection, io) {
    const result = await deploy((await connection()).ctx, {
      model: need(args, 1, '<model>'),
      source: option(args, 'source', true)!,
      target: option(args, 'target', true)!,
      sourcePrefix: option(args, 'source-prefix'),
      targetPrefix: option(args, 'target-prefix'),
      name: option(args, 'name'),
      description: option(args, 'description'),
    });
    if (result.apply) return print(io, `added to ${manifestOf(args)}; apply with:\n  ${result.apply}`, result);
    const record = result.record!;
    const endpoint = record.scoringUrl ?? `none on the local stack: \`dropscore score ${record.name} <payload.json>\` scores online (the console's /api/deployments/${record.name}/score too)`;
    const next = `dropscore batch ${record.name} <dir|files...> --out <dir>`;
    print(io, `${describeRecord(record)}\n\nscoring endpoint: ${endpoint}\nnext: drop JSON records into s3://${record.source.bucket}/${record.source.prefix}, or run\n  ${next}`, { ...record, scoringEndpoint: record.scoringUrl ?? null, next });
    return record.status === 'FAILED' ? 1 : 0;
  },

  async score(args, connection, io) {
    const { ctx, region } = await connection();
    const record = await findDeployment(ctx, need(args, 1, '<deployment>'));
    const source = need(args, 2, '<payload.json|->');
    const payload = source === '-' ? await io.stdin() : await readLocalFile(source);
    if (ctx.target === 'aws') {
      if (!record.scoringUrl) throw new ConfigError(`deployment "${record.name}" has no scoring URL in its record: redeploy it with this version's CDK app`);
      const answer = await scoreRemotely(record.scoringUrl, payload, region);
      const error = (answer.body as { error?: { code?: string; message?: string } }).error;
      if (answer.status !== 200) {
        return scoringFailed(io, error?.code ?? `HTTP ${answer.status}`, error?.message ?? JSON.stringify(answer.body));
      }
      io.out.write(`${JSON.stringify(answer.body)}\n`);
      return 0;
    }
    const outcome = payload.length > DEFAULT_MAX_RECORD_BYTES
      ? { kind: 'error' as const, error: recordTooLarge(payload.length, DEFAULT_MAX_RECORD_BYTES) }
      : await scoreOnline(payload, await loadModel(join(modelsRootOf(args), record.model)), ctx.usage);
    if (outcome.kind === 'error') {
      return scoringFailed(io, outcome.error.code, outcome.error.message);
    }
    io.out.write(`${JSON.stringify(outcome.body)}\n`);
    return 0;
  },

  async batch(args, connection, io) {
    const { ctx, s3 } = await connection();
    const record = await findDeployment(ctx, need(args, 1, '<deployment>'));
    const paths = args.positionals.slice(2);
    if (paths.length === 0) throw new UsageError('missing <dir|files...>');
    const timeout = option(args, 'timeout');
    const seconds = timeout === undefined ? undefined : Number(timeout);
    if (seconds !== undefined && !(Number.isFinite(seconds) && seconds > 0)) throw new UsageError(`--timeout must be a positive number of seconds, got "${timeout}"`);
    const outDir = option(args, 'out');
    await ctx.reconcile?.(); // an embedded stack must be scoring for this deployment before files land
    const results = await runBatch({
      s3,
      deployment: record,
      paths,
      ...(seconds ? { timeoutMs: seconds * 1000 } : {}),
      onProgress: io.json ? undefined : createProgressReporter(io.err),
    });
    const target = `s3://${record.target.bucket}/${record.target.prefix}`;
    const saved: { file: string; outcome: string }[] = [];
    const notSaved: string[] = [];
    if (outDir) {
      for (const r of results.filter((r) => r.state === 'result' || r.state === 'error')) {
        try {
          saved.push({ file: r.file, outcome: await saveOutcome(outDir, await readOutcome(s3, record, r.outcomeKey)) });
        } catch (error) {
          notSaved.push(`  ${r.outcomeKey}: ${error instanceof DropscoreError ? error.message : describeFileError(error)}`);
        }
      }
    }
    const failed = results.filter((r) => r.state === 'error');
    const pending = results.filter((r) => r.state === 'pending');
    const notUploaded = results.filter((r) => r.state === 'not-uploaded');
    const already = results.filter((r) => r.alreadyScored);
    const scored = results.length - failed.length - pending.length - notUploaded.length - already.filter((r) => r.state === 'result').length;
    const summary = `${results.length} file(s): ${scored} scored, ${already.length} already scored, ${failed.length} failed, ${pending.length} without an outcome yet${notUploaded.length ? `, ${notUploaded.length} not uploaded` : ''}; outcomes in ${target}${outDir ? ` (${saved.length} saved under ${outDir})` : ''}`;
    const errors = failed.map((r) => {
      const e = r.error as { code?: string; message?: string } | undefined;
      return `  ${r.key}: ${e?.code ?? 'ERROR'}: ${e?.message ?? ''} (s3://${record.target.bucket}/${r.outcomeKey})`;
    });
    const bulk = results.filter((r) => r.records).map((r) => `  ${r.key}: ${r.records!.records} record(s), ${r.records!.scored} scored, ${r.records!.failed} failed`);
    const lines = [
      summary,
      ...(bulk.length ? ['bulk files (one outcome each, a line per record):', ...bulk] : []),
      ...(already.length ? ['already scored (same content as before, not uploaded again):', ...already.map((r) => `  ${r.file}`)] : []),
      ...(errors.length ? ['errors:', ...errors] : []),
      ...(pending.length ? ['pending:', ...pending.map((r) => `  ${r.key}${r.reason ? ` (${r.reason})` : ''}`)] : []),
      ...(notUploaded.length ? ['not uploaded:', ...notUploaded.map((r) => `  ${r.file}: ${r.reason}`)] : []),
      ...(notSaved.length ? ['not saved:', ...notSaved] : []),
      ...(outDir || results.length === notUploaded.length ? [] : [`get them with: dropscore outcomes get ${record.name} --all --out <dir>`]),
    ];
    print(io, lines.join('\n'), { summary, target, results, ...(outDir ? { saved } : {}) });
    return failed.length + pending.length + notUploaded.length + notSaved.length > 0 ? 1 : 0;
  },

  async backfill(args, connection, io) {
    const open = await connection();
    const record = await findDeployment(open.ctx, need(args, 1, '<deployment>'));
    const rate = positiveNumber(args, 'rate');
    const concurrency = positiveNumber(args, 'concurrency', true);
    const startAfter = option(args, 'start-after');
    const dryRun = Boolean(args.values['dry-run']);
    // Ctrl-C stops sending; what is in flight finishes, and the report says where to resume.
    const stop = new AbortController();
    const onInterrupt = () => stop.abort();
    process.once('SIGINT', onInterrupt);
    let report;
    try {
      report = await runBackfill({
        s3: open.s3,
        deployment: record,
        invoke: dryRun ? () => Promise.reject(new Error('dry run')) : open.scorerFor(record),
        ...(startAfter ? { startAfter } : {}),
        ...(rate ? { ratePerSecond: rate } : {}),
        ...(concurrency ? { concurrency } : {}),
        dryRun,
        signal: stop.signal,
        onProgress: io.json ? undefined : createProgressReporter(io.err),
      });
    } finally {
      process.removeListener('SIGINT', onInterrupt);
    }
    const source = `s3://${record.source.bucket}/${record.source.prefix}${record.source.suffix ? ` (*${record.source.suffix})` : ''}`;
    const { results } = report;
    const lines = [
      `${report.listed} object(s) in ${source}${startAfter ? ` after ${JSON.stringify(startAfter)}` : ''}: ${report.upToDate} with the outcome of their current version, ${report.toScore} without`,
      ...(report.dryRun
        ? [`dry run: ${report.toScore} would be sent to the scorer`]
        : report.toScore === 0
          ? ['nothing to score']
          : [`sent to the scorer: ${results.scored} scored, ${results.failed} error outcome(s), ${results.duplicate} already done (the ledger had them), ${results.missing} deleted meanwhile${report.notDone.length ? `, ${report.notDone.length} not done` : ''}`]),
      ...(report.notDone.length ? ['not done:', ...report.notDone.map((n) => `  ${n.key}: ${n.reason}`)] : []),
      ...(report.complete || report.dryRun ? [] : [`run again to finish${report.resumeAfter === undefined ? '' : `, or resume with: dropscore backfill ${record.name} --start-after ${shellQuote(report.resumeAfter)}`}`]),
    ];
    print(io, lines.join('\n'), { deployment: record.name, source, ...report });
    return report.complete || report.dryRun ? 0 : 1;
  },

  async redrive(args, connection, io) {
    const open = await connection();
    const record = await findDeployment(open.ctx, need(args, 1, '<deployment>'));
    const rate = positiveNumber(args, 'rate');
    const options = { ...(rate ? { ratePerSecond: rate } : {}), ...(io.json ? {} : { onProgress: (done: number, failed: number) => io.err.write(`\r${done} redriven, ${failed} failed\u001b[K`) }) };
    let where: string;
    let report: RedriveReport;
    if (open.ctx.target === 'aws') {
      const resources = record.awsResources;
      if (!resources || !open.sqs) throw new ConfigError(`deployment "${record.name}" has no dead-letter queue in its record: deploy it with this version's CDK app (npx cdk deploy)`);
      where = resources.deadLetterQueueUrl;
      report = resources.deliveryQueueArn ? await redriveQueue(open.sqs, resources, options) : await redriveInvocations(open.sqs, resources, open.scorerFor(record), options);
    } else {
      where = join(open.dataDir ?? '.dropscore', 'dead-letter');
      report = await redriveDeadLetterFiles(where, record.name, open.scorerFor(record), options);
    }
    if (!io.json) io.err.write('\r\u001b[K');
    const verb = report.how === 'moved' ? 'moved back to the delivery queue (the scorer reads them from there)' : 'handed to the scorer again and finished';
    const lines = [
      `${report.redriven} dead letter(s) of ${record.name} ${verb}; ${report.left} left in ${where}`,
      ...(report.failures.length ? ['failed:', ...report.failures.map((f) => `  ${f.id}: ${f.reason}`)] : []),
    ];
    print(io, lines.join('\n'), { deployment: record.name, deadLetters: where, ...report });
    return report.left > 0 || report.failures.length > 0 ? 1 : 0;
  },

  async predict(args, _connection, io) {
    const raw = option(args, 'max-bytes');
    const maxBytes = raw === undefined ? undefined : Number(raw);
    if (maxBytes !== undefined && !(Number.isInteger(maxBytes) && maxBytes > 0)) throw new UsageError(`--max-bytes must be a positive integer, got "${raw}"`);
    const result = await predict(await modelFolderOf(args, need(args, 1, '<model>')), need(args, 2, '<record>'), maxBytes);
    io.out.write(`${result.json}\n`);
    return result.exitCode;
  },

  async 'outcomes list'(args, connection, io) {
    const { ctx, s3 } = await connection();
    const record = await findDeployment(ctx, need(args, 2, '<deployment>'));
    const outcomes = await listOutcomes(s3, record);
    const human = outcomes.length ? table(['PATH', 'STATE'], outcomes.map((o) => [o.path, o.state])) : `no outcomes in s3://${record.target.bucket}/${record.target.prefix}`;
    return print(io, human, outcomes);
  },

  async 'outcomes get'(args, connection, io) {
    const { ctx, s3 } = await connection();
    const record = await findDeployment(ctx, need(args, 2, '<deployment>'));
    const key = args.positionals[3];
    const all = Boolean(args.values['all']);
    const outDir = option(args, 'out');
    if (all === Boolean(key)) throw new UsageError('name one outcome <key>, or --all');
    if (all && !outDir) throw new UsageError('--all needs --out <dir>');
    const paths = all ? (await listOutcomes(s3, record)).map((o) => o.path) : [key!];
    const documents = await Promise.all(paths.map((path) => readOutcome(s3, record, path)));
    if (!outDir) {
      const document = documents[0]!;
      io.out.write(`${document.body}\n`);
      return document.state === 'error' ? 1 : 0;
    }
    const files = [];
    for (const document of documents) files.push({ key: document.key, state: document.state, file: await saveOutcome(outDir, document) });
    return print(io, `${files.length} outcome(s) from s3://${record.target.bucket}/${record.target.prefix} saved under ${outDir}${files.length ? `:\n${files.map((f) => `  ${relative(process.cwd(), f.file)}${f.state === 'error' ? ' (error)' : ''}`).join('\n')}` : ''}`, files);
  },

  async recount(args, connection, io) {
    const open = await connection();
    const settle = Number(option(args, 'settle') ?? '5');
    if (!(Number.isFinite(settle) && settle >= 0)) throw new UsageError(`--settle must be a number of seconds, got "${option(args, 'settle')}"`);
    const report = await recount({ ledger: open.ledger, deployments: open.ctx.deployments, usage: open.ctx.usage, settleMs: settle * 1000, dryRun: Boolean(args.values['dry-run']) });
    const counts = (c: Counters) => `received ${c.received}, scored ${c.scored}, failed ${c.failed}`;
    const lines = [
      ...report.deployments.map((d) => `${d.name}: counters ${counts(d.counters)}; ledger ${counts(d.ledger)}`),
      ...(report.batchPredictions ? [`batch predictions: counted ${report.batchPredictions.counted}; ledger ${report.batchPredictions.ledger}`] : []),
      {
        agree: 'every counter agrees with the ledger',
        differ: 'dry run: nothing corrected',
        corrected: 'corrected to the ledger\'s counts',
        busy: `not corrected: ${report.moved?.join(', ')} moved during the check (scoring is going on); run again when idle`,
      }[report.outcome],
    ];
    print(io, lines.join('\n'), report);
    return report.outcome === 'busy' ? 1 : 0;
  },

  async usage(_args, connection, io) {
    const report = await usageReport((await connection()).ctx);
    const rows = (['models', 'deployments', 'predictions'] as const).map((what) => [what, formatLimit(report[what].used, report[what].limit)]);
    return print(io, table(['USAGE', 'USED'], rows), report);
  },
};

/** The scorer's refusal, as the scoring endpoint words it: `CODE: message`, or its JSON error body under --json. */
function scoringFailed(io: CommandIo, code: string, message: string): number {
  if (io.json) io.out.write(`${JSON.stringify({ error: { code, message } }, null, 2)}\n`);
  else io.err.write(`${code}: ${message}\n`);
  return 1;
}

function describeRecord(r: DeploymentRecord): string {
  return keyValues([
    ['name', r.name],
    ['id', r.id],
    ['status', r.status],
    ...(r.statusDetails ? [['status_details', r.statusDetails] as const] : []),
    ['model', `${r.model} (${r.framework})`],
    ['source', `s3://${r.source.bucket}/${r.source.prefix}${r.source.suffix ? ` (*${r.source.suffix})` : ''}`],
    ['target', `s3://${r.target.bucket}/${r.target.prefix}`],
    ['counters', `received ${r.counters.received}, scored ${r.counters.scored}, failed ${r.counters.failed}`],
    ...(r.lastError ? [['last error', r.lastError] as const] : []),
    ['created', r.createdAt],
    ['modified', r.modifiedAt],
  ]);
}

/** `predict` takes a model folder, or the name of a model under the models folder. */
async function modelFolderOf(args: ParsedCommand, model: string): Promise<string> {
  const isFolder = await stat(model).then((s) => s.isDirectory(), () => false);
  if (isFolder) return model;
  const named = join(modelsRootOf(args), model);
  if (await stat(named).then((s) => s.isDirectory(), () => false)) return named;
  const known = (await listModels(modelsRootOf(args))).map((m) => m.name).join(', ');
  throw new ConfigError(`no model folder "${model}" and no model named "${model}" under ${modelsRootOf(args)}; models: ${known || '(none)'}`);
}

/** Reads a file the user named; a missing one is a one-line error that names it, not an errno dump. */
async function readLocalFile(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new ConfigError(`${path}: ${describeFileError(error)}`);
  }
}

function positiveNumber(args: ParsedCommand, name: string, integer = false): number | undefined {
  const raw = option(args, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!(Number.isFinite(value) && value > 0 && (!integer || Number.isInteger(value)))) throw new UsageError(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got "${raw}"`);
  return value;
}

/** A key as a shell takes it back: quoted unless it is plainly safe. */
function shellQuote(text: string): string {
  return /^[\w./@%+=:,-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

function modelsRootOf(args: ParsedCommand): string {
  return String(args.values['models'] ?? 'layers/models');
}

function manifestOf(args: ParsedCommand): string {
  return String(args.values['manifest'] ?? 'deployments.json');
}
