import { AppConfig } from '../../config/app-config';
import { validateEnv } from '../../config/validate-env';
import { TranscriptionError } from '../../llm/transcriber';
import { FakeTranscriber } from '../../../test/support/fake-transcriber';
import { FakeWhatsapp } from '../../../test/support/fake-whatsapp';
import {
  docxWithText,
  jpegImage,
  oggOpusVoiceNote,
  pdfWithText,
} from '../../../test/support/media-fixtures';
import {
  MEDIA_INSTANCE_CONCURRENCY,
  MediaInterpreter,
} from './media-interpreter';
import { matchesDeclaredType, transcriptionFilename } from './media-type';

function kit(env: Record<string, string> = {}) {
  const config = new AppConfig(validateEnv({ LLM_VISION: 'true', ...env }));
  const whatsapp = new FakeWhatsapp();
  const transcriber = new FakeTranscriber();
  const interpreter = new MediaInterpreter(whatsapp, transcriber, config.media);
  const read = (kind: string, mediaId: string) =>
    interpreter.read({ kind, mediaId }, 5_000);
  return { whatsapp, transcriber, interpreter, read };
}

const DOCX_TYPE =
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

describe('MediaInterpreter', () => {
  it('transcribes a WhatsApp voice note (Ogg/Opus) uploaded as voice.ogg, never .oga or .opus', async () => {
    const { whatsapp, transcriber, read } = kit();
    whatsapp.addMedia('m1', oggOpusVoiceNote(), 'audio/ogg; codecs=opus');

    const reading = await read('audio', 'm1');

    expect(reading).toEqual({
      status: 'understood',
      text: 'transcript of voice.ogg',
    });
    expect(transcriber.files.map((f) => [f.filename, f.mimeType])).toEqual([
      ['voice.ogg', 'audio/ogg'],
    ]);
  });

  it('gives an image to the model as a data URI of its real type', async () => {
    const { whatsapp, read } = kit();
    const jpeg = jpegImage();
    whatsapp.addMedia('m1', jpeg, 'image/jpeg');

    expect(await read('image', 'm1')).toEqual({
      status: 'understood',
      text: null,
      imageUrl: `data:image/jpeg;base64,${jpeg.toString('base64')}`,
    });
  });

  it('extracts the text of a PDF, a DOCX and a CSV', async () => {
    const { whatsapp, read } = kit();
    whatsapp.addMedia(
      'pdf',
      await pdfWithText(['Terms of sale', 'Refunds within 30 days']),
      'application/pdf',
    );
    whatsapp.addMedia(
      'docx',
      await docxWithText(['Order 4411', 'Two blue chairs']),
      DOCX_TYPE,
    );
    whatsapp.addMedia('csv', Buffer.from('sku,qty\nA1,2\n'), 'text/csv');

    const texts = await Promise.all(
      ['pdf', 'docx', 'csv'].map(async (id) => {
        const reading = await read('document', id);
        return reading.status === 'understood' ? reading.text : reading;
      }),
    );

    expect(texts[0]).toMatch(/Terms of sale[\s\S]*Refunds within 30 days/);
    expect(texts[1]).toBe('Order 4411\n\nTwo blue chairs');
    expect(texts[2]).toBe('sku,qty\nA1,2');
  });

  it('cuts a document at DOCUMENT_MAX_CHARS, saying so', async () => {
    const { whatsapp, read } = kit({ DOCUMENT_MAX_CHARS: '100' });
    whatsapp.addMedia('t', Buffer.from('x'.repeat(500)), 'text/plain');

    const reading = await read('document', 't');

    expect(reading.status === 'understood' && reading.text).toBe(
      `${'x'.repeat(100)}\n[… the document goes on; cut at 100 characters]`,
    );
  });

  it.each([
    ['a "JPEG" that is a PDF', 'image', 'image/jpeg', 'pdf'],
    ['a "PDF" that is a JPEG', 'document', 'application/pdf', 'jpeg'],
    ['a "text" file that is a JPEG', 'document', 'text/plain', 'jpeg'],
    ['"audio" that is a JPEG', 'audio', 'audio/ogg', 'jpeg'],
  ])('refuses %s (wrong-type)', async (_, kind, declared, real) => {
    const { whatsapp, transcriber, read } = kit();
    const bytes = real === 'pdf' ? await pdfWithText(['x']) : jpegImage();
    whatsapp.addMedia('m', bytes, declared);

    const reading = await read(kind, 'm');

    expect(reading.status === 'failed' && reading.reason).toBe('wrong-type');
    expect(transcriber.files).toEqual([]);
  });

  it("fails a file over Meta's cap for its kind (too-large) and a missing one (download-failed)", async () => {
    const { whatsapp, read } = kit();
    whatsapp.addMedia('big', Buffer.alloc(600 * 1024, 1), 'image/webp');

    const big = await read('sticker', 'big');
    const missing = await read('image', 'nope');

    expect(big.status === 'failed' && big.reason).toBe('too-large');
    expect(missing.status === 'failed' && missing.reason).toBe(
      'download-failed',
    );
  });

  it('reports a transcription failure with its reason', async () => {
    const { whatsapp, transcriber, read } = kit();
    whatsapp.addMedia('m1', oggOpusVoiceNote(), 'audio/ogg');
    transcriber.answer(
      new TranscriptionError('transcription-failed', 'answered 500'),
    );

    const reading = await read('audio', 'm1');

    expect(reading).toEqual({
      status: 'failed',
      reason: 'transcription-failed',
      detail: 'answered 500',
    });
  });

  it('looks at nothing it would not use: images without LLM_VISION, audio without transcription, video', async () => {
    const { whatsapp, transcriber, interpreter } = kit({
      LLM_VISION: 'false',
    });
    transcriber.enabled = false;

    const readings = await interpreter.readAll([
      { kind: 'image', mediaId: 'a' },
      { kind: 'audio', mediaId: 'b' },
      { kind: 'video', mediaId: 'c' },
    ]);

    expect(readings).toEqual([
      { status: 'skipped' },
      { status: 'skipped' },
      { status: 'skipped' },
    ]);
    expect(whatsapp.downloads).toEqual([]);
  });

  it('reads at most MEDIA_INSTANCE_CONCURRENCY files at once across turns, and every file in the end', async () => {
    const { whatsapp, interpreter } = kit();
    let inFlight = 0;
    let most = 0;
    whatsapp.downloadMedia = async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      throw new Error('gone');
    };
    const turn = () =>
      interpreter.readAll(
        Array.from({ length: 3 }, (_, i) => ({
          kind: 'image',
          mediaId: `${i}`,
        })),
      );

    const readings = (
      await Promise.all(Array.from({ length: 6 }, turn))
    ).flat();

    expect(readings).toHaveLength(18);
    expect(most).toBe(MEDIA_INSTANCE_CONCURRENCY);
  });

  it('gives up on a file not read in time (timeout)', async () => {
    const { whatsapp, interpreter } = kit();
    whatsapp.downloadMedia = () => new Promise(() => undefined);

    const reading = await interpreter.read({ kind: 'image', mediaId: 'm' }, 20);

    expect(reading.status === 'failed' && reading.reason).toBe('timeout');
  });
});

describe('media types', () => {
  it('names an upload by its real container, in the extensions the endpoint accepts', () => {
    expect(transcriptionFilename({ ext: 'opus', mime: 'audio/ogg' })).toBe(
      'voice.ogg',
    );
    expect(transcriptionFilename({ ext: 'oga', mime: 'audio/ogg' })).toBe(
      'voice.ogg',
    );
    expect(transcriptionFilename({ ext: 'm4a', mime: 'audio/mp4' })).toBe(
      'voice.m4a',
    );
    expect(transcriptionFilename({ ext: 'amr', mime: 'audio/amr' })).toBe(null);
  });

  it("matches Meta's mime_type with parameters against the sniffed type", () => {
    expect(
      matchesDeclaredType('audio', 'audio/ogg; codecs=opus', {
        ext: 'opus',
        mime: 'audio/ogg; codecs=opus',
      }),
    ).toBe(true);
    expect(
      matchesDeclaredType('image', 'image/png', {
        ext: 'jpg',
        mime: 'image/jpeg',
      }),
    ).toBe(false);
    expect(matchesDeclaredType('document', 'text/csv', undefined)).toBe(true);
    expect(matchesDeclaredType('document', 'application/pdf', undefined)).toBe(
      false,
    );
  });
});
