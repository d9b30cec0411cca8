// Run in the page by evdms/testing/browser.py assert_layout_ok: returns what is wrong.
// The page must fit its window: whatever is wider scrolls in its own box. A "word" is a
// run of characters without a space; a line may still end after a hyphen or slash
// inside it (where a browser breaks "pre-paid" or "a/b" on purpose). A word in a table
// cell whose pieces lie on more than one line is broken ("Enab led").
() => {
  const problems = [];
  const pageWidth = document.documentElement.scrollWidth;
  if (pageWidth > document.documentElement.clientWidth + 1) {
    problems.push(`the page is ${pageWidth}px wide in a ${document.documentElement.clientWidth}px window`);
    // Name the widest culprits, so the message says where to look.
    const wide = [];
    for (const el of document.body.querySelectorAll("*")) {
      const box = el.getBoundingClientRect();
      if (box.right > document.documentElement.clientWidth + 1 && box.width > 0) {
        // Inside a scrolling box it is fine, unless positioned out of it.
        const positioned = ["absolute", "fixed"].includes(getComputedStyle(el).position);
        let inScroller = false;
        if (!positioned) for (let up = el.parentElement; up; up = up.parentElement) {
          if (["auto", "scroll", "hidden"].includes(getComputedStyle(up).overflowX)) { inScroller = true; break; }
        }
        if (!inScroller) wide.push(`${el.tagName.toLowerCase()}${el.className ? "." + String(el.className).split(" ").join(".") : ""} (right edge ${Math.round(box.right)}px)`);
      }
    }
    problems.push(...wide.slice(-5).map((w) => "  too wide: " + w));
  }
  const piece = /[^ \t\n\r\f\u200b]+?(?:[-\u2010\u2013\/]+|(?=[ \t\n\r\f\u200b]|$))/g;
  for (const cell of document.querySelectorAll("td, th")) {
    if (!cell.getClientRects().length) continue;  // hidden
    if (cell.scrollWidth > cell.clientWidth + 1) {
      problems.push(`a cell's content is wider than the cell: "${cell.innerText.trim().slice(0, 60)}"`);
    }
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const match of node.data.matchAll(piece)) {
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const rects = Array.from(range.getClientRects()).filter((r) => r.width > 0);
        if (rects.length < 2) continue;
        const tops = rects.map((r) => r.top);
        const height = Math.min(...rects.map((r) => r.height));
        if (Math.max(...tops) - Math.min(...tops) > height / 2) {
          problems.push(`the word "${match[0]}" is broken across lines in the cell "${cell.innerText.trim().slice(0, 60)}"`);
        }
      }
    }
  }
  return problems;
}
