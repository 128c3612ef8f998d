import { BadRequestException } from '@nestjs/common';
import { errorCodes } from 'fastify';
import secureJsonParse from 'secure-json-parse';

const FORBIDDEN_KEY = /forbidden prototype property/;

/**
 * The JSON body parser: Fastify's own (secure-json-parse, refusing the
 * `__proto__` and `constructor.prototype` keys that could poison an object's
 * prototype), but a refused key is answered as what it is rather than as
 * "not valid JSON".
 */
export function parseJsonBody(
  _request: unknown,
  body: Buffer,
  done: (error: Error | null, value?: unknown) => void,
): void {
  if (body.length === 0) {
    done(new errorCodes.FST_ERR_CTP_EMPTY_JSON_BODY());
    return;
  }
  try {
    done(null, secureJsonParse.parse(body));
  } catch (error) {
    done(
      error instanceof SyntaxError && FORBIDDEN_KEY.test(error.message)
        ? new BadRequestException(
            'Request body has a key that is not allowed: __proto__ or constructor.prototype',
          )
        : new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY(),
    );
  }
}
