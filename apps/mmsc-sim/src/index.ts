export { buildSim, type Received, type Sim, type SimOptions } from './sim.js';
