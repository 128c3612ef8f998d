import { Injectable } from '@nestjs/common';
import OpenAI, { toFile } from 'openai';
import { LlmConfig, MediaConfig } from '../config/app-config';
import { AudioFile, Transcriber, TranscriptionError } from './transcriber';

/**
 * `POST /audio/transcriptions` through the official openai SDK (multipart),
 * at OPENAI_TRANSCRIPTION_BASE_URL, else OPENAI_BASE_URL, else OpenAI.
 */
@Injectable()
export class OpenAiTranscriber extends Transcriber {
  private readonly client: OpenAI | null;
  private readonly model: string | null;

  constructor(llm: LlmConfig, media: MediaConfig) {
    super();
    this.model = media.transcriptionModel;
    this.client =
      llm.apiKey && this.model
        ? new OpenAI({
            apiKey: llm.apiKey,
            baseURL: media.transcriptionBaseUrl ?? llm.baseUrl ?? undefined,
            timeout: llm.timeoutMs,
            maxRetries: llm.maxRetries,
          })
        : null;
  }

  get enabled(): boolean {
    return this.client !== null;
  }

  async transcribe(file: AudioFile): Promise<string> {
    if (!this.client || !this.model) {
      throw new TranscriptionError(
        'transcription-disabled',
        'OPENAI_TRANSCRIPTION_MODEL or OPENAI_API_KEY is not set',
      );
    }
    let text: string;
    try {
      const result = await this.client.audio.transcriptions.create({
        model: this.model,
        file: await toFile(file.bytes, file.filename, { type: file.mimeType }),
        response_format: 'json',
      });
      text = result.text;
    } catch (error) {
      const status = error instanceof OpenAI.APIError ? error.status : null;
      throw new TranscriptionError(
        'transcription-failed',
        `the transcription endpoint ${status ? `answered ${status}` : 'failed'}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    const transcript = (text ?? '').trim();
    if (!transcript) {
      throw new TranscriptionError(
        'transcription-empty',
        'the transcription endpoint returned no text',
      );
    }
    return transcript;
  }
}
