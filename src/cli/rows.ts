/**
 * Rows of numbers from a CSV or JSON file: the x of `icnn solve`, and the x, y and target files of `icnn train` and
 * `icnn evaluate` (and the arrays of their JSON data files).
 *
 * CSV: one row per line, comma-separated numbers; a first line none of whose fields is a number is a header (it
 * must have the row width) and is skipped; blank lines are skipped. JSON (a `.json` name, or content starting with
 * '['): an array of rows, each an array of numbers; for width 1 a plain array of numbers also serves.
 *
 * Every error is one line naming the file (its `label`), the line and column (CSV) or the row index (JSON), and the
 * expected width.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fail } from '../util/errors.js';
import { parseFiniteNumber } from '../util/numbers.js';

/** How a rows file is named in messages. */
export interface RowsLabel {
  /** Prefix of every message, naming the file (e.g. `--x data/x.csv`). */
  label: string;
  /** What the rows are, for the width and no-rows messages (e.g. `x`). */
  name: string;
}

/** The text of an input file; a missing file, a directory or an unreadable file is a one-line error naming `label`. */
export async function readInputText(file: string, label: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') fail(`${label}: file not found`);
    if (code === 'EISDIR') fail(`${label}: is a directory, not a file`);
    fail(`${label}: cannot read (${code ?? (e as Error).message})`);
  }
}

/** The rows of a rows file (see the module comment), `width` numbers each, flattened row by row. */
export function parseRows(text: string, file: string, width: number, names: RowsLabel): Float32Array {
  const body = text.replace(/^\uFEFF/, '');
  const isJson = path.extname(file).toLowerCase() === '.json' || body.trimStart().startsWith('[');
  return isJson ? parseJsonRows(body, width, names) : nonEmpty(parseCsvRows(body, width, names), names);
}

function nonEmpty(rows: Float32Array, { label, name }: RowsLabel): Float32Array {
  if (rows.length === 0) fail(`${label}: no rows of ${name} in the file`);
  return rows;
}

/** `${what} has N value(s), but the model takes x of width W`, or nothing when the count is right. */
function checkWidth(got: number, width: number, what: string, { label, name }: RowsLabel): void {
  if (got !== width) fail(`${label}: ${what} has ${got} value${got === 1 ? '' : 's'}, but the model takes ${name} of width ${width}`);
}

function parseJsonRows(body: string, width: number, names: RowsLabel): Float32Array {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (e) {
    fail(`${names.label}: not valid JSON (${(e as Error).message})`);
  }
  if (Array.isArray(doc) && width === 1 && doc.every((v) => typeof v === 'number')) doc = doc.map((v) => [v]);
  return jsonRows(doc, width, names);
}

/**
 * Check a parsed JSON value to be rows of `width` finite float32 numbers and flatten it. `member` names the value
 * inside a larger document (`y` of a data file: messages say `y[3][1]`); a rows file's rows are `rows[3][1]`.
 */
export function jsonRows(value: unknown, width: number, names: RowsLabel, member?: string): Float32Array {
  const { label } = names;
  if (!Array.isArray(value)) {
    const got = value === null ? 'null' : typeof value;
    fail(`${label}: ${member !== undefined ? `${member}: ` : ''}expected a JSON array of rows (arrays of numbers), got ${got}`);
  }
  const base = member ?? 'rows';
  const out = new Float32Array(value.length * width);
  value.forEach((row: unknown, i: number) => {
    if (!Array.isArray(row)) fail(`${label}: ${base}[${i}] is not an array of numbers (got ${JSON.stringify(row)?.slice(0, 40)})`);
    checkWidth(row.length, width, `${base}[${i}]`, names);
    row.forEach((e: unknown, j: number) => {
      if (typeof e !== 'number' || parseFiniteNumber(String(e)) === null) {
        fail(`${label}: ${base}[${i}][${j}] is ${JSON.stringify(e)}, not a finite number within float32 range`);
      }
      out[i * width + j] = e;
    });
  });
  return nonEmpty(out, names);
}

function parseCsvRows(body: string, width: number, names: RowsLabel): Float32Array {
  const { label, name } = names;
  const values: number[] = [];
  let first = true;
  body.split(/\r?\n/).forEach((line, k) => {
    if (line.trim() === '') return;
    const fields = line.split(',');
    const nums = fields.map(parseFiniteNumber);
    if (first) {
      first = false;
      if (nums.every((n) => n === null)) {
        if (fields.length !== width) fail(`${label}: the header (line ${k + 1}) has ${fields.length} columns, but the model takes ${name} of width ${width}`);
        return;
      }
    }
    const bad = nums.findIndex((n) => n === null);
    if (bad >= 0) {
      const f = fields[bad].trim();
      fail(`${label}: line ${k + 1}, column ${bad + 1}: ${f === '' ? 'empty field' : `${JSON.stringify(f.slice(0, 40))} is not a finite number`}`);
    }
    checkWidth(nums.length, width, `line ${k + 1}`, names);
    for (const n of nums) values.push(n as number);
  });
  return Float32Array.from(values);
}
