/**
 * The `dropscore` command line: runs the command tree, opens a connection
 * when a command needs one, and turns every error into one line (or one JSON
 * document under --json) and an exit code: 0 ok, 1 failure, 2 usage.
 */
import { CommanderError, type Command } from 'commander';
import { DropscoreError, describeNamedError } from '../functions/scorer/domain/errors.js';
import { COMMANDS, UsageError, type CommandIo, type ParsedCommand } from './commands.js';
import { completionScript } from './completion.js';
import { openConnection, type Connection } from './connection.js';
import { buildProgram } from './program.js';

interface TextSink {
  write(text: string): unknown;
  isTTY?: boolean;
}

export async function main(argv: string[], out: TextSink = process.stdout, err: TextSink = process.stderr): Promise<number> {
  const json = argv.includes('--json');
  let exitCode = 0;
  let commandName = '';
  const program = buildProgram(async (parsed) => {
    commandName = commandKey(parsed);
    exitCode = await runCommand(parsed, commandName, out, err);
  });
  const usageHint = () => `run 'dropscore ${commandName || '<command>'} --help' for usage`;
  // Subcommands copy their parent's settings when made, so each gets them here, after the tree is built.
  for (const command of allCommands(program)) {
    command.exitOverride().configureOutput({
      writeOut: (text) => out.write(text),
      writeErr: (text) => err.write(text),
      // Commander's own usage errors: one line and a pointer to the right help page, not the whole page.
      outputError: (text) => reportError(json ? out : err, json, 'USAGE_ERROR', text.replace(/^error: /, '').trim(), `dropscore${commandName ? ` ${commandName}` : ''}`, usageHint()),
    });
    // The command being parsed names the help page a usage error points to.
    command.hook('preSubcommand', (_parent, sub) => {
      commandName = pathNames(sub);
    });
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    // Help and --version end with 0; every other way commander stops is a wrong command line.
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    throw error;
  }
}

function allCommands(command: Command): Command[] {
  return [command, ...command.commands.flatMap(allCommands)];
}

function pathNames(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function commandKey(parsed: ParsedCommand): string {
  const [first, second] = parsed.positionals;
  return Object.hasOwn(COMMANDS, `${first} ${second}`) ? `${first} ${second}` : first!;
}

async function runCommand(parsed: ParsedCommand, key: string, out: TextSink, err: TextSink): Promise<number> {
  const json = Boolean(parsed.values['json']);
  if (key === 'completion') {
    const shell = parsed.positionals[1]!;
    const script = completionScript(shell, buildProgram(async () => {}));
    if (script === undefined) return reportError(json ? out : err, json, 'USAGE_ERROR', `unknown shell "${shell}": expected bash or zsh`, `dropscore ${key}`, `run 'dropscore ${key} --help' for usage`);
    out.write(script);
    return 0;
  }
  let connection: Connection | undefined;
  const connect = async () =>
    (connection ??= await openConnection({
      aws: Boolean(parsed.values['aws']),
      profile: parsed.values['profile'] as string | undefined,
      region: parsed.values['region'] as string | undefined,
      stage: parsed.values['stage'] as string | undefined,
      endpoint: parsed.values['endpoint'] as string | undefined,
      embedded: Boolean(parsed.values['embedded']),
      dataDir: parsed.values['data-dir'] as string,
      manifestPath: parsed.values['manifest'] as string,
      modelsRoot: parsed.values['models'] as string,
    }));
  const io: CommandIo = { out, err, json, stdin: readStdin };
  const sink = json ? out : err;
  try {
    return await COMMANDS[key]!(parsed, connect, io);
  } catch (error) {
    if (error instanceof UsageError) return reportError(sink, json, 'USAGE_ERROR', error.message, `dropscore ${key}`, `run 'dropscore ${key} --help' for usage`);
    if (error instanceof DropscoreError) return reportError(sink, json, error.code, error.message, `dropscore ${key}`);
    // Anything else (a refused AWS call, an unreachable endpoint) still gets one line, not a stack trace.
    const code = reportError(sink, json, (error as { name?: string }).name ?? 'ERROR', describeNamedError(error), `dropscore ${key}`);
    if (process.env['DROPSCORE_DEBUG']) err.write(`${(error as Error).stack ?? ''}\n`);
    return code;
  } finally {
    await connection?.close();
  }
}

/** Writes one error (a line, or a JSON document) and returns its exit code: 2 for usage errors, 1 otherwise. */
function reportError(sink: TextSink, json: boolean, code: string, message: string, where: string, hint?: string): number {
  if (json) sink.write(`${JSON.stringify({ error: { code, message } }, null, 2)}\n`);
  else sink.write(`${where}: ${message}${hint ? `\n${hint}` : ''}\n`);
  return code === 'USAGE_ERROR' ? 2 : 1;
}

async function readStdin(): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
