import { BadRequestException, Injectable, PipeTransform } from '@nestjs/common';

/** A Graph API object id, as Meta gives media ids: decimal digits. */
export const MEDIA_ID = /^\d{1,30}$/;

/** Checks a `:mediaId` path parameter, or answers 400 before Meta is asked. */
@Injectable()
export class ParseMediaIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!MEDIA_ID.test(value ?? '')) {
      throw new BadRequestException(
        'mediaId must be a WhatsApp media id: 1 to 30 digits',
      );
    }
    return value;
  }
}
