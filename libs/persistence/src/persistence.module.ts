import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../../config/src';
import { createDataSource, ensureDatabase, runMigrations } from './database';

/** Provides the TypeORM DataSource: database created if missing, migrations run at start. */
@Global()
@Module({
  providers: [
    {
      provide: DataSource,
      inject: [APP_CONFIG],
      useFactory: async (config: AppConfig) => {
        await ensureDatabase(config.databaseUrl);
        const dataSource = createDataSource({
          url: config.databaseUrl,
          poolSize: config.dbPoolSize,
          preparedStatements: config.dbPreparedStatements,
        });
        await dataSource.initialize();
        await runMigrations(dataSource);
        return dataSource;
      },
    },
  ],
  exports: [DataSource],
})
export class PersistenceModule implements OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
