// MathJax 3 (served from the site: docs/offline_math.py) for the whole site: arithmatex's \( \) and \[ \] on the Markdown pages and the API
// reference, and $ / $$ in notebook Markdown cells (mkdocs-jupyter's loader reuses this
// MathJax when it finds it). Re-typeset on every instant-navigation page load.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"], ["$", "$"]],
    displayMath: [["\\[", "\\]"], ["$$", "$$"]],
    processEscapes: true,
    processEnvironments: true,
  },
};

document$.subscribe(() => {
  if (!window.MathJax.typesetPromise) return; // still loading: its startup typesets the page
  const output = MathJax.startup.output; // SVG output (the vendored component) names it clearFontCache
  (output.clearCache || output.clearFontCache).call(output);
  MathJax.typesetClear();
  MathJax.texReset();
  MathJax.typesetPromise();
});
