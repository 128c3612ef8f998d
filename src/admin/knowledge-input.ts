import type { FastifyRequest } from 'fastify';
import { BadRequestException } from '@nestjs/common';
import { StrictValidationPipe } from '../common/strict-validation.pipe';
import type { KnowledgeInput } from '../knowledge/knowledge-documents.service';
import type { UploadedFile } from '../knowledge/uploaded-document';
import { CreateKnowledgeTextDto, MAX_TITLE } from './dto/knowledge.dto';

const validation = new StrictValidationPipe({
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
});

/**
 * The new document a `POST /api/knowledge` carries: a multipart form with
 * one `file` (and an optional `title`), or JSON `{title, text}` validated
 * like every other body. The file's size is bounded by the multipart
 * plugin's limit (a larger file is a 413 before it is read whole).
 */
export async function readKnowledgeInput(
  request: FastifyRequest,
): Promise<KnowledgeInput> {
  if (!request.isMultipart()) {
    const body = (await validation.transform(request.body, {
      type: 'body',
      metatype: CreateKnowledgeTextDto,
    })) as CreateKnowledgeTextDto;
    return { kind: 'text', title: body.title.trim(), text: body.text };
  }
  let title: string | null = null;
  let file: UploadedFile | null = null;
  for await (const part of request.parts()) {
    if (part.type === 'file') {
      if (part.fieldname !== 'file' || file) {
        // Drain it so that the request ends cleanly.
        await part.toBuffer();
        throw new BadRequestException(
          'Send one file, in the form field "file"',
        );
      }
      file = {
        bytes: await part.toBuffer(),
        filename: part.filename,
        declaredType: part.mimetype,
      };
    } else if (part.fieldname === 'title') {
      const value = typeof part.value === 'string' ? part.value.trim() : '';
      if (!value || value.length > MAX_TITLE) {
        throw new BadRequestException(
          `title must be 1 to ${MAX_TITLE} characters`,
        );
      }
      title = value;
    } else {
      throw new BadRequestException(
        `Unknown form field "${part.fieldname}": send "file" and, optionally, "title"`,
      );
    }
  }
  if (!file) {
    throw new BadRequestException('The form has no "file"');
  }
  return { kind: 'file', title, file };
}
