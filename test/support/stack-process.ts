/** `npm start`'s stack in a child process: what a user runs, and what a test can kill. */
import { spawn, type ChildProcess } from 'node:child_process';
import { REPO_ROOT } from './paths.js';

export interface RunningStack {
  readonly child: ChildProcess;
  readonly endpoint: string;
  readonly output: () => string;
}

/** `npm start` on a free port, in a child process of its own (a kill ends all of it); resolves once it serves. */
export function startStackProcess(dataDir: string, manifest: string, samples: string): Promise<RunningStack> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'infra/local/start.ts', '--port', '0', '--data-dir', dataDir, '--manifest', manifest, '--samples', samples, '--console-port', 'off'], {
    cwd: REPO_ROOT,
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const endpoint = /local stack on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
      if (endpoint && output.includes('Serving.')) resolve({ child, endpoint, output: () => output });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`the stack exited (${code}) before serving:\n${output}`)));
  });
}

export function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}
