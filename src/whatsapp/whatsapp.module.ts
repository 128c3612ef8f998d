import { HttpModule } from '@nestjs/axios';
import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { RedisConnection } from '../redis/redis-connection';
import { RedisModule } from '../redis/redis.module';
import { CloudApiWhatsappClient } from './cloud-api-whatsapp.client';
import { InMemorySendRateLimiter } from './in-memory-send-rate.limiter';
import { RedisSendRateLimiter } from './redis-send-rate.limiter';
import { SendRateLimiter } from './send-rate.limiter';
import { WhatsappClient } from './whatsapp.client';

@Module({
  imports: [HttpModule, RedisModule],
  providers: [
    { provide: WhatsappClient, useClass: CloudApiWhatsappClient },
    {
      provide: SendRateLimiter,
      inject: [AppConfig, RedisConnection],
      useFactory: (config: AppConfig, redis: RedisConnection) =>
        redis.client
          ? new RedisSendRateLimiter(
              redis.client,
              redis.keyPrefix,
              config.whatsapp.phoneNumberId ?? 'unconfigured',
              config.whatsapp.messagesPerSecond,
            )
          : new InMemorySendRateLimiter(config.whatsapp.messagesPerSecond),
    },
  ],
  exports: [WhatsappClient],
})
export class WhatsappModule {}
