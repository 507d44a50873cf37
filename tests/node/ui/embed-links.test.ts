// The snippets another site pastes: a hostile model name or source stays inside its attribute or URL; the links are
// the app's try-it-now and /embed addresses with the same parameters.
import { expect, test } from 'vitest';
import { RbeeError } from '../../../src/lib/errors.ts';
import { embedPageLink, embedSnippets, tryItNowLink } from '../../../src/lib/ui/embed/embed-links.ts';
import { embedRequestFromUrl } from '../../../src/lib/ui/embed/embed-request.ts';

const ORIGIN = 'https://rbee.example';

test('try-it-now and embed links carry model and file', () => {
  expect(tryItNowLink(ORIGIN, 'ggml-org/models', 'tinyllamas/stories260K.gguf')).toBe(
    'https://rbee.example/?model=ggml-org%2Fmodels&file=tinyllamas%2Fstories260K.gguf',
  );
  expect(embedPageLink(ORIGIN, ' owner/repo ')).toBe('https://rbee.example/embed?model=owner%2Frepo');
  const back = embedRequestFromUrl(new URL(embedPageLink(ORIGIN, 'https://h.example/a b(1).gguf?x=1&y=2', 'f.gguf')));
  expect(back).toEqual({ source: 'https://h.example/a b(1).gguf?x=1&y=2', file: 'f.gguf' });
});

test('a hostile name and source cannot leave the iframe attribute or the Markdown link', () => {
  const name = '"><script>alert(1)</script><img src=x onerror=alert(2)>';
  const source = 'https://h.example/x.gguf?a="b"&c=)<d>';
  const s = embedSnippets({ origin: ORIGIN, source, name, confidence: 'verified' });
  expect(s.iframe).not.toContain('<script');
  expect(s.iframe).not.toContain('<img');
  expect(s.iframe).toContain('title="rbee-web: will &quot;&gt;&lt;script&gt;');
  expect(s.iframe).toMatch(/^<iframe src="https:\/\/rbee\.example\/embed\?model=[^"<> ]+" title="[^"<>]+" width="360" height="120" style="border:0" loading="lazy"><\/iframe>$/);
  // The iframe's src, once the HTML is parsed, is the embed link for the same source.
  const src = /src="([^"]+)"/.exec(s.iframe)![1]!.replaceAll('&amp;', '&');
  expect(embedRequestFromUrl(new URL(src))).toEqual({ source });
  // Markdown: [![alt](badge)](link) with no parenthesis, bracket or space inside the URLs.
  const md = /^\[!\[rbee-web: verified\]\((\S+)\)\]\((\S+)\)$/.exec(s.markdown);
  expect(md).not.toBeNull();
  expect(md![1]).toBe('https://rbee.example/badges/verified.svg');
  expect(md![2]).not.toMatch(/[()[\]<>"]/);
  expect(new URL(md![2]!).searchParams.get('model')).toBe(source);
});

test('an embed address without a model is a typed error that says what to add', () => {
  const e = embedRequestFromUrl(new URL(`${ORIGIN}/embed?file=x.gguf`));
  expect(e).toBeInstanceOf(RbeeError);
  expect((e as RbeeError).code).toBe('bad-value');
  expect((e as RbeeError).hint).toContain('?model=');
});
