export { ComfortScheduler, systemClock, type Clock, type Due } from './scheduler.js';
export { ComfortError, Comforter, type ComfortOptions, type FramingHeaders } from './comforter.js';
