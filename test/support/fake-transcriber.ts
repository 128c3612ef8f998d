import {
  AudioFile,
  Transcriber,
  TranscriptionError,
} from '../../src/llm/transcriber';

/** Answers each file with a scripted transcript (or failure), recording what it was given. */
export class FakeTranscriber extends Transcriber {
  enabled = true;
  readonly files: AudioFile[] = [];
  private next: Array<string | TranscriptionError> = [];

  /** Transcripts (or errors) for the next calls; then `transcript of <filename>`. */
  answer(...results: Array<string | TranscriptionError>): void {
    this.next.push(...results);
  }

  transcribe(file: AudioFile): Promise<string> {
    this.files.push(file);
    const result = this.next.shift() ?? `transcript of ${file.filename}`;
    return result instanceof TranscriptionError
      ? Promise.reject(result)
      : Promise.resolve(result);
  }
}
