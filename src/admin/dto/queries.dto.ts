import { ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsDate,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateBy,
} from 'class-validator';
import { CUSTOMER_ID_RULE, parseCustomerId } from '../../common/customer-id';
import { normalizePhoneNumber } from '../../common/phone-number';
import { ToInteger, ToIsoDate } from '../../common/query-values';

/** A filter that looks like a phone number must be a valid one (or a BSUID). */
const IsCustomerFilter = () =>
  ValidateBy({
    name: 'isCustomerFilter',
    validator: {
      validate: (value: unknown) =>
        typeof value === 'string' &&
        (normalizePhoneNumber(value.trim()) === null ||
          parseCustomerId(value) !== null),
      defaultMessage: () =>
        `customer must be ${CUSTOMER_ID_RULE}, or part of a profile name`,
    },
  });

export class ListConversationsQueryDto {
  @ApiPropertyOptional({ enum: ['active', 'handoff', 'expired'] })
  @IsOptional()
  @IsIn(['active', 'handoff', 'expired'])
  state?: 'active' | 'handoff' | 'expired';

  @ApiPropertyOptional({
    example: '16505551234',
    description:
      "A phone number with its country code or a BSUID (exact match), or part of the customer's profile name",
  })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  @IsCustomerFilter()
  customer?: string;

  @ApiPropertyOptional({ default: 20, minimum: 1, maximum: 100 })
  @IsOptional()
  @ToInteger()
  @IsInt({ message: '$property must be an integer written in decimal digits' })
  @Min(1)
  @Max(100)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor from the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;
}

export class ListMessagesQueryDto {
  @ApiPropertyOptional({ default: 100, minimum: 1, maximum: 500 })
  @IsOptional()
  @ToInteger()
  @IsInt({ message: '$property must be an integer written in decimal digits' })
  @Min(1)
  @Max(500)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor from the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;
}

export class StatsQueryDto {
  @ApiPropertyOptional({
    example: '2026-11-01T00:00:00Z',
    description: 'Start (inclusive, ISO 8601); default 24 hours before `to`',
  })
  @IsOptional()
  @ToIsoDate()
  @IsDate({
    message: 'from must be an ISO 8601 date or date-time (e.g. 2026-11-01)',
  })
  from?: Date;

  @ApiPropertyOptional({
    example: '2026-11-25T00:00:00Z',
    description: 'End (exclusive, ISO 8601); default now',
  })
  @IsOptional()
  @ToIsoDate()
  @IsDate({
    message: 'to must be an ISO 8601 date or date-time (e.g. 2026-11-25)',
  })
  to?: Date;
}
