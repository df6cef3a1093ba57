/** Structured logs, one JSON object per line, as CloudWatch Logs Insights likes them. */
import type { Logger } from './domain/ports.js';

type Level = 'info' | 'warn' | 'error';

export function createJsonLogger(write: (line: string) => void = (line) => console.log(line), minLevel: Level = 'info'): Logger {
  const rank: Record<Level, number> = { info: 0, warn: 1, error: 2 };
  const emit = (level: Level) => (message: string, fields?: Record<string, unknown>) => {
    if (rank[level] >= rank[minLevel]) write(JSON.stringify({ level, message, ...fields }));
  };
  return { info: emit('info'), warn: emit('warn'), error: emit('error') };
}
