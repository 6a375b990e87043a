// The Anthropic-compatible wire contract (POST /v1/messages): the request fields corral reads and
// the error shape.
import { randomBytes } from "node:crypto";

export interface AnthropicBlock {
  type: string;
  text?: string;
  thinking?: string;
  source?: { type?: string; media_type?: string; data?: string };
  id?: string;
  name?: string;
  input?: Record<string, unknown>;
  tool_use_id?: string;
  content?: string | AnthropicBlock[];
}

export interface AnthropicMessage {
  role?: string;
  content?: string | AnthropicBlock[];
}

export interface AnthropicTool {
  name?: string;
  description?: string;
  input_schema?: Record<string, unknown>;
  type?: string;
}

export interface MessagesRequest {
  model?: string;
  max_tokens?: number;
  messages?: AnthropicMessage[];
  system?: string | AnthropicBlock[];
  stream?: boolean;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  stop_sequences?: string[];
  tools?: AnthropicTool[];
  thinking?: { type?: string; budget_tokens?: number };
  output_config?: { effort?: string };
}

const ERROR_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  429: "rate_limit_error",
  503: "overloaded_error",
  529: "overloaded_error",
};

export function anthropicError(status: number, message: string) {
  return {
    type: "error",
    error: { type: ERROR_TYPES[status] ?? "api_error", message },
    request_id: `req_${randomBytes(12).toString("hex")}`,
  };
}
