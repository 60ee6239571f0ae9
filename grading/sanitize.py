"""What a student wrote, made inert before a browser shows it (issue 25).

nbgrader renders submissions to HTML with nbconvert's HTMLExporter twice: the formgrader's
submission pages (in the Jupyter server's origin, with the instructor's session) and the
feedback pages (`generate_feedback`). Both templates put the markdown of written answers and
the HTML of outputs on the page as they are. The course's nbgrader_config.py runs both through
nbconvert's own sanitiser (its SanitizeHTML preprocessor and `clean_html` filter, both bleach)
with this module's allowlist:

- `SanitizeStudentWork`, a SanitizeHTML preprocessor: every output keeps only plain text, LaTeX
  source and PNG, JPEG and SVG images (shown as <img> by nbconvert, where SVG cannot run code);
  text/html and text/markdown outputs go through bleach; JavaScript, widget and any other kind of
  output is dropped; raw cells are cleaned too. Student names and ids that nbgrader puts on the
  page unescaped are escaped, and a grade id that is not a plain name (nbgrader does not check
  what a submission's answer cells say) is replaced.
- `SanitizedMarkdown`, the exporters' `markdown2html` filter: nbconvert's own markdown to HTML,
  then bleach, so a written answer renders as markdown with its HTML made text.
- `clean`, also the exporters' `clean_html` filter, which nbconvert's templates apply to HTML
  and markdown outputs (HTMLExporter.sanitize_html) whatever the preprocessor left.

The allowlist: text markup (paragraphs, headings, lists, emphasis, code, tables, quotes) and
links to http(s) and mailto only. No script, style, form, frame, image or media element, no
attribute but a link's href and title, a table cell's span and an abbreviation's title: no
event handler, no `javascript:` URL, no class or id (a submission cannot dress up as the
formgrader's own buttons or take their ids). What is not allowed is shown as escaped text.

The formgrader's server adds a Content-Security-Policy on top (grading/formgrader_guard.py)."""

from __future__ import annotations

import html
import re

import bleach
import jinja2
from nbconvert.preprocessors.sanitize import SanitizeHTML
from traitlets import default
from traitlets.config import LoggingConfigurable

TAGS = sorted(set(bleach.sanitizer.ALLOWED_TAGS) | {
    "p", "div", "span", "pre", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead",
    "tbody", "tfoot", "tr", "th", "td", "caption", "sub", "sup", "del", "s", "dl", "dt", "dd",
    "kbd", "samp", "var", "q", "cite"})
ATTRIBUTES = {"a": ["href", "title"], "abbr": ["title"], "acronym": ["title"],
              "th": ["colspan", "rowspan"], "td": ["colspan", "rowspan"]}
PROTOCOLS = ["http", "https", "mailto"]
SAFE_OUTPUTS = {"metadata", "text/plain", "text/latex", "image/png", "image/jpeg",
                "image/svg+xml"}  # nbconvert escapes these, or shows them as <img>
SANITIZED_OUTPUTS = {"text/html", "text/markdown"}
# What nbgrader's formgrade and feedback templates print unescaped from the page's resources.
ESCAPED_RESOURCES = ("student", "first_name", "last_name", "notebook_path")
GRADE_ID = re.compile(r"[A-Za-z0-9_.\-]{1,200}")


class SanitizeStudentWork(SanitizeHTML):
    """nbconvert's SanitizeHTML with this course's allowlist (see the module's docstring);
    markdown cells are left to `SanitizedMarkdown`, which cleans the HTML markdown makes."""

    @default("tags")
    def _tags(self):
        return list(TAGS)

    @default("attributes")
    def _attributes(self):
        return dict(ATTRIBUTES)

    @default("safe_output_keys")
    def _safe_output_keys(self):
        return set(SAFE_OUTPUTS)

    @default("sanitized_output_types")
    def _sanitized_output_types(self):
        return set(SANITIZED_OUTPUTS)

    def preprocess(self, nb, resources):
        for key in ESCAPED_RESOURCES:
            if isinstance(resources.get(key), str):
                resources[key] = html.escape(resources[key])
        nb.metadata.pop("widgets", None)  # widget state: nothing here shows widgets
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        meta = cell.get("metadata", {}).get("nbgrader")
        if isinstance(meta, dict) and "grade_id" in meta and not (
                isinstance(meta["grade_id"], str) and GRADE_ID.fullmatch(meta["grade_id"])):
            meta["grade_id"] = f"invalid-grade-id-{index}"
        if cell.cell_type == "markdown":
            return cell, resources
        if cell.cell_type == "code":  # an output nbconvert could not read is dropped
            cell.outputs = [o for o in cell.get("outputs", []) if isinstance(o, dict) and (
                o.get("output_type") in ("stream", "error") or isinstance(o.get("data"), dict))]
        return super().preprocess_cell(cell, resources, index) or (cell, resources)

    def sanitize_html_tags(self, html_str):
        return clean(html_str, self.tags, self.attributes)


def clean(text, tags=TAGS, attributes=None) -> str:
    """bleach with this course's allowlist; what it does not allow is kept as escaped text.
    Also the exporters' `clean_html` filter (nbconvert's own allows no <p>, <h1> or <th>: it
    would show the tags of every sanitised output as text)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return bleach.clean(text if isinstance(text, str) else str(text), tags=tags,
                        attributes=ATTRIBUTES if attributes is None else attributes,
                        protocols=PROTOCOLS, strip=False, strip_comments=True)


class SanitizedMarkdown(LoggingConfigurable):
    """The HTML exporter's `markdown2html` filter (nbconvert's, with its attachments and
    settings), then `clean`. Registered as c.HTMLExporter.filters["markdown2html"]; the exporter
    is its parent."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # Jinja passes the template context (the cell, for its attachments) to a filter marked
        # so, as nbconvert's own markdown2html is.
        self.jinja_pass_arg = jinja2.pass_context(lambda: None).jinja_pass_arg

    def __call__(self, context, source) -> str:
        render = getattr(self.parent, "markdown2html", None)
        rendered = render(context, source) if render is not None else html.escape(source)
        return clean(rendered)
