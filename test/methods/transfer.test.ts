import { test } from 'node:test';
import assert from 'node:assert/strict';
import { autoCandidates, complexity, describeArchitecture, parseStudent } from '../../src/methods/transfer/students.js';
import { searchChain } from '../../src/methods/transfer/chain.js';
import { fitModel } from '../../src/methods/fit.js';
import { crossEntropyObjective } from '../../src/objectives/targetObjectives.js';
import { disposeClassifier } from '../../src/models/classifier.js';
import { letterSplits } from '../helpers/letter.js';
import { InputError } from '../../src/util/errors.js';

test('students: the command-line shorthand, names and parameter counts; the automatic ladder lies strictly between student and teacher', () => {
  assert.deepEqual(parseStudent('logreg'), { kind: 'mlp', hidden: [] });
  assert.deepEqual(parseStudent('mlp:64,32'), { kind: 'mlp', hidden: [64, 32] });
  assert.deepEqual(parseStudent('tree:6'), { kind: 'tree', maxDepth: 6, minLeaf: 5 });
  assert.deepEqual(parseStudent('tree:4,20'), { kind: 'tree', maxDepth: 4, minLeaf: 20 });
  for (const bad of ['mlp', 'mlp:0', 'tree:x', 'forest', 'logreg:3']) assert.throws(() => parseStudent(bad), (e: unknown) => e instanceof InputError && /--student: .* is not a student/.test(e.message), bad);
  assert.equal(describeArchitecture({ kind: 'mlp', hidden: [] }), 'logreg');
  assert.equal(complexity({ kind: 'mlp', hidden: [] }, [16], 26), 16 * 26 + 26);
  assert.equal(complexity({ kind: 'mlp', hidden: [8] }, [16], 26), 16 * 8 + 8 + 8 * 26 + 26);
  const teacher = complexity({ kind: 'mlp', hidden: [512, 512] }, [16], 26);
  const student = complexity({ kind: 'mlp', hidden: [4] }, [16], 26);
  const ladder = autoCandidates(teacher, student, [16], 26, 3);
  assert.equal(ladder.length, 3);
  const sizes = ladder.map((c) => complexity(c, [16], 26));
  assert.ok(sizes.every((p, i) => p > student && p < teacher && (i === 0 || p < sizes[i - 1])), `most complex first, strictly between: ${sizes}`);
});

test('chain search: exhaustive over two candidates tries every chain once, trains each intermediate once per prefix, runs each teacher once over the training rows, and never picks a chain worse than 1-hop on validation', async () => {
  const s = await letterSplits({ initial: 800, validation: 200, newBatch: 0, test: 10 });
  const training = { epochs: 5, batchSize: 64, optimizer: 'adam' as const, learningRate: 0.01, patience: 0 };
  const { trained: teacher } = await fitModel({ architecture: { kind: 'mlp', hidden: [64, 64] }, preprocessing: s.spec, train: s.initial, objective: crossEntropyObjective(), training, seed: 1 });
  let teacherRows = 0;
  const predict = teacher.model.predict.bind(teacher.model);
  teacher.model.predict = ((x: any, args?: any) => {
    teacherRows += x.shape[0];
    return predict(x, args);
  }) as typeof teacher.model.predict;
  const lines: string[] = [];
  const result = await searchChain({
    teacher,
    student: { kind: 'mlp', hidden: [] },
    candidates: [{ kind: 'mlp' as const, hidden: [8] }, { kind: 'mlp' as const, hidden: [32] }].map((config) => ({ config, complexity: complexity(config, [16], 26) })),
    grid: [{ method: 'plain' }, { method: 'distill', lambda: 0.5 }, { method: 'sratio', cap: 3 }],
    search: 'exhaustive',
    train: s.initial,
    validation: s.validation,
    training,
    seed: 1,
    log: (l) => lines.push(l),
  });
  assert.deepEqual(result.candidates, ['mlp 32', 'mlp 8'], 'most complex first');
  assert.deepEqual(result.evaluated.map((e) => e.names.join('>')), ['', 'mlp 32', 'mlp 8', 'mlp 32>mlp 8']);
  assert.deepEqual(result.intermediates.map((m) => m.prefix.join(',')).sort(), ['0', '0,1', '1']);
  assert.equal(teacherRows, s.initial.labels.length, 'the teacher ran once over the training rows (its logits cached for every hop from it)');
  const best = Math.max(...result.evaluated.map((e) => e.validationAccuracy));
  assert.equal(result.chain.record.validationAccuracy, best);
  assert.ok(result.chain.record.validationAccuracy >= result.oneHop.record.validationAccuracy);
  assert.ok(result.oneHop.record.validationAccuracy >= result.none.validationAccuracy);
  for (const e of result.evaluated) {
    assert.equal(e.hops.length, e.names.length + 1);
    for (const h of e.hops) assert.deepEqual(h.tried.map((t) => t.spec.method), ['plain', 'distill', 'sratio']);
  }
  assert.ok(lines.some((l) => /mlp 32 → mlp 8: sratio cap=3: validation accuracy/.test(l)));
  new Set([result.none.student, result.oneHop.student, result.chain.student, ...result.intermediates.map((m) => m.model)]).forEach(disposeClassifier);
  teacher.model.dispose();
});
