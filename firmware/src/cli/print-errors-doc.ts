/** Prints docs/ERRORS.md (see errors-doc.ts). */
import { renderErrorsDoc } from './errors-doc.js';

process.stdout.write(renderErrorsDoc());
