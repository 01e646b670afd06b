"""lmlab's package layers point down only (DESIGN.md, "Layers"; CONTRIBUTING.md's layer table).

Every module under `lmlab/` is parsed with `ast`, and every `import` / `from ... import` node in
it counts: module level, inside functions (lazy imports), in `try` blocks. Only imports under
`if TYPE_CHECKING:` are exempt: they never run, so they add no dependency at run time. Imports that
go through `importlib` by string (`lmlab.registry`, `lmlab.cli.main`'s discovery of commands) are
not seen, by design.

The checks, with no allow-list of exceptions:

(a) a module imports only from its own layer or the layers below it;
(b) no import cycle among lmlab modules (strongly connected components of the module graph, lazy
    imports included), which also catches cycles between modules of one layer;
(c) a command module `lmlab.cli.X` imports no other `lmlab.cli.Y` but `lmlab.cli.common`
    (`lmlab.cli.main`, which discovers the commands, may import `lmlab.cli`).

A failure lists every offending import as `file:line imports module (layer A -> layer B)`.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "lmlab"

# From the bottom up, as in DESIGN.md's diagram; each layer names its packages (`lmlab.<name>`) or,
# for the foundation, its top-level modules. `lmlab/__init__.py` (the public face with its lazy
# re-exports, e.g. `lmlab.load`) is the top "api" layer: it may import anything, and nothing in
# the package imports it.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("foundation", ("errors", "config", "registry", "device", "progress")),
    ("io", ("io",)),
    ("report", ("report",)),
    ("data·text", ("data", "text")),
    ("vectors·metrics", ("vectors", "metrics")),
    ("models", ("models",)),
    ("train", ("train",)),
    ("generate", ("generate",)),
    ("prompting·align·chat", ("prompting", "align", "chat")),
    ("apps", ("apps",)),
    ("serve·cli", ("serve", "cli")),
    ("api", ()),
]
RANK = {layer: i for i, (layer, _) in enumerate(LAYERS)}
LAYER_OF_PART = {part: layer for layer, parts in LAYERS for part in parts}
CLI_SHARED = {"lmlab.cli.common"}
CLI_DISCOVERY = "lmlab.cli.main"


@dataclass(frozen=True)
class Edge:
    """One import of an lmlab module by another."""

    source: str  # importing module, dotted
    target: str  # imported module, dotted
    file: str  # importing file, relative to the root given to `import_edges`
    line: int

    def describe(self, why: str) -> str:
        return f"{self.file}:{self.line} imports {self.target} ({why})"


def module_name(path: Path, root: Path) -> str:
    """Dotted module name of a file under `root` (a package's `__init__.py` names the package)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str, package: str = "lmlab") -> str | None:
    """The layer of a dotted module name, or None when the table has no row for it."""
    parts = module.split(".")
    if parts == [package]:
        return "api"
    return LAYER_OF_PART.get(parts[1]) if len(parts) > 1 else None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(tree: ast.AST):
    """Every Import/ImportFrom node, at any depth, except in the body of `if TYPE_CHECKING:`."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _resolve(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _existing(name: str, modules: set[str]) -> str | None:
    """`name` or its longest prefix that is a module of the package (`a.b.func` -> `a.b`)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def import_edges(root: Path, package: str = "lmlab") -> list[Edge]:
    """All imports among the modules of `root/package`, lazy ones included (see the docstring)."""
    files = sorted((root / package).rglob("*.py"))
    modules = {module_name(f, root) for f in files}
    edges = []
    for file in files:
        source = module_name(file, root)
        tree = ast.parse(file.read_text(encoding="utf-8"), filename=str(file))
        for node in _import_nodes(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                base = _resolve(node, source, file.name == "__init__.py")
                # `from a.b import c` imports module a.b.c when there is one, else a name of a.b.
                names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                         for alias in node.names]
            for name in dict.fromkeys(names):
                if name != package and not name.startswith(package + "."):
                    continue
                target = _existing(name, modules)
                if target and target != source:
                    edges.append(Edge(source, target, file.relative_to(root).as_posix(), node.lineno))
    return edges


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's strongly connected components (iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    components.append(component)
    return components


def violations(edges: list[Edge], package: str = "lmlab") -> list[str]:
    """Every offending import, one line each: `file:line imports module (layer A -> layer B)`."""
    found = []
    for e in edges:
        a, b = layer_of(e.source, package), layer_of(e.target, package)
        if a is None or b is None:
            unknown = e.source if a is None else e.target
            found.append(e.describe(f"{unknown} has no layer: add its package to CONTRIBUTING.md's "
                                    "table and tests/test_layers.py"))
        elif RANK[b] > RANK[a]:
            found.append(e.describe(f"layer {a} -> layer {b}: imports must point down"))
    graph: dict[str, set[str]] = {}
    for e in edges:
        graph.setdefault(e.source, set()).add(e.target)
        graph.setdefault(e.target, set())
    for component in _strongly_connected(graph):
        if len(component) > 1:
            cycle = ", ".join(sorted(component))
            for e in edges:
                if e.source in component and e.target in component:
                    found.append(e.describe(f"layer {layer_of(e.source, package)} -> layer "
                                            f"{layer_of(e.target, package)}: import cycle among {cycle}"))
    cli = f"{package}.cli."
    for e in edges:
        if (e.source.startswith(cli) and e.target.startswith(cli) and e.source != f"{package}.cli.main"
                and e.target not in {f"{package}.cli.common"}):
            found.append(e.describe("layer serve·cli -> layer serve·cli: command modules never import "
                                    f"each other; move shared code to {package}/cli/common.py or data/"))
    return sorted(dict.fromkeys(found))


def test_layers_point_down_only():
    found = violations(import_edges(ROOT))
    assert not found, ("imports against the layers of DESIGN.md (see CONTRIBUTING.md):\n"
                       + "\n".join(found))


def test_every_package_has_a_layer():
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    modules = {p.stem for p in PACKAGE.glob("*.py") if p.name != "__init__.py"}
    assert sorted((packages | modules) - set(LAYER_OF_PART)) == []


def test_contributing_table_matches_the_layers():
    """CONTRIBUTING.md's table lists the layers top-down; its folders match LAYERS here."""
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| ") and "`lmlab/" in line]
    table = []
    for row in rows:
        folder_cell = row.split("|")[2]
        # only the folder names themselves, not the files listed in parentheses after them
        named = re.sub(r"\([^)]*\)", "", folder_cell)
        parts = tuple(re.findall(r"`lmlab/(\w+)(?:/|\.py)`", named))
        table.append(parts)
    expected = [parts or ("__init__",) for _, parts in LAYERS]  # the api row is lmlab/__init__.py
    assert [tuple(sorted(p)) for p in reversed(table)] == [tuple(sorted(p)) for p in expected]


def _write(root: Path, files: dict[str, str]) -> None:
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")


def test_checker_finds_synthetic_violations(tmp_path: Path):
    _write(tmp_path, {
        "lmlab/__init__.py": "",
        "lmlab/errors.py": "",
        "lmlab/io/__init__.py": "",
        "lmlab/io/fmt.py": ("from typing import TYPE_CHECKING\n"
                            "if TYPE_CHECKING:\n    from lmlab.train.trainer import Trainer\n"
                            "def read():\n    from lmlab.models.lm import LM\n    return LM\n"),
        "lmlab/models/__init__.py": "",
        "lmlab/models/lm.py": "import lmlab.io.fmt\nfrom lmlab.errors import LmlabError\n",
        "lmlab/models/a.py": "from . import b\n",
        "lmlab/models/b.py": "def f():\n    from lmlab.models.a import g\n",
        "lmlab/train/__init__.py": "",
        "lmlab/train/trainer.py": "from lmlab.models import lm\n",
        "lmlab/cli/__init__.py": "",
        "lmlab/cli/common.py": "",
        "lmlab/cli/main.py": "import lmlab.cli.x\nfrom lmlab.cli.common import y\n",
        "lmlab/cli/x.py": "from lmlab.cli.common import y\nfrom lmlab.cli.z import run\n",
        "lmlab/cli/z.py": "from lmlab import load\n",
    })
    found = violations(import_edges(tmp_path))
    assert found == sorted([
        "lmlab/cli/x.py:2 imports lmlab.cli.z (layer serve·cli -> layer serve·cli: command modules "
        "never import each other; move shared code to lmlab/cli/common.py or data/)",
        "lmlab/cli/z.py:1 imports lmlab (layer serve·cli -> layer api: imports must point down)",
        "lmlab/io/fmt.py:5 imports lmlab.models.lm (layer io -> layer models: imports must point down)",
        "lmlab/io/fmt.py:5 imports lmlab.models.lm (layer io -> layer models: import cycle among "
        "lmlab.io.fmt, lmlab.models.lm)",
        "lmlab/models/lm.py:1 imports lmlab.io.fmt (layer models -> layer io: import cycle among "
        "lmlab.io.fmt, lmlab.models.lm)",
        "lmlab/models/a.py:1 imports lmlab.models.b (layer models -> layer models: import cycle among "
        "lmlab.models.a, lmlab.models.b)",
        "lmlab/models/b.py:2 imports lmlab.models.a (layer models -> layer models: import cycle among "
        "lmlab.models.a, lmlab.models.b)",
    ])


@pytest.mark.parametrize(("module", "layer"), [
    ("lmlab", "api"), ("lmlab.errors", "foundation"), ("lmlab.registry", "foundation"),
    ("lmlab.io.folder", "io"), ("lmlab.report.plots", "report"), ("lmlab.text.words", "data·text"),
    ("lmlab.models.ngram.model", "models"), ("lmlab.cli.common", "serve·cli"),
])
def test_layer_of(module: str, layer: str):
    assert layer_of(module) == layer
