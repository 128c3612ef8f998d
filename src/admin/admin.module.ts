import { Module } from '@nestjs/common';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { ThrottlerModule } from '@nestjs/throttler';
import { AppConfig } from '../config/app-config';
import { ConversationModule } from '../conversation/conversation.module';
import { RedisConnection } from '../redis/redis-connection';
import { RedisModule } from '../redis/redis.module';
import { ConversationsController } from './conversations.controller';
import { MessagingController } from './messaging.controller';
import { StatsController } from './stats.controller';

/** The operators' API under /api: authenticated, throttled, documented. */
@Module({
  imports: [
    ConversationModule,
    ThrottlerModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        throttlers: [
          {
            ttl: config.admin.throttleTtlMs,
            limit: config.admin.throttleLimit,
          },
        ],
      }),
    }),
  ],
  controllers: [MessagingController, ConversationsController, StatsController],
})
export class AdminModule {}
