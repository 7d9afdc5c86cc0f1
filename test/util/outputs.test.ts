import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { promises as fsp, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanStaleTemporaries, writeOutputs } from '../../src/util/outputs.js';
import { EnvironmentError, environmentError, makeDirectory, readProblem } from '../../src/util/fsErrors.js';
import { openPartialRun, partialDirOf } from '../../src/util/partialRun.js';
import { inputFiles } from '../../src/cli/outputOptions.js';
import { packState, unpackState } from '../../src/util/statePack.js';

const dir = mkdtempSync(join(tmpdir(), 'distillery-outputs-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

test('fs errors become one line naming the user\'s path and the cause', async () => {
  // a real ENOSPC: /dev/full refuses every write
  const full = await fsp.writeFile('/dev/full', 'x').then(() => undefined, (e) => e);
  const e = environmentError(full, 'models/v2', 'cannot be written');
  assert.ok(e instanceof EnvironmentError);
  assert.equal((e as Error).message, 'models/v2: cannot be written (no space left on device)');
  // a real EISDIR and ENOTDIR
  mkdirSync(join(dir, 'd'));
  const isDir = await fsp.writeFile(join(dir, 'd'), 'x').then(() => undefined, (x) => x);
  assert.match((environmentError(isDir, 'out.csv', 'cannot be written') as Error).message, /^out\.csv: cannot be written \(is a directory\)$/);
  writeFileSync(join(dir, 'f'), 'x');
  const notDir = await fsp.writeFile(join(dir, 'f', 'x'), 'x').then(() => undefined, (x) => x);
  assert.match((environmentError(notDir, 'f/x', 'cannot be written') as Error).message, /a component of the path is not a directory/);
  // EROFS needs a read-only mount; the error object Node gives for it carries code EROFS
  const rofs = Object.assign(new Error("EROFS: read-only file system, mkdir '/mnt/x/.m.tmp-1-1'"), { code: 'EROFS', path: '/mnt/x/.m.tmp-1-1' });
  assert.equal((environmentError(rofs, '/mnt/x/m', 'cannot be written') as Error).message, '/mnt/x/m: cannot be written (read-only file system)');
  assert.equal(environmentError(new Error('a bug'), 'x', 'y') instanceof EnvironmentError, false, 'other errors stay what they are');
});

test('a directory that cannot be made reports the real cause: Node\'s recursive mkdir says ENOENT for EROFS (#27 item 15)', async () => {
  // Node's mkdir -p, on a read-only file system, stats the missing directory after EROFS and
  // rejects with the stat's ENOENT: the mkdir below mimics it (EROFS needs a read-only mount)
  const ro = join(dir, 'read-only');
  mkdirSync(ro);
  const made: string[] = [];
  const readOnly = async (p: string, opts?: { recursive?: boolean }) => {
    made.push(`${p}${opts?.recursive ? ' -p' : ''}`);
    if (opts?.recursive) throw Object.assign(new Error(`ENOENT: no such file or directory, mkdir '${p}'`), { code: 'ENOENT', syscall: 'mkdir', path: p });
    throw Object.assign(new Error(`EROFS: read-only file system, mkdir '${p}'`), { code: 'EROFS', syscall: 'mkdir', path: p });
  };
  const target = join(ro, 'runs', 'v2', 'model');
  const e = await makeDirectory(target, readOnly).then(() => undefined, (x) => x);
  assert.equal((e as NodeJS.ErrnoException).code, 'EROFS');
  assert.deepEqual(made, [`${target} -p`, join(ro, 'runs')], 'the first missing ancestor is made alone');
  assert.equal((environmentError(e, 'runs/v2/model', 'cannot be used for the temporary output') as Error).message, 'runs/v2/model: cannot be used for the temporary output (read-only file system)');
  // an error about a temporary path (the partial directory) is reported with the user's path
  const aboutTemporary = new EnvironmentError(join(ro, '.model.partial'), 'cannot be written', 'EROFS');
  assert.equal((environmentError(aboutTemporary, 'model', 'cannot be used for the temporary output', [join(ro, '.model.partial')]) as Error).message, 'model: cannot be used for the temporary output (read-only file system)');
  assert.equal(environmentError(aboutTemporary, 'model', 'x'), aboutTemporary, 'other paths\' errors stay');
  // a real mkdir -p through an existing file fails with its own cause; one that can be made is made
  writeFileSync(join(dir, 'plain-file'), 'x');
  const notDir = await makeDirectory(join(dir, 'plain-file', 'a', 'b')).then(() => undefined, (x) => x);
  assert.equal((environmentError(notDir, 'p', 'cannot be created') as Error).message, 'p: cannot be created (a component of the path is not a directory)');
  await makeDirectory(join(dir, 'made', 'a', 'b'));
  assert.ok(existsSync(join(dir, 'made', 'a', 'b')));
  // every errno of the table reads as its cause, when writing and when reading
  const causes: [string, string][] = [['EROFS', 'read-only file system'], ['EACCES', 'permission denied'], ['EPERM', 'operation not permitted'], ['ENOSPC', 'no space left on device'], ['EDQUOT', 'disk quota exceeded'], ['ENOENT', 'no such file or directory'], ['EISDIR', 'is a directory'], ['ENOTDIR', 'a component of the path is not a directory']];
  for (const [code, cause] of causes) {
    const err = Object.assign(new Error(`${code}: something, open 'x'`), { code });
    assert.equal((environmentError(err, 'out', 'cannot be written') as Error).message, `out: cannot be written (${cause})`);
    assert.equal(readProblem(err), code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory, not a file' : `cannot be read (${cause})`);
  }
});

test('writeOutputs writes all outputs or none, and keeps the old ones when it fails', async () => {
  const a = join(dir, 'a.json');
  writeFileSync(a, 'old a');
  writeFileSync(join(dir, 'blocker'), 'file');
  await assert.rejects(writeOutputs([{ path: a, data: 'new a' }, { path: join(dir, 'blocker', 'b.md'), data: 'b' }]), EnvironmentError);
  assert.equal(readFileSync(a, 'utf8'), 'old a');
  await writeOutputs([{ path: a, data: 'new a' }, { path: join(dir, 'run'), fill: async (d) => writeFileSync(join(d, 'x'), 'x') }]);
  assert.equal(readFileSync(a, 'utf8'), 'new a');
  assert.equal(readFileSync(join(dir, 'run', 'x'), 'utf8'), 'x');
  // a fill that fails leaves nothing
  await assert.rejects(writeOutputs([{ path: join(dir, 'never'), fill: async () => { throw new Error('boom'); } }]), /boom/);
  assert.equal(existsSync(join(dir, 'never')), false);
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.tmp-') || f.includes('.old-')), []);
});

test('stale temporaries of dead processes go; those of live ones stay', async () => {
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  const out = join(dir, 'm');
  mkdirSync(join(dir, `.m.tmp-${dead}-1x`));
  writeFileSync(join(dir, `m.tmp-${dead}-2`), 'legacy name');
  mkdirSync(join(dir, `.m.tmp-${process.pid}-3x`));
  mkdirSync(join(dir, `.m.old-${dead}-4x`));
  writeFileSync(join(dir, `.m.old-${dead}-4x`, 'weights.bin'), 'the old model');
  const removed = await cleanStaleTemporaries(out);
  assert.equal(removed.length, 2);
  assert.equal(readFileSync(join(out, 'weights.bin'), 'utf8'), 'the old model', 'a displaced output whose replacement never came is put back');
  assert.ok(existsSync(join(dir, `.m.tmp-${process.pid}-3x`)), 'a live process keeps its temporary');
  rmSync(join(dir, `.m.tmp-${process.pid}-3x`), { recursive: true });
});

test('an interrupted run is resumed only with the same settings, never discarded silently', async () => {
  const out = join(dir, 'model');
  const first = await openPartialRun(out, '--out', { epochs: 5 }, {});
  await first.nextStore().save(Buffer.from('checkpoint'));
  await assert.rejects(openPartialRun(out, '--out', { epochs: 5 }, {}), /has an interrupted run .*--resume .*--force/);
  await assert.rejects(openPartialRun(out, '--out', { epochs: 6 }, { resume: true }), /--resume: .*different settings \(--epochs: 5 → 6\)/);
  const resumed = await openPartialRun(out, '--out', { epochs: 5 }, { resume: true });
  assert.equal(resumed.resumed, true);
  assert.equal(Buffer.from((await resumed.nextStore().load())!).toString(), 'checkpoint');
  const fresh = await openPartialRun(out, '--out', { epochs: 5 }, { force: true });
  assert.equal(await fresh.nextStore().load(), undefined);
  await fresh.remove();
  assert.equal(existsSync(partialDirOf(out)), false);
  await assert.rejects(openPartialRun(out, '--out', {}, { resume: true }), /--resume: there is no interrupted run/);
});

test('a kill at any instant while the partial directory is made leaves a resumable run or one the next command starts over', async () => {
  const out = join(dir, 'killed');
  const partial = partialDirOf(out);
  const dead = 2 ** 22 + 7; // no such process
  const settings = { command: 'train', epochs: 5 };
  // every state a kill can leave: the temporary directory empty, with the owner only, complete but
  // not renamed; an older version's directory without settings; the replaced run displaced but
  // the new one not yet in place
  const tmp = join(dir, `.${'.killed.partial'}.tmp-${dead}-1x`);
  const states: [string, () => void][] = [
    ['temporary, empty', () => mkdirSync(tmp)],
    ['temporary, owner only', () => (mkdirSync(tmp), writeFileSync(join(tmp, 'owner.json'), JSON.stringify({ pid: dead })))],
    ['temporary, complete', () => (mkdirSync(tmp), writeFileSync(join(tmp, 'owner.json'), JSON.stringify({ pid: dead })), writeFileSync(join(tmp, 'settings.json'), JSON.stringify(settings)))],
    ['in place without settings', () => (mkdirSync(partial), writeFileSync(join(partial, 'owner.json'), JSON.stringify({ pid: dead })))],
  ];
  for (const [state, make] of states) {
    make();
    const run = await openPartialRun(out, '--out', settings, {});
    assert.equal(run.resumed, false, state);
    assert.deepEqual(JSON.parse(readFileSync(join(partial, 'settings.json'), 'utf8')), settings, state);
    assert.ok(!existsSync(tmp), `${state}: the temporary is cleaned`);
    await run.remove();
  }
  // the previous run displaced, the new one not yet renamed in: the old one comes back, resumable
  const first = await openPartialRun(out, '--out', settings, {});
  await first.nextStore().save(Buffer.from('checkpoint'));
  renameSync(partial, join(dir, `.${'.killed.partial'}.old-${dead}-2x`));
  writeFileSync(join(dir, '.killed.partial.owner'), ''); // unrelated file: left alone
  const resumed = await openPartialRun(out, '--out', settings, { resume: true });
  assert.equal(Buffer.from((await resumed.nextStore().load())!).toString(), 'checkpoint');
  await resumed.remove();
});

test('a refused resume names each changed flag with its old value (not given: its default) and each changed config key of the file', async () => {
  const out = join(dir, 'changed');
  const first = await openPartialRun(out, '--out', { command: 'train', epochs: 5, batchSize: 32, cfg: { model: { kind: 'mlp', hidden: [8] }, seeds: [1] } }, {});
  await first.nextStore().save(Buffer.from('checkpoint'));
  const err = await openPartialRun(out, '--out', { command: 'train', epochs: 5, batchSize: 64, lr: 0.01, cfg: { model: { kind: 'mlp', hidden: [12] }, seeds: [1] } }, { resume: true }, { configFile: 'exp.yaml' }).then(
    () => assert.fail('resumed with changed settings'),
    (e: Error) => e.message,
  );
  assert.match(err, /different settings \(--batch-size: 32 → 64; exp\.yaml: model\.hidden: \[8\] → \[12\]; --lr: not given → 0\.01\)/);
  assert.ok(err.length < 300, `one short line: ${err}`);
  await (await openPartialRun(out, '--out', {}, { force: true })).remove();
});

test('a resume is refused when a file or directory the run read has other content or is gone, naming it and its flag; the same bytes resume', async () => {
  const out = join(dir, 'inputs-out');
  const data = join(dir, 'inputs.csv.gz');
  const model = join(dir, 'inputs-model');
  mkdirSync(join(model, 'sub'), { recursive: true });
  writeFileSync(data, Buffer.from([0x1f, 0x8b, 1, 2, 3]));
  writeFileSync(join(model, 'weights.bin'), 'w1');
  writeFileSync(join(model, 'sub', 'a.json'), '{}');
  const inputs = [{ name: '--data', path: data }, { name: '--base', path: model }, { name: 'exp.yaml: testData', path: join(dir, 'absent.csv') }];
  const settings = { command: 'update' };
  const first = await openPartialRun(out, '--out', settings, {}, { inputs });
  await first.nextStore().save(Buffer.from('checkpoint'));
  const resume = () => openPartialRun(out, '--out', settings, { resume: true }, { inputs });
  const refusal = () => resume().then(() => assert.fail('resumed with changed inputs'), (e: Error) => e.message);

  // the same bytes written again (a new mtime) and the same files: it resumes
  writeFileSync(data, Buffer.from([0x1f, 0x8b, 1, 2, 3]));
  assert.equal((await resume()).resumed, true);
  // a gzip'd file by its bytes; a directory by any file under it (a renamed one too)
  writeFileSync(data, Buffer.from([0x1f, 0x8b, 1, 2, 4]));
  assert.match(await refusal(), new RegExp(`^--resume: an input of the interrupted run for .*: ${data} \\(--data\\) has changed \\(5 bytes, sha256 \\w+ then, 5 bytes, sha256 \\w+ now\\); .*--force`));
  writeFileSync(data, Buffer.from([0x1f, 0x8b, 1, 2, 3]));
  renameSync(join(model, 'sub', 'a.json'), join(model, 'sub', 'b.json'));
  assert.match(await refusal(), new RegExp(`: ${model} \\(--base\\) has changed \\(4 bytes in 2 files, `));
  renameSync(join(model, 'sub', 'b.json'), join(model, 'sub', 'a.json'));
  assert.equal((await resume()).resumed, true);
  // two inputs at once: both named; one gone; one that was absent and is there now
  rmSync(data);
  writeFileSync(join(dir, 'absent.csv'), 'x');
  const both = await refusal();
  assert.match(both, /^--resume: 2 inputs of the interrupted run for /);
  assert.ok(both.includes(`${data} (--data) is gone`), both);
  assert.ok(both.includes(`${join(dir, 'absent.csv')} (exp.yaml: testData) was not there and is now`), both);
  assert.equal(both.split('\n').length, 1);
  // a run recorded without its inputs' content (an older version) is not resumed blind
  rmSync(join(partialDirOf(out), 'inputs.json'));
  assert.match(await refusal(), /did not record what its input files held.*--force/);
  await (await openPartialRun(out, '--out', settings, { force: true })).remove();

  // an output inside an input directory: the run's own checkpoints there are not an input's change
  const inside = join(model, 'v2');
  const run = await openPartialRun(inside, '--out', settings, {}, { inputs });
  await run.nextStore().save(Buffer.from('checkpoint'));
  assert.equal((await openPartialRun(inside, '--out', settings, { resume: true }, { inputs })).resumed, true);
  await run.remove();
});

test('the inputs of a data flag are its files: none for a built-in dataset, both of an IDX pair', () => {
  assert.deepEqual(inputFiles('--data', 'letter', 'data'), []);
  assert.deepEqual(inputFiles('--data', 'fashion-mnist:test', 'data'), []);
  assert.deepEqual(inputFiles('--data', 'img.idx,lab.idx', 'data'), [{ name: '--data', path: 'img.idx' }, { name: '--data', path: 'lab.idx' }]);
  assert.deepEqual(inputFiles('--data', 'd.csv.gz', 'data'), [{ name: '--data', path: 'd.csv.gz' }]);
  assert.deepEqual(inputFiles('--base', 'letter', 'path'), [{ name: '--base', path: 'letter' }]);
  assert.deepEqual(inputFiles('--data', undefined, 'data'), []);
});

test('state files round-trip numbers and typed arrays exactly', () => {
  const value = { a: [1.5, -0, 1e-310, null], s: 'x', w: new Float32Array([Math.PI, -1e-30, 3.4e38]), i: new Int32Array([-7, 2 ** 31 - 1]) };
  const back = unpackState<typeof value>(packState(value));
  assert.deepEqual(Array.from(back.w), Array.from(value.w));
  assert.deepEqual(Array.from(back.i), Array.from(value.i));
  assert.deepEqual(back.a, [1.5, 0, 1e-310, null]);
  assert.throws(() => unpackState(new Uint8Array([1, 2, 3])), /not a Distillery state file/);
});
