import { Global, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AppConfig } from './app-config';
import { validateEnv } from './validate-env';

/**
 * Loads `.env` when present (real environment variables win), validates the
 * environment once and provides the typed AppConfig everywhere. A bad value
 * fails the bootstrap with one error that lists every offending variable.
 */
@Global()
@Module({
  imports: [ConfigModule.forRoot({ cache: true })],
  providers: [
    {
      provide: AppConfig,
      useFactory: () => new AppConfig(validateEnv(process.env)),
    },
  ],
  exports: [AppConfig],
})
export class AppConfigModule {}
