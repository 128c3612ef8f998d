import { AppConfig } from '../config/app-config';
import { validateEnv } from '../config/validate-env';
import { FakeOpenAi } from '../../test/fakes/fake-openai';
import { OpenAiTranscriber } from './openai-transcriber';
import { TranscriptionError } from './transcriber';

describe('OpenAiTranscriber', () => {
  let llmServer: FakeOpenAi;
  let speechServer: FakeOpenAi;

  beforeAll(async () => {
    llmServer = await FakeOpenAi.start();
    speechServer = await FakeOpenAi.start();
  });
  afterAll(async () => {
    await llmServer.close();
    await speechServer.close();
  });
  beforeEach(() => {
    llmServer.reset();
    speechServer.reset();
  });

  const transcriber = (env: Record<string, string> = {}) => {
    const config = new AppConfig(
      validateEnv({
        OPENAI_API_KEY: 'test-openai-key',
        OPENAI_BASE_URL: llmServer.baseUrl,
        LLM_MAX_RETRIES: '0',
        ...env,
      }),
    );
    return new OpenAiTranscriber(config.llm, config.media);
  };
  const voiceNote = {
    bytes: Buffer.from('OggS…'),
    filename: 'voice.ogg',
    mimeType: 'audio/ogg',
  };

  it('sends the file as multipart to OPENAI_BASE_URL with the default model, and answers the transcript', async () => {
    llmServer.enqueueTranscription({ type: 'text', text: '  hello there \n' });

    expect(await transcriber().transcribe(voiceNote)).toBe('hello there');
    expect(
      llmServer.transcriptions.map((t) => [t.model, t.filename, t.mimeType]),
    ).toEqual([['gpt-4o-mini-transcribe', 'voice.ogg', 'audio/ogg']]);
    expect(llmServer.violations).toEqual([]);
  });

  it('goes to OPENAI_TRANSCRIPTION_BASE_URL with OPENAI_TRANSCRIPTION_MODEL when set', async () => {
    await transcriber({
      OPENAI_TRANSCRIPTION_BASE_URL: speechServer.baseUrl,
      OPENAI_TRANSCRIPTION_MODEL: 'whisper-1',
    }).transcribe(voiceNote);

    expect(speechServer.transcriptions.map((t) => t.model)).toEqual([
      'whisper-1',
    ]);
    expect(llmServer.transcriptions).toEqual([]);
  });

  it('is disabled by an empty OPENAI_TRANSCRIPTION_MODEL, and calls nothing', async () => {
    const disabled = transcriber({ OPENAI_TRANSCRIPTION_MODEL: '' });

    expect(disabled.enabled).toBe(false);
    await expect(disabled.transcribe(voiceNote)).rejects.toMatchObject({
      reason: 'transcription-disabled',
    });
    expect(llmServer.transcriptions).toEqual([]);
  });

  it('turns an endpoint failure and an empty transcript into TranscriptionErrors with their reasons', async () => {
    llmServer.enqueueTranscription(
      { type: 'error', status: 500 },
      { type: 'text', text: '   ' },
    );
    const subject = transcriber();

    const failed = subject.transcribe(voiceNote);
    await expect(failed).rejects.toBeInstanceOf(TranscriptionError);
    await expect(failed).rejects.toMatchObject({
      reason: 'transcription-failed',
    });
    await expect(subject.transcribe(voiceNote)).rejects.toMatchObject({
      reason: 'transcription-empty',
    });
  });
});
