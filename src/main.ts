import { createApp } from './app.factory';
import { loadAppConfig } from './config/app-config.module';
import { describeStartFailure } from './start-failure';

async function bootstrap() {
  // Importing the config module has loaded .env; the whole environment is
  // checked once, before anything starts, so a bad value is reported plainly.
  const config = loadAppConfig();
  const app = await createApp(config);
  await app.listen({ port: config.server.port, host: '0.0.0.0' });
}

bootstrap().catch((error: unknown) => {
  // A bad variable, a database that cannot be opened (named by DATABASE_URL,
  // password masked), or anything else with its stack trace.
  process.stderr.write(`${describeStartFailure(error, process.env)}\n`);
  process.exit(1);
});
