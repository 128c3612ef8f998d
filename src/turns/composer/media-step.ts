import { Injectable, Logger } from '@nestjs/common';
import type {
  MediaResult,
  Message,
} from '../../conversation/conversation.types';
import { DomainEvents } from '../../events/domain-events';
import {
  MediaInterpreter,
  MediaReading,
} from '../../inbound/media/media-interpreter';
import { READABLE_MEDIA_KINDS } from '../../inbound/reply-decision';
import { TurnStore } from '../turn.store';

/** The turn's new messages with their media read, and this turn's images. */
export interface ReadMessages {
  unanswered: Message[];
  /** Message id → the image as a data URI (never stored). */
  images: Map<number, string>;
}

/**
 * The composer's first step: reads the media of the unanswered messages
 * (bounded in concurrency and time) and stores what it understood — or why
 * it failed — on each message before anything is composed, so a turn run
 * again does not download or transcribe again. Images are downloaded again
 * by a re-run (their bytes are never stored). Failures are logged with
 * their reason and published (`media.failed`), once per message.
 */
@Injectable()
export class MediaStep {
  private readonly logger = new Logger(MediaStep.name);

  constructor(
    private readonly interpreter: MediaInterpreter,
    private readonly store: TurnStore,
    private readonly events: DomainEvents,
  ) {}

  async read(unanswered: Message[], log: object): Promise<ReadMessages> {
    const images = new Map<number, string>();
    const toRead = unanswered.filter(
      (m): m is Message & { mediaId: string } =>
        m.replyAction === 'llm' &&
        READABLE_MEDIA_KINDS.has(m.kind) &&
        m.mediaId !== null &&
        (m.mediaStatus === null || needsImageAgain(m)),
    );
    if (toRead.length === 0) return { unanswered, images };

    const readings = await this.interpreter.readAll(toRead);
    const results: MediaResult[] = [];
    toRead.forEach((message, i) => {
      const reading = readings[i];
      if (reading.status === 'understood' && reading.imageUrl) {
        images.set(message.id, reading.imageUrl);
      }
      // Stored already (an image read again): nothing new to store or count.
      if (message.mediaStatus !== null) return;
      results.push(toResult(message.id, reading));
      if (reading.status === 'failed') {
        this.events.publish({
          type: 'media.failed',
          conversationId: message.conversationId,
          messageId: message.id,
          kind: message.kind,
          reason: reading.reason,
        });
        this.logger.warn(
          {
            ...log,
            messageId: message.id,
            kind: message.kind,
            reason: reading.reason,
            detail: reading.detail,
          },
          `could not read the customer's ${message.kind} (${reading.reason}); answering as unsupported media`,
        );
      }
    });
    await this.store.saveMediaResults(results);
    const stored = new Map(results.map((r) => [r.messageId, r]));
    return {
      unanswered: unanswered.map((m) => {
        const result = stored.get(m.id);
        return result
          ? {
              ...m,
              mediaStatus: result.status,
              mediaText: result.text,
              mediaFailure: result.failure,
            }
          : m;
      }),
      images,
    };
  }
}

/** An image understood by an earlier run of this turn: its bytes are needed again. */
function needsImageAgain(message: Message): boolean {
  return (
    (message.kind === 'image' || message.kind === 'sticker') &&
    message.mediaStatus === 'understood'
  );
}

function toResult(messageId: number, reading: MediaReading): MediaResult {
  switch (reading.status) {
    case 'understood':
      return {
        messageId,
        status: 'understood',
        text: reading.text,
        failure: null,
      };
    case 'failed':
      return {
        messageId,
        status: 'failed',
        text: null,
        failure: `${reading.reason}: ${reading.detail}`.slice(0, 500),
      };
    case 'skipped':
      return { messageId, status: 'skipped', text: null, failure: null };
  }
}
