// Drives Lexar's OpenAI-compatible API with OpenAI's official client, as a
// program would. Env: LEXAR_URL, LEXAR_API_KEY, MODEL. Prints one JSON line.
import OpenAI from "openai";

const client = new OpenAI({
  baseURL: process.env.LEXAR_URL + "/v1",
  apiKey: process.env.LEXAR_API_KEY,
  maxRetries: 0,
});
const model = process.env.MODEL;
const out = {};

const models = await client.models.list();
out.models = models.data.map((m) => m.id);

const r = await client.chat.completions.create({
  model,
  messages: [
    { role: "system", content: "be brief" },
    { role: "user", content: "hello from the sdk" },
  ],
  max_tokens: 50,
});
out.text = r.choices[0].message.content;
out.finish = r.choices[0].finish_reason;
out.usage = r.usage;
out.object = r.object;

const stream = await client.chat.completions.create({
  model,
  messages: [{ role: "user", content: "stream to the sdk" }],
  stream: true,
  stream_options: { include_usage: true },
});
let text = "";
let chunks = 0;
for await (const chunk of stream) {
  chunks++;
  text += chunk.choices[0]?.delta?.content ?? "";
  if (chunk.usage) out.stream_usage = chunk.usage;
}
out.stream_text = text;
out.stream_chunks = chunks;

try {
  await client.chat.completions.create({ model: "no-such-model", messages: [{ role: "user", content: "x" }] });
  out.error = "none";
} catch (e) {
  out.error = { status: e.status, type: e.type, code: e.code, cls: e.constructor.name };
}
console.log(JSON.stringify(out));
