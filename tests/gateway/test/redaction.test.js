// The `redact("humidity")` obligation on server-everything's `get-structured-content` through the gate over stdio:
// the field leaves both the structured content and the JSON text, the other fields stay.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Scope, Workspace, everythingServer, stdioGate, textOf } from '../lib/harness.js';

async function everythingGate(t) {
  const scope = new Scope(t);
  const ws = await Workspace.create(scope);
  return stdioGate(scope, ws, { server: 'ev', agent: 'assistant' }, everythingServer());
}

function assertRedacted(result) {
  // Chicago, as server-everything reports it: temperature 36, "Light rain / drizzle", humidity 82.
  assert.deepEqual(result.structuredContent, { temperature: 36, conditions: 'Light rain / drizzle' });
  assert.deepEqual(JSON.parse(textOf(result)), { temperature: 36, conditions: 'Light rain / drizzle' });
  assert.doesNotMatch(JSON.stringify(result), /humidity|82/);
}

test('redaction removes the field from structuredContent and from the JSON text', async (t) => {
  const { client } = await everythingGate(t);
  // Called without listing the tools first, the SDK client does not check the result against the output schema:
  // this sees exactly what the gate sent.
  const result = await client.callTool({ name: 'get-structured-content', arguments: { location: 'Chicago' } });
  assertRedacted(result);

  // echo has no redaction: its text arrives untouched.
  const echo = await client.callTool({ name: 'echo', arguments: { message: 'humidity 82' } });
  assert.equal(textOf(echo), 'Echo: humidity 82');
});

// The tool's outputSchema requires `humidity`; a client that listed the tools (every real one does) validates the
// result against it. The gate lists output schemas with redactable fields taken out of `required`, so a redacted
// result is still one the client accepts.
// `required` (or the outputSchema) of the tools it lists.
test('a client that listed the tools accepts the redacted result (outputSchema stays consistent)', async (t) => {
  const { client } = await everythingGate(t);
  const tools = (await client.listTools()).tools;
  assert.ok(tools.some((tool) => tool.name === 'get-structured-content'));
  const result = await client.callTool({ name: 'get-structured-content', arguments: { location: 'Chicago' } });
  assertRedacted(result);
});
