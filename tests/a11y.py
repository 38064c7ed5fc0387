"""An offline accessibility audit of a page in the browser, a small subset of what axe-core checks: the document
has a language and a title; one ``main`` landmark and one ``h1``; every form field has a label (a ``label``
element or ``aria-label``/``aria-labelledby``) and every button a name; every ``aria-describedby`` and
``aria-labelledby`` names elements that exist; ids are unique; images have ``alt``; and the text contrast
against its effective background is at least 4.5:1 (3:1 for large text), per WCAG 2.1 AA.
"""

from __future__ import annotations

from typing import Any

AUDIT_JS = r"""
() => {
  const problems = [];
  const doc = document;
  if (!doc.documentElement.lang) problems.push("html has no lang");
  if (!doc.title.trim()) problems.push("page has no title");
  if (doc.querySelectorAll("main").length !== 1) problems.push("not exactly one main landmark");
  if (doc.querySelectorAll("h1").length !== 1) problems.push("not exactly one h1");
  const seen = new Set();
  for (const el of doc.querySelectorAll("[id]")) {
    if (seen.has(el.id)) problems.push(`duplicate id ${el.id}`);
    seen.add(el.id);
  }
  for (const el of doc.querySelectorAll("input, select, textarea")) {
    if (el.type === "hidden") continue;
    const named = (el.labels && el.labels.length) || el.getAttribute("aria-label")
      || el.getAttribute("aria-labelledby");
    if (!named) problems.push(`field without a label: ${el.outerHTML.slice(0, 80)}`);
  }
  for (const el of doc.querySelectorAll("button, a[href]")) {
    if (!(el.textContent.trim() || el.getAttribute("aria-label"))) {
      problems.push(`control without a name: ${el.outerHTML.slice(0, 80)}`);
    }
  }
  for (const attr of ["aria-describedby", "aria-labelledby"]) {
    for (const el of doc.querySelectorAll(`[${attr}]`)) {
      for (const ref of el.getAttribute(attr).split(/\s+/)) {
        if (ref && !doc.getElementById(ref)) problems.push(`${attr} names a missing id ${ref}`);
      }
    }
  }
  for (const img of doc.querySelectorAll("img")) if (!img.hasAttribute("alt")) problems.push("img without alt");
  const rgb = (text) => { const m = text.match(/[\d.]+/g); return m ? m.map(Number) : [0, 0, 0, 1]; };
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      const c = rgb(getComputedStyle(node).backgroundColor);
      if (c.length < 4 || c[3] > 0) return c;
    }
    return [255, 255, 255, 1];
  };
  const walker = doc.createTreeWalker(doc.body, NodeFilter.SHOW_TEXT);
  const checked = new Set();
  while (walker.nextNode()) {
    const text = walker.currentNode;
    const el = text.parentElement;
    if (!text.textContent.trim() || !el || checked.has(el) || el.closest("svg")) continue;
    checked.add(el);
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    if (style.visibility === "hidden" || style.display === "none" || box.width === 0 || box.right < 0) continue;
    const fg = lum(rgb(style.color)), bg = lum(background(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
    const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < needed) {
      problems.push(`contrast ${ratio.toFixed(2)} < ${needed}: ${text.textContent.trim().slice(0, 40)}`);
    }
  }
  return problems;
}
"""


async def audit(page: Any) -> list[str]:
    """The page's accessibility problems (empty when it passes)."""
    problems: list[str] = await page.evaluate(AUDIT_JS)
    return problems
