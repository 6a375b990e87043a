// A Responses request -> a native chat request: input items to messages, flat function tools to
// native tools, text.format to `format`, reasoning effort to `think`, sampling options.
import { badRequest } from "../../../api/errors.js";
import { decodeChatRequest, type ChatRequest, type Format } from "../../../api/inference.js";
import { thinkFromEffort } from "../../../api/openai.js";
import type { ResponsesRequest, ResponsesTool } from "../../../api/responses.js";
import { toMessages } from "./input.js";

interface NativeTool {
  type: string;
  function: { name: string; description: string; parameters?: Record<string, unknown> };
}

/** Native tools for one declared tool; a namespace expands to its members, named `<namespace>.<name>`. */
function nativeTools(tool: ResponsesTool): NativeTool[] {
  if (tool.type === "web_search") throw badRequest("the web_search tool is not supported by this server");
  if (tool.type === "namespace") {
    const prefix = `${tool.name ?? ""}.`;
    return (tool.tools ?? []).flatMap(nativeTools).map((t) =>
      tool.name && !t.function.name.startsWith(prefix) ? { ...t, function: { ...t.function, name: prefix + t.function.name } } : t,
    );
  }
  const parameters = tool.parameters ? { parameters: tool.parameters } : {};
  return [{ type: tool.type || "function", function: { name: tool.name ?? "", description: tool.description ?? "", ...parameters } }];
}

function formatOf(r: ResponsesRequest): Format | undefined {
  const f = r.text?.format;
  if (f?.type === "json_schema") return f.schema;
  if (f?.type === "json_object") return "json";
  return undefined;
}

/** Fields that need state this server does not keep are refused rather than silently ignored. */
function refuseStateful(r: ResponsesRequest): void {
  if (r.previous_response_id) {
    throw badRequest("previous_response_id is not supported: responses are not stored, send the whole conversation as input");
  }
  if (r.conversation != null) {
    throw badRequest("conversation is not supported: responses are not stored, send the whole conversation as input");
  }
  if (r.background) throw badRequest("background responses are not supported");
}

export function toNativeChat(r: ResponsesRequest): ChatRequest {
  refuseStateful(r);
  // OpenAI's temperature default is 1; top_p is left to the model unless given.
  const options: Record<string, unknown> = { temperature: r.temperature ?? 1 };
  if (r.top_p !== undefined) options.top_p = r.top_p;
  if (r.max_output_tokens !== undefined) options.num_predict = r.max_output_tokens;
  const tools = (r.tools ?? []).flatMap(nativeTools);
  return decodeChatRequest({
    model: r.model,
    messages: toMessages(r.instructions, r.input),
    stream: r.stream ?? false,
    format: formatOf(r),
    tools: tools.length ? tools : undefined,
    think: thinkFromEffort(r.reasoning?.effort || undefined),
    _debug_render_only: r._debug_render_only,
    options,
  });
}
