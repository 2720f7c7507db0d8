"""Repository consistency: pins agree, Binder is runnable, CI runs the README's test command."""
import os
import re
import subprocess
import tomllib

from conftest import REPO

PIN = re.compile(r"^\s*-?\s*\"?([A-Za-z0-9_.\-]+)==([^\s\"+,]+)")


def pins_of_pyproject() -> dict[str, str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    lines = project["dependencies"] + project["optional-dependencies"]["dev"]
    return dict(PIN.match(line).groups() for line in lines)


def pins_of_yaml(path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        match = PIN.match(line)
        if match and "==" in line:
            pins[match.group(1)] = match.group(2)
    return pins


def test_every_dependency_is_pinned_exactly():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    for line in project["dependencies"] + project["optional-dependencies"]["dev"]:
        assert "==" in line, f"{line} is not pinned with =="
    pins = pins_of_pyproject()
    assert pins["torch"] == "2.14.1" and pins["torchvision"] == "0.29.1"
    assert pins["nbgrader"] == "0.9.6" and pins["medmnist"] == "3.0.2"


def test_environment_yml_and_binder_carry_the_same_pins():
    expected = pins_of_pyproject()
    for path in (REPO / "environment.yml", REPO / "binder" / "environment.yml"):
        assert pins_of_yaml(path) == expected, f"{path.relative_to(REPO)} disagrees with pyproject.toml"


def test_binder_postbuild_is_executable_and_strict():
    post_build = REPO / "binder" / "postBuild"
    assert os.access(post_build, os.X_OK)
    assert "set -e" in post_build.read_text() or "set -euo" in post_build.read_text()
    assert "pip install" in post_build.read_text()


def test_ci_runs_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    assert "make test" in readme and "make run" in readme and "make lab" in readme
    ci = (REPO / ".ci" / "run").read_text()
    assert "make test" in ci and os.access(REPO / ".ci" / "run", os.X_OK)


def test_nbgrader_config_points_at_solutions_and_course():
    config = (REPO / "nbgrader_config.py").read_text()
    assert 'source_directory = "solutions"' in config and 'release_directory = "course"' in config
    assert "Execute.timeout" in config


def test_no_dataset_or_large_file_is_tracked():
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    assert not [f for f in tracked if f.endswith((".npz", ".pt", ".ckpt"))]
    assert not [f for f in tracked if f.endswith(".csv") and not f.startswith("benchmarks/")]
    big = [f for f in tracked if (REPO / f).is_file() and (REPO / f).stat().st_size > 2 * 2**20]
    assert not big, f"files over 2 MB are tracked: {big}"
