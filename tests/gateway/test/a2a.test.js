// A2A through omega-gate over HTTP, the billing agent (fixtures/billing-agent.js) behind `gate.agents` and the
// @a2a-js/sdk client made from the gate's agent card: Internal allowed (redacted), Confidential denied, streams pass.
// The gate speaks A2A v0.3, which this v1.0 SDK reaches through its compat layer; the v1.0 tests show what is missing.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { test } from 'node:test';
import { ClientFactory, ClientFactoryOptions, JsonRpcTransportFactory } from '@a2a-js/sdk/client';
import { parseLegacyAgentCard } from '@a2a-js/sdk/compat/v0_3/client';
import { FIXTURES, Scope, Workspace, httpGate, logRecords, startProcess } from '../lib/harness.js';

const ROLE_USER = 1;
const INVOICE = { invoice: 'INV-7', amount_cents: 1250 };  // the agent's data part without `account_number`

const send = (text, label) => ({
  message: {
    messageId: randomUUID(),
    contextId: '',
    taskId: '',
    role: ROLE_USER,
    parts: [{ content: { $case: 'text', value: text } }],
    metadata: label ? { 'omega.label': label } : undefined,
    extensions: [],
    referenceTaskIds: [],
  },
});
const partsOf = (message) => message.parts.map((p) => p.content);

// The billing agent and the gate in front of it; `v03`: the agent also speaks A2A v0.3 (SDK compat layer).
async function billingBehindGate(t, { v03 }) {
  const scope = new Scope(t);
  const ws = await Workspace.create(scope);
  const agent = startProcess(scope, 'node', [path.join(FIXTURES, 'billing-agent.js'), ...(v03 ? ['--v03'] : [])]);
  const [, address] = await agent.stdout.waitFor(/^billing-agent: listening on (\S+)$/);
  const gate = await httpGate(scope, ws, {
    agent: 'assistant',
    agents: [{ name: 'billing', upstream: `http://${address}/` }],
  });
  scope.defer(() => agent.stop());  // before the gate, so that no stream keeps the gate waiting
  const base = `${gate.url}/a2a/billing`;
  return { ws, gate, agentUrl: `http://${address}`, base, cardUrl: `${base}/.well-known/agent-card.json` };
}

// The SDK client for the v0.3 card the gate serves: the card translated by the SDK's compat layer, the transport
// picked by the SDK's factory with v0.3 enabled.
async function v03Client(cardUrl) {
  const card = await (await fetch(cardUrl)).json();
  const factory = new ClientFactory(
    ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
      transports: [new JsonRpcTransportFactory({ legacyCompat: { enabled: true } })],
    }),
  );
  return { card, client: await factory.createFromAgentCard(parseLegacyAgentCard(card)) };
}

test('A2A v0.3: the gate\'s agent card points at the gate', async (t) => {
  const { base, cardUrl } = await billingBehindGate(t, { v03: true });
  const { card, client } = await v03Client(cardUrl);
  assert.equal(card.name, 'billing');
  assert.equal(card.url, base);
  assert.equal(client.protocolVersion, '0.3');
});

test('A2A v0.3: an Internal message is allowed and the real reply arrives, redacted', async (t) => {
  const { ws, cardUrl } = await billingBehindGate(t, { v03: true });
  const { client } = await v03Client(cardUrl);
  const reply = await client.sendMessage(send('invoice for March?', 'Internal'));
  assert.deepEqual(partsOf(reply), [
    { $case: 'text', value: 'billing received: invoice for March?' },
    { $case: 'data', value: INVOICE },
  ]);
  const decision = (await logRecords(ws)).find((r) => r.kind === 'decision' && r.request?.action === 'send');
  assert.equal(decision.request.recipient, 'billing');
  assert.equal(decision.request.message.label, 'Internal');
  assert.deepEqual(decision.decision.obligations.redact, ['account_number']);
});

test('A2A v0.3: a Confidential message is denied with -32090', async (t) => {
  const { cardUrl } = await billingBehindGate(t, { v03: true });
  const { client } = await v03Client(cardUrl);
  const error = await client.sendMessage(send('the patient list', 'Confidential')).then(
    (result) => assert.fail(`expected a denial, got ${JSON.stringify(result)}`),
    (e) => e,
  );
  // -32090 is none of A2A's reserved codes (-32001..-32009), so the SDK does not mistake it for one of its errors.
  assert.equal(error.envelopeCode, -32090, String(error.stack));
  assert.match(error.message, /denied by policy: no rule permits it/);
  assert.equal(error.data.decision, 'deny');

  // A message without a label does not satisfy `message.label <= Internal` either.
  const unlabelled = await client.sendMessage(send('no label', undefined)).then(() => null, (e) => e);
  assert.equal(unlabelled?.envelopeCode, -32090);
});

test('A2A v0.3: message/stream passes through the gate event by event, redacted', async (t) => {
  const { cardUrl } = await billingBehindGate(t, { v03: true });
  const { client } = await v03Client(cardUrl);
  const events = [];
  for await (const event of client.sendMessageStream(send('run the task', 'Internal'))) events.push(event.payload);
  assert.deepEqual(events.map((e) => e.$case), ['task', 'artifactUpdate', 'statusUpdate']);
  assert.deepEqual(events[1].value.artifact.parts.map((p) => p.content), [
    { $case: 'text', value: 'invoice attached' },
    { $case: 'data', value: INVOICE },
  ]);
  assert.equal(events[2].value.status.state, 3 /* TASK_STATE_COMPLETED */);
  assert.deepEqual(partsOf(events[2].value.status.message), [{ $case: 'text', value: 'billing done: run the task' }]);

  const denied = await (async () => {
    for await (const event of client.sendMessageStream(send('stream this', 'Confidential'))) return event;
  })().then((event) => assert.fail(`expected a denial, got ${JSON.stringify(event)}`), (e) => e);
  assert.match(denied.message, /denied by policy/);
});

// An A2A v1.0 card names its endpoints in `supportedInterfaces[].url`: the gate's card points every JSON-RPC one at
// the gate and leaves out transports it does not carry, so that no client is sent around it.
test('A2A v1.0: every endpoint in the gate\'s agent card is the gate', async (t) => {
  const { base, agentUrl, cardUrl } = await billingBehindGate(t, { v03: false });
  const card = await (await fetch(cardUrl, { headers: { 'A2A-Version': '1.0' } })).json();
  assert.ok(card.supportedInterfaces.length > 0);
  for (const iface of card.supportedInterfaces) assert.equal(iface.url, base);
  assert.doesNotMatch(JSON.stringify(card), new RegExp(agentUrl));
});

// The SDK's default client (A2A v1.0), created from the gate's card URL, talks through the gate: v1.0's
// `SendMessage` and `SendStreamingMessage` are decided like v0.3's `message/send` and `message/stream`.
test('A2A v1.0: the SDK\'s default client is checked by the gate', async (t) => {
  const { cardUrl } = await billingBehindGate(t, { v03: false });
  const client = await new ClientFactory().createFromUrl(cardUrl, '');
  const reply = await client.sendMessage(send('invoice for March?', 'Internal'));
  assert.deepEqual(partsOf(reply)[1], { $case: 'data', value: INVOICE }, 'redacted by the gate');
  const error = await client.sendMessage(send('the patient list', 'Confidential')).then(
    (result) => assert.fail(`a Confidential message was delivered: ${JSON.stringify(result)}`),
    (e) => e,
  );
  assert.match(error.message, /denied by policy/);
});

// A v1.0 `SendMessage` posted to the gate is decided (with the `A2A-Version` header forwarded); methods the gate
// does not know are refused rather than relayed.
test('A2A v1.0: a SendMessage posted to the gate is decided by the policy', async (t) => {
  const { base } = await billingBehindGate(t, { v03: false });
  const response = await fetch(base, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'A2A-Version': '1.0' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 7,
      method: 'SendMessage',
      params: {
        message: {
          messageId: randomUUID(),
          role: 'ROLE_USER',
          parts: [{ text: 'the patient list' }],
          metadata: { 'omega.label': 'Confidential' },
        },
      },
    }),
  });
  const answer = await response.json();
  assert.equal(answer.error?.code, -32090, JSON.stringify(answer));
  assert.match(answer.error.message, /denied by policy/);
});
