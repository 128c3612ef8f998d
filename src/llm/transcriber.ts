/** An audio file to transcribe: its bytes and a name whose extension says its container. */
export interface AudioFile {
  bytes: Buffer;
  /** e.g. `voice.ogg`: the endpoint picks the decoder by the extension. */
  filename: string;
  mimeType: string;
}

export type TranscriptionFailureReason =
  'transcription-disabled' | 'transcription-failed' | 'transcription-empty';

export class TranscriptionError extends Error {
  constructor(
    readonly reason: TranscriptionFailureReason,
    message: string,
  ) {
    super(message);
    this.name = 'TranscriptionError';
  }
}

/** Port: speech to text. */
export abstract class Transcriber {
  /** False when OPENAI_TRANSCRIPTION_MODEL is empty or there is no API key. */
  abstract readonly enabled: boolean;
  /** Resolves with the transcript, or rejects with a TranscriptionError. */
  abstract transcribe(file: AudioFile): Promise<string>;
}
