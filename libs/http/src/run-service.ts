import { NestApplicationOptions } from '@nestjs/common';
import { FlashdropConfig, loadConfig } from '@flashdrop/config';
import { Logger, PinoLogger } from 'nestjs-pino';
import pino from 'pino';
import { pinoParams } from './logger.module';

/**
 * A service's process, from its first line to its last: the config validated once, and every
 * line it writes one JSON object of its log (pino, through nestjs-pino): Nest's own lines from
 * the first (even those of a start that fails), Node's warnings (a deprecation, a FastifyWarning,
 * a listener leak), and the failure that stops it. `start` gets the options to create the Nest
 * application with.
 */
export function runService(
  service: string,
  start: (config: FlashdropConfig, nest: NestApplicationOptions) => Promise<unknown>,
): void {
  let fatal = (error: unknown) => pino({ base: { service } }).fatal({ err: error }, 'bad config');
  void (async () => {
    const config = loadConfig(FlashdropConfig);
    const params = pinoParams(service, config.LOG_LEVEL);
    // The first PinoLogger of a process fixes the pino instance every later one uses (the app's
    // LoggerModule too), so the lines before and after the app's logger takes over are alike.
    const log = new PinoLogger(params);
    fatal = (error) => log.fatal({ err: error }, `${service} could not start`);
    process.removeAllListeners('warning');
    process.on('warning', (warning) =>
      log.warn(
        { warning: warning.name, code: (warning as { code?: string }).code },
        warning.message,
      ),
    );
    // abortOnError false: a failed start reaches the catch below instead of process.abort().
    await start(config, { logger: new Logger(log, params), bufferLogs: true, abortOnError: false });
  })().catch((error: unknown) => {
    fatal(error);
    process.exit(1);
  });
}
