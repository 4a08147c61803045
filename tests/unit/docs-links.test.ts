import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Every relative link and anchor in the README and docs/ must land on a file or heading that
// exists, and nothing there may send a reader outside the repository to a file they cannot open.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOCS = [join(ROOT, 'README.md'), ...readdirSync(join(ROOT, 'docs')).filter((name) => name.endsWith('.md')).map((name) => join(ROOT, 'docs', name))];

/** The text outside fenced code blocks, line by line (a `# comment` in a shell example is no heading). */
function proseLines(markdown: string): string[] {
  let fenced = false;
  return markdown.split('\n').map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return '';
    }
    return fenced ? '' : line;
  });
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as dashes, repeats numbered. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const line of proseLines(markdown)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const text = heading.replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1');
    const base = text.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replaceAll(' ', '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** The targets of every inline link and image outside code. */
function linksOf(markdown: string): string[] {
  const prose = proseLines(markdown)
    .join('\n')
    .replace(/`[^`\n]*`/g, '``');
  return [...prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((match) => match[1]!);
}

/** Every dead relative link of one file, as `file: target (why)`. */
function deadLinks(file: string): string[] {
  const dead: string[] = [];
  const shown = relative(ROOT, file);
  for (const target of linksOf(readFileSync(file, 'utf8'))) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:: not ours to check
    const [path = '', anchor] = target.split('#', 2);
    const landing = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
    if (!landing.startsWith(ROOT)) {
      dead.push(`${shown}: ${target} (outside the repository)`);
      continue;
    }
    if (!existsSync(landing)) {
      dead.push(`${shown}: ${target} (no such file)`);
      continue;
    }
    if (anchor === undefined) continue;
    if (statSync(landing).isDirectory() || !landing.endsWith('.md')) {
      dead.push(`${shown}: ${target} (an anchor into a file that has no headings)`);
    } else if (!anchorsOf(readFileSync(landing, 'utf8')).has(anchor)) {
      dead.push(`${shown}: ${target} (no heading "#${anchor}" in ${relative(ROOT, landing)})`);
    }
  }
  return dead;
}

describe('the README and docs/', () => {
  it('finds the pages it checks', () => {
    expect(DOCS.map((file) => relative(ROOT, file))).toEqual(expect.arrayContaining(['README.md', join('docs', 'configuration.md'), join('docs', 'security.md')]));
  });

  it('reads anchors as GitHub makes them', () => {
    const anchors = anchorsOf('# A cluster on this machine: `npm run cluster`\n## CI: .ci/run\n```sh\n# not a heading\n```\n## Notes\n## Notes\n');
    expect([...anchors]).toEqual(['a-cluster-on-this-machine-npm-run-cluster', 'ci-cirun', 'notes', 'notes-1']);
  });

  it.each(DOCS.map((file) => [relative(ROOT, file), file]))('%s: every relative link and anchor lands', (_name, file) => {
    expect(deadLinks(file)).toEqual([]);
  });

  it.each(DOCS.map((file) => [relative(ROOT, file), file]))('%s cites no file outside the repository', (_name, file) => {
    const text = readFileSync(file, 'utf8');
    expect(text.match(/\bSPEC\b|shared\/docs/g) ?? []).toEqual([]);
  });
});
