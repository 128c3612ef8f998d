import { createApp } from './app.factory';
import { AppConfig } from './config/app-config';
import { InvalidEnvironmentError } from './config/validate-env';

async function bootstrap() {
  const app = await createApp();
  const config = app.get(AppConfig);
  await app.listen({ port: config.server.port, host: '0.0.0.0' });
}

bootstrap().catch((error: unknown) => {
  // Configuration problems are the user's to fix: say what, without a stack.
  const message =
    error instanceof InvalidEnvironmentError
      ? error.message
      : `ClariOps failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
  process.stderr.write(`${message}\n`);
  process.exit(1);
});
