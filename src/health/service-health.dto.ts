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

class ServicesDto {
  @ApiProperty()
  database: DatabaseStatusDto;
  @ApiProperty()
  whatsapp: WhatsappStatusDto;
  @ApiProperty()
  llm: LlmStatusDto;
  @ApiProperty()
  queue: QueueStatusDto;
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
