import { AppConfig, ConfigError, loadConfig } from './app-config';

/**
 * Entry point shared by the runnable apps: validates the configuration once (a bad value stops
 * the process with a message naming the variable, exit code 78 = EX_CONFIG), then starts.
 */
export async function runMain(
  service: string,
  start: (config: AppConfig) => Promise<unknown>,
): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${service}: ${error.message}\n`);
    process.exit(78);
  }
  try {
    await start(config);
    process.stdout.write(
      `${JSON.stringify({ level: 'info', service, msg: 'started', port: config.port, services: config.services })}\n`,
    );
  } catch (error) {
    process.stderr.write(
      `${service}: failed to start: ${(error as Error).stack ?? String(error)}\n`,
    );
    process.exit(1);
  }
}
