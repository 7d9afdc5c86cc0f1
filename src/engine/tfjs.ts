/**
 * The tfjs set-up every part of Distillery relies on: gradients for all core ops and the
 * reference cpu backend. tfjs-core's Node build registers no gradients (the umbrella
 * @tensorflow/tfjs package does, from its bundle); importing it here makes training work
 * without changing any tfjs API. PROD silences tfjs's "install tfjs-node" banner:
 * Distillery picks and reports its own engine.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';

tf.env().set('PROD', true);
export { tf };
