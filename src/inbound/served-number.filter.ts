import { Injectable, Logger } from '@nestjs/common';
import { WhatsappConfig } from '../config/app-config';

/** Business numbers warned about; beyond this many, no more are remembered (or warned). */
const MAX_WARNED_NUMBERS = 1_000;

/**
 * Which business number's messages this app answers: only
 * WHATSAPP_PHONE_NUMBER_ID's, since replies go out from that number. A
 * message that reached another number of the account (or, when the variable
 * is unset, any number) is stored and not answered. A webhook that names no
 * business number at all (Meta always sends `metadata.phone_number_id`; a
 * hand-made test payload may not) gives no sign of another number, so it is
 * answered from WHATSAPP_PHONE_NUMBER_ID. Each unanswered number is logged
 * once, not per message.
 */
@Injectable()
export class ServedNumberFilter {
  private readonly logger = new Logger(ServedNumberFilter.name);
  private readonly served: string | null;
  private readonly warned = new Set<string | null>();

  constructor(config: WhatsappConfig) {
    this.served = config.phoneNumberId;
  }

  /** True when messages to `phoneNumberId` are answered; warns once per other number. */
  readonly answers = (phoneNumberId: string | null): boolean => {
    if (this.served !== null && (phoneNumberId ?? this.served) === this.served)
      return true;
    this.warnOnce(phoneNumberId);
    return false;
  };

  private warnOnce(phoneNumberId: string | null): void {
    if (this.warned.has(phoneNumberId)) return;
    if (this.warned.size >= MAX_WARNED_NUMBERS) return;
    this.warned.add(phoneNumberId);
    const why =
      this.served === null
        ? 'WHATSAPP_PHONE_NUMBER_ID is unset, so no reply could go out'
        : 'it is not WHATSAPP_PHONE_NUMBER_ID, the number replies go out from';
    this.logger.warn(
      { phoneNumberId, servedPhoneNumberId: this.served },
      `messages to business number ${phoneNumberId ?? '(none)'} are stored and not answered: ${why}`,
    );
  }
}
