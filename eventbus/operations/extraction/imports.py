"""The imports between a module and the other modules, from the import graph (grimp).

A module may import another module's public contract, the ``events`` module of one of its
apps, and nothing else of it; every other import between two modules, either way, couples
them. Which module code is in is eventbus.boundaries.modules' answer.
"""

import sys
from dataclasses import dataclass

from eventbus.boundaries.modules import BUS_PACKAGE, current_modules, top
from eventbus.exceptions import ExtractionReportError
from eventbus.extras import missing_extra
from eventbus.operations.extraction.modules import is_test, project_tops, source_location


@dataclass(frozen=True)
class ImportCoupling:
    """``importer`` imports ``imported`` at ``line`` of ``location``; one of them is in the
    reported module and the other in another module, and ``imported`` is not an events.py."""

    importer: str
    imported: str
    location: str
    line: str

    def as_dict(self) -> dict[str, str]:
        return {
            "importer": self.importer,
            "imported": self.imported,
            "location": self.location,
            "line": self.line,
        }


@dataclass(frozen=True)
class ImportSurvey:
    """The module's forbidden imports, both ways, and the outside packages it imports
    (neither the standard library, the bus, the project's own package nor another module)."""

    couplings: list[ImportCoupling]
    packages: list[str]


def is_contract(dotted: str) -> bool:
    """Whether ``dotted`` is a module's public contract: ``<app>.events`` of one of its apps."""
    package, _, leaf = dotted.rpartition(".")
    return leaf == "events" and package in current_modules().by_app


def survey(module: str, modules: list[str]) -> ImportSurvey:
    """Build the graph of every module (no cache: it is never written to disk) and read
    ``module``'s imports from it. Raises ExtractionReportError when grimp is not installed
    (import-linter brings it), grimp's own errors when a module cannot be parsed."""
    try:
        import grimp
    except ImportError as exc:
        raise ExtractionReportError(
            str(missing_extra("grimp", needed_for="The extraction report (the import graph)"))
        ) from exc
    module_map = current_modules()
    roots = sorted({top(app) for name in modules for app in module_map.apps_of.get(name, ())})
    graph = grimp.build_graph(*roots, include_external_packages=True, cache_dir=None)
    of = module_map.of_path
    own = sorted(m for m in graph.modules if of(m) == module)
    pairs: set[tuple[str, str]] = set()
    packages: set[str] = set()
    for importer in own:
        for imported in graph.find_modules_directly_imported_by(importer):
            if of(imported) in modules and of(imported) != module:
                pairs.add((importer, imported))
            elif not of(imported) and not is_test(importer):
                packages.add(top(imported))
        for other in graph.find_modules_that_directly_import(importer):
            if of(other) in modules and of(other) != module:
                pairs.add((other, importer))
    couplings = [
        ImportCoupling(
            importer=importer,
            imported=imported,
            location=source_location(importer, detail["line_number"]),
            line=detail["line_contents"],
        )
        for importer, imported in sorted(pairs)
        if not is_contract(imported)
        for detail in graph.get_import_details(importer=importer, imported=imported)
    ]
    outside = packages - set(sys.stdlib_module_names) - project_tops() - {BUS_PACKAGE}
    return ImportSurvey(couplings=couplings, packages=sorted(outside))
