import MarkdownIt from 'markdown-it';

// html: false escapes any raw HTML in the source; markdown-it's validateLink already refuses
// javascript:, vbscript:, file: and data: links (but data: images, which the CSP allows).
const md = new MarkdownIt({ html: false, linkify: true, typographer: false, breaks: false });

const defaultLinkOpen = md.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  tokens[idx]!.attrSet('rel', 'noopener noreferrer nofollow');
  return defaultLinkOpen(tokens, idx, options, env, self);
};

/** Instructions written by whoever edits the config, as HTML that can hold no script or raw markup. */
export function renderMarkdown(source: string): string {
  return md.render(source);
}
