import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { type ApiEnvelope, ok } from '../common/api-envelope';
import { ApiEnvelopeResponse } from '../common/api-envelope.decorator';
import { ToolRegistry } from '../tools/tool.registry';
import { AdminApi } from './admin-api.decorator';
import { ToolDto } from './dto/tools.dto';

@ApiTags('tools')
@AdminApi()
@Controller('api')
export class ToolsController {
  constructor(private readonly registry: ToolRegistry) {}

  @Get('tools')
  @ApiOperation({
    summary: 'The tools the model may call',
    description:
      'The built-in handoff tool, the HTTP tools of TOOLS_FILE and the tools of reachable MCP servers, each with the parameters the model sees. Bound parameters and header names are listed; header values never are.',
  })
  @ApiEnvelopeResponse(ToolDto, { isArray: true })
  tools(): ApiEnvelope<ToolDto[]> {
    return ok(this.registry.catalog());
  }
}
