import { UseGuards, applyDecorators } from '@nestjs/common';
import { ApiBearerAuth } from '@nestjs/swagger';
import { ThrottlerGuard } from '@nestjs/throttler';
import { AdminKeyGuard } from '../common/admin-key.guard';
import { ApiErrorResponse } from '../common/api-envelope.decorator';

/**
 * Every admin controller: rate-limited first (so guessing keys is slow too),
 * then `Authorization: Bearer <ADMIN_API_KEY>`. A refused request never
 * reaches a handler.
 */
export function AdminApi() {
  return applyDecorators(
    UseGuards(ThrottlerGuard, AdminKeyGuard),
    ApiBearerAuth('admin-key'),
    ApiErrorResponse(401, 'Missing or invalid admin API key'),
    ApiErrorResponse(429, 'Too many requests (see the Retry-After header)'),
  );
}
