import { ApiProperty } from '@nestjs/swagger';

class DatabaseStatusDto {
  @ApiProperty({ enum: ['up', 'down'], example: 'up' })
  status: 'up' | 'down';
  @ApiProperty({ enum: ['pglite', 'postgres'], example: 'pglite' })
  driver: string;
}

class WhatsappStatusDto {
  @ApiProperty({ example: true })
  configured: boolean;
  @ApiProperty({ type: String, nullable: true, example: '106540352242922' })
  phoneNumberId: string | null;
  @ApiProperty({ example: 'v25.0' })
  apiVersion: string;
  @ApiProperty({
    example: true,
    description: 'false when WHATSAPP_APP_SECRET is unset (development only)',
  })
  signatureVerification: boolean;
}

class LlmStatusDto {
  @ApiProperty({ example: true })
  configured: boolean;
  @ApiProperty({ example: 'gpt-4.1-mini' })
  model: string;
}

class QueueStatusDto {
  @ApiProperty({ enum: ['in-process', 'bullmq'], example: 'in-process' })
  driver: string;
  @ApiProperty({
    enum: ['up', 'down'],
    required: false,
    description: 'With REDIS_URL only',
  })
  redis?: string;
}

class McpServerStatusDto {
  @ApiProperty({
    example: 'crm',
    description: "The prefix of its tools' names (`crm__lookup_order`)",
  })
  name: string;
  @ApiProperty({
    example: 'https://crm.example.com/mcp',
    description: 'Without credentials or query string',
  })
  url: string;
  @ApiProperty({ enum: ['connecting', 'up', 'down'], example: 'up' })
  status: 'connecting' | 'up' | 'down';
  @ApiProperty({ example: 3, description: 'Tools offered to the model now' })
  tools: number;
  @ApiProperty({
    type: String,
    nullable: true,
    example: null,
    description: 'Why it is down',
  })
  error: string | null;
  @ApiProperty({
    example: '2026-11-25T10:00:00.000Z',
    description: 'When it entered this state',
  })
  since: string;
}

class McpStatusDto {
  @ApiProperty({
    type: [McpServerStatusDto],
    description: 'The servers of MCP_SERVERS, in order (empty when unset)',
  })
  servers: McpServerStatusDto[];
}

class ServicesDto {
  @ApiProperty()
  database: DatabaseStatusDto;
  @ApiProperty()
  whatsapp: WhatsappStatusDto;
  @ApiProperty()
  llm: LlmStatusDto;
  @ApiProperty()
  queue: QueueStatusDto;
  @ApiProperty()
  mcp: McpStatusDto;
}

export class ServiceHealthDto {
  @ApiProperty({ enum: ['ok', 'degraded'], example: 'ok' })
  status: 'ok' | 'degraded';
  @ApiProperty({ example: '2026-11-25T10:00:00.000Z' })
  timestamp: string;
  @ApiProperty({ example: 42 })
  uptimeSeconds: number;
  @ApiProperty()
  services: ServicesDto;
}
