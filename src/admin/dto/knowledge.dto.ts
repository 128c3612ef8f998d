import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';

const HAS_TEXT = /\S/;
export const MAX_TITLE = 200;
export const MAX_QUERY = 1000;

export class CreateKnowledgeTextDto {
  @ApiProperty({ example: 'Shipping and returns', maxLength: MAX_TITLE })
  @IsString()
  @MaxLength(MAX_TITLE)
  @Matches(HAS_TEXT, { message: 'title must not be blank' })
  title: string;

  @ApiProperty({
    example:
      '# Shipping\n\nOrders ship within 2 working days.\n\n# Returns\n\nFree returns within 30 days.',
    description:
      'Plain text or Markdown (headings start sections). At most KNOWLEDGE_MAX_CHARS characters.',
  })
  @IsString()
  @Matches(HAS_TEXT, { message: 'text must not be blank' })
  text: string;
}

export class SearchKnowledgeDto {
  @ApiProperty({
    example: 'how long does delivery take?',
    maxLength: MAX_QUERY,
  })
  @IsString()
  @MaxLength(MAX_QUERY)
  @Matches(HAS_TEXT, { message: 'query must not be blank' })
  query: string;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: 50,
    description: 'How many chunks to answer (default KNOWLEDGE_TOP_K)',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(50)
  limit?: number;
}

export class KnowledgeDocumentDto {
  @ApiProperty({ format: 'uuid' })
  id: string;
  @ApiProperty({ example: 'Shipping and returns' })
  title: string;
  @ApiProperty({ example: 2, description: 'How many chunks it was split into' })
  chunks: number;
  @ApiProperty({ format: 'date-time' })
  createdAt: string;
}

export class KnowledgeChunkDto {
  @ApiProperty({ example: 17 })
  id: number;
  @ApiProperty({ example: 0, description: 'Its place in the document, from 0' })
  position: number;
  @ApiProperty({ example: 'Shipping\n\nOrders ship within 2 working days.' })
  text: string;
  @ApiProperty({
    type: String,
    nullable: true,
    example: 'text-embedding-3-small',
    description:
      'The model that embedded it; null while it has no embedding (found by full-text search only)',
  })
  embeddingModel: string | null;
}

export class KnowledgeDocumentDetailDto extends KnowledgeDocumentDto {
  @ApiProperty({
    type: String,
    nullable: true,
    example: 'returns.pdf',
    description: 'The uploaded file; null for text given as JSON',
  })
  filename: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'application/pdf' })
  mimeType: string | null;
  @ApiProperty({ example: 812, description: 'Characters of text' })
  chars: number;
  @ApiProperty({ type: [KnowledgeChunkDto], description: 'In order' })
  chunkList: KnowledgeChunkDto[];
}

export class KnowledgeSearchHitDto {
  @ApiProperty({ example: 17 })
  chunkId: number;
  @ApiProperty({ format: 'uuid' })
  documentId: string;
  @ApiProperty({
    example: 'Shipping and returns',
    description: "The document's title",
  })
  title: string;
  @ApiProperty({ example: 'Shipping\n\nOrders ship within 2 working days.' })
  text: string;
  @ApiProperty({
    example: 0.98,
    description:
      'Reciprocal-rank-fusion score of full-text and embedding ranks, in (0, 1]: 1 is first in both',
  })
  score: number;
}
