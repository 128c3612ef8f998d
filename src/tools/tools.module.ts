import { Module } from '@nestjs/common';
import { HttpToolSource } from './http/http-tool.source';
import { ToolRegistry } from './tool.registry';

/** The tools the model may call: HTTP tools of TOOLS_FILE and MCP servers. */
@Module({
  providers: [HttpToolSource, ToolRegistry],
  exports: [ToolRegistry, HttpToolSource],
})
export class ToolsModule {}
