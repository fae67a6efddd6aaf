"""Version differences between the capturing machine and this one."""

from __future__ import annotations

import importlib.metadata
import platform

import snapshot
from replay._versions import VersionDifference, compare_versions


def manifest(
    python: str, packages: dict[str, str], modules: dict[str, str | None]
) -> snapshot.Manifest:
    return snapshot.parse_manifest(
        {"environment": {"python": {"version": python}, "packages": packages}, "modules": modules}
    )


def test_same_machine_has_no_differences() -> None:
    here = platform.python_version()
    dask = importlib.metadata.version("dask")
    assert compare_versions(manifest(here, {"dask": dask}, {"dask": dask})) == []


def test_every_kind_of_difference_is_reported() -> None:
    found = compare_versions(
        manifest(
            "3.10.1",
            {"dask": "2020.1.0", "pyarrow": "1.0"},
            {"cloudpickle": "0.1", "no_such_module_here": "2.0", "os": None},
        )
    )
    names = {d.name: d for d in found}
    assert names["Python"].recorded == "3.10.1"
    assert names["dask"] == VersionDifference(
        "dask", "2020.1.0", importlib.metadata.version("dask")
    )
    assert names["cloudpickle"].recorded == "0.1"
    assert str(names["no_such_module_here"]) == (
        "no_such_module_here 2.0 was on the worker but is not installed here"
    )
    assert "os" not in names and "pyarrow" not in names  # stdlib; not a key package


def test_a_key_package_differing_is_reported_even_if_no_pickle_imports_it() -> None:
    found = compare_versions(manifest(platform.python_version(), {"numpy": "1.0"}, {}))
    assert [d.name for d in found] == ["numpy"]
    assert compare_versions(snapshot.parse_manifest({})) == []


def test_a_dotted_module_name_is_never_imported_to_check_it() -> None:
    import sys

    sys.modules.pop("json.tool", None)
    found = compare_versions(manifest(platform.python_version(), {}, {"json.tool": "1"}))
    assert "json.tool" not in sys.modules
    assert [d.name for d in found] == ["json.tool"]


def test_a_module_named_unlike_its_distribution_gets_that_distributions_version() -> None:
    """yaml is PyYAML's, dateutil python-dateutil's: compared without importing them."""
    import sys

    before = {m for m in ("yaml", "dateutil") if m in sys.modules}
    found = compare_versions(
        manifest(platform.python_version(), {}, {"yaml": "0.0.1", "dateutil": "0.0.2"})
    )
    assert {d.name: d.local for d in found} == {
        "yaml": importlib.metadata.version("PyYAML"),
        "dateutil": importlib.metadata.version("python-dateutil"),
    }
    assert {m for m in ("yaml", "dateutil") if m in sys.modules} == before
