"""Print a report to PDF through headless Chromium (Debian's ``chromium`` package).

The print stylesheet of the page starts every section on a new page. No browser is downloaded:
Chromium is ``/usr/bin/chromium`` unless ``INSIGHTLOG_CHROMIUM`` names another executable.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from insightlog.report.model import ReportError
from insightlog.safefile import private_workdir, publish

DEFAULT_CHROMIUM = "/usr/bin/chromium"

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path(path: str = DEFAULT_CHROMIUM) -> str | None:
    """The Chromium executable at ``path`` (``INSIGHTLOG_CHROMIUM``, via bootstrap), or None."""
    return path if os.path.isfile(path) and os.access(path, os.X_OK) else None


def print_pdf(
    html_path: Path,
    pdf_path: Path,
    *,
    chromium: str = DEFAULT_CHROMIUM,
    timeout: float = 120.0,
    overwrite: bool = False,
) -> Path:
    """Print ``html_path`` to ``pdf_path`` (A4, no browser header or footer); returns ``pdf_path``."""
    exe = chromium_path(chromium)
    if exe is None:
        raise ReportError(
            f"cannot print to PDF: no Chromium at {chromium} "
            "(install Debian's package: apt-get install chromium; or set INSIGHTLOG_CHROMIUM)"
        )
    html_path = Path(html_path).resolve()
    pdf_path = Path(pdf_path).resolve()
    # Chromium opens its output file itself: it prints into a private directory beside the PDF,
    # and the file is published from there (never through a symbolic link, never over a file
    # unless asked).
    with private_workdir(pdf_path) as work, tempfile.TemporaryDirectory(prefix="insightlog-chromium-") as profile:
        partial = work / "print.pdf"
        cmd = [
            exe,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--print-to-pdf={partial}",
            "--no-pdf-header-footer",
            html_path.as_uri(),
        ]
        try:
            proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise ReportError(f"Chromium did not finish printing {html_path.name} within {timeout:.0f} s") from None
        except OSError as exc:
            raise ReportError(f"cannot run Chromium ({exe}): {exc.strerror}") from None
        if proc.returncode != 0 or not partial.is_file() or partial.stat().st_size == 0:
            lines = [ln for ln in proc.stderr.decode(errors="replace").splitlines() if ln.strip()]
            raise ReportError(
                f"Chromium could not print {html_path.name} to PDF (exit {proc.returncode}): "
                f"{lines[-1] if lines else 'no message'}"
            )
        publish(partial, pdf_path, overwrite=overwrite)
    return pdf_path
