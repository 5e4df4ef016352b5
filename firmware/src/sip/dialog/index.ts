/** Dialogs (RFC 3261 §12). */
export { Dialog } from './dialog.js';
export type { DialogState, DialogRole, DialogInit, CreateRequestOptions, InboundCheck } from './dialog.js';
export { DialogTable } from './dialog-table.js';
export { dialogKey } from './dialog-id.js';
export type { DialogId } from './dialog-id.js';
export {
  tagOf,
  withTag,
  callIdOf,
  cseqOf,
  headerValues,
  contactUriOf,
  optionTags,
  isLooseRoute,
  routeUri,
} from './header-utils.js';
