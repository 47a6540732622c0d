"""The Markdown tables of the result classes, as HTML for notebooks and docs.

``StudyResult`` and ``DistillationComparison`` write their paper-style
tables as Markdown; their ``_repr_html_`` passes that text through
:func:`markdown_to_html`, so that a notebook or the example gallery shows a
table rather than pipe-separated text, from the one place that formats it.
"""

import html


def markdown_to_html(markdown):
    r"""HTML of the headings, paragraphs and pipe tables that to_markdown writes.

    >>> print(markdown_to_html("### t\n\nnote\n\n| k | a |\n|---:|---|\n| 8 | < 1 |"))
    <div><h4>t</h4><p>note</p><table class="dataframe"><thead><tr><th>k</th><th>a</th></tr></thead><tbody><tr><td>8</td><td>&lt; 1</td></tr></tbody></table></div>
    """

    def row(tag, line):
        cells = line.strip().strip("|").split("|")
        cells = "".join(f"<{tag}>{html.escape(c.strip())}</{tag}>" for c in cells)
        return f"<tr>{cells}</tr>"

    parts, in_table = [], False
    for line in markdown.splitlines():
        if line.startswith("|") and set(line) <= set("|-: "):
            continue  # the alignment row
        if line.startswith("|"):
            if not in_table:
                parts.append(f'<table class="dataframe"><thead>{row("th", line)}')
                parts.append("</thead><tbody>")
                in_table = True
            else:
                parts.append(row("td", line))
            continue
        if in_table:
            parts.append("</tbody></table>")
            in_table = False
        if line.startswith("### "):
            parts.append(f"<h4>{html.escape(line[4:])}</h4>")
        elif line.strip():
            parts.append(f"<p>{html.escape(line)}</p>")
    if in_table:
        parts.append("</tbody></table>")
    return "<div>" + "".join(parts) + "</div>"
