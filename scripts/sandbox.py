"""Grading kernels run inside bubblewrap (``bwrap``): student code never sees the course root.

nbgrader (trusted: it needs the gradebook and the hidden tests) stays outside. Only the kernel
is sandboxed, through a kernel spec whose command is this file::

    python scripts/sandbox.py [limits] {connection_file}

run by jupyter_client with the kernel's working folder (nbgrader's copy of the submission,
``autograded/<student>/<assignment>/``) as current directory. It execs ``bwrap``, which gives
the kernel a fresh root holding only:

- the Python installation, the virtual environment, the ``utils`` package and the course's
  data, read-only; a few system folders (/usr, a handful of /etc files), read-only;
- a copy of its working folder on a size-limited tmpfs (writable; nothing is written back,
  so the kernel cannot plant files or links for the trusted side to follow);
- a private, size-limited /tmp (also HOME, COURSE_CACHE, COURSE_RESULTS), /dev/shm and
  ``build/`` beside ``utils`` (notebooks save cards and figures there);
- the folder of its connection file, where the ZMQ IPC sockets live (``transport = ipc``):
  private to this one kernel, and a 1 MB tmpfs that nbgrader runs with (``around_nbgrader``).

It has no network (``--unshare-net``: only its own loopback), its own PID namespace, a cleared
environment, and limits on processes, CPU time, memory per process and file size. When bwrap
starts as root, the kernel runs as a uid of its own (``SANDBOX_UID_BASE`` + launcher pid):
root is exempt from the process limit, and a fork bomb must not starve other kernels.
"""
from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import os
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

KERNEL_NAME = "course-sandbox"
SANDBOX_UID_BASE = 1_900_000_000
INSTALL_HINT = ("Install bubblewrap (Debian/Ubuntu: sudo apt-get install bubblewrap; Fedora: sudo dnf install "
                "bubblewrap), or, only for notebooks you trust (your own solutions), opt out loudly with "
                "`make autograde UNSAFE_NO_SANDBOX=1`.")
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64")
ETC_FILES = ("passwd", "group", "nsswitch.conf", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "fonts",
             "alternatives", "mime.types")
# Variables the kernel keeps (everything else, tokens and keys included, is cleared).
PASSED_ENV = ("COURSE_", "MEDMNIST_ROOT", "MPLBACKEND", "LANG", "LC_ALL", "NBGRADER_EXECUTION", "OMP_NUM_THREADS")

# Runs inside the sandbox before ipykernel: become the sandbox uid (root only), then limit.
_INNER = """
import os, resource, sys
uid, processes, cpu, memory, file_size = map(int, sys.argv[1:6])
if uid:
    os.setgroups([]); os.setgid(uid); os.setuid(uid)
for kind, value in ((resource.RLIMIT_NPROC, processes), (resource.RLIMIT_CPU, cpu), (resource.RLIMIT_DATA, memory),
                    (resource.RLIMIT_FSIZE, file_size), (resource.RLIMIT_CORE, 0)):
    resource.setrlimit(kind, (value, value))
os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", *sys.argv[6:]])
"""


class SandboxUnavailable(RuntimeError):
    """bwrap is missing or cannot create namespaces here: grading must stop, not run unsandboxed."""


@dataclass(frozen=True)
class Limits:
    """What one grading kernel may use. Memory and CPU time are per process."""

    memory_gb: float = 4.0
    processes: int = 256  # threads count too: torch and ipykernel start a few dozen
    cpu_seconds: int = 7200
    disk_mb: int = 512  # each of: the working copy, /tmp, /dev/shm; also the largest file

    def argv(self) -> list[str]:
        return ["--memory-gb", str(self.memory_gb), "--processes", str(self.processes),
                "--cpu-seconds", str(self.cpu_seconds), "--disk-mb", str(self.disk_mb)]


@functools.lru_cache(maxsize=None)
def check() -> str:
    """The path of a bwrap that works here (tried once per process), or SandboxUnavailable."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxUnavailable(f"Grading needs the bubblewrap sandbox, and `bwrap` is not on PATH. {INSTALL_HINT}")
    probe = subprocess.run([bwrap, *_namespaces(), *_system_binds(), "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        raise SandboxUnavailable(
            f"bwrap cannot create a sandbox here: {probe.stderr.strip()}. As a non-root user this needs "
            "unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1 on older Debian; "
            f"kernel.apparmor_restrict_unprivileged_userns=0 or an AppArmor profile on Ubuntu 24.04+). {INSTALL_HINT}")
    return bwrap


def around_nbgrader(runtime: Path) -> list[str]:
    """A command prefix for nbgrader itself: the same files, plus a 1 MB tmpfs at ``runtime``.

    The kernel's connection file and sockets live in ``runtime``: the one folder outside its
    sandbox it can write, so it must not be the host's disk. Dies with its parent, as the
    kernel dies with nbgrader.
    """
    return [check(), "--dev-bind", "/", "/", "--perms", "0700", "--size", str(2**20), "--tmpfs", str(runtime),
            "--die-with-parent", "--"]


def write_kernelspec(jupyter_path: Path, limits: Limits) -> Path:
    """A kernel spec named KERNEL_NAME under ``jupyter_path`` (put it first on JUPYTER_PATH).

    Interrupts go as messages: a signal to bwrap would not reach the kernel in its own session.
    """
    folder = jupyter_path / "kernels" / KERNEL_NAME
    folder.mkdir(parents=True, exist_ok=True)
    spec = {"argv": [sys.executable, str(Path(__file__).resolve()), *limits.argv(), "{connection_file}"],
            "display_name": "Python 3 (grading sandbox)", "language": "python", "interrupt_mode": "message"}
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1))
    return folder


def _namespaces() -> list[str]:
    common = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
              "--die-with-parent", "--new-session"]
    if os.geteuid() == 0:  # no user namespace: root may switch to the sandbox uid, then loses every capability
        return [*common, "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    return [*common, "--unshare-user", "--disable-userns"]


def _system_binds() -> list[str]:
    args = []
    for folder in SYSTEM_DIRS:
        if os.path.islink(folder):
            args += ["--symlink", os.readlink(folder), folder]
        elif os.path.isdir(folder):
            args += ["--ro-bind", folder, folder]
    for name in ETC_FILES:
        if os.path.exists(f"/etc/{name}"):
            args += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    return args


def _check_private(connection_file: Path) -> None:
    """The connection file's folder is bound writable into the sandbox (and, as root, handed to
    the sandbox uid): it must be a fresh folder of this kernel's alone, never /tmp or a shared
    Jupyter runtime folder."""
    folder = connection_file.parent
    if os.listdir(folder) != [connection_file.name] or folder.stat().st_mode & 0o077:
        raise SandboxUnavailable(f"{connection_file} must be alone in a private (0700) folder: set "
                                 "KernelManager.connection_file to a file in a new temporary folder")


def _parents(paths: list[Path]) -> list[str]:
    """Create the folders above mount points traversable (bwrap would make them 0700: closed to
    the sandbox uid)."""
    parents = sorted({str(parent) for path in paths for parent in path.parents if parent != Path("/")})
    return [arg for parent in parents for arg in ("--perms", "0755", "--dir", parent)]


def _utils_folder() -> Path | None:
    """The course's ``utils`` package as the grader imports it (editable install or PYTHONPATH)."""
    spec = importlib.util.find_spec("utils")
    return Path(spec.origin).resolve().parent if spec and spec.origin else None


def _read_only_paths() -> list[Path]:
    """Python, the environment, ``utils`` and the data: what the kernel needs, nothing beside."""
    paths = [Path(sys.base_prefix), Path(sys.prefix)]
    utils = _utils_folder()
    if utils:
        paths += [utils, utils.parent / "data"]  # utils.runtime.data_cache_dir()
    paths += [Path(os.environ[v]) for v in ("MEDMNIST_ROOT", "COURSE_DATA_ROOT") if os.environ.get(v)]
    # Both spellings of a path behind a symlink (a venv linked into a checkout, say).
    return sorted({q for p in paths if p.exists() for q in (p.absolute(), p.resolve())})


def _copy_of_workdir(workdir: Path, megabytes: int) -> tuple[list[str], list[int]]:
    """A size-limited tmpfs at ``workdir`` holding a copy of its files (links are skipped)."""
    args, fds = ["--perms", "1777", "--size", str(megabytes * 2**20), "--tmpfs", str(workdir)], []
    for folder, subfolders, files in os.walk(workdir):
        for name in subfolders:
            if not os.path.islink(os.path.join(folder, name)):
                args += ["--perms", "1777", "--dir", os.path.join(folder, name)]
        for name in files:
            path = os.path.join(folder, name)
            try:
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            except OSError:  # a link, or a file that vanished: the kernel does not need it
                continue
            if not stat.S_ISREG(os.fstat(fd).st_mode):  # a FIFO or device would block or leak
                os.close(fd)
                continue
            os.set_inheritable(fd, True)
            fds.append(fd)
            args += ["--perms", "0666", "--file", str(fd), path]
    return args, fds


def _environment(workdir: Path, python_path: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k.startswith(PASSED_ENV)}
    env.update({"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": "/tmp", "TMPDIR": "/tmp",
                "IPYTHONDIR": "/tmp/ipython", "MPLCONFIGDIR": "/tmp/matplotlib", "COURSE_CACHE": "/tmp/cache",
                "COURSE_RESULTS": "/tmp/results", "PYTHONPATH": python_path, "PWD": str(workdir)})
    return [arg for key, value in sorted(env.items()) for arg in ("--setenv", key, value)]


def command(connection_file: Path, workdir: Path, limits: Limits) -> tuple[list[str], list[int]]:
    """The bwrap command line that runs ipykernel on ``connection_file`` in ``workdir``, and the
    file descriptors it reads the working copy from."""
    connection_file, workdir = connection_file.resolve(), workdir.resolve()
    _check_private(connection_file)
    size = str(limits.disk_mb * 2**20)
    utils = _utils_folder()
    args = [check(), *_namespaces(), "--proc", "/proc", "--dev", "/dev",
            "--perms", "1777", "--size", size, "--tmpfs", "/dev/shm", "--remount-ro", "/dev"]
    for folder in ["/tmp", *([str(utils.parent / "build")] if utils else [])]:  # notebooks save to build/
        args += ["--perms", "1777", "--size", size, "--tmpfs", folder]
    read_only = _read_only_paths()
    args += [*_parents([*read_only, workdir, connection_file.parent, Path("/etc/x")]), *_system_binds()]
    for path in read_only:
        args += ["--ro-bind", str(path), str(path)]
    copy, fds = _copy_of_workdir(workdir, limits.disk_mb)
    args += [*copy, "--bind", str(connection_file.parent), str(connection_file.parent),
             "--remount-ro", "/", "--chdir", str(workdir)]  # "/": bwrap's tmpfs for mount points, unlimited
    args += ["--clearenv", *_environment(workdir, str(utils.parent) if utils else "")]
    uid = _sandbox_uid(connection_file)
    args += [sys.executable, "-c", _INNER, str(uid), str(limits.processes), str(limits.cpu_seconds),
             str(int(limits.memory_gb * 2**30)), size, "-f", str(connection_file)]
    return args, fds


def _sandbox_uid(connection_file: Path) -> int:
    """0 (no switch) unless root; then a uid no other process uses, owning the IPC folder.

    The process limit counts per uid: with one uid per kernel, a fork bomb stops only itself.
    """
    if os.geteuid() != 0:
        return 0
    uid = SANDBOX_UID_BASE + os.getpid()
    for path in (connection_file.parent, connection_file):
        os.chown(path, uid, uid)
    return uid


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="start an ipykernel inside bubblewrap (a kernel spec's command)")
    parser.add_argument("--memory-gb", type=float, default=Limits.memory_gb)
    parser.add_argument("--processes", type=int, default=Limits.processes)
    parser.add_argument("--cpu-seconds", type=int, default=Limits.cpu_seconds)
    parser.add_argument("--disk-mb", type=int, default=Limits.disk_mb)
    parser.add_argument("connection_file", type=Path)
    args = parser.parse_args(argv)
    limits = Limits(args.memory_gb, args.processes, args.cpu_seconds, args.disk_mb)
    args_, _ = command(args.connection_file, Path.cwd(), limits)
    os.execv(args_[0], args_)


if __name__ == "__main__":
    main()
