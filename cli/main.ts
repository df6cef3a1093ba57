/** The `dropscore` command line: parses arguments and hands each command to its module. */
import { parseArgs } from 'node:util';
import { predict } from './predict-command.js';

const USAGE = `usage: dropscore <command> [options]

commands:
  predict <model-dir> <record.json> [--max-bytes N]
      Score one record file offline against a model folder (layers/models/<name>)
      and print the outcome JSON exactly as the scorer writes it. Exit code 1 and
      the error record when the record or the model is bad.
  help
      Show this text.
`;

interface TextSink {
  write(text: string): unknown;
}

export async function main(argv: string[], out: TextSink = process.stdout, err: TextSink = process.stderr): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'predict': {
      let parsed;
      try {
        parsed = parseArgs({ args: rest, allowPositionals: true, options: { 'max-bytes': { type: 'string' } } });
      } catch (error) {
        err.write(`dropscore predict: ${(error as Error).message}\n\n${USAGE}`);
        return 2;
      }
      const [modelDir, recordPath] = parsed.positionals;
      const maxBytes = parsed.values['max-bytes'] === undefined ? undefined : Number(parsed.values['max-bytes']);
      if (!modelDir || !recordPath || parsed.positionals.length > 2 || (maxBytes !== undefined && !(Number.isInteger(maxBytes) && maxBytes > 0))) {
        err.write(`dropscore predict: expected <model-dir> <record.json> and an optional positive --max-bytes\n\n${USAGE}`);
        return 2;
      }
      const result = await predict(modelDir, recordPath, maxBytes);
      out.write(`${result.json}\n`);
      return result.exitCode;
    }
    case 'help':
    case '--help':
    case '-h':
      out.write(USAGE);
      return 0;
    default:
      err.write(`${command ? `dropscore: unknown command "${command}"\n\n` : ''}${USAGE}`);
      return 2;
  }
}
