/**
 * The compatibility matrix as data (served as /compat.json, prerendered at build time): what a marketplace or any
 * other site needs to badge models without copying the matrix by hand — every cell of the same listing the /compat
 * page and the README summary show (listMatrix), so the three never drift apart. Backends come from the matrix too,
 * so a backend added there appears here with no change to this file.
 *
 * The shape is documented by a JSON Schema shipped with the app (static/compat.schema.json, README "The matrix as
 * data"); COMPAT_SCHEMA_VERSION changes whenever that shape changes in a way a reader could notice.
 */
import { CONFIDENCE_MEANING } from './confidence-meaning.ts';
import { listMatrix } from './matrix.ts';
import { BACKENDS, CONFIDENCE_ORDER, type Backend, type Confidence, type Engine, type MatrixCell, type MatrixFormat } from './verdict.ts';

export const COMPAT_SCHEMA_VERSION = 1;
/** Where the schema is served (a file in static/). */
export const COMPAT_SCHEMA_PATH = '/compat.schema.json';

/** A matrix cell as /compat.json publishes it: its verifying test named by file and readable title. */
export interface CompatCellData extends Omit<MatrixCell, 'test'> {
  /** Present exactly when confidence is 'verified': the test in this repository that runs this cell. */
  test?: { file: string; title: string };
}

export interface CompatDocument {
  schemaVersion: number;
  schema: string;
  app: { name: 'rbee-web'; version: string };
  /** Strongest first, with what each means. */
  confidences: { confidence: Confidence; meaning: string }[];
  backends: Backend[];
  cells: CompatCellData[];
}

/** The matrix as data, for the app of version `appVersion` (package.json's). */
export function compatDocument(appVersion: string): CompatDocument {
  return {
    schemaVersion: COMPAT_SCHEMA_VERSION,
    schema: COMPAT_SCHEMA_PATH,
    app: { name: 'rbee-web', version: appVersion },
    confidences: CONFIDENCE_ORDER.map((confidence) => ({ confidence, meaning: CONFIDENCE_MEANING[confidence] })),
    backends: [...BACKENDS],
    cells: listMatrix().map((c) => ({
      architecture: c.architecture,
      format: c.format,
      weightType: c.weightType,
      backend: c.backend,
      engine: c.engine,
      confidence: c.confidence,
      reason: c.reason,
      // A parameterised test's title is its template with the case filled in: the title the test runner prints.
      ...(c.test ? { test: { file: c.test.file, title: c.test.case === undefined ? c.test.name : c.test.name.replace('%s', c.test.case) } } : {}),
    })),
  };
}
