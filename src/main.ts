import { createApp } from './app.factory';
import { AppConfig } from './config/app-config';
import { validateEnv } from './config/validate-env';
import { describeStartFailure } from './start-failure';

async function bootstrap() {
  // Importing the app module has loaded .env; check the whole environment
  // before anything starts, so a bad value is reported once and plainly.
  validateEnv(process.env);
  const app = await createApp();
  const config = app.get(AppConfig);
  await app.listen({ port: config.server.port, host: '0.0.0.0' });
}

bootstrap().catch((error: unknown) => {
  // A bad variable, a database that cannot be opened (named by DATABASE_URL,
  // password masked), or anything else with its stack trace.
  process.stderr.write(`${describeStartFailure(error, process.env)}\n`);
  process.exit(1);
});
