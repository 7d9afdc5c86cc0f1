import { loadAddon } from '../src/engine/addon.ts';
const a = loadAddon()!;
a.setThreads(1);
for (const [m, k, n, ta, tb] of [[8192,128,128,0,0],[128,8192,128,1,0],[8192,128,256,0,0],[8192,256,128,0,0],[8192,128,128,0,1]]) {
  const A = new Float32Array(m * k).map(() => Math.random()), B = new Float32Array(k * n).map(() => Math.random()), C = new Float32Array(m * n);
  const run = () => a.gemm(!!ta, !!tb, 1, 1, 1, m, n, k, A, B, C, null, 0, 0);
  for (let i = 0; i < 3; i++) run();
  const t = performance.now(); const R = 20;
  for (let i = 0; i < R; i++) run();
  const dt = (performance.now() - t) / R;
  console.log(m, k, n, ta, tb, dt.toFixed(2), 'ms', (2 * m * n * k / dt / 1e6).toFixed(0), 'GFLOP/s');
}
