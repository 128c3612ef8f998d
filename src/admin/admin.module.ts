import { Module } from '@nestjs/common';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { ThrottlerModule } from '@nestjs/throttler';
import { AppConfig } from '../config/app-config';
import { ConversationModule } from '../conversation/conversation.module';
import { InboxModule } from '../inbox/inbox.module';
import { KnowledgeModule } from '../knowledge/knowledge.module';
import { OutboundModule } from '../outbound/outbound.module';
import { TurnsModule } from '../turns/turns.module';
import { RedisConnection } from '../redis/redis-connection';
import { RedisModule } from '../redis/redis.module';
import { ConversationsController } from './conversations.controller';
import { FailOpenThrottlerStorage } from './fail-open-throttler.storage';
import { KnowledgeController } from './knowledge.controller';
import { MediaController } from './media.controller';
import { MessagingController } from './messaging.controller';
import { StatsController } from './stats.controller';
import { ToolsController } from './tools.controller';
import { ToolsModule } from '../tools/tools.module';

/** The operators' API under /api: authenticated, throttled, documented. */
@Module({
  imports: [
    ConversationModule,
    InboxModule,
    KnowledgeModule,
    OutboundModule,
    TurnsModule,
    ToolsModule,
    ThrottlerModule.forRootAsync({
      imports: [RedisModule],
      inject: [AppConfig, RedisConnection],
      useFactory: (config: AppConfig, redis: RedisConnection) => ({
        throttlers: [
          {
            ttl: config.admin.throttleTtlMs,
            limit: config.admin.throttleLimit,
          },
        ],
        // The answer says what happened and when to retry, not the class name.
        errorMessage: (_context, { timeToBlockExpire, timeToExpire }) =>
          `Too many requests: try again in ${Math.max(1, Math.ceil(timeToBlockExpire || timeToExpire))} s`,
        // One budget per client across the whole admin API, not per route.
        generateKey: (_context, tracker, throttler) =>
          `${config.redisKeyPrefix}:admin-throttle:${throttler}:${tracker}`,
        // With Redis the counters are shared, so the limit holds across
        // instances; while Redis fails, each instance counts on its own
        // rather than refusing the admin API.
        ...(redis.client && {
          storage: new FailOpenThrottlerStorage(
            new ThrottlerStorageRedisService(redis.client),
          ),
        }),
      }),
    }),
  ],
  controllers: [
    MessagingController,
    MediaController,
    ConversationsController,
    StatsController,
    ToolsController,
    KnowledgeController,
  ],
})
export class AdminModule {}
