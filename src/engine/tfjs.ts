/**
 * The tfjs set-up every part of Distillery relies on: tfjs-core with its gradients and chained
 * tensor methods registered, and the reference cpu backend. tfjs-core's Node build registers
 * neither (the @tensorflow/tfjs umbrella does, from its bundle); generated/ holds the same
 * registrations bundled from the installed tfjs-core at build time
 * (scripts/bundle-tfjs-core.mjs), so training works with tfjs-core, tfjs-layers and the
 * backends alone. Importing sets no tfjs flag: the CLI sets PROD for its own process
 * (initEngine never does).
 */
import * as tf from '@tensorflow/tfjs-core';
import '../../generated/tfjs-core-registrations.js';
import '@tensorflow/tfjs-backend-cpu';

export { tf };
