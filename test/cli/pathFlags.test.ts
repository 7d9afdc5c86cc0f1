/**
 * Every flag and positional argument that names a file, a directory or a server, on every
 * command: given a bad value of its kind (malformed URL, unreachable server, a file where a
 * directory goes, a directory where a file goes, a missing file), the command exits 2 with one
 * line naming the flag, before any work (src/cli/pathOptions.ts). The flags come from the
 * program itself, so a flag declared with pathOption is swept by being declared; a flag whose
 * value looks like a path but is declared without a kind, a kind without bad values, or a
 * command without minimal arguments here fails the sweep. Then the issue #27 cases one by one,
 * on a real redis-server without append-only persistence.
 */
import { runCliHere, CLI_ENTRY } from '../helpers/cli.js';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Argument, Command, Option } from 'commander';
import { buildProgram } from '../../src/cli/main.js';
import { argumentLabel, pathKindOf, type PathKind } from '../../src/cli/pathOptions.js';
import { openStore } from '../../src/codistill/openStore.js';
import { freePort, startRedis, type RedisServer } from '../helpers/redis.js';
import { scratchDir } from '../helpers/scratch.js';

const { dir } = scratchDir('distillery-path-flags-');
const aFile = join(dir, 'a-file.txt');
writeFileSync(aFile, 'not a directory\n');
const aDir = join(dir, 'a-dir');
mkdirSync(aDir);
const missing = join(dir, 'no-such-file.csv');
const root = fileURLToPath(new URL('../..', import.meta.url));

/** Bad values for each kind of path flag: every kind must have some (a new kind fails the sweep until it gets them). */
function badValues(unreachablePort: number): Record<PathKind, string[]> {
  const underFile = join(aFile, 'inside');
  return {
    data: [missing, aDir],
    'input-file': [missing, aDir],
    'input-dir': [join(dir, 'no-such-dir'), aFile],
    model: [join(dir, 'no-such-model'), aFile],
    'file-or-dir': [missing],
    'output-file': [aDir, underFile],
    'output-dir': [aFile, underFile],
    store: ['redis:/127.0.0.1:6379/0', 'redis://127.0.0.1:notaport/0', 'redis://127.0.0.1:99999/0', 'redis://127.0.0.1:6379/zero', 'ftp://127.0.0.1/store', `redis://user:hunter2@127.0.0.1:${unreachablePort}/0`, aFile, underFile],
    queue: ['redis:/127.0.0.1:6379/0', 'redis://127.0.0.1:notaport/0', 'redis://127.0.0.1:99999', 'http://127.0.0.1:6379/0', aDir, `redis://user:hunter2@127.0.0.1:${unreachablePort}/0`],
  };
}

/**
 * The least each command needs besides the flag under test: its required flags, with values
 * its up-front checks accept (an existing directory for a model, a built-in dataset, a new path).
 */
const newPath = (name: string) => join(dir, 'new', name);
const MINIMAL: Record<string, string[]> = {
  demo: [],
  run: ['--config', aFile],
  train: ['--data', 'letter', '--out', newPath('train')],
  update: ['--base', aDir, '--data', 'letter', '--out', newPath('update')],
  ensemble: ['--base', aDir, '--data', 'letter', '--out', newPath('ensemble')],
  compare: ['--old', aDir, '--new', aDir, '--data', 'letter'],
  gate: ['--old', aDir, '--new', aDir, '--data', 'letter'],
  predict: ['--model', aDir, '--data', 'letter', '--out', newPath('p.csv')],
  transfer: ['--teacher', aDir, '--data', 'letter', '--student', 'mlp:8', '--out', newPath('transfer')],
  export: ['--model', aDir, '--out', newPath('m.onnx')],
  codistill: ['--data', 'letter', '--out', newPath('codistill')],
  'codistill-worker': ['--run', 'r', '--worker', '0', '--of', '2', '--data', 'letter'],
  reproducibility: [],
  worker: ['--queue', 'redis://127.0.0.1:6379/0'],
  report: [],
};
/** Valid positional arguments of the commands that take them (the one under test is replaced). */
const POSITIONAL: Record<string, string[]> = {
  report: [aDir],
};

/** A value placeholder that names a path or a server: such a flag must be declared with its kind. */
const PATHLIKE = /[<[][^>\]]*\b(file|dir|path|url|models|run-dir|json|csv|onnx)\b[^>\]]*[>\]]/;

/** The command's args with `flag` set to `value` (replacing its minimal value, if any). */
function withFlag(args: string[], flag: string, value: string): string[] {
  const i = args.indexOf(flag);
  return i >= 0 ? [...args.slice(0, i + 1), value, ...args.slice(i + 2)] : [...args, flag, value];
}

interface Case {
  command: string;
  name: string;
  kind: PathKind;
  args: string[];
}

function sweepCases(unreachablePort: number): { cases: Case[]; problems: string[] } {
  const bad = badValues(unreachablePort);
  const cases: Case[] = [];
  const problems: string[] = [];
  for (const cmd of buildProgram().commands as Command[]) {
    const command = cmd.name();
    const declared: [Option | Argument, string][] = [
      ...cmd.options.map((o): [Option, string] => [o, o.long ?? o.flags]),
      ...cmd.registeredArguments.map((a): [Argument, string] => [a, argumentLabel(a)]),
    ];
    const positional = POSITIONAL[command] ?? [];
    if (positional.length !== cmd.registeredArguments.filter((a) => a.required).length) problems.push(`${command}: POSITIONAL gives ${positional.length} argument(s), it takes ${cmd.registeredArguments.length}`);
    for (const [item, name] of declared) {
      const kind = pathKindOf(item);
      const placeholder = 'flags' in item ? item.flags : `<${item.name()}>`;
      if (kind === undefined) {
        if (PATHLIKE.test(placeholder)) problems.push(`${command} ${placeholder}: names a path or URL but is not declared with pathOption/pathArgument`);
        continue;
      }
      const minimal = MINIMAL[command];
      if (!minimal) {
        problems.push(`${command}: no minimal arguments in MINIMAL (it has the path flag ${name})`);
        continue;
      }
      const values = bad[kind];
      if (!values?.length) problems.push(`${command} ${name}: no bad values for its kind ${kind}`);
      for (const value of values ?? []) {
        const at = cmd.registeredArguments.indexOf(item as Argument);
        const args = 'flags' in item ? [...positional, ...withFlag(minimal, name, value)] : [...positional.map((p, i) => (i === at ? value : p)), ...minimal];
        cases.push({ command, name, kind, args: [command, ...args] });
      }
    }
  }
  return { cases, problems };
}

test('every command × every path and URL flag × each bad value of its kind: exit 2, one line naming the flag, nothing written', { timeout: 240_000 }, async () => {
  const { cases, problems } = sweepCases(await freePort());
  assert.deepEqual(problems, []);
  // The sweep reaches every command that has a path flag, and every kind.
  assert.ok(new Set(cases.map((c) => c.command)).size >= 14, `commands swept: ${[...new Set(cases.map((c) => c.command))].join(', ')}`);
  assert.deepEqual([...new Set(cases.map((c) => c.kind))].sort(), Object.keys(badValues(1)).sort());
  const failures: string[] = [];
  for (const c of cases) {
    const started = Date.now();
    const r = await runCliHere(['-q', ...c.args]);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    const ok = r.code === 2 && lines.length === 1 && lines[0].startsWith(`distillery: ${c.name}`) && !/internal error|hunter2|EEXIST|ENOTDIR|EISDIR/.test(r.stderr);
    if (!ok) failures.push(`${c.args.join(' ')} → exit ${r.code}: ${r.stderr.trim()}`);
    assert.ok(Date.now() - started < 15_000, `${c.args.join(' ')} took ${Date.now() - started} ms`);
  }
  assert.deepEqual(failures, []);
  assert.equal(existsSync(join(dir, 'new')), false, 'a refused command writes nothing');
  assert.equal(existsSync(join(root, 'redis:')), false);
});

test('the sweep fails on a path flag declared without a kind', () => {
  const program = buildProgram();
  const train = program.commands.find((c) => c.name() === 'train')!;
  train.option('--notes <file>', 'a flag added without pathOption');
  const problems: string[] = [];
  for (const o of train.options) if (pathKindOf(o) === undefined && PATHLIKE.test(o.flags)) problems.push(o.flags);
  assert.deepEqual(problems, ['--notes <file>']);
});

// ------------------------------------------------------------------ issue #27, items 2–6

let volatile: RedisServer;
before(async () => {
  volatile = await startRedis({ appendOnly: false });
});
after(async () => {
  await volatile?.stop();
});

/** Runs bin/distillery.js (on dist/) as a user does; resolves with its exit code and output, or kills it after `ms`. */
function runProcess(args: string[], ms: number): Promise<{ code: number | null; signal: string | null; stderr: string; ms: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [CLI_ENTRY, ...args], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr, ms: Date.now() - started });
    });
  });
}

/** Open TCP connections of this process. */
const openSockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TCPWrap').length;

test('#27 item 2: a worker refused for a Redis without append-only persistence exits 2 at once (a real process), leaving no connection open', { timeout: 120_000 }, async () => {
  const r = await runProcess(['-q', 'worker', '--queue', volatile.url], 60_000);
  assert.equal(r.signal, null, `still running after ${r.ms} ms: ${r.stderr}`);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^distillery: --queue: Redis at redis:\/\/distillery:\*\*\*@127\.0\.0\.1:\d+\/0 runs without append-only persistence/);
  // The cause: in this process too, the refusal closes its connection (the process would otherwise stay alive).
  const before = openSockets();
  const here = await runCliHere(['-q', 'worker', '--queue', volatile.url]);
  assert.equal(here.code, 2, here.stderr);
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(openSockets(), before, `connections left open: ${process.getActiveResourcesInfo().join(', ')}`);
});

test('#27 item 3: a store that starts like a URL with a malformed or unknown scheme is refused, never taken for a directory', { timeout: 60_000 }, async () => {
  for (const [url, message] of [
    ['redis:/127.0.0.1:6379/0', /^distillery: --store: malformed Redis URL redis:\/127\.0\.0\.1:6379\/0: "redis:" must be followed by \/\//],
    ['rediss:127.0.0.1', /^distillery: --store: malformed Redis URL rediss:127\.0\.0\.1/],
    ['http://127.0.0.1/store', /^distillery: --store: unsupported store http:\/\/127\.0\.0\.1\/store/],
  ] as const) {
    const r = await runCliHere(['-q', 'codistill', '--data', 'letter', '--out', join(dir, 'item3'), '--store', url]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, message);
    assert.equal(existsSync(join(root, url.split('/')[0])), false);
    // The library refuses it too (openStore), naming its parameter.
    await assert.rejects(openStore(url, 'store'), (e: Error) => /^store: /.test(e.message));
  }
  assert.equal(existsSync(join(dir, 'item3')), false);
});

test('#27 item 4: a Redis database the server lacks is refused, naming --store and the reason', { timeout: 60_000 }, async () => {
  const url = volatile.url.replace(/\/0$/, '/99');
  const r = await runCliHere(['-q', 'codistill', '--data', 'letter', '--out', join(dir, 'item4'), '--store', url]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^distillery: --store: Redis at redis:\/\/distillery:\*\*\*@127\.0\.0\.1:\d+\/99 has no database 99 \(ERR DB index is out of range\)\n$/);
  assert.equal(existsSync(join(dir, 'item4')), false);
  // Not only up front: opening the store refuses it as well (no checkpoint ever goes to db 0).
  await assert.rejects(openStore(url), /--store: Redis at .* has no database 99/);
});

test('#27 item 5: URL flags that do not parse are exit 2 naming the flag, not an internal error', { timeout: 60_000 }, async () => {
  const cases: [string[], RegExp][] = [
    [['codistill', '--data', 'letter', '--out', join(dir, 'item5'), '--store', 'redis://127.0.0.1:notaport/0'], /^distillery: --store: malformed Redis URL redis:\/\/127\.0\.0\.1:notaport\/0: port "notaport" is not a number/],
    [['worker', '--queue', 'redis://127.0.0.1:99999'], /^distillery: --queue: malformed Redis URL redis:\/\/127\.0\.0\.1:99999: port 99999 is outside 1–65535/],
    [['codistill-worker', '--store', 'redis://u:hunter2@127.0.0.1:x/0', '--run', 'r', '--worker', '0', '--of', '2', '--data', 'letter'], /^distillery: --store: malformed Redis URL redis:\/\/u:\*\*\*@127\.0\.0\.1:x\/0/],
  ];
  for (const [args, message] of cases) {
    const r = await runCliHere(['-q', ...args]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /internal error|hunter2/);
  }
});

test('#27 item 6: a --store that is a regular file is named as --store and said to be a file', { timeout: 60_000 }, async () => {
  const r = await runCliHere(['-q', 'codistill', '--data', 'letter', '--out', join(dir, 'item6'), '--store', aFile]);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr, `distillery: --store ${aFile}: is a file, not a directory (a store is a directory or redis://…)\n`);
  await assert.rejects(openStore(aFile), (e: Error) => e.message === `--store ${aFile}: is a file, not a directory (a store is a directory or redis://…)`);
});
