// The gateway tests' harness: a temporary workspace (keys, the signed policy bundle, a sandbox, the gate's
// configuration), omega-gate started over stdio (through the MCP SDK's own client transport) or over HTTP, the
// approval socket's client, and cleanup that runs even when a test fails.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const run = promisify(execFile);

export const BUILD = process.env.OMEGA_BUILD || '/work/main/build';
export const GATE = path.join(BUILD, 'runtime/gate/omega-gate');
export const OMEGAC = path.join(BUILD, 'compiler/tools/omegac/omegac');
export const HERE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const FIXTURES = path.join(HERE, 'fixtures');
export const POLICY = path.join(FIXTURES, 'gate-test.omega');
const modules = path.join(HERE, 'node_modules');
export const FS_SERVER = path.join(modules, '@modelcontextprotocol/server-filesystem/dist/index.js');
export const EVERYTHING_SERVER = path.join(modules, '@modelcontextprotocol/server-everything/dist/index.js');

// Every wait in the tests is for an event, bounded by this; nothing sleeps a fixed time.
export const WAIT_MS = 15_000;

for (const binary of [GATE, OMEGAC])
  if (!fs.existsSync(binary)) throw new Error(`${binary} is missing: build the project or set OMEGA_BUILD`);

// Things to undo when a test ends, newest first (processes before the directories they use).
export class Scope {
  #undo = [];
  constructor(t) {
    t.after(() => this.close());
  }
  defer(fn) {
    this.#undo.push(fn);
  }
  async close() {
    const errors = [];
    while (this.#undo.length) {
      try {
        await this.#undo.pop()();
      } catch (e) {
        errors.push(e);
      }
    }
    if (errors.length) throw errors[0];
  }
}

// Lines of a stream, kept, and waited for by pattern. Each waitFor takes the first line it has not yet returned.
export class Lines {
  lines = [];
  #taken = new Set();
  #waiters = [];
  #ended = false;
  constructor(stream) {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      partial += chunk;
      let nl;
      while ((nl = partial.indexOf('\n')) >= 0) {
        this.#add(partial.slice(0, nl));
        partial = partial.slice(nl + 1);
      }
    });
    stream.on('end', () => {
      if (partial) this.#add(partial);
      this.#ended = true;
      for (const w of this.#waiters.splice(0)) w.fail(new Error(`stream ended before a line matching ${w.pattern}`));
    });
  }
  #add(line) {
    this.lines.push(line);
    for (const w of [...this.#waiters]) if (this.#match(w)) this.#waiters.splice(this.#waiters.indexOf(w), 1);
  }
  #match(w) {
    for (let i = 0; i < this.lines.length; ++i) {
      if (this.#taken.has(i)) continue;
      const m = this.lines[i].match(w.pattern);
      if (m) {
        this.#taken.add(i);
        w.done(m);
        return true;
      }
    }
    return false;
  }
  text() {
    return this.lines.join('\n');
  }
  waitFor(pattern, timeoutMs = WAIT_MS) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; got:\n${this.text()}`));
      }, timeoutMs);
      const w = {
        pattern,
        done: (m) => (clearTimeout(timer), resolve(m)),
        fail: (e) => (clearTimeout(timer), reject(e)),
      };
      if (this.#match(w)) return;
      if (this.#ended) return w.fail(new Error(`stream ended before a line matching ${pattern}:\n${this.text()}`));
      this.#waiters.push(w);
    });
  }
}

// A YAML document in the block style the configuration reader accepts (docs/omegad.md, "Configuration").
export function toYaml(value, indent = 0) {
  const pad = ' '.repeat(indent);
  const scalar = (v) => (typeof v === 'string' ? JSON.stringify(v) : String(v));
  const key = (k) => (/^[A-Za-z0-9_.\-]+$/.test(k) ? k : JSON.stringify(k));
  const nested = (v) => v !== null && typeof v === 'object';
  if (Array.isArray(value)) {
    return value
      .map((item) => {
        if (!nested(item)) return `${pad}- ${scalar(item)}`;
        const body = toYaml(item, indent + 2);
        return `${pad}- ${body.slice(indent + 2)}`;
      })
      .join('\n');
  }
  return Object.entries(value)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => {
      if (Array.isArray(v) && v.every((x) => !nested(x))) return `${pad}${key(k)}: [${v.map(scalar).join(', ')}]`;
      if (nested(v)) return `${pad}${key(k)}:\n${toYaml(v, indent + 2)}`;
      return `${pad}${key(k)}: ${scalar(v)}`;
    })
    .join('\n');
}

export async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// A child process whose stdout and stderr are kept as Lines; stopped (SIGTERM, then SIGKILL after killAfterMs) when
// the scope ends.
export function startProcess(scope, command, args, { killAfterMs = 3000, ...options } = {}) {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], ...options });
  const proc = { child, stdout: new Lines(child.stdout), stderr: new Lines(child.stderr) };
  proc.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  proc.stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return proc.exited;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    const status = await proc.exited;
    clearTimeout(timer);
    return status;
  };
  scope.defer(proc.stop);
  return proc;
}

// Keys and the signed bundle of the fixture policy, made once per test process and copied into each workspace.
let prepared;
async function preparedFiles() {
  prepared ??= (async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'og-keys-'));
    process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    for (const name of ['publisher', 'logkey']) {
      await run('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', path.join(dir, `${name}.pem`)]);
      await run('openssl', ['pkey', '-in', path.join(dir, `${name}.pem`), '-pubout', '-out', path.join(dir, `${name}.pub.pem`)]);
    }
    await run(OMEGAC, ['compile', '-q', POLICY, '-o', path.join(dir, 'policy.omb'), '--sign', path.join(dir, 'publisher.pem')]);
    return dir;
  })();
  return prepared;
}

// A fresh directory with keys, the signed bundle of a policy and a sandbox for the filesystem server.
export class Workspace {
  static async create(scope, { policy = POLICY } = {}) {
    // Short and real (the filesystem server compares resolved paths; socket paths must stay under 108 bytes).
    const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'og-')));
    scope.defer(() => fs.rmSync(dir, { recursive: true, force: true }));
    const ws = new Workspace(dir);
    const files = await preparedFiles();
    for (const name of fs.readdirSync(files)) fs.copyFileSync(path.join(files, name), ws.path(name));
    if (policy !== POLICY) await ws.compile(policy);
    ws.#sandbox();
    return ws;
  }
  constructor(dir) {
    this.dir = dir;
    this.sandbox = path.join(dir, 'sandbox');
    this.socket = path.join(dir, 'gate.sock');
    this.log = path.join(dir, 'decisions.log');
    this.bundle = path.join(dir, 'policy.omb');
  }
  path(...parts) {
    return path.join(this.dir, ...parts);
  }
  async compile(policy) {
    await run(OMEGAC, ['compile', '-q', policy, '-o', this.bundle, '--sign', this.path('publisher.pem')]);
  }
  #sandbox() {
    const files = {
      'public/hello.txt': 'hello from the public directory\n',
      'records/patient-1042.txt': 'patient 1042: diagnosis confidential\n',
      'private/secret.txt': 'the private secret\n',
      'outbox/.keep': '',
    };
    for (const [name, text] of Object.entries(files)) {
      const file = path.join(this.sandbox, name);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, text);
    }
  }
  // Writes the configuration: omegad's part for this workspace plus `gate`; returns its path.
  config(gate, name = 'gate.yaml') {
    const doc = {
      bundle: 'policy.omb',
      trusted_keys: ['publisher.pub.pem'],
      socket: { path: this.socket },
      log: { path: 'decisions.log', key: 'logkey.pem' },
      peers: [{ uid: process.getuid(), allow: ['decide', 'approve', 'status'] }],
      gate,
    };
    const file = this.path(name);
    fs.writeFileSync(file, toYaml(doc) + '\n');
    return file;
  }
}

export const fsServer = (ws) => ['node', FS_SERVER, ws.sandbox];
export const everythingServer = () => ['node', EVERYTHING_SERVER, 'stdio'];
export const fixtureServer = (name) => ['node', path.join(FIXTURES, name)];

// omega-gate over stdio in front of `server` (a command line), driven by the MCP SDK's Client. The gate's stderr
// is kept (`stderr`: Lines) for approval ids and diagnostics.
export async function stdioGate(scope, ws, gate, server, { clientName = 'omega-gate-test' } = {}) {
  const config = ws.config(gate);
  const transport = new StdioClientTransport({
    command: GATE,
    args: ['--config', config, '--', ...server],
    stderr: 'pipe',
    cwd: ws.dir,
  });
  const stderr = new Lines(transport.stderr);
  const client = new Client({ name: clientName, version: '1.0.0' });
  scope.defer(() => client.close());
  try {
    await client.connect(transport);
  } catch (e) {
    throw new Error(`the gate did not start: ${e.message}\n${stderr.text()}`);
  }
  return { client, transport, stderr, config };
}

// omega-gate over HTTP; resolves once it prints its address.
export async function httpGate(scope, ws, gate) {
  const config = ws.config({ listen: '127.0.0.1:0', ...gate });
  const proc = startProcess(scope, GATE, ['--config', config], { cwd: ws.dir });
  const [, address] = await Promise.race([
    proc.stderr.waitFor(/^omega-gate: listening on (\S+)$/),
    proc.exited.then((s) => {
      throw new Error(`omega-gate exited (${JSON.stringify(s)}):\n${proc.stderr.text()}`);
    }),
  ]);
  return { ...proc, url: `http://${address}`, config };
}

// One request on the gate's approval socket (omegad's framing): u32 big-endian length of type + body, the type,
// the JSON body. Resolves with the reply's type and parsed body.
export function approvalRequest(socketPath, type, body) {
  return new Promise((resolve, reject) => {
    const payload = Buffer.from(JSON.stringify(body));
    const frame = Buffer.alloc(5 + payload.length);
    frame.writeUInt32BE(1 + payload.length, 0);
    frame[4] = type;
    payload.copy(frame, 5);
    let received = Buffer.alloc(0);
    const socket = net.createConnection(socketPath, () => socket.write(frame));
    const timer = setTimeout(() => socket.destroy(new Error('no reply on the approval socket')), WAIT_MS);
    socket.on('data', (data) => {
      received = Buffer.concat([received, data]);
      if (received.length < 4) return;
      const length = received.readUInt32BE(0);
      if (received.length < 4 + length) return;
      clearTimeout(timer);
      socket.end();
      resolve({ type: received[4], body: JSON.parse(received.subarray(5, 4 + length).toString('utf8') || '{}') });
    });
    socket.on('error', (e) => (clearTimeout(timer), reject(e)));
  });
}
export const GRANT = 0x02;
export const REFUSE = 0x03;

// The SDK client's rejection of a call, checked for a JSON-RPC error code; returns the error (message, data).
export async function rejectsWith(promise, code) {
  let result;
  try {
    result = await promise;
  } catch (error) {
    if (error.code !== code) throw new Error(`expected JSON-RPC error ${code}, got: ${error.stack ?? error}`);
    return error;
  }
  throw new Error(`expected JSON-RPC error ${code}, got a result: ${JSON.stringify(result)}`);
}

// The text of a tool result's content.
export const textOf = (result) => result.content.filter((c) => c.type === 'text').map((c) => c.text).join('\n');

// The decision log's records as JSON objects (`omegac audit show --format json`).
export async function logRecords(ws) {
  const { stdout } = await run(OMEGAC, ['audit', 'show', '--format', 'json', ws.log]);
  return stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line));
}

export async function auditVerify(ws, extra = []) {
  try {
    const { stdout, stderr } = await run(OMEGAC, ['audit', 'verify', '--key', ws.path('logkey.pub.pem'), ...extra, ws.log]);
    return { code: 0, stdout, stderr };
  } catch (e) {
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

export { Client, run };
