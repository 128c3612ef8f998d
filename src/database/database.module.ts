import { Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { DatabaseConnection } from './database-connection';
import { openDatabase } from './open-database';

/**
 * Opens PGlite (files under DATA_DIR) or, with DATABASE_URL, a PostgreSQL
 * server, and applies the migrations before anything else starts.
 */
@Module({
  providers: [
    {
      provide: DatabaseConnection,
      inject: [AppConfig],
      useFactory: async (config: AppConfig) => {
        const connection = await openDatabase(config.database);
        new Logger('DatabaseModule').log(
          `database ready (${connection.driver}${connection.driver === 'pglite' ? `, ${config.database.dataDir}` : ''})`,
        );
        return connection;
      },
    },
  ],
  exports: [DatabaseConnection],
})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(
    @Inject(DatabaseConnection) private readonly connection: DatabaseConnection,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.connection.close();
  }
}
