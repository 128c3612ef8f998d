import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { RedisConnection } from './redis-connection';

/** Provides the Redis connection when REDIS_URL is set (an empty one otherwise). */
@Module({
  providers: [
    {
      provide: RedisConnection,
      inject: [AppConfig],
      useFactory: (config: AppConfig) =>
        new RedisConnection(config.redisUrl, config.redisKeyPrefix),
    },
  ],
  exports: [RedisConnection],
})
export class RedisModule implements OnApplicationShutdown {
  constructor(
    @Inject(RedisConnection) private readonly redis: RedisConnection,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis.close();
  }
}
