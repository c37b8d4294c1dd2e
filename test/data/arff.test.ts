/** ARFF reader and Mulan label XML: dense/sparse rows, attribute syntax, label selection, and malformed input. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseMulanLabelsXml, parseMultiLabelArff, readMultiLabelArff } from '../../src/data/index.js';
import { IcnnError } from '../../src/util/errors.js';
import { tempDirFor } from '../helpers/tmp.js';

const HEADER = [
  '% a comment line',
  '@RELATION   toy',
  '',
  '@attribute f0 numeric',
  "@attribute 'word with space' {0,1}",
  '@attribute "colour" {red, green, \'dark blue\'}',
  '  % an indented comment',
  '@Attribute f3 REAL',
  '@attribute L0 {0,1}',
  '@attribute L1 integer',
  '@data',
];

const DENSE = [...HEADER, '1.5,1,green,-2e-1,0,1', '% comment in data', '', "?,0,'dark blue',3,1,0", '0,0,red,0,0,0'];

const SPARSE = [...HEADER, '{0 1.5,1 1,2 green,3 -2e-1,5 1}', '% comment in data', '', "{0 ?, 2 'dark blue' , 3 3,4 1}", '{ }'];

const X = [1.5, 1, 1, -0.2, NaN, 0, 2, 3, 0, 0, 0, 0];
const Y = [0, 1, 1, 0, 0, 0];

function assertClose(actual: Float32Array, expected: number[]): void {
  assert.equal(actual.length, expected.length);
  expected.forEach((e, i) => {
    if (Number.isNaN(e)) assert.ok(Number.isNaN(actual[i]), `entry ${i}: expected NaN, got ${actual[i]}`);
    else assert.equal(actual[i], Math.fround(e), `entry ${i}`);
  });
}

test('dense rows: comments, blank lines, quoted names, numeric and nominal types, missing values, labels last', () => {
  const d = parseMultiLabelArff(DENSE.join('\n'), { labelCount: 2 });
  assert.equal(d.n, 3);
  assert.equal(d.relation, 'toy');
  assert.deepEqual(d.featureNames, ['f0', 'word with space', 'colour', 'f3']);
  assert.deepEqual(d.labelNames, ['L0', 'L1']);
  // Nominal values map to their number ({0,1}) or else to their index (red 0, green 1, 'dark blue' 2).
  assertClose(d.x, X);
  assertClose(d.y, Y);
});

test('sparse rows give the same data; CRLF and CR line endings and a BOM are accepted', () => {
  const expected = parseMultiLabelArff(DENSE.join('\n'), { labelCount: 2 });
  for (const eol of ['\n', '\r\n', '\r']) {
    const d = parseMultiLabelArff(`\ufeff${SPARSE.join(eol)}`, { labelCount: 2 });
    assert.deepEqual(d.featureNames, expected.featureNames);
    assertClose(d.x, Array.from(expected.x));
    assertClose(d.y, Array.from(expected.y));
    assert.equal(parseMultiLabelArff(DENSE.join(eol), { labelCount: 2 }).n, 3);
  }
});

test('sparse rows: omitted nominal values take the first declared value', () => {
  const text = ['@relation r', '@attribute a {x,y,z}', '@attribute b {5,7}', '@attribute c numeric', '@attribute l {0,1}', '@data', '{2 4}', '{0 z,1 7,3 1}'].join('\n');
  const d = parseMultiLabelArff(text, { labelCount: 1 });
  assert.deepEqual(Array.from(d.x), [0, 5, 4, 2, 7, 0]);
  assert.deepEqual(Array.from(d.y), [0, 1]);
});

test('labels by name (any position, in the given order), at the start, or from a MEKA -C option', () => {
  const text = DENSE.join('\n');
  const byName = parseMultiLabelArff(text, { labelNames: ['L1', 'word with space'] });
  assert.deepEqual(byName.labelNames, ['L1', 'word with space']);
  assert.deepEqual(byName.featureNames, ['f0', 'colour', 'f3', 'L0']);
  assert.deepEqual(Array.from(byName.y), [1, 1, 0, 0, 0, 0]);
  assertClose(byName.x, [1.5, 1, -0.2, 0, NaN, 2, 3, 1, 0, 0, 0, 0]);

  const meka = ["@relation 'toy: -C 2'", '@attribute A {0,1}', '@attribute B {0,1}', '@attribute f numeric', '@data', '1,0,0.5', '0,1,2'].join('\n');
  for (const d of [parseMultiLabelArff(meka), parseMultiLabelArff(meka, { labelCount: 2, labelsAt: 'start' })]) {
    assert.deepEqual(d.labelNames, ['A', 'B']);
    assert.deepEqual(Array.from(d.y), [1, 0, 0, 1]);
    assert.deepEqual(Array.from(d.x), [0.5, 2]);
  }
  const mekaEnd = meka.replace('-C 2', '-C -1').replace('@attribute f numeric', '@attribute f {0,1}').replace('0.5', '1').replace(',2', ',0');
  assert.deepEqual(parseMultiLabelArff(mekaEnd).labelNames, ['f']);
});

test('reads a path (plain or gzipped) or bytes', (t) => {
  const dir = tempDirFor(t);
  const text = SPARSE.join('\n');
  const plain = path.join(dir, 'toy.arff');
  const gz = path.join(dir, 'toy.arff.gz');
  writeFileSync(plain, text);
  writeFileSync(gz, gzipSync(text));
  for (const input of [plain, gz, new TextEncoder().encode(text), gzipSync(text)]) {
    const d = readMultiLabelArff(input, { labelCount: 2 });
    assert.equal(d.n, 3);
    assertClose(d.y, Y);
  }
  assert.throws(() => readMultiLabelArff(path.join(dir, 'missing.arff'), { labelCount: 1 }), /cannot read .*missing\.arff/);
  // Errors name the file.
  writeFileSync(plain, text.replace('{0 1.5', '{0 x1.5'));
  assert.throws(() => readMultiLabelArff(plain, { labelCount: 2 }), (e: Error) => e.message.startsWith(`${plain}:12:`));
});

/** The error for `text` (labels: last 2 unless given), checked against a pattern. */
function expectError(lines: string[], pattern: RegExp, options: Parameters<typeof parseMultiLabelArff>[1] = { labelCount: 2 }): void {
  assert.throws(
    () => parseMultiLabelArff(lines.join('\n'), { ...options, source: 'bad.arff' }),
    (e: Error) => {
      assert.ok(e instanceof IcnnError, `expected an IcnnError, got ${e}`);
      assert.match(e.message, pattern);
      return true;
    },
  );
}

test('malformed headers: the error names line, column and what was expected', () => {
  const h = HEADER.slice(0, -1);
  expectError([...h.slice(0, 3), '@attribute f0 blob', ...h.slice(4), '@data'], /^bad\.arff:4:15: expected a type for attribute 'f0' \(numeric, real, integer or \{v1,v2,\.\.\.\}\), got 'blob'/);
  expectError([...h, '@attribute s string', '@data'], /^bad\.arff:11:\d+: attribute 's' has type string; only numeric .* and nominal .* are supported/);
  expectError([...h, '@attribute d date "yyyy"', '@data'], /attribute 'd' has type date/);
  expectError([...h, '@attribute f0 numeric', '@data'], /^bad\.arff:11:1: duplicate attribute name 'f0' \(first declared on line 4\)/);
  expectError([...h, "@attribute n {a,b", '@data'], /^bad\.arff:11:18: expected ',' or '}' in the nominal values of attribute 'n', got end of line/);
  expectError([...h, '@attribute n {a,b} extra', '@data'], /expected end of line after the nominal values of attribute 'n', got 'extra'/);
  expectError([...h, '@attribute n {a,a}', '@data'], /declares the nominal value 'a' twice/);
  expectError([...h, "@attribute 'unterminated numeric", '@data'], /^bad\.arff:11:12: unterminated quoted string \(expected a closing '\)/);
  expectError([...h, '@attribute', '@data'], /^bad\.arff:11:11: expected an attribute name after @attribute, got end of line/);
  expectError([...h, 'hello', '@data'], /^bad\.arff:11:1: expected @relation, @attribute or @data, got 'hello'/);
  expectError([...h, '@data now'], /^bad\.arff:11:7: expected end of line after @data, got 'now'/);
  expectError(h, /^bad\.arff: no @data line found/);
  expectError(['@relation r', '@data'], /^bad\.arff:2:1: @data before any @attribute line/);
});

test('malformed rows: the error names line, column, attribute and what was expected', () => {
  const at = (row: string): string[] => [...HEADER, '0,0,red,0,0,0', row];
  expectError(at('{0 1,x 1}'), /^bad\.arff:13:6: expected an attribute index \(integer 0\.\.5\) in a sparse row, got 'x'/);
  expectError(at('{0 1,6 1}'), /^bad\.arff:13:6: attribute index 6 is out of range \(expected 0\.\.5\)/);
  expectError(at('{0 1,0 2}'), /^bad\.arff:13:6: attribute index 0 appears twice in this sparse row/);
  expectError(at('{0 1,3,4 1}'), /^bad\.arff:13:7: expected a space and a value after attribute index 3, got ','/);
  expectError(at('{0 1 2}'), /^bad\.arff:13:6: expected ',' or '}' after the value of attribute 0, got '2'/);
  expectError(at('{0 1'), /^bad\.arff:13:5: expected ',' or '}' after the value of attribute 0, got end of line/);
  expectError(at('{0 1}, {3}'), /instance weights .* are not supported/);
  expectError(at('{2 purple}'), /^bad\.arff:13:4: expected one of \{red,green,dark blue\} for attribute 2 'colour', got 'purple'/);
  expectError(at('{0 1e}'), /^bad\.arff:13:4: expected a number for attribute 0 'f0', got '1e'/);
  expectError(at('{4 1,5 2}'), /^bad\.arff:13:8: label attribute 5 'L1' must be 0 or 1, got '2'/);
  expectError(at('{4 ?}'), /label attribute 4 'L0' must be 0 or 1, got '\?'/);
  expectError(at('1,0,red,0,0'), /^bad\.arff:13:12: expected 6 comma-separated values, got 5/);
  expectError(at('1,0,red,0,0,0,1'), /^bad\.arff:13:15: too many values: expected 6 comma-separated values, got more/);
  expectError(at('1,,red,0,0,0'), /^bad\.arff:13:3: expected a value for attribute 1 'word with space', got ','/);
  expectError(at('1,0,red 0,0,0'), /^bad\.arff:13:9: expected ',' or end of line after a value, got '0'/);
  expectError(at("1,0,'red,0,0,0"), /^bad\.arff:13:5: unterminated quoted string/);
  expectError(at('0x10,0,red,0,0,0'), /expected a number for attribute 0 'f0', got '0x10'/);
});

test('label selection errors say what to give', () => {
  const text = DENSE;
  expectError(text, /say which attributes are labels: give labelCount .* or labelNames/, {});
  expectError(text, /labelCount must be an integer in \[1, 5\] \(the file has 6 attributes\), got 6/, { labelCount: 6 });
  expectError(text, /labelCount must be an integer in \[1, 5\].*got 0/, { labelCount: 0 });
  expectError(text, /2 label name\(s\) are not attributes of the file: 'nope', 'L9'/, { labelNames: ['L0', 'nope', 'L9'] });
  expectError(text, /label name 'L0' is listed twice/, { labelNames: ['L0', 'L0'] });
  expectError(text, /labelNames must be a non-empty array/, { labelNames: [] });
  expectError(text, /labelsAt must be 'end' or 'start'/, { labelCount: 1, labelsAt: 'middle' as never });
});

test('Mulan label XML: names in document order, nested labels, entities, comments, either quote', () => {
  const xml = [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<!-- labels of a toy set -->',
    '<labels xmlns="http://mulan.sourceforge.net/labels">',
    '<label name="TAG_a"></label>',
    "<label name='b &amp; c'><label name=\"child&#33;\"/></label>",
    '<label  name = "x&lt;y" ></label>',
    '</labels>',
  ].join('\r\n');
  assert.deepEqual(parseMulanLabelsXml(xml), ['TAG_a', 'b & c', 'child!', 'x<y']);
});

test('malformed label XML is refused with the line and the problem', () => {
  const bad = (body: string, pattern: RegExp): void =>
    assert.throws(
      () => parseMulanLabelsXml(body, 'l.xml'),
      (e: Error) => {
        assert.ok(e instanceof IcnnError, `expected an IcnnError, got ${e}`);
        assert.match(e.message, pattern);
        return true;
      },
    );
  bad('<labels>\n<label></label>\n</labels>', /^l\.xml:2: <label> without a name attribute/);
  bad('<labels>\n<label name="a"/>\n<label name="a"/>\n</labels>', /^l\.xml:3: label 'a' is listed twice \(first on line 2\)/);
  bad('<tags><label name="a"/></tags>', /^l\.xml:1: expected the root element <labels>, got <tags>/);
  bad('<labels>\n<label name="a">\n</labels>', /^l\.xml:3: closing tag <\/labels> does not match <label>/);
  bad('<labels>\n<label name="a"/>', /unexpected end of file: <labels> is not closed/);
  bad('<labels></labels>', /lists no <label name="\.\.\."> entries/);
  bad('just text', /no <labels> element found/);
  bad('<labels>\n<label name="a&bogus;"/></labels>', /^l\.xml:2: unknown XML entity &bogus;/);
  bad('<labels>\n<label name="a"/>\n< label/></labels>', /^l\.xml:3: malformed XML tag/);
});

test("nonFinite: 'error' (as the data loaders ask) refuses '?', NaN, infinities and 1e999 with source:line:column", () => {
  const head = ['@relation r', '@attribute f numeric', '@attribute l {0,1}', '@data', '1,0'];
  for (const [value, why] of [['?', /missing value '\?'/], ['NaN', /'NaN', not a finite number/], ['-inf', /'-inf', not a finite number/], ['1e999', /'1e999', not a finite number/], ['4e38', /'4e38', not a finite number within float32/]] as const) {
    const text = [...head, `${value},1`].join('\n');
    assert.throws(() => parseMultiLabelArff(text, { labelCount: 1, source: 'bad.arff', nonFinite: 'error' }), (e: Error) => {
      assert.ok(e instanceof IcnnError);
      assert.match(e.message, /^bad\.arff:6:1: /);
      assert.match(e.message, why);
      return true;
    });
    const kept = parseMultiLabelArff(text, { labelCount: 1 });
    assert.ok(!Number.isFinite(kept.x[1]), `by default ${value} is kept as a non-finite value`);
  }
  const sparse = [...head.slice(0, 4), '{0 1e999,1 1}'].join('\n');
  assert.throws(() => parseMultiLabelArff(sparse, { labelCount: 1, source: 'bad.arff', nonFinite: 'error' }), /bad\.arff:5:\d+: .*'1e999'/);
});
