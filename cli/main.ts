/** The `dropscore` command line: parses arguments, opens a connection when a command needs one, reports errors. */
import { parseArgs } from 'node:util';
import { DropscoreError, describeNamedError } from '../functions/scorer/domain/errors.js';
import { COMMANDS, UsageError, type CommandIo, type ParsedCommand } from './commands.js';
import { openConnection, type Connection } from './connection.js';
import { predict } from './predict-command.js';

export const USAGE = `usage: dropscore <command> [options]

models
  models list                                   models under layers/models (name, framework, version, created)
  models show <name>                            inputs and outputs with dtypes and shapes
  models add <path> --framework F [--name N]    check that it loads, record its signature, place it under layers/models/<name>
deployments
  deployments list                              status, bindings and counters of every deployment
  deployments show <name|id>                    one deployment: status, status_details, bindings, counters, last error
  deploy <model> --source B --target B [--name N] [--description D]
  deployments delete <name|id>
scoring
  score <deployment> <payload.json|->           online scoring: {"values": [[...], ...]} → {"fields": [...], "values": [...]}
  batch <deployment> <dir|files...> [--timeout S]  upload records and follow them to their outcomes
  predict <model-dir> <record.json> [--max-bytes N]  score one record file offline, exactly as the scorer would
  usage                                         models, deployments and predictions against the limits

options
  --json                 machine-readable output
  --endpoint URL         a running local stack or LocalStack (default $DROPSCORE_ENDPOINT, else
                         http://127.0.0.1:$DROPSCORE_PORT, else http://127.0.0.1:4566); nothing there is an error
  --embedded             run this command on a stack of its own, in this process, on --data-dir
  --aws                  work on AWS (credentials from the usual chain); --profile P and --region R also select AWS
  --data-dir DIR         embedded stack data (default .dropscore)
  --manifest FILE        deployments manifest (default deployments.json)
  --models DIR           models folder (default layers/models)
`;

const OPTIONS = {
  json: { type: 'boolean' },
  aws: { type: 'boolean' },
  profile: { type: 'string' },
  region: { type: 'string' },
  endpoint: { type: 'string' },
  embedded: { type: 'boolean' },
  'data-dir': { type: 'string' },
  manifest: { type: 'string' },
  models: { type: 'string' },
  framework: { type: 'string' },
  name: { type: 'string' },
  description: { type: 'string' },
  source: { type: 'string' },
  target: { type: 'string' },
  timeout: { type: 'string' },
  'max-bytes': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

interface TextSink {
  write(text: string): unknown;
  isTTY?: boolean;
}

export async function main(argv: string[], out: TextSink = process.stdout, err: TextSink = process.stderr): Promise<number> {
  let parsed: ParsedCommand;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  } catch (error) {
    err.write(`dropscore: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const [first, second] = parsed.positionals;
  if (first === 'help' || parsed.values['help']) {
    out.write(USAGE);
    return 0;
  }
  if (!first) {
    err.write(USAGE);
    return 2;
  }
  if (first === 'predict') return runPredict(parsed, out, err);

  const key = Object.hasOwn(COMMANDS, `${first} ${second}`) ? `${first} ${second}` : first;
  const command = Object.hasOwn(COMMANDS, key) ? COMMANDS[key] : undefined;
  if (!command || (key === first && ['models', 'deployments'].includes(first))) {
    err.write(`dropscore: unknown command "${parsed.positionals.slice(0, 2).join(' ')}"\n\n${USAGE}`);
    return 2;
  }
  let connection: Connection | undefined;
  const connect = async () =>
    (connection ??= await openConnection({
      aws: Boolean(parsed.values['aws']),
      profile: parsed.values['profile'] as string | undefined,
      region: parsed.values['region'] as string | undefined,
      endpoint: parsed.values['endpoint'] as string | undefined,
      embedded: Boolean(parsed.values['embedded']),
      dataDir: (parsed.values['data-dir'] as string | undefined) ?? '.dropscore',
      manifestPath: (parsed.values['manifest'] as string | undefined) ?? 'deployments.json',
      modelsRoot: (parsed.values['models'] as string | undefined) ?? 'layers/models',
    }));
  const io: CommandIo = { out, err, json: Boolean(parsed.values['json']), stdin: readStdin };
  try {
    return await command(parsed, connect, io);
  } catch (error) {
    if (error instanceof UsageError) {
      err.write(`dropscore ${key}: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof DropscoreError) {
      err.write(`dropscore ${key}: ${error.message}\n`);
      return 1;
    }
    // Anything else (a refused AWS call, an unreachable endpoint) still gets one line, not a stack trace.
    err.write(`dropscore ${key}: ${describeNamedError(error)}\n`);
    if (process.env['DROPSCORE_DEBUG']) err.write(`${(error as Error).stack ?? ''}\n`);
    return 1;
  } finally {
    await connection?.close();
  }
}

async function runPredict(parsed: ParsedCommand, out: TextSink, err: TextSink): Promise<number> {
  const [, modelDir, recordPath, ...extra] = parsed.positionals;
  const raw = parsed.values['max-bytes'];
  const maxBytes = raw === undefined ? undefined : Number(raw);
  if (!modelDir || !recordPath || extra.length > 0 || (maxBytes !== undefined && !(Number.isInteger(maxBytes) && maxBytes > 0))) {
    err.write(`dropscore predict: expected <model-dir> <record.json> and an optional positive --max-bytes\n\n${USAGE}`);
    return 2;
  }
  const result = await predict(modelDir, recordPath, maxBytes);
  out.write(`${result.json}\n`);
  return result.exitCode;
}

async function readStdin(): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
