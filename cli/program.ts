/**
 * The `dropscore` command tree (commander): every group and command with its
 * arguments, options and help text. Actions hand a ParsedCommand to the
 * handlers in commands.ts; main.ts runs the tree and maps errors to exit codes.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option, type HelpContext } from 'commander';
import { FRAMEWORKS } from '../functions/scorer/models/model-artifact.js';
import type { ParsedCommand } from './commands.js';

export type Action = (command: ParsedCommand) => Promise<void>;

export const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  failure (an error outcome, an unknown model or deployment, an unreachable stack)
  2  wrong command line (unknown command or option, missing or invalid argument)

With --json, output and errors are JSON on stdout: an error is {"error": {"code", "message"}}.`;

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** A group without its subcommand prints its help, as `kubectl`/`gh` do: the way to list a group's commands. */
class DropscoreCommand extends Command {
  override createCommand(name?: string): Command {
    return new DropscoreCommand(name);
  }

  override help(context?: unknown): never {
    if ((context as HelpContext | undefined)?.error && this.commands.length > 0 && this.args.length === 0) {
      this.outputHelp();
      throw new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)');
    }
    return super.help(context as HelpContext);
  }
}

export function buildProgram(run: Action): Command {
  const program = new DropscoreCommand('dropscore')
    .description('Serverless batch scoring of trained models: manage models and deployments, score records.')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    .option('--json', 'machine-readable output (errors too)')
    .option('--endpoint <url>', 'a running local stack or LocalStack (default $DROPSCORE_ENDPOINT, else http://127.0.0.1:$DROPSCORE_PORT, else http://127.0.0.1:4566)')
    .option('--embedded', 'run this command on a stack of its own, in this process, on --data-dir')
    .option('--aws', 'work on AWS (credentials from the usual chain)')
    .option('--profile <name>', 'AWS profile (implies --aws)')
    .option('--region <region>', 'AWS region')
    .option('--stage <name>', 'AWS: the stage deployed with `cdk deploy -c stage=<name>` (its own tables; default: no stage)')
    .option('--data-dir <dir>', 'embedded stack data', '.dropscore')
    .option('--manifest <file>', 'deployments manifest', 'deployments.json')
    .option('--models <dir>', 'models folder', 'layers/models')
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .showSuggestionAfterError(true)
    .addHelpText('after', `${EXIT_CODES_HELP}\n\nRun 'dropscore <command> --help' for a command's options; 'dropscore completion bash|zsh' for shell completion.`);

  const leaf = (parent: Command, name: string, description: string) => {
    const path = [...pathOf(parent), name.split(' ')[0]!];
    return parent.command(name).description(description).action(async (...received: unknown[]) => {
      const command = received[received.length - 1] as Command;
      await run({ positionals: [...path, ...command.args], values: kebabValues(command.optsWithGlobals()) });
    });
  };

  const models = program.command('models').description('models under layers/models: list, show, add');
  leaf(models, 'list', 'models with their framework, version and creation time');
  leaf(models, 'show <name>', 'a model\'s inputs and outputs with dtypes and shapes');
  leaf(models, 'add <path>', 'check that a model loads, record its signature, place it under the models folder')
    .addOption(new Option('--framework <framework>', 'the model\'s framework').choices(FRAMEWORKS).makeOptionMandatory())
    .option('--name <name>', 'model name (default: the file or folder name)');

  const deployments = program.command('deployments').description('deployments: list, show, delete (create one with `dropscore deploy`)');
  leaf(deployments, 'list', 'status, bindings and counters of every deployment');
  leaf(deployments, 'show <deployment>', 'one deployment (by name or id): status, details, bindings, counters, last error');
  leaf(deployments, 'delete <deployment>', 'delete a deployment (its buckets and outcomes are kept)');

  leaf(program, 'deploy <model>', 'deploy a model: score what lands in --source, write outcomes to --target')
    .requiredOption('--source <bucket>', 'bucket the deployment watches')
    .requiredOption('--target <bucket>', 'bucket its outcomes go to')
    .option('--source-prefix <prefix>', 'watch only keys under this prefix (e.g. in/)')
    .option('--target-prefix <prefix>', 'write outcomes under this prefix (e.g. out/)')
    .option('--name <name>', 'deployment name (default <model>-batch)')
    .option('--description <text>', 'description');

  leaf(program, 'score <deployment> <payload>', 'online scoring of a payload file (or - for stdin): {"values": [...]} or {"<input>": [...]}');
  leaf(program, 'batch <deployment> <paths...>', 'upload record files or folders and follow them to their outcomes')
    .option('--timeout <seconds>', 'how long to wait for outcomes', '120')
    .option('--out <dir>', 'write each outcome under this folder, beside its input\'s name');
  leaf(program, 'backfill <deployment>', 'score the objects already in the source that have no outcome for their current version')
    .option('--start-after <key>', 'resume: only the source keys after this one (a stopped run prints it)')
    .option('--rate <n>', 'objects sent to the scorer per second at most')
    .option('--concurrency <n>', 'scorer invocations at once (10 objects each)', '2')
    .option('--dry-run', 'count what would be scored; score nothing');
  leaf(program, 'redrive <deployment>', 'give the events that ended in the dead-letter queue (locally: dead-letter files) another go; report what is left')
    .option('--rate <n>', 'dead letters handed back per second at most');
  leaf(program, 'predict <model> <record>', 'score one record file offline, exactly as the scorer would (model: a name or a folder)')
    .option('--max-bytes <n>', 'record size limit');

  const outcomes = program.command('outcomes').description('outcomes in a deployment\'s target bucket: list, get');
  leaf(outcomes, 'list <deployment>', 'outcome keys with their state (result or error)');
  leaf(outcomes, 'get <deployment> [key]', 'print one outcome, or save it (or --all of them) under --out')
    .option('--all', 'every outcome of the deployment (needs --out)')
    .option('--out <dir>', 'write outcomes under this folder, by their key');

  leaf(program, 'recount', 'make the deployments\' counters and the prediction count agree with the input ledger again (after a crash between the two writes)')
    .option('--settle <seconds>', 'how long nothing may move before anything is corrected', '5')
    .option('--dry-run', 'show what differs; correct nothing');
  leaf(program, 'usage', 'models, deployments and predictions against the limits');
  leaf(program, 'completion <shell>', 'print a completion script: `source <(dropscore completion bash)`, or zsh');
  return program;
}

function pathOf(command: Command): string[] {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names;
}

function kebabValues(values: Record<string, unknown>): Record<string, string | boolean | undefined> {
  return Object.fromEntries(Object.entries(values).map(([key, value]) => [key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`), value as string | boolean | undefined]));
}
