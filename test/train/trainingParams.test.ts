/**
 * The training parameters are declared once (src/train/trainingParams.ts): the trainer's own
 * defaults, the CLI's and an experiment config's are the same, and a value is in range for a
 * flag exactly when it is for the config key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_TRAINING, TRAINING_PARAMS } from '../../src/train/trainingParams.js';
import { parseExperimentConfig } from '../../src/experiments/config.js';
import { trainingFromFlags } from '../../src/cli/options.js';
import { runCliHere } from '../helpers/cli.js';
import { buildModel } from '../../src/models/build.js';
import { crossEntropyObjective } from '../../src/objectives/targetObjectives.js';
import { trainModel } from '../../src/train/trainer.js';
import { letterSplits } from '../helpers/letter.js';

test('the trainer, the CLI and an experiment config default to the declared values', async () => {
  assert.deepEqual(trainingFromFlags({}), DEFAULT_TRAINING);
  assert.deepEqual(parseExperimentConfig({}).training, DEFAULT_TRAINING);
  for (const [name, p] of Object.entries(TRAINING_PARAMS)) assert.equal(DEFAULT_TRAINING[name as keyof typeof DEFAULT_TRAINING], p.default, name);
  // trainModel given neither epochs nor a batch size: the declared epochs of the declared batches
  const data = await letterSplits({ initial: 100, validation: 20, newBatch: 0, test: 20 });
  const model = buildModel({ kind: 'mlp', hidden: [8] }, [16], data.spec.classNames.length, 1);
  const result = await trainModel(model, data.initial, { objective: crossEntropyObjective(), seed: 1 });
  assert.equal(result.epochsRun, DEFAULT_TRAINING.epochs);
  assert.equal(result.steps, DEFAULT_TRAINING.epochs * Math.ceil(100 / DEFAULT_TRAINING.batchSize));
  model.dispose();
});

test('a training value is refused by its flag exactly when it is refused by its config key', async () => {
  const cases: [flag: string, key: string, value: number, ok: boolean][] = [
    ['--lr', 'learningRate', 11, false],
    ['--lr', 'learningRate', 0, false],
    ['--lr', 'learningRate', 1e-9, true],
    ['--epochs', 'epochs', 0, false],
    ['--epochs', 'epochs', 2.5, false],
    ['--batch-size', 'batchSize', 0, false],
    ['--patience', 'patience', -1, false],
    ['--patience', 'patience', 0, true],
  ];
  for (const [flag, key, value, ok] of cases) {
    const yaml = (() => {
      try {
        parseExperimentConfig({ training: { [key]: value } });
        return true;
      } catch {
        return false;
      }
    })();
    assert.equal(yaml, ok, `config training.${key}: ${value}`);
    // a flag in range gets past parsing to the next check (a --data file that is not there); out of range it is named
    const r = await runCliHere(['train', '--data', 'no-such-file.csv', '--out', 'no-such-dir/m', flag, String(value)]);
    assert.equal(r.code, 2);
    if (ok) assert.doesNotMatch(r.stderr, new RegExp(`${flag}:`), `${flag} ${value}: ${r.stderr}`);
    else assert.match(r.stderr, new RegExp(`^distillery: ${flag}: `), `${flag} ${value}: ${r.stderr}`);
  }
});
