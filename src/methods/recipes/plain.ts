import { z } from 'zod';
import { defineMethod } from '../definition.js';
import { crossEntropyObjective } from '../../objectives/targetObjectives.js';

/** Plain retraining (cold start, no teacher): CE(onehot(y), z). */
export const plain = defineMethod({
  name: 'plain',
  description: 'retrain on the labels only',
  params: z.object({}).strict(),
  flags: {},
  reference: 'none',
  transferHop: true,
  label: () => 'plain retrain',
  objective: () => crossEntropyObjective(),
});
