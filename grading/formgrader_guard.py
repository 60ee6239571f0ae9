"""A Jupyter server extension that `python -m grading formgrader` loads (issue 25): a
Content-Security-Policy on every page the formgrader serves (/formgrader/...), the submission
pages first, as a second defence behind the sanitiser (grading/sanitize.py).

The policy runs no script but nbgrader's own: its files under /formgrader/static/, and the few
inline scripts and event handlers of nbgrader's page templates, allowed by their sha256 hash,
computed per page from what the page holds. An inline script is allowed only when its text is
one of nbgrader's templates with each `{{ value }}` filled by text that cannot leave the JS
string it sits in (no quote, backslash, angle bracket or line break); an event handler only
when it is one of the templates' literal handlers (`toggle_name(true);`). Scripts from any
other place (a CDN's MathJax too: a stand-in takes its place and LaTeX shows as its source),
eval, plugins, frames, forms and foreign images and fonts are refused, and a page's scripts
may only call the formgrader's own API (/formgrader/api/), never /api/contents, /api/terminals
or /api/kernels. The files nbgrader serves next to a submission (/formgrader/submissions/<id>/
<file>) run no script at all, in a sandbox.

The rest of the server keeps Jupyter's own policy (JupyterLab needs its scripts; Jupyter runs
/files/ and /nbconvert/ pages in a sandbox of their own)."""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache
from pathlib import Path

from tornado.web import OutputTransform

# Text inside a JS string literal that cannot end it, escape out of it or end the <script>.
_VALUE = "[^\"'\\\\<>\\r\\n\\u2028\\u2029]*"
_SCRIPT = re.compile(r"<script(?P<attrs>(?:\s[^>]*)?)>(?P<body>.*?)</script\s*>", re.S | re.I)
_HANDLER = re.compile(r"""\son[a-z]+\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I)
_PLACEHOLDER = re.compile(r"\{\{.*?\}\}", re.S)
_JS_TYPES = {"", "text/javascript", "application/javascript", "module"}


def _template_folder() -> Path:
    from nbgrader.server_extensions.formgrader import handlers

    return Path(handlers.template_path)


def _is_inline_js(attrs: str) -> bool:
    if re.search(r"\ssrc\s*=", attrs, re.I):
        return False
    kind = re.search(r"""\stype\s*=\s*["']?([^"'\s>]*)""", attrs, re.I)
    return (kind.group(1).lower() if kind else "") in _JS_TYPES


def _pattern(body: str) -> re.Pattern | None:
    """An inline script of a template as a pattern of the scripts it renders to; None when it
    holds Jinja logic or a value outside a "..." string (then it is not allowed)."""
    if "{%" in body or "{#" in body:
        return None
    body = body.strip()  # white space at either end: any or none
    parts, end = [r"\s*"], 0
    for match in _PLACEHOLDER.finditer(body):
        before = body[body.rfind("\n", 0, match.start()) + 1:match.start()]
        line_end = body.find("\n", match.end())
        after = body[match.end():line_end if line_end >= 0 else len(body)]
        if before.count('"') % 2 != 1 or "\\" in before or '"' not in after:
            return None  # not inside a "..." string on its line
        parts += [_literal(body[end:match.start()]), _VALUE]
        end = match.end()
    parts += [_literal(body[end:]), r"\s*"]
    return re.compile("".join(parts))


def _literal(text: str) -> str:
    """`text` as a regular expression, each run of white space matching any white space."""
    return r"\s+".join(re.escape(piece) for piece in re.split(r"\s+", text))


@cache
def nbgrader_scripts() -> tuple[tuple[re.Pattern, ...], frozenset[str]]:
    """(patterns of the inline scripts, literal event handlers) of nbgrader's formgrader
    templates, as installed."""
    patterns, handlers = [], set()
    for path in sorted(_template_folder().rglob("*")):
        if path.suffix not in (".tpl", ".j2") or not path.is_file():
            continue
        text = path.read_text()
        for match in _SCRIPT.finditer(text):
            if _is_inline_js(match.group("attrs")):
                pattern = _pattern(match.group("body"))
                if pattern is not None:
                    patterns.append(pattern)
        for match in _HANDLER.finditer(text):
            value = match.group(1) if match.group(1) is not None else match.group(2)
            if "{{" not in value and "{%" not in value:
                handlers.add(value)
    return tuple(patterns), frozenset(handlers)


def _hash(text: str) -> str:
    digest = hashlib.sha256(text.encode()).digest()
    return "'sha256-" + base64.b64encode(digest).decode() + "'"


# nbgrader's submission page loads MathJax 2 from a CDN, and formgrade.js stops half-way through
# its start (keyboard shortcuts and focus never set up) when `MathJax` is not there. The CDN is
# refused; this stand-in takes its place: LaTeX shows as its source.
_MATHJAX = re.compile(r'<script src="https://cdnjs\.cloudflare\.com/ajax/libs/mathjax/[^"<>]*">'
                      r"\s*</script>")
MATHJAX_STAND_IN = ("window.MathJax = {Hub: {Queue: function () {}, Config: function () {}, "
                    "Startup: {signal: {Interest: function (listener) { "
                    "setTimeout(function () { listener('End'); }, 0); }}}}};")


def _nbgrader_part(page: str) -> int:
    """Where nbgrader's part of a page ends: the notebook (or, without one, </head>)."""
    cut = page.find('id="notebook"')
    return page.find("</head>") if cut < 0 else cut


def rewrite(page: str) -> str:
    """A formgrader page with the CDN's MathJax replaced by `MATHJAX_STAND_IN`."""
    cut = max(_nbgrader_part(page), 0)
    return _MATHJAX.sub(f"<script>{MATHJAX_STAND_IN}</script>", page[:cut]) + page[cut:]


def policy(page: str, origin: str, base_url: str = "/", scripts: bool = True) -> str:
    """The Content-Security-Policy of one formgrader page (`page`, its HTML as served). Only
    nbgrader's part of the page may hold an allowed inline script; `scripts=False` (a
    submission's own files): no script at all."""
    patterns, handlers = nbgrader_scripts()
    allowed = set()
    for match in _SCRIPT.finditer(page, 0, max(_nbgrader_part(page), 0)):
        body = match.group("body")
        if _is_inline_js(match.group("attrs")) and (
                body == MATHJAX_STAND_IN or any(p.fullmatch(body) for p in patterns)):
            allowed.add(_hash(body))
    for match in _HANDLER.finditer(page):
        value = match.group(1) if match.group(1) is not None else match.group(2)
        if value in handlers:
            allowed.add(_hash(value))
    base = origin + "/" + base_url.strip("/") + ("/" if base_url.strip("/") else "")
    sources = [f"{base}formgrader/static/", *sorted(allowed)]
    if allowed:
        sources.insert(1, "'unsafe-hashes'")  # the hashes also allow the literal handlers
    rules = [
        "default-src 'none'",
        "script-src " + (" ".join(sources) if scripts else "'none'"),
        "style-src 'self' 'unsafe-inline'",  # nbgrader's and nbconvert's own styles
        "img-src 'self' data:",
        "font-src 'self' data:",
        f"connect-src {base}formgrader/api/" if scripts else "connect-src 'none'",
        "form-action 'none'",
        "base-uri 'none'",
        "object-src 'none'",
        "frame-ancestors 'self'",  # JupyterLab shows the formgrader in a frame
    ]
    return "; ".join(rules + ([] if scripts else ["sandbox"]))


def transform(base_url: str) -> type[OutputTransform]:
    """A tornado output transform: `rewrite` and `policy` on every response under /formgrader/
    (nbgrader's pages are written at once; a page streamed in parts only gets the policy of its
    first part, which allows fewer scripts, never more)."""
    prefix = "/" + (base_url.strip("/") + "/" if base_url.strip("/") else "") + "formgrader"
    # nbgrader serves the files next to a submission's notebook at /formgrader/submissions/<id>/
    # <path> (its pages: /formgrader/submissions/<id>/ and .../next, prev, ...)
    files = re.compile(re.escape(prefix) + r"/submissions/(components/.*|[^/]+/(?!(next|prev|"
                       r"next_incorrect|prev_incorrect)/?$).+)")

    class FormgraderPolicy(OutputTransform):
        def __init__(self, request):
            super().__init__(request)
            self.request = request

        def transform_first_chunk(self, status_code, headers, chunk, finishing):
            path = self.request.path
            if path != prefix and not path.startswith(prefix + "/"):
                return status_code, headers, chunk
            if status_code == 304:  # the browser keeps its copy, with the policy made for it
                headers.pop("Content-Security-Policy", None)
                return status_code, headers, chunk
            page = chunk.decode("utf-8", "replace") if isinstance(chunk, bytes) else ""
            if headers.get("Content-Type", "").startswith("text/html"):
                headers["Cache-Control"] = "no-store"  # student work: never from a cache
            scripts = not files.fullmatch(path)
            if scripts and finishing and headers.get("Content-Type", "").startswith(
                    "text/html") and "Content-Encoding" not in headers:
                rewritten = rewrite(page)
                if rewritten != page:
                    page, chunk = rewritten, rewritten.encode()
                    if "Content-Length" in headers:
                        headers["Content-Length"] = str(len(chunk))
            origin = f"{self.request.protocol}://{self.request.host}"
            headers["Content-Security-Policy"] = policy(page, origin, base_url, scripts)
            return status_code, headers, chunk

    return FormgraderPolicy


def _jupyter_server_extension_points():
    return [{"module": __name__}]


def _load_jupyter_server_extension(serverapp):
    web_app = serverapp.web_app
    # First, so it sees the page before any compression.
    web_app.transforms.insert(0, transform(web_app.settings.get("base_url", "/")))
    patterns, handlers = nbgrader_scripts()
    serverapp.log.info("grading: Content-Security-Policy on /formgrader/ (%d inline scripts, "
                       "%d event handlers of nbgrader's templates allowed)", len(patterns),
                       len(handlers))
