import { Injectable } from '@nestjs/common';
import { MediaConfig } from '../../config/app-config';
import { Transcriber, TranscriptionError } from '../../llm/transcriber';
import { WhatsappClient } from '../../whatsapp/whatsapp.client';
import { DocumentTextError, extractDocumentText } from './document-text';
import {
  DOCX,
  essence,
  MEDIA_MAX_BYTES,
  matchesDeclaredType,
  PDF,
  sniffMediaType,
  TEXT_TYPES,
  transcriptionFilename,
} from './media-type';

/** Why a media file could not be understood: the `reason` of the metric and of the message. */
export type MediaFailureReason =
  | 'download-failed'
  | 'too-large'
  | 'timeout'
  | 'wrong-type'
  | 'unsupported-format'
  | 'transcription-failed'
  | 'transcription-empty'
  | 'extraction-failed'
  | 'empty-document';

/** What reading one media file gave. */
export type MediaReading =
  | {
      status: 'understood';
      /** A transcript or a document's text; null for an image. */
      text: string | null;
      /** An image as a data URI, for this turn's prompt only (never stored). */
      imageUrl?: string;
    }
  | { status: 'failed'; reason: MediaFailureReason; detail: string }
  /** Not looked at: vision or transcription is off, or a kind the bot does not read (video). */
  | { status: 'skipped' };

/** The message fields reading needs. */
export interface MediaToRead {
  kind: string;
  mediaId: string;
}

/**
 * How many media files one turn reads at once, how many the whole instance
 * reads at once (turns run concurrently: this bounds the memory held by
 * downloads), and how long one file may take once its turn has a slot.
 */
export const MEDIA_CONCURRENCY = 3;
export const MEDIA_INSTANCE_CONCURRENCY = 8;
export const MEDIA_TIMEOUT_MS = 60_000;

class MediaFailure extends Error {
  constructor(
    readonly reason: MediaFailureReason,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Understands an inbound media file: downloads it (Meta's size cap for its
 * kind, its real type checked against what Meta said), then transcribes a
 * voice note, extracts a document's text, or turns an image or sticker into
 * a data URI for the model. Never throws: a failure is a reading with its
 * reason.
 */
@Injectable()
export class MediaInterpreter {
  private reading = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly whatsapp: WhatsappClient,
    private readonly transcriber: Transcriber,
    private readonly settings: MediaConfig,
  ) {}

  /** Reads every file, MEDIA_CONCURRENCY at a time, in the order given. */
  async readAll(
    media: MediaToRead[],
    timeoutMs = MEDIA_TIMEOUT_MS,
  ): Promise<MediaReading[]> {
    const readings: MediaReading[] = [];
    let next = 0;
    const worker = async () => {
      while (next < media.length) {
        const i = next++;
        readings[i] = await this.read(media[i], timeoutMs);
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(MEDIA_CONCURRENCY, media.length) }, worker),
    );
    return readings;
  }

  /** Whether a turn would look at media of this kind at all. */
  wouldRead(kind: string): boolean {
    if (kind === 'audio') return this.transcriber.enabled;
    if (kind === 'image' || kind === 'sticker') return this.settings.vision;
    return kind === 'document';
  }

  async read(media: MediaToRead, timeoutMs: number): Promise<MediaReading> {
    if (!this.wouldRead(media.kind)) return { status: 'skipped' };
    await this.slot();
    try {
      return await this.readWithin(media, timeoutMs);
    } finally {
      this.release();
    }
  }

  /** Waits for one of the instance's MEDIA_INSTANCE_CONCURRENCY reading slots. */
  private async slot(): Promise<void> {
    if (this.reading < MEDIA_INSTANCE_CONCURRENCY) {
      this.reading++;
      return;
    }
    // Handed over by release(), which keeps the count.
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.reading--;
  }

  private async readWithin(
    media: MediaToRead,
    timeoutMs: number,
  ): Promise<MediaReading> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new MediaFailure('timeout', `not read within ${timeoutMs} ms`),
          ),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.understand(media), timeout]);
    } catch (error) {
      if (error instanceof MediaFailure) {
        return {
          status: 'failed',
          reason: error.reason,
          detail: error.message,
        };
      }
      if (
        error instanceof TranscriptionError ||
        error instanceof DocumentTextError
      ) {
        return {
          status: 'failed',
          reason:
            error.reason === 'transcription-disabled'
              ? 'transcription-failed'
              : error.reason,
          detail: error.message,
        };
      }
      return {
        status: 'failed',
        reason: 'download-failed',
        detail: error instanceof Error ? error.message : String(error),
      };
    } finally {
      clearTimeout(timer);
    }
  }

  private async understand(media: MediaToRead): Promise<MediaReading> {
    const maxBytes = MEDIA_MAX_BYTES[media.kind] ?? MEDIA_MAX_BYTES.document;
    const file = await this.whatsapp
      .downloadMedia(media.mediaId, maxBytes)
      .catch((error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        throw new MediaFailure(
          /over the \d+-byte limit/.test(message)
            ? 'too-large'
            : 'download-failed',
          message,
        );
      });
    const sniffed = await sniffMediaType(file.bytes);
    if (!matchesDeclaredType(media.kind, file.mimeType, sniffed)) {
      throw new MediaFailure(
        'wrong-type',
        `Meta said ${file.mimeType}, the bytes are ${sniffed?.mime ?? 'of no known type'}`,
      );
    }
    switch (media.kind) {
      case 'audio': {
        const filename = sniffed && transcriptionFilename(sniffed);
        if (!filename) {
          throw new MediaFailure(
            'unsupported-format',
            `the transcription endpoint takes no ${sniffed?.mime ?? file.mimeType}`,
          );
        }
        const text = await this.transcriber.transcribe({
          bytes: file.bytes,
          filename,
          mimeType: essence(sniffed.mime),
        });
        return { status: 'understood', text };
      }
      case 'image':
      case 'sticker': {
        const mime = essence(sniffed?.mime ?? file.mimeType);
        return {
          status: 'understood',
          text: null,
          imageUrl: `data:${mime};base64,${file.bytes.toString('base64')}`,
        };
      }
      default: {
        const type = sniffed ? essence(sniffed.mime) : essence(file.mimeType);
        if (type !== PDF && type !== DOCX && !TEXT_TYPES.has(type)) {
          throw new MediaFailure(
            'unsupported-format',
            `no text extraction for ${type}`,
          );
        }
        const text = await extractDocumentText(
          file.bytes,
          type,
          this.settings.documentMaxChars,
        );
        return { status: 'understood', text };
      }
    }
  }
}
