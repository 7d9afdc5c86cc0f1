import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../src/engine/index.ts';
await initEngine();
const m = tf.cast(tf.notEqual(tf.tensor2d([[1,0,2]], [1,3]), 0), 'float32');
const b = tf.backend() as any;
console.log(tf.getBackend(), m.dtype, b.data.get(m.dataId).values.constructor.name);
