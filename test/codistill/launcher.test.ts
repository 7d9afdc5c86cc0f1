/**
 * The launcher with real child processes (tiny Node scripts standing in for the worker
 * command): a worker killed by SIGKILL is started again, the store address travels in the
 * environment and never on the command line, and a worker's bad input (exit 2) ends the run
 * with its message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchWorkers, STORE_ENV, type LauncherEvent } from '../../src/codistill/launcher.js';
import { DistilleryError } from '../../src/util/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'distillery-launcher-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

// Worker i: prints a progress event; worker 1 SIGKILLs itself on its first attempt (a marker file tells attempts apart).
const script = `
const fs = require('node:fs');
const [i, marker] = [Number(process.argv[1]), process.argv[2]];
if (process.argv.includes('secret')) process.exit(3);
console.log(JSON.stringify({ event: 'progress', worker: i, step: 1, steps: 1, valAccuracy: 0.5, loss: 1, peers: [] }));
console.error('store=' + process.env.${STORE_ENV});
if (i === 1 && !fs.existsSync(marker)) { fs.writeFileSync(marker, ''); process.kill(process.pid, 'SIGKILL'); }
if (i === 2) { console.error('distillery: --data: no such file'); process.exit(2); }
`;

test('a killed worker is restarted; the store URL reaches the workers in the environment only', async () => {
  const events: LauncherEvent[] = [];
  const outcome = await launchWorkers({
    workers: 2,
    command: [process.execPath, '-e', script],
    args: (i) => [String(i), join(dir, `marker-${i}`)],
    storeUrl: 'redis://u:secret@127.0.0.1:1/0',
    maxRestarts: 2,
    onEvent: (e) => events.push(e),
  });
  assert.deepEqual(outcome.restarts, [0, 1]);
  const exits = events.filter((e) => e.type === 'exited');
  assert.deepEqual(exits.filter((e) => e.worker === 1).map((e) => [e.signal, e.restarting]), [['SIGKILL', true], [null, false]]);
  assert.equal(events.filter((e) => e.type === 'started' && e.worker === 1).length, 2);
  assert.equal(events.filter((e) => e.type === 'progress').length, 3);
  assert.ok(events.some((e) => e.type === 'log' && e.line === 'store=redis://u:secret@127.0.0.1:1/0'));
});

test("a worker's bad input (exit 2) ends the run with its message", async () => {
  await assert.rejects(
    launchWorkers({ workers: 3, command: [process.execPath, '-e', script], args: (i) => [String(i), join(dir, 'marker-x')], storeUrl: 's', maxRestarts: 2, onEvent: () => {} }),
    (e: Error) => e instanceof DistilleryError && e.exitCode === 2 && /^worker 2: --data: no such file$/.test(e.message),
  );
});
