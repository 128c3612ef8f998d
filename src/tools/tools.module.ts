import { Module } from '@nestjs/common';
import { HttpToolSource } from './http/http-tool.source';
import { McpModule } from './mcp/mcp.module';
import { ToolRegistry } from './tool.registry';

/** The tools the model may call: HTTP tools of TOOLS_FILE and MCP servers. */
@Module({
  imports: [McpModule],
  providers: [HttpToolSource, ToolRegistry],
  exports: [ToolRegistry, HttpToolSource],
})
export class ToolsModule {}
