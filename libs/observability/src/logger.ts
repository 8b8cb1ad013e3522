import pino, { Logger } from 'pino';

export type { Logger };

/** One JSON logger per process; children carry correlation ids (request, client, payment). */
export function createLogger(level: string, service: string): Logger {
  return pino({
    level,
    base: { service },
    redact: {
      paths: ['*.authorization', '*.apiKey', '*.secret', 'headers.authorization'],
      censor: '[redacted]',
    },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}

export const LOGGER = Symbol('LOGGER');
