"""``mount``/``umount`` of a stick's FAT/exFAT partition, with FUSE where the kernel lacks it.

Why a fallback: the station's kernel has vfat and exfat, but a test host's may not; there the
userspace driver (``fusefat``, ``mount.exfat-fuse``) mounts the same partition, so the same
code runs in the tests instead of being skipped.
"""

from __future__ import annotations

from pathlib import Path

from wipestation.tools.runner import Completed, Runner, run, which

#: Userspace drivers tried when the kernel lacks the filesystem: fstype → (argv, ro, rw option).
FUSE_HELPERS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "vfat": (("fusefat",), ("-o", "ro"), ("-o", "rw+")),
    "msdos": (("fusefat",), ("-o", "ro"), ("-o", "rw+")),
    "exfat": (("mount.exfat-fuse",), ("-o", "ro"), ()),
}


def build_mount_argv(
    device: str, where: Path, fstype: str, options: str, *, read_only: bool
) -> list[str]:
    # -w: fail instead of silently falling back to a read-only mount.
    mode = "-r" if read_only else "-w"
    return ["mount", mode, "-t", fstype, "-o", options, device, str(where)]


def mount(
    device: str,
    where: Path,
    fstype: str,
    options: str,
    *,
    read_only: bool,
    runner: Runner = run,
) -> Completed:
    """Mount ``device`` on ``where``; the caller reads ``returncode``/``stderr`` to say why not."""
    argv = build_mount_argv(device, where, fstype, options, read_only=read_only)
    done = runner(argv, timeout=30, check=False)
    if done.returncode != 0 and "unknown filesystem type" in done.stderr:
        return _mount_fuse(device, where, fstype, read_only, runner) or done
    return done


def _mount_fuse(
    device: str, where: Path, fstype: str, read_only: bool, runner: Runner
) -> Completed | None:
    helper = FUSE_HELPERS.get(fstype)
    if helper is None or which(helper[0][0]) is None:
        return None
    exe, ro, rw = helper
    return runner([*exe, *(ro if read_only else rw), device, str(where)], timeout=30, check=False)


def unmount(where: Path, *, lazy: bool = False, runner: Runner = run) -> bool:
    """``umount [-l] where``; True when it is unmounted."""
    argv = ["umount", *(["-l"] if lazy else []), str(where)]
    return runner(argv, timeout=30, check=False).returncode == 0
