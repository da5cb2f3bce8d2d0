"""The package layering of ../shared/DESIGN.md, checked on the source: no import circle between modules
(imports at module level and inside functions alike), and ``scenarios`` and ``sddp`` never import
``planner`` nor each other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("scenarios", "sddp", "planner")


def module_name(path: Path, root: Path = ROOT) -> str:
    """Dotted module name of a source file (``pkg/__init__.py`` is ``pkg``)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def resolve(name: str, modules: set[str]) -> str | None:
    """The longest prefix of ``name`` that is one of our modules."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def imported_modules(path: Path, modules: set[str], root: Path = ROOT) -> set[str]:
    """Our modules that the file imports anywhere (module level, inside functions, ``from x import y``)."""
    this = module_name(path, root)
    package = this if path.name == "__init__.py" else this.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            # ``from pkg import mod`` imports the submodule when there is one.
            names = [f"{prefix}.{alias.name}" for alias in node.names] + [prefix]
        for name in names:
            target = resolve(name, modules)
            if target is not None and target != this:
                found.add(target)
    return found


def import_graph(root: Path = ROOT, packages=PACKAGES) -> dict[str, set[str]]:
    files = [p for pkg in packages for p in sorted((root / pkg).rglob("*.py"))]
    modules = {module_name(p, root) for p in files}
    graph = {module_name(p, root): imported_modules(p, modules, root) for p in files}
    # A package's __init__ that only re-exports its children is not an edge back into the package:
    # importing ``pkg.child`` runs ``pkg/__init__`` first, which is the interpreter's doing, not a cycle.
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def package_of(module: str) -> str:
    return module.split(".")[0]


def test_no_import_circle_between_modules():
    cycles = find_cycles(import_graph())
    assert cycles == [], "import circles: " + "; ".join(" <-> ".join(c) for c in cycles)


@pytest.mark.parametrize("package, forbidden", [("scenarios", {"planner", "sddp"}),
                                                ("sddp", {"planner", "scenarios"})])
def test_lower_packages_never_import_upper_ones(package, forbidden):
    graph = import_graph()
    bad = sorted(f"{m} -> {t}" for m, targets in graph.items() if package_of(m) == package
                 for t in targets if package_of(t) in forbidden)
    assert bad == []


def test_the_checker_finds_a_deliberate_circle(tmp_path):
    pkg = tmp_path / "planner"
    (pkg / "inner").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "inner" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from planner.inner import b\n")
    (pkg / "inner" / "b.py").write_text("def f():\n    from .. import c\n")
    (pkg / "c.py").write_text("import planner.a as a\n")
    cycles = find_cycles(import_graph(tmp_path, ("planner",)))
    assert cycles == [["planner.a", "planner.c", "planner.inner.b"]]


def source_files(*packages: str):
    return [p for pkg in packages for p in sorted((ROOT / pkg).rglob("*.py"))]


def calls_in(path: Path) -> set[str]:
    """Dotted names of everything called in a file (``highspy.Highs``, ``Highs``, ``subprocess.run``, ...)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Call):
            parts, f = [], node.func
            while isinstance(f, ast.Attribute):
                parts.append(f.attr)
                f = f.value
            if isinstance(f, ast.Name):
                parts.append(f.id)
            names.add(".".join(reversed(parts)))
    return names


SOLVER_CONSTRUCTORS = {"highspy.Highs", "Highs", "AppsiHighs", "SolverFactory", "pyo.SolverFactory"}


def test_only_the_solver_layer_creates_highs_or_appsi_solvers():
    allowed = {ROOT / "planner" / "solvers" / "highs.py", ROOT / "sddp" / "solver.py"}
    offenders = sorted(str(p.relative_to(ROOT)) for p in source_files("planner", "sddp", "scenarios", "benchmarks")
                       if p not in allowed and calls_in(p) & SOLVER_CONSTRUCTORS)
    assert offenders == []


def test_only_the_solver_layer_launches_mpiexec():
    allowed = {ROOT / "planner" / "solvers" / "mpi.py"}
    offenders = sorted(str(p.relative_to(ROOT)) for p in source_files("planner", "sddp", "scenarios", "benchmarks")
                       if p not in allowed and "mpiexec" in {s.value for s in ast.walk(ast.parse(p.read_text()))
                                                             if isinstance(s, ast.Constant) and isinstance(s.value, str)})
    assert offenders == []


def test_one_gap_formula():
    """``(upper - lower) / max(|upper|, ...)`` is written once: planner.results.relative_gap."""
    pattern = "/ max(abs("
    offenders = sorted(str(p.relative_to(ROOT)) for p in source_files("planner", "sddp", "scenarios", "benchmarks")
                       if pattern in p.read_text() and p != ROOT / "planner" / "results.py")
    assert offenders == []


def test_no_private_name_used_across_modules():
    """``from x import _y`` and ``module._y`` of our own modules stay inside the module that defines them."""
    graph_modules = {module_name(p) for p in source_files(*PACKAGES)}
    offenders = []
    for path in source_files(*PACKAGES):
        tree = ast.parse(path.read_text())
        aliases = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and resolve(node.module, graph_modules):
                offenders += [f"{module_name(path)}: from {node.module} import {a.name}" for a in node.names
                              if a.name.startswith("_") and not a.name.startswith("__")]
                aliases.update({(a.asname or a.name): f"{node.module}.{a.name}" for a in node.names})
            elif isinstance(node, ast.Import):
                aliases.update({(a.asname or a.name): a.name for a in node.names
                                if resolve(a.name, graph_modules)})
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                    and node.attr.startswith("_") and not node.attr.startswith("__")
                    and resolve(aliases[node.value.id], graph_modules)):
                offenders.append(f"{module_name(path)}: {node.value.id}.{node.attr}")
    assert sorted(set(offenders)) == []


def test_our_modules_are_imported_at_module_level():
    """Imports of scenarios/sddp/planner inside functions hide the dependency graph: none are left."""
    modules = {module_name(p) for p in source_files(*PACKAGES)}
    offenders = []
    for path in source_files(*PACKAGES):
        for fn in ast.walk(ast.parse(path.read_text())):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and not node.level:
                    names = [node.module or ""]
                elif isinstance(node, ast.ImportFrom):
                    names = [module_name(path)]
                if any(resolve(n, modules) for n in names):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert sorted(set(offenders)) == []
