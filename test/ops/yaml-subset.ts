/**
 * A reader for the block-style YAML subset that ops/prometheus-alerts.yml is written in: nested mappings,
 * `- ` sequences, `|` / `|-` literal block scalars, plain, 'single'- and "double"-quoted scalars, full-line
 * comments. Anything else (flow collections, anchors, tags, trailing comments) is refused with its line
 * number rather than misread. The project has no YAML dependency; this keeps the rules file checkable
 * without one (a `yaml` devDependency would replace it).
 * @example
 *   const doc = parseYamlSubset(readFileSync('ops/prometheus-alerts.yml', 'utf8')) as { groups: unknown[] };
 */
export type YamlNode = string | YamlNode[] | { [key: string]: YamlNode };

interface Line {
  indent: number;
  text: string;
  no: number;
}

const KEY = /^([A-Za-z_][\w.-]*):(?:[ ]+(.*))?$/;

export function parseYamlSubset(source: string): YamlNode {
  const raw = source.replace(/\r\n/g, '\n').split('\n');
  let at = 0;
  const fail = (no: number, why: string): never => {
    throw new Error(`yaml line ${no}: ${why}`);
  };
  const lineAt = (i: number): Line => {
    const text = raw[i];
    if (/\t/.test(text.match(/^\s*/)![0])) fail(i + 1, 'tab in indentation');
    return { indent: text.length - text.trimStart().length, text: text.trim(), no: i + 1 };
  };
  /** The next line that carries structure (not blank, not a comment), without consuming it. */
  const peek = (): Line | null => {
    for (let i = at; i < raw.length; i++) {
      const t = raw[i].trim();
      if (t !== '' && !t.startsWith('#')) {
        at = i;
        return lineAt(i);
      }
    }
    at = raw.length;
    return null;
  };

  const scalar = (s: string, no: number): string => {
    if (s.startsWith('"')) {
      if (!/^"(?:[^"\\]|\\.)*"$/.test(s)) fail(no, 'unterminated or trailing text after a "double-quoted" scalar');
      return JSON.parse(s) as string;
    }
    if (s.startsWith("'")) {
      if (!/^'(?:[^']|'')*'$/.test(s)) fail(no, "unterminated or trailing text after a 'single-quoted' scalar");
      return s.slice(1, -1).replace(/''/g, "'");
    }
    if (/^[[{&*!|>%@`]/.test(s)) fail(no, `unsupported YAML construct: ${s.slice(0, 20)}`);
    if (/\s#/.test(s)) fail(no, 'trailing comment (not in this subset)');
    return s;
  };

  /** Lines more indented than `parent`, verbatim, less the block's own indentation. */
  const blockScalar = (parent: number, chomp: boolean): string => {
    const body: string[] = [];
    let indent = -1;
    while (at < raw.length) {
      const text = raw[at];
      if (text.trim() === '') {
        body.push('');
        at++;
        continue;
      }
      const lineIndent = text.length - text.trimStart().length;
      if (lineIndent <= parent) break;
      if (indent < 0) indent = lineIndent;
      if (lineIndent < indent) fail(at + 1, 'block scalar line less indented than its first line');
      body.push(text.slice(indent));
      at++;
    }
    while (body.length && body[body.length - 1] === '') body.pop();
    return body.join('\n') + (chomp ? '' : '\n');
  };

  const value = (rest: string | undefined, line: Line): YamlNode => {
    if (rest === undefined || rest === '') {
      const next = peek();
      if (next && (next.indent > line.indent || (next.indent === line.indent && next.text.startsWith('- ')))) return block(next.indent);
      return fail(line.no, 'a key with no value');
    }
    if (rest === '|' || rest === '|-') return blockScalar(line.indent, rest === '|-');
    return scalar(rest, line.no);
  };

  const mapping = (indent: number, first?: Line): { [key: string]: YamlNode } => {
    const out: { [key: string]: YamlNode } = {};
    for (let line = first ?? peek(); line && line.indent === indent && !line.text.startsWith('- '); line = peek()) {
      const m = KEY.exec(line.text) ?? fail(line.no, `expected "key: value", got ${line.text.slice(0, 30)}`);
      if (Object.hasOwn(out, m[1])) fail(line.no, `duplicate key ${m[1]}`);
      at = line.no; // consume the key line
      out[m[1]] = value(m[2], line);
    }
    return out;
  };

  const sequence = (indent: number): YamlNode[] => {
    const out: YamlNode[] = [];
    for (let line = peek(); line && line.indent === indent && line.text.startsWith('- '); line = peek()) {
      const item = line.text.slice(2).trimStart();
      const itemIndent = indent + (line.text.length - item.length);
      if (KEY.test(item)) {
        // "- key: value" opens a mapping whose keys sit where "key" does
        out.push(mapping(itemIndent, { indent: itemIndent, text: item, no: line.no }));
      } else {
        at = line.no;
        out.push(scalar(item, line.no));
      }
    }
    return out;
  };

  const block = (indent: number): YamlNode => (peek()!.text.startsWith('- ') ? sequence(indent) : mapping(indent));

  const first = peek();
  if (!first) return {};
  if (first.indent !== 0) fail(first.no, 'the document must start at column 0');
  const doc = block(0);
  const rest = peek();
  if (rest) fail(rest.no, 'unexpected indentation');
  return doc;
}
