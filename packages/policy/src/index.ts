export { decideMessage, type LogAction, type MessageAction, type MessageDecision, type PartEvent, type PolicySettings, type Subtype } from './decide.js';
