/** Runs the `dropscore` CLI in this process, as a user's shell would, and captures what it prints. */
import { Writable } from 'node:stream';
import { main } from '../../cli/main.js';

export interface CliRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

export async function runCli(argv: readonly string[]): Promise<CliRun> {
  let out = '';
  let err = '';
  const sink = (append: (text: string) => void) => new Writable({ write: (chunk, _enc, done) => (append(String(chunk)), done()) });
  const code = await main([...argv], sink((t) => (out += t)), sink((t) => (err += t)));
  return { code, out, err };
}
