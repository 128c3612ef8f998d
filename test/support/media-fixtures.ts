import { Document, Packer, Paragraph } from 'docx';
import { encode as encodeJpeg } from 'jpeg-js';
import { PDFDocument, StandardFonts } from 'pdf-lib';

/**
 * Real files built in the tests (no committed binaries): an Ogg/Opus voice
 * note as WhatsApp records them, a JPEG, a PDF and a DOCX with given text.
 */

/** Ogg's CRC-32 (polynomial 0x04c11db7, not reflected, initial value 0). */
function oggCrc(bytes: Buffer): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 24;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
    }
  }
  return crc >>> 0;
}

function oggPage(
  packet: Buffer,
  o: { sequence: number; granule: number; flags: number },
): Buffer {
  const segments: number[] = [];
  let left = packet.length;
  while (left >= 255) {
    segments.push(255);
    left -= 255;
  }
  segments.push(left);
  const header = Buffer.alloc(27);
  header.write('OggS', 0, 'ascii');
  header.writeUInt8(0, 4); // version
  header.writeUInt8(o.flags, 5); // 2: first page, 4: last page
  header.writeBigUInt64LE(BigInt(o.granule), 6);
  header.writeUInt32LE(0x5741, 14); // stream serial number
  header.writeUInt32LE(o.sequence, 18);
  header.writeUInt32LE(0, 22); // CRC, filled below
  header.writeUInt8(segments.length, 26);
  const page = Buffer.concat([header, Buffer.from(segments), packet]);
  page.writeUInt32LE(oggCrc(page), 22);
  return page;
}

/** A mono Ogg/Opus file (OpusHead, OpusTags, `frames` 20 ms frames of silence). */
export function oggOpusVoiceNote(frames = 50): Buffer {
  const head = Buffer.alloc(19);
  head.write('OpusHead', 0, 'ascii');
  head.writeUInt8(1, 8); // version
  head.writeUInt8(1, 9); // channels
  head.writeUInt16LE(312, 10); // pre-skip
  head.writeUInt32LE(48000, 12); // input sample rate
  head.writeInt16LE(0, 16); // output gain
  head.writeUInt8(0, 18); // channel mapping family
  const vendor = Buffer.from('clariops-test');
  const tags = Buffer.alloc(8 + 4 + vendor.length + 4);
  tags.write('OpusTags', 0, 'ascii');
  tags.writeUInt32LE(vendor.length, 8);
  vendor.copy(tags, 12);
  tags.writeUInt32LE(0, 12 + vendor.length);
  // TOC 0xf8: CELT fullband 20 ms, mono, one frame; then a silent frame.
  const silence = Buffer.from([0xf8, 0xff, 0xfe]);
  const pages = [
    oggPage(head, { sequence: 0, granule: 0, flags: 2 }),
    oggPage(tags, { sequence: 1, granule: 0, flags: 0 }),
  ];
  for (let i = 0; i < frames; i++) {
    pages.push(
      oggPage(silence, {
        sequence: 2 + i,
        granule: 312 + (i + 1) * 960,
        flags: i === frames - 1 ? 4 : 0,
      }),
    );
  }
  return Buffer.concat(pages);
}

/** A small JPEG (a gradient). */
export function jpegImage(width = 16, height = 16): Buffer {
  const data = Buffer.alloc(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    data[i * 4] = (i * 7) % 256;
    data[i * 4 + 1] = (i * 3) % 256;
    data[i * 4 + 2] = 128;
    data[i * 4 + 3] = 255;
  }
  return encodeJpeg({ data, width, height }, 80).data;
}

/** A one-page PDF with `lines` of text. */
export async function pdfWithText(lines: string[]): Promise<Buffer> {
  const pdf = await PDFDocument.create();
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  const page = pdf.addPage([595, 842]);
  lines.forEach((line, i) =>
    page.drawText(line, { x: 50, y: 780 - i * 20, size: 12, font }),
  );
  return Buffer.from(await pdf.save());
}

/** A DOCX with one paragraph per line. */
export async function docxWithText(lines: string[]): Promise<Buffer> {
  const doc = new Document({
    sections: [{ children: lines.map((line) => new Paragraph(line)) }],
  });
  return Packer.toBuffer(doc);
}
