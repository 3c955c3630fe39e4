"""What a person sees of a report page: opened in headless Chromium, offline.

The page is loaded in a frame of a small wrapper page; once it has loaded (its styles
and scripts applied), the wrapper writes down what is rendered: the visible text
(``innerText`` leaves out what CSS hides), every visible table row as its cells' texts
(a cell beyond the window's width reads ``<off-screen>``),
and whether the page's stylesheet applied. Chromium's ``--dump-dom`` then prints it.

Chromium comes from the system packages (``.ci/run`` installs Debian's ``chromium``).
Without it a test skips with the reason, except in CI (``CI=true``) where it fails.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

# Flags that work in a container without a display, a sandbox or a network.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--allow-file-access-from-files",  # the wrapper reads the framed file:// page
    "--virtual-time-budget=10000",  # let the page's scripts run before the DOM is dumped
)

WRAPPER = """<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>
<pre id="seen"></pre>
<iframe id="page" style="width: 1400px; height: 1000px" src="{src}"></iframe>
<script>
document.getElementById("page").addEventListener("load", function () {{
  var doc = this.contentDocument;
  var win = this.contentWindow;
  function visible(el) {{ return el.getClientRects().length > 0; }}
  var rows = Array.prototype.filter.call(doc.querySelectorAll("tr"), visible).map(
    function (tr) {{
      return Array.prototype.map.call(tr.children, function (cell) {{
        // A cell pushed out of the window's width is not seen without scrolling.
        if (cell.getBoundingClientRect().right > win.innerWidth) {{ return "<off-screen>"; }}
        return cell.innerText.replace(/\\s+/g, " ").trim();
      }});
    }});
  var table = doc.querySelector("td, th");
  var seen = {{
    text: doc.body.innerText,
    rows: rows,
    // A cell border drawn by the page's stylesheet: no stylesheet, no border.
    styled: table ? win.getComputedStyle(table).borderTopStyle !== "none" : false
  }};
  document.getElementById("seen").textContent = JSON.stringify(seen);
}});
</script></body></html>
"""


@dataclass(frozen=True)
class SeenPage:
    text: str  # the visible text, whitespace collapsed
    rows: list[list[str]]  # visible table rows, each a list of its cells' texts
    styled: bool


def chromium() -> str:
    """The Chromium binary; skips the test without it, except in CI where it fails."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    reason = "chromium is not installed (apt-get install chromium; .ci/run does it)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}: CI must check the reports in a browser")
    pytest.skip(reason)


def open_in_chromium(page: Path) -> SeenPage:
    binary = chromium()
    with tempfile.TemporaryDirectory(prefix="chromium-") as scratch:
        wrapper = Path(scratch) / "wrapper.html"
        wrapper.write_text(
            WRAPPER.format(src=html.escape(page.resolve().as_uri())), encoding="utf-8"
        )
        profile = Path(scratch) / "profile"  # a new empty profile every time
        dumped = subprocess.run(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom"]
            + [wrapper.as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
    found = re.search(r'<pre id="seen">(.*?)</pre>', dumped, flags=re.DOTALL)
    assert found and found.group(1), f"Chromium rendered nothing of {page}: {dumped[:500]}"
    seen = json.loads(html.unescape(found.group(1)))
    return SeenPage(" ".join(seen["text"].split()), seen["rows"], seen["styled"])
