/**
 * @module widget/render
 * Turns the Markdown tree into DOM nodes with `createElement`, `textContent` and attributes:
 * never `innerHTML`, so model text cannot become markup and no Trusted Types sink is touched.
 * URL decisions are in widget/src/urls.ts.
 */
import { parseMarkdown, type Block, type Inline } from "./markdown";
import { decideImage, isFileUrl, safeLinkUrl } from "./urls";

export interface RenderContext {
  doc: Document;
  /** Images load only from here (and from `data:` raster images). */
  filesOrigin: string;
}

/** Renders a Markdown answer into a fragment. */
export function renderMarkdown(source: string, ctx: RenderContext): DocumentFragment {
  const frag = ctx.doc.createDocumentFragment();
  for (const block of parseMarkdown(source)) frag.append(renderBlock(block, ctx));
  return frag;
}

function el<K extends keyof HTMLElementTagNameMap>(
  ctx: RenderContext,
  tag: K,
  children: (Node | string)[] = [],
): HTMLElementTagNameMap[K] {
  const node = ctx.doc.createElement(tag);
  node.append(...children);
  return node;
}

function renderBlock(block: Block, ctx: RenderContext): Node {
  switch (block.type) {
    case "heading":
      // Answers live inside the host's document outline: h1/h2 would compete with the page's own.
      return el(ctx, `h${Math.min(6, block.level + 2)}` as "h3", inlines(block.children, ctx));
    case "paragraph":
      return el(ctx, "p", inlines(block.children, ctx));
    case "code": {
      const code = el(ctx, "code", [block.text]);
      if (block.lang) code.dataset.lang = block.lang;
      const pre = el(ctx, "pre", [code]);
      pre.tabIndex = 0; // scrollable regions must be reachable by keyboard
      return pre;
    }
    case "list": {
      const list = el(ctx, block.ordered ? "ol" : "ul");
      if (block.ordered && block.start !== 1) list.setAttribute("start", String(block.start));
      for (const item of block.items) {
        // A one-paragraph item renders without its <p> (tight list).
        const only = item.length === 1 && item[0]!.type === "paragraph" ? item[0] : null;
        list.append(el(ctx, "li", only ? inlines(only.children, ctx) : item.map((b) => renderBlock(b, ctx))));
      }
      return list;
    }
    case "quote":
      return el(
        ctx,
        "blockquote",
        block.children.map((b) => renderBlock(b, ctx)),
      );
    case "table": {
      const head = el(
        ctx,
        "tr",
        block.head.map((cell) => el(ctx, "th", inlines(cell, ctx))),
      );
      const rows = block.rows.map((row) =>
        el(
          ctx,
          "tr",
          row.map((cell) => el(ctx, "td", inlines(cell, ctx))),
        ),
      );
      const wrap = el(ctx, "div", [el(ctx, "table", [el(ctx, "thead", [head]), el(ctx, "tbody", rows)])]);
      wrap.className = "table";
      wrap.tabIndex = 0;
      return wrap;
    }
    case "hr":
      return el(ctx, "hr");
  }
}

function inlines(nodes: Inline[], ctx: RenderContext): Node[] {
  return nodes.map((n) => inline(n, ctx));
}

function inline(node: Inline, ctx: RenderContext): Node {
  switch (node.type) {
    case "text":
      return ctx.doc.createTextNode(node.text);
    case "code":
      return el(ctx, "code", [node.text]);
    case "strong":
      return el(ctx, "strong", inlines(node.children, ctx));
    case "em":
      return el(ctx, "em", inlines(node.children, ctx));
    case "br":
      return el(ctx, "br");
    case "link": {
      const href = safeLinkUrl(node.href);
      const children = inlines(node.children, ctx);
      if (!href) return el(ctx, "span", children);
      return anchor(href, children, ctx);
    }
    case "image": {
      const decision = decideImage(node.src, ctx.filesOrigin);
      if (decision.kind === "image") {
        const img = el(ctx, "img");
        img.alt = node.alt;
        img.referrerPolicy = "no-referrer";
        img.loading = "lazy";
        img.src = decision.src;
        return img;
      }
      // Not fetched: a plain link the visitor can choose to follow (see urls.ts for why).
      if (decision.kind === "link") return anchor(decision.href, [node.alt || decision.href], ctx, "external-image");
      return ctx.doc.createTextNode(node.alt);
    }
  }
}

function anchor(href: string, children: (Node | string)[], ctx: RenderContext, className?: string): HTMLAnchorElement {
  const a = el(ctx, "a", children);
  a.href = href;
  a.rel = "noopener noreferrer nofollow";
  a.referrerPolicy = "no-referrer";
  if (isFileUrl(href, ctx.filesOrigin)) a.className = "file-link";
  else {
    a.target = "_blank";
    if (className) a.className = className;
  }
  return a;
}
