import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiEnvelope, ok } from '../common/api-envelope';
import {
  ApiEnvelopeResponse,
  ApiErrorResponse,
} from '../common/api-envelope.decorator';
import { DomainError } from '../common/domain.error';
import { InboxQueries } from '../inbox/inbox.queries';
import { TurnQueue } from '../turns/queue/turn.queue';
import { AdminApi } from './admin-api.decorator';
import { StatsQueryDto } from './dto/queries.dto';
import { StatsDto } from './dto/responses.dto';

const DAY_MS = 24 * 60 * 60 * 1000;

@ApiTags('analytics')
@AdminApi()
@Controller('api')
export class StatsController {
  constructor(
    private readonly inbox: InboxQueries,
    private readonly queue: TurnQueue,
  ) {}

  @Get('stats')
  @ApiOperation({
    summary: 'Traffic, handoffs, LLM use and reply times over a period',
    description:
      'Defaults to the last 24 hours. `from` is inclusive, `to` exclusive.',
  })
  @ApiEnvelopeResponse(StatsDto)
  @ApiErrorResponse(400, 'from must be before to')
  async stats(@Query() query: StatsQueryDto): Promise<ApiEnvelope<StatsDto>> {
    const to = query.to ?? new Date();
    const from = query.from ?? new Date(to.getTime() - DAY_MS);
    if (from.getTime() >= to.getTime()) {
      throw new DomainError('from must be before to', 'invalid-period');
    }
    const [stats, queue] = await Promise.all([
      this.inbox.stats(from, to),
      this.queue.counts(),
    ]);
    return ok({
      ...stats,
      from: from.toISOString(),
      to: to.toISOString(),
      queue,
    });
  }
}
