import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Post,
  Req,
} from '@nestjs/common';
import {
  ApiExtraModels,
  ApiOperation,
  ApiParam,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { ApiEnvelope, ok } from '../common/api-envelope';
import {
  ApiEnvelopeResponse,
  ApiErrorResponse,
} from '../common/api-envelope.decorator';
import { DomainError } from '../common/domain.error';
import { KnowledgeConfig } from '../config/app-config';
import { KnowledgeDocumentsService } from '../knowledge/knowledge-documents.service';
import { KnowledgeRetriever } from '../knowledge/knowledge-retriever';
import type {
  KnowledgeDocument,
  KnowledgeDocumentSummary,
} from '../knowledge/knowledge.types';
import { AdminApi } from './admin-api.decorator';
import {
  CreateKnowledgeTextDto,
  KnowledgeDocumentDetailDto,
  KnowledgeDocumentDto,
  KnowledgeSearchHitDto,
  MAX_TITLE,
  SearchKnowledgeDto,
} from './dto/knowledge.dto';
import { readKnowledgeInput } from './knowledge-input';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const idParam = ApiParam({
  name: 'id',
  schema: { type: 'string', format: 'uuid' },
  description: "The document's id, as POST /api/knowledge answered",
});

/** A malformed id names no document: the same 404 as an unknown one. */
function documentId(id: string): string {
  if (!UUID.test(id)) {
    throw new DomainError(`No knowledge document ${id}`, 'knowledge-not-found');
  }
  return id;
}

const summary = (d: KnowledgeDocumentSummary): KnowledgeDocumentDto => ({
  id: d.id,
  title: d.title,
  chunks: d.chunks,
  createdAt: d.createdAt.toISOString(),
});

const detail = (d: KnowledgeDocument): KnowledgeDocumentDetailDto => ({
  id: d.id,
  title: d.title,
  chunks: d.chunks,
  createdAt: d.createdAt.toISOString(),
  filename: d.filename,
  mimeType: d.mimeType,
  chars: d.chars,
  chunkList: d.chunkList,
});

@ApiTags('knowledge')
@AdminApi()
@ApiExtraModels(CreateKnowledgeTextDto)
@Controller('api/knowledge')
export class KnowledgeController {
  constructor(
    private readonly documents: KnowledgeDocumentsService,
    private readonly retriever: KnowledgeRetriever,
    private readonly config: KnowledgeConfig,
  ) {}

  @Post()
  @ApiOperation({
    summary: 'Add a document to the knowledge base',
    description:
      'A file (multipart form: `file` — PDF, DOCX, Markdown or UTF-8 text, at most KNOWLEDGE_MAX_FILE_BYTES; its type is read from its bytes — and an optional `title`, default the file name) or JSON `{title, text}`. The text is split into chunks on headings and paragraphs, embedded (OPENAI_EMBEDDING_MODEL) and indexed for full-text search; the answer comes once the document is searchable. When embedding fails the document is stored anyway, found by full-text search, and embedded at the next start.',
    // One schema per content type (@ApiBody gives every type the same one).
    requestBody: {
      required: true,
      content: {
        'application/json': {
          schema: { $ref: getSchemaPath(CreateKnowledgeTextDto) },
        },
        'multipart/form-data': {
          schema: {
            type: 'object',
            required: ['file'],
            properties: {
              file: {
                type: 'string',
                format: 'binary',
                description: 'PDF, DOCX, Markdown or UTF-8 text',
              },
              title: {
                type: 'string',
                maxLength: MAX_TITLE,
                example: 'Returns policy',
                description: 'Default: the file name without its extension',
              },
            },
          },
        },
      },
    },
  })
  @ApiEnvelopeResponse(KnowledgeDocumentDto, { status: 201 })
  @ApiErrorResponse(
    400,
    'The file says it is application/pdf but its content is not',
  )
  @ApiErrorResponse(413, 'The file is larger than KNOWLEDGE_MAX_FILE_BYTES')
  @ApiErrorResponse(415, 'Unsupported content type')
  async add(
    @Req() request: FastifyRequest,
  ): Promise<ApiEnvelope<KnowledgeDocumentDto>> {
    const added = await this.documents.add(await readKnowledgeInput(request));
    return ok(summary(added), 'Document added');
  }

  @Get()
  @ApiOperation({
    summary: 'The documents of the knowledge base, newest first',
  })
  @ApiEnvelopeResponse(KnowledgeDocumentDto, { isArray: true })
  async list(): Promise<ApiEnvelope<KnowledgeDocumentDto[]>> {
    return ok((await this.documents.list()).map(summary));
  }

  @Get(':id')
  @idParam
  @ApiOperation({ summary: 'A document with its chunks' })
  @ApiEnvelopeResponse(KnowledgeDocumentDetailDto)
  @ApiErrorResponse(404, 'No knowledge document …')
  async get(
    @Param('id') id: string,
  ): Promise<ApiEnvelope<KnowledgeDocumentDetailDto>> {
    return ok(detail(await this.documents.get(documentId(id))));
  }

  @Delete(':id')
  @idParam
  @ApiOperation({
    summary: 'Delete a document and its chunks',
    description: 'Turns stop finding it at once, on every instance.',
  })
  @ApiEnvelopeResponse(null)
  @ApiErrorResponse(404, 'No knowledge document …')
  async delete(@Param('id') id: string): Promise<ApiEnvelope<null>> {
    await this.documents.delete(documentId(id));
    return ok(null, 'Document deleted');
  }

  @Post('search')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Search the knowledge base as a turn does',
    description:
      "The chunks a customer's message would give the model, best first: full-text search (any of the words, accents aside, stemmed for KNOWLEDGE_LANGUAGE) and embedding similarity, fused by reciprocal rank.",
  })
  @ApiEnvelopeResponse(KnowledgeSearchHitDto, { isArray: true })
  async search(
    @Body() body: SearchKnowledgeDto,
  ): Promise<ApiEnvelope<KnowledgeSearchHitDto[]>> {
    const hits = await this.retriever.retrieve(
      body.query,
      body.limit ?? this.config.topK,
    );
    return ok(hits.map((h) => ({ ...h, chunkId: Number(h.chunkId) })));
  }
}
