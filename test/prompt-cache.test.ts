// prompt_eval_count counts the prompt tokens the model evaluated: a chat's second turn reuses the KV
// prefix of the first, so it counts fewer tokens than the same prompt on a freshly loaded model. On
// both engine drivers.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { availableDrivers, ensureEngine } from "./support/engine.js";
import { createFromGguf, postJson, startTestServer, STORIES, type TestServer } from "./support/server.js";

const TEMPLATE = "{{ range .Messages }}{{ .Role }}: {{ .Content }}\n{{ end }}assistant:";
const options = { temperature: 0, num_predict: 12 };

for (const driver of availableDrivers()) {
  describe(`prompt_eval_count with a cached prefix (${driver})`, () => {
    let srv: TestServer;
    before(async () => {
      await ensureEngine();
      srv = await startTestServer({ CORRAL_ENGINE: driver });
      await createFromGguf(srv.url, "chatty", STORIES, { template: TEMPLATE });
    });
    after(() => srv.stop());

    const chat = async (messages: unknown[]) => {
      const r = await postJson(srv.url, "/api/chat", { model: "chatty", stream: false, messages, options });
      assert.equal(r.status, 200, r.text);
      return r.json;
    };
    const unload = async () => assert.equal((await postJson(srv.url, "/api/generate", { model: "chatty", keep_alive: 0 })).status, 200);

    test("a second turn counts only what follows the reused first turn", async () => {
      const first = [{ role: "user", content: "Once upon a time there was a little girl named Lily" }];
      const turn1 = await chat(first);
      assert.ok(turn1.prompt_eval_count > 10, String(turn1.prompt_eval_count));
      const second = [...first, { role: "assistant", content: turn1.message.content }, { role: "user", content: "What did she see?" }];
      const turn2 = await chat(second);

      await unload();
      const fresh = await chat(second);
      assert.deepEqual(fresh.message, turn2.message, "the cache changes the counts, not the answer");
      assert.ok(fresh.prompt_eval_count > turn1.prompt_eval_count, `${fresh.prompt_eval_count}`);
      assert.ok(turn2.prompt_eval_count < fresh.prompt_eval_count, `${turn2.prompt_eval_count} of ${fresh.prompt_eval_count}`);
      // At least the first turn's prompt (but its last token) came from the cache.
      assert.ok(turn2.prompt_eval_count <= fresh.prompt_eval_count - (turn1.prompt_eval_count - 1), `${turn2.prompt_eval_count}`);
    });

    test("the same prompt again evaluates almost nothing; OpenAI usage agrees", async () => {
      const messages = [{ role: "user", content: "One day, a big dog came to the park to play" }];
      const once = await chat(messages);
      const again = await chat(messages);
      assert.ok(again.prompt_eval_count < once.prompt_eval_count, `${again.prompt_eval_count} vs ${once.prompt_eval_count}`);
      assert.ok(again.prompt_eval_count <= 2, String(again.prompt_eval_count));
      const r = await postJson(srv.url, "/v1/chat/completions", { model: "chatty", messages, temperature: 0, max_tokens: 12 });
      assert.equal(r.status, 200, r.text);
      assert.ok(r.json.usage.prompt_tokens <= 2, JSON.stringify(r.json.usage));
    });
  });
}
