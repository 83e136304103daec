"""A tiny ``newc`` cpio writer: one more initramfs layer for a test (Linux unpacks each
concatenated archive in turn, later files win), e.g. a systemd unit that runs a probe."""

from __future__ import annotations


def _header(name: bytes, mode: int, size: int, ino: int) -> bytes:
    fields = (ino, mode, 0, 0, 1, 0, size, 0, 0, 0, 0, len(name) + 1, 0)
    return b"070701" + b"".join(b"%08X" % f for f in fields) + name + b"\0"


def _pad(n: int) -> bytes:
    return b"\0" * (-n % 4)


def newc(files: dict[str, str | bytes]) -> bytes:
    """Archive ``files`` (absolute path → content; ``@symlink:target`` makes a symlink).

    Parent directories are created (mode 0755); files are 0644, or 0755 under a ``bin`` dir.
    """
    out = bytearray()
    dirs: set[str] = set()
    ino = 1000
    for path in sorted(files):
        rel = path.strip("/")
        parts = rel.split("/")
        for i in range(1, len(parts)):
            d = "/".join(parts[:i])
            if d not in dirs:
                dirs.add(d)
                ino += 1
                h = _header(d.encode(), 0o040755, 0, ino)
                out += h + _pad(len(h))
        content = files[path]
        data = content.encode() if isinstance(content, str) else content
        if data.startswith(b"@symlink:"):
            mode, data = 0o120777, data.removeprefix(b"@symlink:")
        else:
            mode = 0o100755 if "/bin/" in path else 0o100644
        ino += 1
        h = _header(rel.encode(), mode, len(data), ino)
        out += h + _pad(len(h)) + data + _pad(len(data))
    end = _header(b"TRAILER!!!", 0, 0, 0)
    return bytes(out + end + _pad(len(end)))
