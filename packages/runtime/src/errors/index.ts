export * from './api-error.js';
export { commonErrors } from './common-errors.js';
export { stateErrors } from './state-errors.js';
export { secretErrors } from './secret-errors.js';
export { workflowErrors } from './workflow-errors.js';
export { invokeErrors } from './invoke-errors.js';
export { pubsubErrors } from './pubsub-errors.js';
export { bindingErrors } from './binding-errors.js';
export { jobErrors } from './job-errors.js';
