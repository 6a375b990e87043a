// Responses input items -> native chat messages: messages keep their role, function calls become
// assistant tool calls, function call outputs become tool messages, and reasoning items become the
// thinking of the assistant turn that follows them.
import { badRequest } from "../../../api/errors.js";
import type { Message, ToolCall } from "../../../api/inference.js";
import type { ResponsesContent, ResponsesInputItem } from "../../../api/responses.js";
import { imageFromUrl } from "../translate.js";

function contentOf(parts: ResponsesContent[]): { content: string; images: string[] } {
  let content = "";
  const images: string[] = [];
  for (const p of parts) {
    switch (p.type) {
      case "input_text":
      case "output_text":
        content += p.text;
        break;
      case "input_image":
        // A file_id names an uploaded file, which this server does not keep.
        if (p.image_url) images.push(imageFromUrl(p.image_url));
        break;
      case "input_file":
        throw badRequest("file inputs are not currently supported");
    }
  }
  return { content, images };
}

function withContent(role: string, parts: ResponsesContent[]): Message {
  const { content, images } = contentOf(parts);
  return { role, content, ...(images.length ? { images } : {}) };
}

function parseArguments(args: string): Record<string, unknown> {
  if (args === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch (e) {
    throw badRequest(`failed to parse function call arguments: ${(e as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw badRequest("failed to parse function call arguments: arguments must be a JSON object");
  }
  return parsed as Record<string, unknown>;
}

/** The native messages for `instructions` and `input`, in conversation order. */
export function toMessages(instructions: string | undefined, input: string | ResponsesInputItem[] | undefined): Message[] {
  const out: Message[] = [];
  if (instructions) out.push({ role: "system", content: instructions });
  if (typeof input === "string") {
    if (input) out.push({ role: "user", content: input });
    return out;
  }
  const items = input ?? [];
  let thinking = "";
  const last = () => out[out.length - 1];
  const takeThinking = (m: Message) => {
    if (thinking) m.thinking = thinking;
    thinking = "";
  };
  items.forEach((item, i) => {
    switch (item.type) {
      case "reasoning":
        thinking = item.encrypted_content ?? "";
        break;
      case "message": {
        const msg = withContent(item.role, item.content);
        if (msg.role === "assistant") takeThinking(msg);
        // An assistant message replayed between a function call and its output stays in the calling
        // turn, so the tool result still follows the call it answers.
        const next = items[i + 1];
        const prev = last();
        if (
          msg.role === "assistant" &&
          next?.type === "function_call_output" &&
          prev?.role === "assistant" &&
          prev.tool_calls?.some((c) => c.id === next.call_id)
        ) {
          prev.content = prev.content && msg.content ? `${prev.content}\n${msg.content}` : prev.content + msg.content;
          if (msg.images) prev.images = [...(prev.images ?? []), ...msg.images];
          if (msg.thinking) prev.thinking = msg.thinking;
          break;
        }
        out.push(msg);
        break;
      }
      case "function_call": {
        const prev = last();
        const turn: Message = prev?.role === "assistant" ? prev : { role: "assistant", content: "" };
        const call: ToolCall = {
          id: item.call_id,
          function: { index: turn.tool_calls?.length ?? 0, name: item.name, arguments: parseArguments(item.arguments) },
        };
        turn.tool_calls = [...(turn.tool_calls ?? []), call];
        takeThinking(turn);
        if (turn !== prev) out.push(turn);
        break;
      }
      case "function_call_output": {
        const msg: Message =
          typeof item.output === "string" ? { role: "tool", content: item.output } : withContent("tool", item.output);
        // Templates name a tool result by its tool: take the name from the call it answers.
        const name = [...out].reverse().flatMap((m) => m.tool_calls ?? []).find((c) => c.id === item.call_id)?.function.name;
        if (name) msg.tool_name = name;
        if (item.call_id) msg.tool_call_id = item.call_id;
        out.push(msg);
        break;
      }
      case "web_search_call":
        // Search history: the assistant message after it carries what the model saw.
        break;
    }
  });
  if (thinking) out.push({ role: "assistant", content: "", thinking });
  return out;
}
