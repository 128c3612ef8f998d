import { ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsInt,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
} from 'class-validator';

export class StartHandoffDto {
  @ApiPropertyOptional({ example: 'Refund request', maxLength: 500 })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;

  @ApiPropertyOptional({
    example: 60,
    minimum: 1,
    maximum: 43200,
    description:
      'Give the conversation back to the bot after this many minutes',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(43200)
  autoResumeMinutes?: number;
}
