/** Call Control request schemas and their validator. */
export {
  actionNames, actionSchemas, applicationCreateSchema, applicationDefaults, applicationUpdateSchema, defaultsOf,
  dialDefaults, dialSchema, hasAction, isActionName, requestSchemas,
} from './catalogue.js';
export type { ActionName, ActionSchema, RequestSchema, SchemaName } from './catalogue.js';
export { dialSdkOnlyFields } from './calls.js';
export { aiSdkOnlyFields } from './ai.js';
export { describedEnums } from './media.js';
export {
  MEDIA_TTL_MAX_SECS, mediaSchemas, mediaUpdateFormSchema, mediaUpdateSchema, mediaUploadFormSchema, mediaUploadSchema,
  validateMediaRequest,
} from './media-storage.js';
export type { MediaSchemaName } from './media-storage.js';
export { isBase64, loopTimes } from './common.js';
export type { JsonSchema, JsonType } from './common.js';
export { createRequestValidator, toErrorItems, validateRequest } from './validate.js';
export type { SchemaRequestValidator, ValidateOptions, ValidationResult } from './validate.js';
