"""The documentation, checked: the ``>>>`` examples in every docstring run as doctests, the README's
Python blocks run, every public name has a docstring and an example (ratcheted by the list of
remaining gaps in ``tests/doc_gaps.txt``), no op or Tensor method shows a NumPy ufunc's docs or
takes its ``out=`` / ``where=``, the API reference builds without warnings or broken links, and
mypy passes on the public packages.

Examples may assume ``import numpy as np``, ``import autograd_core as ag``, ``import nn``,
``import nn.functional as F`` and ``import optim``; each docstring's examples start from
``ag.manual_seed(0)``, float32 as the default dtype, grad mode on and NumPy's default print options.

    python tests/test_docs.py --gaps         # print the public names still lacking a docstring / example
    python tests/test_docs.py --prune-gaps   # drop the names that have one now from tests/doc_gaps.txt
"""
from __future__ import annotations

import doctest
import functools
import importlib
import importlib.util
import inspect
import json
import os
import pkgutil
import pydoc
import re
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("autograd_core", "nn", "optim")
GAPS_FILE = Path(__file__).resolve().parent / "doc_gaps.txt"
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _ours(obj) -> bool:
    mod = getattr(obj, "__module__", None) or ""
    return mod.split(".")[0] in PACKAGES


# -- (a) doctests ---------------------------------------------------------------------------------

@functools.cache
def _module_names() -> tuple[str, ...]:
    names = []
    for pkg in PACKAGES:
        mod = importlib.import_module(pkg)
        names.append(pkg)
        names += [info.name for info in pkgutil.walk_packages(mod.__path__, pkg + ".")
                  if not info.name.endswith("__main__")]
    return tuple(sorted(names))


def _extraglobs() -> dict:
    import autograd_core as ag
    import nn
    import nn.functional as F
    import optim
    return {"np": np, "ag": ag, "nn": nn, "F": F, "optim": optim}


def _is_module_level(fn) -> bool:
    """Whether doctest's finder sees ``fn`` in the module that defines it (bound there by its name)."""
    return getattr(fn, "__globals__", {}).get(getattr(fn, "__name__", None)) is fn


@functools.cache
def _adopted() -> dict[str, tuple]:
    """Docstrings with examples that doctest's finder misses, by the module whose case runs them.

    The finder only collects a function in the module whose globals it has. An op's function is
    built in ops/registry.py but bound in ops/elementwise.py (and re-exported), and many Tensor
    methods are attached to the class from other modules: those run in the first module (leaf
    modules before packages) that binds them, under the name they are bound by.
    """
    seen: set[int] = set()
    out: dict[str, list] = {}
    modules = [importlib.import_module(n) for n in _module_names()]
    modules.sort(key=lambda m: (hasattr(m, "__path__"), m.__name__))

    def adopt(mod, qualname, fn, in_class=False):
        fn = getattr(fn, "__func__", fn)
        if not inspect.isfunction(fn) or id(fn) in seen or not _ours(fn):
            return
        # the finder sees a function bound by its name in the module whose globals it has, and a
        # method that has its class's module's globals
        if _is_module_level(fn) or (in_class and fn.__globals__ is vars(mod)):
            return
        if ">>>" not in (fn.__doc__ or ""):
            return
        inner = getattr(fn, "__wrapped__", None)
        if inner is not None and fn.__doc__ == inner.__doc__:
            return      # a wrapper (outargs' out=): its examples are the wrapped function's, run where that is bound
        seen.add(id(fn))
        out.setdefault(mod.__name__, []).append((f"{mod.__name__}.{qualname}", fn, mod))

    for mod in modules:
        for name, val in sorted(vars(mod).items()):
            if inspect.isclass(val) and val.__module__ == mod.__name__:
                for attr, member in sorted(vars(val).items()):
                    adopt(mod, f"{val.__qualname__}.{attr}", member, in_class=True)
            elif not name.startswith("_"):
                adopt(mod, name, val)
    return {k: tuple(v) for k, v in out.items()}


def _doctests(modname: str) -> list[doctest.DocTest]:
    mod = importlib.import_module(modname)
    finder = doctest.DocTestFinder(exclude_empty=True)
    tests = finder.find(mod, modname, extraglobs=_extraglobs())
    parser = doctest.DocTestParser()
    for qualname, fn, home in _adopted().get(modname, ()):
        try:
            filename = inspect.getsourcefile(fn)
            lineno = inspect.getsourcelines(fn)[1] - 1
        except (OSError, TypeError):
            filename, lineno = None, None
        tests.append(parser.get_doctest(fn.__doc__, {**vars(home), **_extraglobs()}, qualname, filename, lineno))
    # NumPy's own docstrings (on ops that still carry them) are test_no_op_or_tensor_method_shows_numpy_ufunc_docs's
    # business, not examples of ours; a docstring shared by two objects (an op and its method) runs once
    kept, docs = [], set()
    for t in sorted(tests, key=lambda t: t.name):
        if t.examples and t.docstring not in _numpy_docs() and t.docstring not in docs:
            docs.add(t.docstring)
            kept.append(t)
    return kept


@pytest.mark.parametrize("modname", _module_names())
def test_doctests(modname, tmp_path, monkeypatch):
    import autograd_core as ag
    monkeypatch.chdir(tmp_path)  # an example that writes a file writes it here
    tests = _doctests(modname)
    if not tests:
        pytest.skip(f"{modname} has no examples")
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report: list[str] = []
    for test in tests:
        ag.manual_seed(0)
        ag.set_default_dtype(np.float32)
        with np.printoptions(**_NUMPY_PRINT_DEFAULTS), ag.enable_grad():
            runner.run(test, out=report.append)
    result = runner.summarize(verbose=False)
    if result.failed:
        pytest.fail(f"{result.failed} of {result.attempted} examples failed in {modname}:\n" + "".join(report),
                    pytrace=False)


_NUMPY_PRINT_DEFAULTS = dict(precision=8, threshold=1000, edgeitems=3, linewidth=75, suppress=False,
                             nanstr="nan", infstr="inf", sign="-", floatmode="maxprec", legacy=False)


# -- (b) the README's code blocks -----------------------------------------------------------------

SKIP_MARKER = "<!-- skip-test -->"


def python_blocks(text: str) -> list[tuple[int, str]]:
    """``(line, code)`` of each ```python block of a Markdown text, in order; a block right after
    a ``<!-- skip-test -->`` line (blank lines between allowed) is left out."""
    blocks: list[tuple[int, str]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r"^(\s*)```\s*(python|py|python3)\s*$", lines[i])
        if not m:
            i += 1
            continue
        indent, start = len(m.group(1)), i
        j = i + 1
        while j < len(lines) and not re.match(r"^\s*```\s*$", lines[j]):
            j += 1
        prev = next((ln.strip() for ln in reversed(lines[:start]) if ln.strip()), "")
        if prev != SKIP_MARKER:
            blocks.append((start + 1, "\n".join(ln[indent:] for ln in lines[start + 1:j])))
        i = j + 1
    return blocks


_BLOCK_RUNNER = r"""
import json, sys, traceback
name, blocks = json.load(sys.stdin)
ns = {"__name__": "__main__"}
for line, code in blocks:
    try:
        exec(compile(code, f"{name}, block at line {line}", "exec"), ns)
    except BaseException:
        traceback.print_exc()
        print(f"\n{name}: the ```python block at line {line} failed (above)", file=sys.stderr)
        sys.exit(1)
print(f"{name}: {len(blocks)} block(s) ran")
"""


def _markdown_files() -> list[Path]:
    docs = [p for p in sorted((ROOT / "docs").rglob("*.md")) if "api" not in p.relative_to(ROOT / "docs").parts]
    return [p for p in [ROOT / "README.md", *docs] if p.exists()]


def test_python_blocks_parser():
    text = ("intro\n```python\na = 1\n```\n\n<!-- skip-test -->\n\n```python\nopen('data.bin')\n```\n"
            "```bash\nls\n```\n- item:\n  ```python\n  b = a + 1\n  ```\n")
    assert python_blocks(text) == [(2, "a = 1"), (15, "b = a + 1")]


@pytest.mark.parametrize("path", _markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_markdown_python_blocks_run(path, tmp_path):
    """Each file's ```python blocks run in order, in one namespace, in a fresh interpreter (so a
    block can't change this process: the README may register ops, seed, set dtypes) in an empty
    folder (files the blocks write land there)."""
    blocks = python_blocks(path.read_text(encoding="utf-8"))
    if not blocks:
        pytest.skip(f"{path.name} has no python blocks")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, "-c", _BLOCK_RUNNER], input=json.dumps([path.name, blocks]),
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600)
    if proc.returncode:
        pytest.fail(proc.stdout[-3000:] + proc.stderr[-6000:], pytrace=False)


# -- (c) docstring and example coverage -----------------------------------------------------------

def _public_modules() -> list[types.ModuleType]:
    """The documented modules: the packages and every submodule their ``__all__`` names."""
    out: list[types.ModuleType] = []
    todo = [importlib.import_module(p) for p in PACKAGES]
    while todo:
        mod = todo.pop(0)
        if mod in out:
            continue
        out.append(mod)
        for name in _public_names(mod):
            val = getattr(mod, name, None)
            if isinstance(val, types.ModuleType) and val.__name__.split(".")[0] in PACKAGES:
                todo.append(val)
    return out


def _public_names(mod) -> list[str]:
    if hasattr(mod, "__all__"):
        return list(mod.__all__)
    return [n for n, v in vars(mod).items() if not n.startswith("_") and not isinstance(v, types.ModuleType)
            and _ours(v)]


def _defining_class(cls, attr):
    for base in cls.__mro__:
        if attr in vars(base):
            return base
    return None


@functools.cache
def public_api() -> tuple[tuple[str, str, object, object], ...]:
    """``(name, kind, object, owner class or None)`` of each public function, class, method and
    property of the documented modules, each object once (under the first name that reaches it)."""
    import autograd_core as ag
    seen: set[int] = set()
    out = []

    def add(name, kind, obj, owner=None):
        key = id(getattr(obj, "__func__", obj))
        if key in seen:
            return
        seen.add(key)
        out.append((name, kind, obj, owner))

    classes = []
    for mod in _public_modules():
        for name in _public_names(mod):
            val = getattr(mod, name, None)
            if inspect.isclass(val) and _ours(val):
                add(f"{mod.__name__}.{name}", "class", val)
                classes.append((f"{mod.__name__}.{name}", val))
            elif callable(val) and not inspect.isclass(val) and _ours(val) and not isinstance(val, types.ModuleType):
                add(f"{mod.__name__}.{name}", "function", val)
    for cname, cls in classes:
        for attr in sorted(dir(cls)):
            if attr.startswith("_") and not (cls is ag.Tensor and attr.startswith("__") and attr.endswith("__")):
                continue
            base = _defining_class(cls, attr)
            if base is None or not _ours(base):
                continue
            raw = vars(base)[attr]
            if isinstance(raw, property):
                add(f"{cname}.{attr}", "property", raw, cls)
            elif isinstance(raw, (staticmethod, classmethod)) or inspect.isfunction(raw) or callable(raw):
                if inspect.isclass(raw):
                    continue
                add(f"{cname}.{attr}", "method", raw, cls)
    return tuple(out)


@functools.cache
def _numpy_docs() -> dict[str, str]:
    docs: dict[str, str] = {}
    for ns in (np, np.linalg, np.fft, np.random):
        for n in dir(ns):
            d = getattr(getattr(ns, n, None), "__doc__", None)
            if isinstance(d, str) and d.strip() and callable(getattr(ns, n, None)):
                docs.setdefault(d, f"{ns.__name__}.{n}")
    return docs


def _doc_of(name, kind, obj, owner) -> str:
    if kind == "class":
        doc = vars(obj).get("__doc__")
    elif kind == "method":
        doc = inspect.getdoc(getattr(owner, name.rsplit(".", 1)[1], obj))  # an override inherits its base's doc
    else:
        doc = getattr(obj, "__doc__", None)
    if not isinstance(doc, str) or doc in _numpy_docs():
        return ""
    return doc.strip()


def _dunder(name) -> bool:
    last = name.rsplit(".", 1)[1]
    return last.startswith("__") and last.endswith("__")


def missing_docstrings() -> set[str]:
    return {name for name, kind, obj, owner in public_api() if not _dunder(name)
            and not _doc_of(name, kind, obj, owner)}


def missing_examples() -> set[str]:
    """Functions, classes, Tensor methods and the methods of optim's classes without a ``>>>``."""
    import autograd_core as ag
    need = set()
    for name, kind, obj, owner in public_api():
        if _dunder(name) or kind == "property":
            continue
        if kind == "method" and not (owner is ag.Tensor or owner.__module__.split(".")[0] == "optim"):
            continue
        if ">>>" not in _doc_of(name, kind, obj, owner):
            need.add(name)
    return need


def _read_gaps() -> dict[str, set[str]]:
    gaps: dict[str, set[str]] = {"docstring": set(), "example": set()}
    section = None
    for line in GAPS_FILE.read_text(encoding="utf-8").splitlines() if GAPS_FILE.exists() else ():
        line = line.split("#", 1)[0].strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        elif line:
            gaps[section].add(line)
    return gaps


def _write_gaps(gaps: dict[str, set[str]]) -> None:
    lines = ["# Public names that still lack a docstring / a >>> example (tests/test_docs.py). A name that",
             "# gets one must leave this list (python tests/test_docs.py --prune-gaps); new names are never",
             "# added here: document them."]
    for section in ("docstring", "example"):
        lines += ["", f"[{section}]", *sorted(gaps[section])]
    GAPS_FILE.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _check_gaps(kind: str, missing: set[str]) -> None:
    allowed = _read_gaps()[kind]
    new = sorted(missing - allowed)
    fixed = sorted(allowed - missing)
    msg = []
    if new:
        msg.append(f"{len(new)} public name(s) without a {kind} (write one):\n  " + "\n  ".join(new))
    if fixed:
        msg.append(f"{len(fixed)} name(s) in tests/doc_gaps.txt [{kind}] have one now or are gone: delete them "
                   "(python tests/test_docs.py --prune-gaps):\n  " + "\n  ".join(fixed))
    print(f"{len(missing)} public name(s) still without a {kind}")
    assert not msg, "\n".join(msg)


def test_every_public_name_has_a_docstring():
    _check_gaps("docstring", missing_docstrings())


def test_every_public_function_class_and_tensor_method_has_an_example():
    _check_gaps("example", missing_examples())


def test_optim_is_fully_documented():
    """optim has no gaps at all: not even allowed ones."""
    gaps = {n for n in missing_docstrings() | missing_examples() if n.startswith("optim.")}
    assert not gaps, sorted(gaps)


# -- NumPy's ufunc docs and keywords --------------------------------------------------------------

_UFUNC_WORDS = re.compile(r"out=None, \*, where=True|casting='same_kind'|\bsubok\b|\bwhere : array_like")
_UFUNC_PARAMS = {"where", "casting", "order", "subok", "signature", "extobj"}


def _numpy_doc_problems(label, obj) -> list[str]:
    problems = []
    if isinstance(obj, np.ufunc):
        return [f"{label} is the NumPy ufunc {obj.__name__}"]
    doc = getattr(obj, "__doc__", None) or ""
    if doc in _numpy_docs():
        problems.append(f"{label}.__doc__ is {_numpy_docs()[doc]}'s")
    elif _UFUNC_WORDS.search(doc):
        problems.append(f"{label}.__doc__ describes a ufunc's out=/where=")
    try:
        params = set(inspect.signature(obj).parameters)
    except (TypeError, ValueError):
        params = set()
    if params & _UFUNC_PARAMS:
        problems.append(f"{label}'s signature has NumPy's {sorted(params & _UFUNC_PARAMS)}")
    return problems


def test_no_op_or_tensor_method_shows_numpy_ufunc_docs():
    """help(ag.exp) and help(Tensor.log) show our docs and signature, never a NumPy ufunc's."""
    import autograd_core as ag
    from autograd_core.ops.registry import OPS
    problems = []
    for name in sorted(set(ag.__all__) | {n for n in dir(ag) if n in OPS}):
        val = getattr(ag, name, None)
        if callable(val) and not inspect.isclass(val):
            problems += _numpy_doc_problems(f"ag.{name}", val)
    for name in sorted(dir(ag.Tensor)):
        if name.startswith("_") and not (name.startswith("__") and name.endswith("__")):
            continue
        val = getattr(ag.Tensor, name, None)
        if callable(val) and not inspect.isclass(val) and (_ours(val) or isinstance(val, np.ufunc)):
            problems += _numpy_doc_problems(f"Tensor.{name}", val)
        elif callable(val) and not inspect.isclass(val) and getattr(val, "__doc__", None) in _numpy_docs():
            problems += _numpy_doc_problems(f"Tensor.{name}", val)
    assert not problems, f"{len(problems)} op(s) / method(s) show NumPy's docs:\n  " + "\n  ".join(problems)


def test_help_of_an_op_shows_its_own_text():
    import autograd_core as ag
    text = pydoc.render_doc(ag.log, renderer=pydoc.plaintext)
    assert "where=True" not in text and "casting" not in text, text[:2000]


@pytest.mark.parametrize("call", [
    "ag.add(x, 1, where=mask)",
    "ag.exp(x, out=y)",
    "ag.log(x, out=y)",
    "ag.sqrt(x, where=mask)",
    "ag.mul(x, x, out=y)",
    "ag.maximum(x, y, where=mask)",
    "x.exp(out=y)",
    "x.add(1, where=mask)",
    "x.log(where=mask)",
    "x.pow(2, out=y)",
    "ag.log1p(x, where=mask)",
    "ag.round(x, out=y)",
    "x.sqrt(out=y)",
    "x.log1p(out=y)",
    "x.sqrt(out=t)",
])
def test_numpy_only_keywords_raise_a_typeerror_naming_the_op(call):
    """where= would make NumPy skip memory, and out= into an array (or on a method, which PyTorch's don't
    take) write into memory the tape knows nothing of: refused. (PyTorch's out= with a tensor is
    tests/test_outargs.py.)"""
    import autograd_core as ag
    x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = np.zeros(3, np.float32)  # an array NumPy would write into
    t = ag.zeros(3)
    mask = np.array([True, False, True])
    op = re.search(r"(?:ag\.|x\.)(\w+)\(", call).group(1)
    with pytest.raises(TypeError, match=rf"\b{op}\b"):
        eval(call, {"ag": ag, "x": x, "y": y, "t": t, "mask": mask})


# -- (d) the API reference ------------------------------------------------------------------------

def _build_docs_module():
    spec = importlib.util.spec_from_file_location("build_docs", ROOT / "scripts" / "build_docs.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# Problems the reference build reports today, in files this test's author does not own; each
# entry is a substring of one problem. An entry that no longer matches fails the test: delete it.
KNOWN_REFERENCE_PROBLEMS: set = {
    # (empty: every problem the reference build finds is an error)
}


def test_reference_problem_finders():
    bd = _build_docs_module()
    assert bd.broken_references("see ``optim.SGD`` and `nn.Linear(2, 3)` and ``ag.Tensor.grad``") == []
    assert bd.broken_references("see ``nn.Linaer`` and ``optim.SGD.stepp()`` and ``F.relu``") == [
        "nn.Linaer", "optim.SGD.stepp"]


def test_api_reference_builds_without_warnings_or_broken_links(tmp_path):
    pytest.importorskip("pdoc")
    problems = _build_docs_module().build(tmp_path / "api", show_source=False)
    for module in ("autograd_core", "nn", "nn/functional", "nn/data", "optim", "optim/lr_scheduler"):
        assert (tmp_path / "api" / f"{module}.html").exists(), f"no page for {module}"
    unknown = [p for p in problems if not any(k in p for k in KNOWN_REFERENCE_PROBLEMS)]
    stale = [k for k in KNOWN_REFERENCE_PROBLEMS if not any(k in p for p in problems)]
    assert not unknown, "the API reference has problems:\n  " + "\n  ".join(unknown)
    assert not stale, "fixed: delete from KNOWN_REFERENCE_PROBLEMS:\n  " + "\n  ".join(stale)


# -- (e) the type check ---------------------------------------------------------------------------

def test_mypy_config_switches_off_no_module_wholesale():
    text = (ROOT / "mypy.ini").read_text()
    assert not re.search(r"^\s*ignore_errors\s*=\s*True", text, re.M | re.I)
    assert re.search(r"^\[mypy-optim,optim\.\*\]\n(?:.*\n)*?disallow_untyped_defs = True", text, re.M)


def test_mypy_passes_on_the_public_packages():
    pytest.importorskip("mypy")
    proc = subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(ROOT / "mypy.ini")],
                          capture_output=True, text=True, cwd=ROOT, timeout=900)
    if proc.returncode:
        pytest.fail("mypy (config: mypy.ini) found problems:\n" + proc.stdout[-8000:] + proc.stderr[-2000:],
                    pytrace=False)


def test_py_typed_markers_ship_with_the_packages():
    cfg = (ROOT / "setup.cfg").read_text()
    for pkg in PACKAGES:
        assert (ROOT / pkg / "py.typed").exists()
        assert re.search(rf"^{pkg} = py\.typed$", cfg, re.M), f"setup.cfg: no package_data for {pkg}/py.typed"


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if "--prune-gaps" in sys.argv:
        gaps = _read_gaps()
        now = {"docstring": missing_docstrings(), "example": missing_examples()}
        _write_gaps({k: gaps[k] & now[k] for k in gaps})
        print(f"{GAPS_FILE}: {len(gaps['docstring'] & now['docstring'])} docstring gap(s), "
              f"{len(gaps['example'] & now['example'])} example gap(s)")
    elif "--write-gaps" in sys.argv:  # only to create the list once; new gaps are documented, not listed
        _write_gaps({"docstring": missing_docstrings(), "example": missing_examples()})
    else:
        for kind, names in (("docstring", missing_docstrings()), ("example", missing_examples())):
            print(f"[{kind}]  # {len(names)}")
            print("\n".join(sorted(names)))
