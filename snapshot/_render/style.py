"""The page's only style, and its Content Security Policy: nothing is ever loaded.

The policy allows no source of anything (``default-src 'none'``) but the
inline style below: no script, image, font, frame, form target or base URL,
so even a bug that let a string through could load or run nothing.  The
styles are scoped under ``.drp`` so that the Jupyter fragment does not restyle
a notebook.  The page needs no script: folding is ``<details>``.
"""

from __future__ import annotations

__all__ = ["CSP", "CSS"]

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; script-src 'none'; "
    "base-uri 'none'; form-action 'none'"
)

CSS = """
.drp{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1f23;
max-width:75rem;margin:0 auto;padding:0 1rem 2rem;overflow-wrap:anywhere}
.drp h1{font-size:1.35rem;margin:1rem 0 .3rem;overflow-wrap:anywhere}
.drp h2{font-size:1.1rem;margin:1.6rem 0 .4rem;border-bottom:1px solid #d8dbe0}
.drp h3{font-size:.95rem;margin:.5rem 0 .2rem}
.drp .etype{color:#b3261e}
.drp .meta{color:#555;margin:.2rem 0;overflow-wrap:anywhere}
.drp code,.drp pre{font:12.5px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.drp pre{background:#f6f7f9;border:1px solid #e3e5e9;border-radius:4px;padding:.4rem .6rem;
margin:.2rem 0;overflow-x:auto;white-space:pre}
.drp pre.wrap{white-space:pre-wrap;overflow-wrap:anywhere}
.drp .ctl{color:#fff;background:#9a3412;border-radius:2px;padding:0 .15em;font-size:.9em}
.drp .cut,.drp .note{color:#666;font-style:italic}
.drp details{margin:.3rem 0}
.drp summary{cursor:pointer;overflow-wrap:anywhere}
.drp details.frame{border:1px solid #d8dbe0;border-radius:6px;padding:.3rem .6rem}
.drp details.frame>summary{font-weight:600}
.drp details.lib>summary{font-weight:400;color:#555}
.drp .tag{font-size:.8em;border:1px solid #bbb;border-radius:3px;padding:0 .3em;color:#555;
font-weight:400}
.drp table{border-collapse:collapse;margin:.3rem 0;max-width:100%}
.drp th,.drp td{text-align:left;vertical-align:top;padding:.15rem .6rem .15rem 0;
overflow-wrap:anywhere}
.drp th{font-weight:600;max-width:22rem;word-break:break-word}
.drp td code,.drp th code,.drp p code,.drp h1{word-break:break-word;overflow-wrap:anywhere}
.drp table.vars td:nth-child(3){white-space:nowrap}
.drp table.src{border:1px solid #e3e5e9;width:100%;background:#f6f7f9}
.drp table.src td{padding:0 .5rem;white-space:pre;font:12.5px/1.4 ui-monospace,Menlo,monospace}
.drp table.src td.n{color:#888;text-align:right;width:3.5em;user-select:none}
.drp table.src tr.ran{background:#fde2e1}
.drp table.src tr.ran td.n{color:#b3261e;font-weight:700}
.drp .srcbox{overflow-x:auto}
.drp .unknown{color:#7a4b00;background:#fff6e0;border:1px solid #f0d9a0;border-radius:4px;
padding:.2rem .5rem}
.drp .cmds code{display:block;background:#f6f7f9;border:1px solid #e3e5e9;border-radius:4px;
padding:.25rem .5rem;margin:.2rem 0;overflow-wrap:anywhere}
.drp .bar{height:.7rem;background:#e3e5e9;border-radius:3px;max-width:24rem}
.drp .bar span{display:block;height:100%;background:#b3261e;border-radius:3px}
@media (max-width:40rem){.drp{padding:0 .4rem}.drp th{white-space:normal}
.drp table.vars tr{display:block;border-bottom:1px solid #eee;padding:.2rem 0}
.drp table.vars tr:first-child{display:none}
.drp table.vars th{display:block;padding:0}
.drp table.vars td{display:inline;padding:0 .5rem 0 0}
.drp table.vars td:last-child{display:block}}
@media print{.drp{max-width:none;color:#000}
.drp details::details-content{content-visibility:visible;display:block}
.drp pre,.drp table.src td{white-space:pre-wrap;overflow-wrap:anywhere}
.drp .srcbox{overflow:visible}.drp a{color:#000}}
"""
