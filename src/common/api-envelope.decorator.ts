import { Type, applyDecorators } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiResponse,
  ApiResponseOptions,
  getSchemaPath,
} from '@nestjs/swagger';

/**
 * Documents a response as `{ success, message, data: <model> }`, the
 * envelope every /api route answers with.
 */
export function ApiEnvelopeResponse(
  model: Type<unknown> | null,
  options: ApiResponseOptions & { status?: number; isArray?: boolean } = {},
) {
  const data = model
    ? options.isArray
      ? { type: 'array', items: { $ref: getSchemaPath(model) } }
      : { $ref: getSchemaPath(model) }
    : { type: 'object', nullable: true, example: null };
  const { isArray: _isArray, ...rest } = options;
  return applyDecorators(
    ...(model ? [ApiExtraModels(model)] : []),
    ApiResponse({
      status: 200,
      ...rest,
      schema: {
        type: 'object',
        required: ['success', 'message', 'data'],
        properties: {
          success: { type: 'boolean', example: true },
          message: { type: 'string', example: 'OK' },
          data,
        },
      },
    } as ApiResponseOptions),
  );
}

/** Documents an error answer in the envelope. */
export function ApiErrorResponse(status: number, description: string) {
  return ApiResponse({
    status,
    description,
    schema: {
      type: 'object',
      properties: {
        success: { type: 'boolean', example: false },
        message: { type: 'string', example: description },
        data: { type: 'object', nullable: true, example: null },
      },
    },
  });
}
