#!/usr/bin/env node
/** Runs the simulator on SIM_HOST:SIM_PORT (default 127.0.0.1:8090). */
import { buildSim } from './sim.js';

const host = process.env['SIM_HOST'] ?? '127.0.0.1';
const port = Number(process.env['SIM_PORT'] ?? 8090);
const { app } = buildSim({ baseUrl: `http://${host}:${port}`, store: process.env['SIM_STORE'] !== 'off' });
await app.listen({ host, port });
process.stdout.write(`mmsc-sim listening on http://${host}:${port}\n`);
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void app.close().then(() => process.exit(0)));
