/**
 * ARFF reader for Mulan/MEKA multi-label data sets (Weka's Attribute-Relation File Format).
 *
 * Supported: `@relation`, `@attribute` with numeric/real/integer or nominal `{v1,v2,...}` types and bare or quoted
 * names, `%` comment lines, blank lines, LF/CRLF/CR line endings, dense rows (comma-separated, quoted values, `?`
 * for missing) and sparse rows (`{index value, ...}`, 0-based indices, omitted values are 0 / the first nominal
 * value). Not supported (clear error): string, date and relational attributes, instance weights.
 *
 * Value mapping: numeric attributes as written; a nominal value maps to its number when every value of the
 * attribute is a number (`{0,1}` → 0/1), else to its index in the declaration. Missing features become NaN.
 * Labels must be 0 or 1.
 *
 * Labels are found either by count (`labelCount`: Mulan puts the labels last; `labelsAt: 'start'` for MEKA) or by
 * name (`labelNames`, e.g. from Mulan's XML label file, see `parseMulanLabelsXml`). Without either, a MEKA relation
 * name with `-C n` decides (n > 0: first n attributes, n < 0: last -n).
 *
 * Errors name the source, the 1-based line and column, what was expected and what was found.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fail } from '../util/errors.js';
import { FLOAT32_MAX } from '../util/numbers.js';

/** One `@attribute` declaration of an ARFF file. */
export interface ArffAttribute {
  name: string;
  type: 'numeric' | 'nominal';
  /** Nominal values as declared. */
  values?: string[];
  /** 1-based line of the declaration. */
  line: number;
}

/** A multi-label data set read from ARFF: features x and 0/1 labels y, row-major. */
export interface MultiLabelData {
  /** n × featureNames.length, row-major. */
  x: Float32Array;
  /** n × labelNames.length, row-major, 0/1. */
  y: Float32Array;
  n: number;
  featureNames: string[];
  labelNames: string[];
  relation: string;
}

/** Which ARFF attributes are the labels: the last (or first) `labelCount` ones, or those named in `labelNames`. */
export type LabelSpec =
  | { labelCount: number; labelsAt?: 'end' | 'start'; labelNames?: undefined }
  | { labelNames: readonly string[]; labelCount?: undefined; labelsAt?: undefined };

/** Options of `readMultiLabelArff`: the label attributes (see `LabelSpec`) and a name for error messages. */
export type ReadArffOptions = (LabelSpec | { labelCount?: undefined; labelNames?: undefined; labelsAt?: undefined }) & {
  /** Name used in error messages (default: the path, or 'ARFF text'). */
  source?: string;
  /**
   * Missing (`?`) and non-finite values (NaN, ±Infinity, numbers beyond float32 such as 1e999): 'keep' as NaN or
   * ±Infinity (default), or 'error' (file:line:column), as the data loaders ask: a model cannot train on them.
   */
  nonFinite?: 'keep' | 'error';
};

const C_TAB = 9;
const C_SPACE = 32;
const C_QUOTE2 = 34;
const C_QUOTE1 = 39;
const C_COMMA = 44;
const C_BACKSLASH = 92;
const C_LBRACE = 123;
const C_RBRACE = 125;

function isBlank(c: number): boolean {
  return c === C_SPACE || c === C_TAB;
}

/** Where the parser is, for error messages. */
class Cursor {
  constructor(
    readonly source: string,
    readonly lineNo: number,
    readonly text: string,
    public pos = 0,
  ) {}

  error(what: string, at = this.pos): never {
    fail(`${this.source}:${this.lineNo}:${at + 1}: ${what}`);
  }

  skipBlanks(): void {
    while (this.pos < this.text.length && isBlank(this.text.charCodeAt(this.pos))) this.pos++;
  }

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  /** A token shown in messages: the next few characters up to a delimiter. */
  peekToken(at = this.pos): string {
    if (at >= this.text.length) return 'end of line';
    const m = /^[^\s,{}]{1,30}|^./.exec(this.text.slice(at));
    return `'${m ? m[0] : this.text[at]}'`;
  }

  /**
   * A quoted ('…' or "…", backslash escapes) or bare token; bare tokens end at whitespace or any of `stops`.
   * Returns null at the end of the line or at a stop character.
   */
  readToken(stops: string): { value: string; quoted: boolean; start: number } | null {
    this.skipBlanks();
    const start = this.pos;
    if (this.atEnd()) return null;
    const c = this.text.charCodeAt(this.pos);
    if (c === C_QUOTE1 || c === C_QUOTE2) {
      let out = '';
      this.pos++;
      while (this.pos < this.text.length) {
        const d = this.text.charCodeAt(this.pos);
        if (d === c) {
          this.pos++;
          return { value: out, quoted: true, start };
        }
        if (d === C_BACKSLASH && this.pos + 1 < this.text.length) {
          const e = this.text[this.pos + 1];
          out += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e;
          this.pos += 2;
          continue;
        }
        out += this.text[this.pos++];
      }
      this.error(`unterminated quoted string (expected a closing ${String.fromCharCode(c)})`, start);
    }
    while (this.pos < this.text.length) {
      const d = this.text.charCodeAt(this.pos);
      if (isBlank(d) || stops.includes(this.text[this.pos])) break;
      this.pos++;
    }
    if (this.pos === start) return null;
    return { value: this.text.slice(start, this.pos), quoted: false, start };
  }
}

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function parseNumberStrict(s: string): number | null {
  if (NUMBER.test(s)) return Number(s);
  const lower = s.toLowerCase();
  if (lower === 'nan') return NaN;
  if (lower === 'inf' || lower === 'infinity' || lower === '+inf' || lower === '+infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  return null;
}

function parseAttributeLine(cur: Cursor): ArffAttribute {
  const name = cur.readToken('{');
  if (!name) cur.error(`expected an attribute name after @attribute, got ${cur.peekToken()}`);
  cur.skipBlanks();
  if (cur.atEnd()) cur.error(`expected a type for attribute '${name.value}' (numeric, real, integer or {v1,v2,...}), got end of line`);
  if (cur.text.charCodeAt(cur.pos) === C_LBRACE) {
    cur.pos++;
    const values: string[] = [];
    for (;;) {
      const tok = cur.readToken(',}');
      if (!tok) cur.error(`expected a nominal value of attribute '${name.value}', got ${cur.peekToken()}`);
      values.push(tok.value);
      cur.skipBlanks();
      const c = cur.text.charCodeAt(cur.pos);
      if (c === C_COMMA) {
        cur.pos++;
        continue;
      }
      if (c === C_RBRACE) {
        cur.pos++;
        break;
      }
      cur.error(`expected ',' or '}' in the nominal values of attribute '${name.value}', got ${cur.peekToken()}`);
    }
    cur.skipBlanks();
    if (!cur.atEnd()) cur.error(`expected end of line after the nominal values of attribute '${name.value}', got ${cur.peekToken()}`);
    const seen = new Set<string>();
    for (const v of values) {
      if (seen.has(v)) cur.error(`attribute '${name.value}' declares the nominal value '${v}' twice`);
      seen.add(v);
    }
    return { name: name.value, type: 'nominal', values, line: cur.lineNo };
  }
  const typeStart = cur.pos;
  const type = cur.readToken('');
  const t = type?.value.toLowerCase();
  if (t === 'numeric' || t === 'real' || t === 'integer') {
    cur.skipBlanks();
    if (!cur.atEnd()) cur.error(`expected end of line after the type of attribute '${name.value}', got ${cur.peekToken()}`);
    return { name: name.value, type: 'numeric', line: cur.lineNo };
  }
  if (t === 'string' || t === 'date' || t === 'relational') {
    cur.error(`attribute '${name.value}' has type ${t}; only numeric (numeric, real, integer) and nominal ({v1,v2,...}) attributes are supported`, typeStart);
  }
  return cur.error(`expected a type for attribute '${name.value}' (numeric, real, integer or {v1,v2,...}), got ${cur.peekToken(typeStart)}`, typeStart);
}

/** Per attribute: how a written value becomes a number. */
interface ValueMap {
  numeric: boolean;
  nominal?: Map<string, number>;
  /** Value of an attribute left out of a sparse row: 0, or the first nominal value. */
  sparseDefault: number;
  describe: string;
}

function valueMapFor(a: ArffAttribute): ValueMap {
  if (a.type === 'numeric') return { numeric: true, sparseDefault: 0, describe: 'a number' };
  const values = a.values as string[];
  const asNumbers = values.map(parseNumberStrict);
  const allNumeric = asNumbers.every((v) => v !== null && Number.isFinite(v));
  const nominal = new Map<string, number>();
  values.forEach((v, i) => nominal.set(v, allNumeric ? (asNumbers[i] as number) : i));
  return {
    numeric: false,
    nominal,
    sparseDefault: nominal.get(values[0]) as number,
    describe: `one of {${values.join(',')}}`,
  };
}

/** Everything before `@data`, plus where the data lines are. */
interface ArffHeader {
  relation: string;
  attributes: ArffAttribute[];
}

function splitLines(text: string): string[] {
  return text.split(/\r\n|\n|\r/);
}

function isSkippable(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (isBlank(c)) continue;
    return c === 37; // '%'
  }
  return true;
}

function parseHeader(lines: string[], source: string): { header: ArffHeader; dataStart: number } {
  let relation: string | undefined;
  const attributes: ArffAttribute[] = [];
  const names = new Map<string, number>();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (isSkippable(line)) continue;
    const cur: Cursor = new Cursor(source, i + 1, line);
    cur.skipBlanks();
    const kwStart = cur.pos;
    const kw = cur.readToken('')?.value.toLowerCase();
    if (kw === '@relation') {
      if (relation !== undefined) cur.error('a second @relation line', kwStart);
      if (attributes.length > 0) cur.error('@relation after @attribute lines (expected it first)', kwStart);
      const name = cur.readToken('');
      if (!name) cur.error(`expected a relation name after @relation, got ${cur.peekToken()}`);
      // MEKA relation names may go on with options after a quoted name ('name: -C 3'); keep the rest as is.
      relation = name.value;
      cur.skipBlanks();
      if (!cur.atEnd()) relation += ` ${line.slice(cur.pos).trim()}`;
    } else if (kw === '@attribute') {
      const a = parseAttributeLine(cur);
      const prev = names.get(a.name);
      if (prev !== undefined) cur.error(`duplicate attribute name '${a.name}' (first declared on line ${prev})`, kwStart);
      names.set(a.name, a.line);
      attributes.push(a);
    } else if (kw === '@data') {
      cur.skipBlanks();
      if (!cur.atEnd()) cur.error(`expected end of line after @data, got ${cur.peekToken()}`);
      if (attributes.length === 0) cur.error('@data before any @attribute line', kwStart);
      return { header: { relation: relation ?? '', attributes }, dataStart: i + 1 };
    } else {
      cur.error(`expected @relation, @attribute or @data, got ${cur.peekToken(kwStart)}`, kwStart);
    }
  }
  fail(`${source}: no @data line found (expected the header to end with @data)`);
}

/** Which attribute goes where: label columns get index ≥ 0 in `labelCol`, feature columns in `featureCol`. */
interface ColumnPlan {
  featureCol: Int32Array;
  labelCol: Int32Array;
  featureNames: string[];
  labelNames: string[];
}

function planColumns(header: ArffHeader, options: ReadArffOptions, source: string): ColumnPlan {
  const attrs = header.attributes;
  const m = attrs.length;
  const isLabel = new Int32Array(m).fill(-1);
  let labelNames: string[];
  let spec: { count: number; at: 'start' | 'end' } | undefined;
  if (options.labelNames !== undefined) {
    if (options.labelCount !== undefined) fail(`${source}: give either labelCount or labelNames, not both`);
    if (!Array.isArray(options.labelNames) || options.labelNames.length === 0) fail(`${source}: labelNames must be a non-empty array of attribute names`);
    const index = new Map(attrs.map((a, i) => [a.name, i]));
    const missing = options.labelNames.filter((n) => !index.has(n));
    if (missing.length > 0) {
      const shown = missing.slice(0, 5).map((n) => `'${n}'`).join(', ');
      fail(`${source}: ${missing.length} label name(s) are not attributes of the file: ${shown}${missing.length > 5 ? ', ...' : ''}`);
    }
    labelNames = [...options.labelNames];
    labelNames.forEach((n, j) => {
      const i = index.get(n) as number;
      if (isLabel[i] >= 0) fail(`${source}: label name '${n}' is listed twice`);
      isLabel[i] = j;
    });
  } else {
    if (options.labelCount !== undefined) {
      const at = options.labelsAt ?? 'end';
      if (at !== 'end' && at !== 'start') fail(`${source}: labelsAt must be 'end' or 'start', got ${JSON.stringify(at)}`);
      spec = { count: options.labelCount, at };
    } else {
      const meka = /(?:^|\s)-C\s+(-?\d+)/.exec(header.relation);
      if (!meka) {
        fail(`${source}: say which attributes are labels: give labelCount (Mulan: the last attributes) or labelNames (e.g. from Mulan's XML label file); the relation name has no MEKA '-C n' option`);
      }
      const c = Number(meka[1]);
      spec = { count: Math.abs(c), at: c >= 0 ? 'start' : 'end' };
    }
    const k = spec.count;
    if (!Number.isInteger(k) || k <= 0 || k >= m) {
      fail(`${source}: labelCount must be an integer in [1, ${m - 1}] (the file has ${m} attributes), got ${JSON.stringify(k)}`);
    }
    const first = spec.at === 'end' ? m - k : 0;
    labelNames = [];
    for (let j = 0; j < k; j++) {
      isLabel[first + j] = j;
      labelNames.push(attrs[first + j].name);
    }
  }
  const featureCol = new Int32Array(m).fill(-1);
  const featureNames: string[] = [];
  for (let i = 0; i < m; i++) {
    if (isLabel[i] >= 0) continue;
    featureCol[i] = featureNames.length;
    featureNames.push(attrs[i].name);
  }
  if (featureNames.length === 0) fail(`${source}: every attribute is a label; no features are left`);
  return { featureCol, labelCol: isLabel, featureNames, labelNames };
}

/** Parse ARFF text into features and labels. */
export function parseMultiLabelArff(text: string, options: ReadArffOptions = {}): MultiLabelData {
  const source = options.source ?? 'ARFF text';
  const strict = options.nonFinite === 'error';
  const lines = splitLines(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  const { header, dataStart } = parseHeader(lines, source);
  const plan = planColumns(header, options, source);
  const attrs = header.attributes;
  const m = attrs.length;
  const maps = attrs.map(valueMapFor);
  const dx = plan.featureNames.length;
  const dy = plan.labelNames.length;

  let n = 0;
  for (let i = dataStart; i < lines.length; i++) if (!isSkippable(lines[i])) n++;
  const x = new Float32Array(n * dx);
  const y = new Float32Array(n * dy);

  // Sparse rows start from each attribute's default; precompute the non-zero defaults.
  const sparseDefaults: { col: number; isLabel: boolean; value: number }[] = [];
  for (let a = 0; a < m; a++) {
    const v = maps[a].sparseDefault;
    if (v !== 0) sparseDefaults.push({ col: plan.labelCol[a] >= 0 ? plan.labelCol[a] : plan.featureCol[a], isLabel: plan.labelCol[a] >= 0, value: v });
  }
  const seenInRow = new Int32Array(m).fill(-1);

  let row = 0;
  for (let li = dataStart; li < lines.length; li++) {
    const line = lines[li];
    if (isSkippable(line)) continue;
    const cur: Cursor = new Cursor(source, li + 1, line);
    const xOff = row * dx;
    const yOff = row * dy;
    const store = (a: number, tok: { value: string; quoted: boolean; start: number }): void => {
      const map = maps[a];
      let v: number;
      if (!tok.quoted && tok.value === '?') {
        if (strict) cur.error(`missing value '?' for attribute ${a} '${attrs[a].name}' (fill it in or drop the row)`, tok.start);
        v = NaN;
      } else if (map.numeric) {
        const parsed = parseNumberStrict(tok.value);
        if (parsed === null) cur.error(`expected a number for attribute ${a} '${attrs[a].name}', got '${tok.value}'`, tok.start);
        if (strict && !(Math.abs(parsed) <= FLOAT32_MAX)) {
          cur.error(`attribute ${a} '${attrs[a].name}' is '${tok.value}', not a finite number within float32 range`, tok.start);
        }
        v = parsed;
      } else {
        const mapped = (map.nominal as Map<string, number>).get(tok.value);
        if (mapped === undefined) cur.error(`expected ${map.describe} for attribute ${a} '${attrs[a].name}', got '${tok.value}'`, tok.start);
        v = mapped;
      }
      const lc = plan.labelCol[a];
      if (lc >= 0) {
        if (v !== 0 && v !== 1) cur.error(`label attribute ${a} '${attrs[a].name}' must be 0 or 1, got '${tok.value}'`, tok.start);
        y[yOff + lc] = v;
      } else {
        x[xOff + plan.featureCol[a]] = v;
      }
    };
    cur.skipBlanks();
    if (cur.text.charCodeAt(cur.pos) === C_LBRACE) {
      for (const d of sparseDefaults) {
        if (d.isLabel) y[yOff + d.col] = d.value;
        else x[xOff + d.col] = d.value;
      }
      cur.pos++;
      cur.skipBlanks();
      if (cur.text.charCodeAt(cur.pos) === C_RBRACE) {
        cur.pos++;
      } else {
        for (;;) {
          cur.skipBlanks();
          const idxStart = cur.pos;
          let idx = 0;
          let digits = 0;
          while (cur.pos < line.length) {
            const c = line.charCodeAt(cur.pos);
            if (c < 48 || c > 57) break;
            idx = idx * 10 + (c - 48);
            digits++;
            cur.pos++;
          }
          if (digits === 0) cur.error(`expected an attribute index (integer 0..${m - 1}) in a sparse row, got ${cur.peekToken(idxStart)}`, idxStart);
          if (idx >= m) cur.error(`attribute index ${idx} is out of range (expected 0..${m - 1})`, idxStart);
          if (seenInRow[idx] === row) cur.error(`attribute index ${idx} appears twice in this sparse row`, idxStart);
          seenInRow[idx] = row;
          if (!isBlank(line.charCodeAt(cur.pos))) cur.error(`expected a space and a value after attribute index ${idx}, got ${cur.peekToken()}`);
          const tok = cur.readToken(',}');
          if (!tok) cur.error(`expected a value for attribute ${idx} '${attrs[idx].name}', got ${cur.peekToken()}`);
          store(idx, tok);
          cur.skipBlanks();
          const c = line.charCodeAt(cur.pos);
          if (c === C_COMMA) {
            cur.pos++;
            continue;
          }
          if (c === C_RBRACE) {
            cur.pos++;
            break;
          }
          cur.error(`expected ',' or '}' after the value of attribute ${idx}, got ${cur.peekToken()}`);
        }
      }
      cur.skipBlanks();
      if (!cur.atEnd()) {
        if (line.charCodeAt(cur.pos) === C_COMMA) cur.error('instance weights ({w} after the row) are not supported');
        cur.error(`expected end of line after '}', got ${cur.peekToken()}`);
      }
    } else {
      let a = 0;
      for (;;) {
        const tok = cur.readToken(',{');
        if (!tok) {
          const what = cur.atEnd() ? 'end of line' : cur.peekToken();
          cur.error(`expected a value for attribute ${a} '${attrs[Math.min(a, m - 1)].name}', got ${what}`);
        }
        if (a >= m) cur.error(`too many values: expected ${m} comma-separated values, got more`, tok.start);
        store(a, tok);
        a++;
        cur.skipBlanks();
        if (cur.atEnd()) break;
        const c = line.charCodeAt(cur.pos);
        if (c === C_COMMA) {
          cur.pos++;
          continue;
        }
        if (c === C_LBRACE) cur.error('instance weights ({w} after the row) are not supported');
        cur.error(`expected ',' or end of line after a value, got ${cur.peekToken()}`);
      }
      if (a !== m) cur.error(`expected ${m} comma-separated values, got ${a}`, line.length);
    }
    row++;
  }
  return { x, y, n, featureNames: plan.featureNames, labelNames: plan.labelNames, relation: header.relation };
}

/** Whether a string is ARFF content rather than a path: it has a line break or starts with '@' or '%'. */
function looksLikeArffText(s: string): boolean {
  return /[\r\n]/.test(s) || /^\s*[@%]/.test(s);
}

/** Text of an ARFF file, gunzipped when it starts with the gzip magic bytes. */
export function decodeArffBytes(bytes: Uint8Array): string {
  const raw = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
  return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8');
}

/**
 * Read a multi-label ARFF file: `input` is ARFF text, a path (plain or gzipped), or the file's bytes.
 * `readMultiLabelArff(path, { labelCount: 159 })` or `readMultiLabelArff(path, { labelNames })`.
 */
export function readMultiLabelArff(input: string | Uint8Array, options: ReadArffOptions = {}): MultiLabelData {
  if (typeof input === 'string') {
    if (looksLikeArffText(input)) return parseMultiLabelArff(input, options);
    let bytes: Buffer;
    try {
      bytes = readFileSync(input);
    } catch (e) {
      fail(`readMultiLabelArff: cannot read ${input}: ${(e as Error).message}`);
    }
    return parseMultiLabelArff(decodeArffBytes(bytes), { ...options, source: options.source ?? input });
  }
  if (input instanceof Uint8Array) return parseMultiLabelArff(decodeArffBytes(input), { ...options, source: options.source ?? 'ARFF bytes' });
  fail(`readMultiLabelArff: input must be ARFF text, a path or a Uint8Array, got ${input === null ? 'null' : typeof input}`);
}

const XML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeXmlText(s: string, source: string, line: number): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|\w+);/g, (whole, ent: string) => {
    if (ent.startsWith('#x')) return String.fromCodePoint(parseInt(ent.slice(2), 16));
    if (ent.startsWith('#')) return String.fromCodePoint(parseInt(ent.slice(1), 10));
    const v = XML_ENTITIES[ent];
    if (v === undefined) fail(`${source}:${line}: unknown XML entity ${whole}`);
    return v;
  });
}

/**
 * Label names from Mulan's XML label file (`<labels><label name="…"></label>…</labels>`), in document order;
 * nested (hierarchical) labels are included.
 */
export function parseMulanLabelsXml(text: string, source = 'labels XML'): string[] {
  const names: string[] = [];
  const seen = new Map<string, number>();
  const stack: string[] = [];
  let rootSeen = false;
  let line = 1;
  let lastIndex = 0;
  const lineAt = (index: number): number => {
    for (let i = lastIndex; i < index; i++) if (text.charCodeAt(i) === 10) line++;
    lastIndex = index;
    return line;
  };
  const tagRe = /<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!\[CDATA\[[\s\S]*?\]\]>|<!DOCTYPE[^>]*>|<(\/?)([A-Za-z_][\w:.-]*)((?:[^>"']|"[^"]*"|'[^']*')*?)(\/?)>/g;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = tagRe.exec(text)) !== null) {
    const between = text.slice(consumed, m.index);
    if (between.includes('<')) fail(`${source}:${lineAt(consumed + between.indexOf('<'))}: malformed XML tag (expected <name ...>)`);
    consumed = tagRe.lastIndex;
    if (m[2] === undefined) continue; // comment, declaration, CDATA
    const ln = lineAt(m.index);
    const [, closing, rawTag, attrText, selfClosing] = m;
    const tag = rawTag.includes(':') ? rawTag.slice(rawTag.indexOf(':') + 1) : rawTag;
    if (closing) {
      const open = stack.pop();
      if (open !== tag) fail(`${source}:${ln}: closing tag </${rawTag}> does not match ${open ? `<${open}>` : 'any open tag'}`);
      continue;
    }
    if (stack.length === 0) {
      if (rootSeen) fail(`${source}:${ln}: a second root element <${rawTag}> (expected a single <labels> element)`);
      if (tag !== 'labels') fail(`${source}:${ln}: expected the root element <labels>, got <${rawTag}>`);
      rootSeen = true;
    } else if (tag === 'label') {
      const attrRe = /([\w:.-]+)\s*=\s*("([^"]*)"|'([^']*)')/g;
      let name: string | undefined;
      let a: RegExpExecArray | null;
      while ((a = attrRe.exec(attrText)) !== null) {
        if (a[1] === 'name') name = decodeXmlText(a[3] ?? a[4], source, ln);
      }
      if (name === undefined) fail(`${source}:${ln}: <label> without a name attribute (expected <label name="...">)`);
      if (name === '') fail(`${source}:${ln}: <label> with an empty name`);
      const prev = seen.get(name);
      if (prev !== undefined) fail(`${source}:${ln}: label '${name}' is listed twice (first on line ${prev})`);
      seen.set(name, ln);
      names.push(name);
    }
    if (!selfClosing) stack.push(tag);
  }
  if (text.slice(consumed).includes('<')) fail(`${source}:${lineAt(consumed + text.slice(consumed).indexOf('<'))}: malformed XML tag (expected <name ...>)`);
  if (!rootSeen) fail(`${source}: no <labels> element found (expected Mulan's label XML)`);
  if (stack.length > 0) fail(`${source}: unexpected end of file: <${stack[stack.length - 1]}> is not closed`);
  if (names.length === 0) fail(`${source}: the <labels> element lists no <label name="..."> entries`);
  return names;
}
