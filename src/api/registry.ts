// Registry endpoints (/api/pull, /api/push): request types and their decoders.
import { decodeStruct, t } from "./decode.js";

export interface PullRequest {
  model?: string;
  name?: string;
  insecure?: boolean;
  stream?: boolean;
  /** Accepted and ignored, as Ollama does; registry credentials come from the server's configuration. */
  username?: string;
  password?: string;
}

export type PushRequest = PullRequest;

export function decodePullRequest(body: unknown): PullRequest {
  return decodeStruct<PullRequest>(body, "PullRequest", {
    model: t.string, name: t.string, insecure: t.bool, stream: t.bool, username: t.string, password: t.string,
  });
}

export function decodePushRequest(body: unknown): PushRequest {
  return decodeStruct<PushRequest>(body, "PushRequest", {
    model: t.string, name: t.string, insecure: t.bool, stream: t.bool, username: t.string, password: t.string,
  });
}
