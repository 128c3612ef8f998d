import { ApiProperty } from '@nestjs/swagger';

export class ToolDto {
  @ApiProperty({ example: 'order_status' })
  name: string;
  @ApiProperty({ example: 'The status of one of the customer’s orders' })
  description: string;
  @ApiProperty({ enum: ['builtin', 'http', 'mcp'] })
  kind: string;
  @ApiProperty({
    example:
      'GET https://shop.example/api/orders/{order_id}?customer={customer}',
    description:
      'HTTP tools: the method and URL template; MCP tools: the server URL',
  })
  origin: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'JSON Schema of the arguments, as the model sees it',
  })
  parameters: Record<string, unknown>;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { customer: 'customer.phone' },
    description:
      'Parameters ClariOps fills from the conversation; hidden from the model',
  })
  bound: Record<string, string>;
  @ApiProperty({
    type: [String],
    example: ['Authorization'],
    description: 'Names of the headers sent (values are never shown)',
  })
  headers: string[];
  @ApiProperty({ type: Number, nullable: true, example: 10000 })
  timeoutMs: number | null;
}
