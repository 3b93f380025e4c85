"""Build the API reference (HTML, with pdoc) from the docstrings, and check it.

    python scripts/build_docs.py                 # writes docs/api/index.html
    python scripts/build_docs.py -o /tmp/api     # somewhere else

The reference covers the public API: ``autograd_core``, ``nn`` and ``optim`` and the submodules
their ``__all__`` names (``nn.functional``, ``nn.data``, ``optim.lr_scheduler``, ...). The build
fails (exit status 1, each problem listed) when

* pdoc warns (a name in ``__all__`` that does not resolve, a submodule that does not import, an
  unparsable annotation or source, ...) or our own modules warn while being documented;
* a docstring refers, in backticks, to a dotted name of ours that does not exist
  (``nn.Linaer``, ``ag.Tensor.gard``, ``optim.lr_scheduler.StepLR.stepp``);
* a link inside the generated pages points to a page or an anchor that is not there.

``tests/test_docs.py`` runs the same build, so the test suite (and CI) fails on these too.
"""
from __future__ import annotations

import argparse
import html.parser
import importlib
import re
import sys
import warnings
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parent.parent
MODULES = ("autograd_core", "nn", "optim")
DEFAULT_OUT = ROOT / "docs" / "api"
TEMPLATES = Path(__file__).resolve().parent / "pdoc_templates"

# The names a docstring may use for our packages: ``ag.exp``, ``F.relu``, ``Tensor.grad``.
ALIASES = {"ag": "autograd_core", "F": "nn.functional", "lr_scheduler": "optim.lr_scheduler",
           "Tensor": "autograd_core.Tensor"}
_REF = re.compile(r"(?<![`\w])``?((?:%s)(?:\.[A-Za-z_]\w*)+)(?:\([^`]*\))?``?(?![`\w])"
                  % "|".join(sorted({*MODULES, *ALIASES}, key=len, reverse=True)))


def _resolve(dotted: str) -> bool:
    head, *rest = dotted.split(".")
    target = ALIASES.get(head, head)
    mod_name, *attrs = target.split(".")
    obj: Any = importlib.import_module(mod_name)
    for part in [*attrs, *rest]:
        if hasattr(obj, part):
            obj = getattr(obj, part)
            continue
        try:  # a submodule that was not imported yet
            obj = importlib.import_module(f"{obj.__name__}.{part}")
        except (ImportError, AttributeError, TypeError):
            return False
    return True


def broken_references(docstring: str) -> list[str]:
    """The dotted names of ours that ``docstring`` quotes in backticks and that do not resolve."""
    return sorted({m.group(1) for m in _REF.finditer(docstring) if not _resolve(m.group(1))})


def _walk(doc: Any) -> Iterator[Any]:
    yield doc
    for member in getattr(doc, "own_members", ()):
        yield from _walk(member)


class _Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for k, v in attrs:
            if k == "href" and v:
                self.hrefs.append(v)
            elif k in ("id", "name") and v:
                self.ids.add(v)


def broken_links(out: Path) -> list[str]:
    """Links between the generated pages whose page or anchor does not exist."""
    pages: dict[Path, _Links] = {}
    for page in sorted(out.rglob("*.html")):
        parser = _Links()
        parser.feed(page.read_text(encoding="utf-8"))
        pages[page.resolve()] = parser
    problems = []
    for page, parser in pages.items():
        for href in parser.hrefs:
            if re.match(r"^[a-z][a-z0-9+.-]*:", href) or href.startswith("//"):
                continue  # external (https:, mailto:, data:)
            path, _, anchor = href.partition("#")
            target = (page.parent / path).resolve() if path else page
            if target.suffix != ".html":
                continue  # a stylesheet or script
            if target not in pages:
                problems.append(f"{page.relative_to(out.resolve())}: link to missing page {href}")
            elif anchor and anchor not in pages[target].ids:
                problems.append(f"{page.relative_to(out.resolve())}: link to missing anchor {href}")
    return problems


def _ours(filename: str) -> bool:
    parts = Path(filename).resolve().parts
    return any(p in MODULES for p in parts) and str(ROOT) in filename


def build(out: Path = DEFAULT_OUT, show_source: bool = True) -> list[str]:
    """Write the reference into ``out`` and return the problems found (empty: all is well)."""
    import pdoc
    import pdoc.doc
    import pdoc.render

    pdoc_dir = str(Path(pdoc.__file__).resolve().parent)
    for name in MODULES:
        importlib.import_module(name)  # import-time warnings of third-party packages are not ours
    problems: list[str] = []
    pdoc.render.configure(docformat="restructuredtext", show_source=show_source, search=True,
                          footer_text="autograd-core", template_directory=TEMPLATES)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pdoc.pdoc(*MODULES, output_directory=out)
        docs = [pdoc.doc.Module.from_name(name) for name in _documented_modules(out)]
        for mod in docs:
            for d in _walk(mod):
                for ref in broken_references(d.docstring or ""):
                    problems.append(f"{d.fullname}: the docstring refers to `{ref}`, which does not exist")
    for w in caught:
        if str(Path(w.filename).resolve()).startswith(pdoc_dir) or _ours(w.filename):
            lines = [ln.strip() for ln in str(w.message).strip().splitlines() if ln.strip() not in ("", "===")]
            problems.append(f"pdoc: {lines[0]}" + (f" (source: {lines[1]})" if len(lines) > 1 else ""))
    problems += broken_links(out)
    return problems


def _documented_modules(out: Path) -> list[str]:
    """The modules pdoc wrote a page for (``out/nn/functional.html`` -> ``nn.functional``)."""
    return sorted(".".join(p.relative_to(out).with_suffix("").parts) for p in out.rglob("*.html")
                  if p.name != "index.html")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUT, help="output folder (default: docs/api)")
    parser.add_argument("--no-source", action="store_true", help="leave out the 'View Source' sections")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    problems = build(args.output, show_source=not args.no_source)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s) in the API reference", file=sys.stderr)
        return 1
    print(f"API reference written to {args.output / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
