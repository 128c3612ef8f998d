import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { plainToInstance, Transform } from 'class-transformer';
import {
  IsIn,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
  MinLength,
  ValidationArguments,
  registerDecorator,
  validateSync,
} from 'class-validator';

export class ContextMessageDto {
  @ApiProperty({ enum: ['user', 'assistant'], example: 'user' })
  @IsIn(['user', 'assistant'])
  role: 'user' | 'assistant';

  @ApiProperty({ example: 'Do you ship to Spain?' })
  @IsString()
  @MaxLength(4096)
  content: string;
}

/** `context` is either a note (string) or earlier messages. */
function IsPreviewContext() {
  return (target: object, property: string) =>
    registerDecorator({
      name: 'isPreviewContext',
      target: target.constructor,
      propertyName: property,
      validator: {
        validate(value: unknown) {
          if (typeof value === 'string') return value.length <= 4000;
          if (!Array.isArray(value) || value.length > 50) return false;
          return value.every(
            (item) =>
              item instanceof ContextMessageDto &&
              validateSync(item, {
                whitelist: true,
                forbidNonWhitelisted: true,
              }).length === 0,
          );
        },
        defaultMessage: (args?: ValidationArguments) =>
          `${args?.property ?? 'context'} must be a string (at most 4000 characters) or at most 50 messages of {role: "user" | "assistant", content: string}`,
      },
    });
}

export class GenerateResponseDto {
  @ApiProperty({ example: 'Do you have this in blue?', maxLength: 4096 })
  @IsString()
  @MinLength(1)
  @Matches(/\S/, { message: 'message must contain text' })
  @MaxLength(4096)
  message: string;

  @ApiPropertyOptional({
    format: 'uuid',
    description: "Use this conversation's recent messages as context",
  })
  @IsOptional()
  @IsUUID()
  conversationId?: string;

  @ApiPropertyOptional({
    description:
      'Either a note for the assistant (string) or earlier messages to use as context',
    oneOf: [
      { type: 'string', example: 'The customer is a wholesale buyer.' },
      {
        type: 'array',
        items: { $ref: '#/components/schemas/ContextMessageDto' },
      },
    ],
  })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    Array.isArray(value)
      ? value.map((item: unknown) =>
          item && typeof item === 'object'
            ? plainToInstance(ContextMessageDto, item)
            : item,
        )
      : value,
  )
  @IsPreviewContext()
  context?: string | ContextMessageDto[];
}
