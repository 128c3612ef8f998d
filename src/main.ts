import { createApp } from './app.factory';
import { AppConfig } from './config/app-config';
import { InvalidEnvironmentError, validateEnv } from './config/validate-env';

async function bootstrap() {
  // Importing the app module has loaded .env; check the whole environment
  // before anything starts, so a bad value is reported once and plainly.
  validateEnv(process.env);
  const app = await createApp();
  const config = app.get(AppConfig);
  await app.listen({ port: config.server.port, host: '0.0.0.0' });
}

bootstrap().catch((error: unknown) => {
  const message =
    error instanceof InvalidEnvironmentError
      ? error.message
      : `ClariOps failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
  process.stderr.write(`${message}\n`);
  process.exit(1);
});
