import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiEnvelopeResponse } from '../common/api-envelope.decorator';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { ApiEnvelope, ok } from '../common/api-envelope';
import { AppConfig } from '../config/app-config';
import { McpToolSource } from '../tools/mcp/mcp-tool.source';
import { DatabaseHealthIndicator } from './database.health';
import { RedisHealthIndicator } from './redis.health';
import { ServiceHealthDto } from './service-health.dto';

@ApiTags('health')
@Controller()
export class HealthController {
  private readonly startedAt = Date.now();

  constructor(
    private readonly health: HealthCheckService,
    private readonly database: DatabaseHealthIndicator,
    private readonly redis: RedisHealthIndicator,
    private readonly config: AppConfig,
    private readonly mcp: McpToolSource,
  ) {}

  @Get('api/health')
  @ApiOperation({
    summary: 'Service status (public)',
    description:
      'Always answers 200 while the process runs; `data.status` is `degraded` when the database (or Redis, when configured) does not answer. WhatsApp and the LLM are reported as configured or not; each MCP server as up, down or connecting, which does not change `data.status` (its tools are left out while it is down).',
  })
  @ApiEnvelopeResponse(ServiceHealthDto)
  async status(): Promise<ApiEnvelope<ServiceHealthDto>> {
    const [{ database }, redis] = await Promise.all([
      this.database.check(),
      this.redis.enabled ? this.redis.check() : Promise.resolve(null),
    ]);
    const redisUp = redis === null || redis.redis.status === 'up';
    const healthy = database.status === 'up' && redisUp;
    return ok(
      {
        status: healthy ? 'ok' : 'degraded',
        timestamp: new Date().toISOString(),
        uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
        services: {
          database: {
            status: database.status,
            driver: String(database.driver),
          },
          whatsapp: {
            configured: this.config.whatsappConfigured,
            phoneNumberId: this.config.whatsapp.phoneNumberId,
            apiVersion: this.config.whatsapp.apiVersion,
            signatureVerification: this.config.whatsapp.appSecret !== null,
          },
          llm: {
            configured: this.config.llmConfigured,
            model: this.config.llm.model,
          },
          queue: {
            driver: this.redis.enabled ? 'bullmq' : 'in-process',
            ...(redis && { redis: redis.redis.status }),
          },
          mcp: { servers: this.mcp.status() },
        },
      },
      healthy
        ? 'ClariOps is running'
        : 'ClariOps is running without its database',
    );
  }

  @Get('health/live')
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness probe: the process answers' })
  live() {
    return this.health.check([]);
  }

  @Get('health/ready')
  @HealthCheck()
  @ApiOperation({
    summary:
      'Readiness probe: 200 when the database (and Redis, when configured) answer, 503 otherwise',
  })
  ready() {
    return this.health.check([
      () => this.database.check(),
      ...(this.redis.enabled ? [() => this.redis.check()] : []),
    ]);
  }
}
