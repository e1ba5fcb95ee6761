"""`make audit`: pip-audit of the installed environment, failing on any known vulnerability.

pip-audit on its own passes when its vulnerability service cannot be reached: every package is
then "skipped" and the exit status is 0. So this first asks the service about a release with known
advisories (Django 4.2.0, the canary). Only if the canary is reported vulnerable is the real audit
trusted:

- a known vulnerability in an installed package fails (exit 1), naming the package, the advisory
  and the versions that fix it;
- a package the service could not look up fails too (except this project itself, installed
  editable and not on PyPI);
- when the service cannot be reached at all, the audit cannot say anything: it prints so loudly and
  passes, unless AUDIT_REQUIRED=1 (then it fails).

Environment: AUDIT_SERVICE (pypi, osv or esms; default pypi), AUDIT_OSV_URL (an OSV mirror),
AUDIT_IGNORE (comma-separated advisory ids, each with a reason in the Makefile or CI), AUDIT_REQUIRED.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

CANARY = "django==4.2.0"
PROJECT = "joint-commissioning"


def pip_audit(args: list[str]) -> tuple[int, dict | None, str]:
    with tempfile.TemporaryDirectory() as work:
        out = Path(work) / "audit.json"
        command = [
            sys.executable,
            "-m",
            "pip_audit",
            "--progress-spinner",
            "off",
            "--format",
            "json",
            "--output",
            str(out),
            "--vulnerability-service",
            os.environ.get("AUDIT_SERVICE", "pypi"),
        ]
        if os.environ.get("AUDIT_OSV_URL"):
            command += ["--osv-url", os.environ["AUDIT_OSV_URL"]]
        for vuln_id in filter(None, os.environ.get("AUDIT_IGNORE", "").split(",")):
            command += ["--ignore-vuln", vuln_id.strip()]
        result = subprocess.run(command + args, capture_output=True, text=True, timeout=900)  # noqa: S603
        report = json.loads(out.read_text()) if out.exists() and out.stat().st_size else None
        return result.returncode, report, (result.stderr or "").strip()


def service_reachable() -> tuple[bool, str]:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as requirements:
        requirements.write(CANARY + "\n")
    try:
        _, report, stderr = pip_audit(["--requirement", requirements.name, "--no-deps", "--disable-pip"])
    finally:
        os.unlink(requirements.name)
    deps = (report or {}).get("dependencies", [])
    if any(dep.get("vulns") for dep in deps):
        return True, ""
    reason = next((dep.get("skip_reason") for dep in deps if dep.get("skip_reason")), None)
    return False, reason or (stderr.splitlines()[-1] if stderr else "no answer")


def main() -> int:
    service = os.environ.get("AUDIT_SERVICE", "pypi")
    reachable, why = service_reachable()
    if not reachable:
        print(
            f"pip-audit: the vulnerability service '{service}' cannot be reached from here, so no "
            f"dependency could be checked ({why}).\n"
            "  NOT AUDITED. Run `make audit` where PyPI's JSON API or OSV is reachable, or set "
            "AUDIT_SERVICE / AUDIT_OSV_URL.",
            file=sys.stderr,
        )
        return 1 if os.environ.get("AUDIT_REQUIRED") == "1" else 0

    _, report, stderr = pip_audit(["--skip-editable"])
    if report is None:
        print(f"pip-audit failed: {stderr}", file=sys.stderr)
        return 1
    vulnerable, unchecked, checked = [], [], 0
    for dep in report.get("dependencies", []):
        if dep.get("skip_reason"):
            if dep["name"] != PROJECT:
                unchecked.append(f"{dep['name']} {dep.get('version', '')}: {dep['skip_reason']}")
            continue
        checked += 1
        for vuln in dep.get("vulns", []):
            fixes = ", ".join(vuln.get("fix_versions") or []) or "no fixed release yet"
            vulnerable.append(f"{dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixes})")
    for line in vulnerable:
        print(f"VULNERABLE  {line}", file=sys.stderr)
    for line in unchecked:
        print(f"UNCHECKED   {line}", file=sys.stderr)
    if vulnerable or unchecked:
        print(
            f"pip-audit: {len(vulnerable)} known vulnerabilities, {len(unchecked)} packages not checked. "
            "Raise the lower bound in pyproject.toml to a fixed release.",
            file=sys.stderr,
        )
        return 1
    print(f"pip-audit ({service}): {checked} installed packages, no known vulnerabilities.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
