"""Read buildroot-config/ without Buildroot: package recipes, Config.in symbols, the defconfig."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXT = REPO / "buildroot-config"
DEFCONFIG = EXT / "configs" / "wipestation_x86_64_defconfig"
BOARD = EXT / "board" / "wipestation"

# Upstream Buildroot symbols the defconfig may use, checked to exist in Buildroot
# 2026.08-rc1-25 (e991fa0716); test_buildroot_check re-checks them against $BUILDROOT_DIR.
KNOWN_UPSTREAM_SYMBOLS = frozenset(
    re.findall(
        r"\S+",
        """
    BR2_x86_64 BR2_TOOLCHAIN_BUILDROOT_CXX BR2_DOWNLOAD_FORCE_CHECK_HASHES
    BR2_TARGET_GENERIC_HOSTNAME BR2_TARGET_GENERIC_ISSUE BR2_INIT_SYSTEMD BR2_SYSTEM_BIN_SH_BASH
    BR2_TARGET_GENERIC_GETTY BR2_ROOTFS_OVERLAY BR2_ROOTFS_POST_BUILD_SCRIPT
    BR2_ROOTFS_POST_IMAGE_SCRIPT BR2_LINUX_KERNEL BR2_LINUX_KERNEL_USE_ARCH_DEFAULT_CONFIG
    BR2_LINUX_KERNEL_CONFIG_FRAGMENT_FILES BR2_LINUX_KERNEL_NEEDS_HOST_LIBELF
    BR2_PACKAGE_DOSFSTOOLS BR2_PACKAGE_DOSFSTOOLS_FSCK_FAT BR2_PACKAGE_DOSFSTOOLS_MKFS_FAT
    BR2_PACKAGE_E2FSPROGS BR2_PACKAGE_MTOOLS BR2_PACKAGE_HDPARM BR2_PACKAGE_NVME
    BR2_PACKAGE_SG3_UTILS BR2_PACKAGE_SG3_UTILS_PROGS BR2_PACKAGE_SMARTMONTOOLS
    BR2_PACKAGE_PYTHON3 BR2_PACKAGE_UTIL_LINUX_BINARIES BR2_PACKAGE_UTIL_LINUX_WIPEFS
    BR2_TARGET_ROOTFS_CPIO BR2_TARGET_ROOTFS_CPIO_ZSTD BR2_TARGET_ROOTFS_TAR BR2_TARGET_GRUB2
    BR2_TARGET_GRUB2_I386_PC BR2_TARGET_GRUB2_X86_64_EFI BR2_TARGET_GRUB2_BUILTIN_MODULES_PC
    BR2_TARGET_GRUB2_BUILTIN_CONFIG_PC BR2_TARGET_GRUB2_BUILTIN_MODULES_EFI
    BR2_TARGET_GRUB2_BUILTIN_CONFIG_EFI BR2_PACKAGE_HOST_DOSFSTOOLS BR2_PACKAGE_HOST_GENIMAGE
    BR2_PACKAGE_HOST_MTOOLS
    BR2_PACKAGE_PYTHON_TEXTUAL BR2_PACKAGE_PYTHON_PYUDEV BR2_PACKAGE_PYTHON_SERIAL
    BR2_PACKAGE_PYTHON_CRYPTOGRAPHY BR2_PACKAGE_PYTHON_PILLOW BR2_PACKAGE_PYTHON_CHARSET_NORMALIZER
    BR2_PACKAGE_PYTHON3_ZLIB BR2_PACKAGE_HAS_LIBUDEV BR2_PACKAGE_HAS_UDEV
    BR2_PACKAGE_HOST_RUSTC_TARGET_ARCH_SUPPORTS
    """,
    )
)

_ASSIGN = re.compile(r"^([A-Za-z0-9_]+)\s*(\+=|:=|\?=|=)\s*(.*)$")
_DEFINE = re.compile(r"^define\s+([A-Za-z0-9_]+)")
_REF = re.compile(r"\$\(([A-Za-z0-9_]+)\)")


def pkg_prefix(name: str) -> str:
    """Variable prefix of a package directory: python-uc-micro-py -> PYTHON_UC_MICRO_PY."""
    return name.upper().replace("-", "_").replace(".", "_")


def pypi_key(name: str) -> str:
    """PEP 503 normalised name, the key for requirements.lock."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class Recipe:
    name: str
    dir: Path
    variables: dict[str, str] = field(default_factory=dict)
    defines: list[str] = field(default_factory=list)
    symbols: list[str] = field(default_factory=list)  # config symbols declared by its Config.in
    selects: list[str] = field(default_factory=list)

    @property
    def prefix(self) -> str:
        return pkg_prefix(self.name)

    def get(self, suffix: str) -> str | None:
        return self.variables.get(f"{self.prefix}_{suffix}")

    def expand(self, value: str) -> str:
        for _ in range(10):
            new = _REF.sub(lambda m: self.variables.get(m[1], m[0]), value)
            if new == value:
                break
            value = new
        return value

    def hashes(self) -> dict[str, str]:
        """file name -> sha256 from <name>.hash."""
        out = {}
        path = self.dir / f"{self.name}.hash"
        for line in path.read_text().splitlines() if path.exists() else []:
            parts = line.split()
            if len(parts) == 3 and parts[0] == "sha256":
                out[parts[2]] = parts[1]
        return out


def recipes() -> list[Recipe]:
    out = []
    for d in sorted(p for p in (EXT / "package").iterdir() if p.is_dir()):
        r = Recipe(d.name, d)
        mk = d / f"{d.name}.mk"
        if mk.exists():
            text = mk.read_text().replace("\\\n", " ")
            in_define = False
            for line in text.splitlines():
                if m := _DEFINE.match(line):
                    r.defines.append(m[1])
                    in_define = True
                elif line.startswith("endef"):
                    in_define = False
                elif not in_define and (m := _ASSIGN.match(line)):
                    r.variables[m[1]] = m[3].strip()
        cfg = d / "Config.in"
        if cfg.exists():
            text = cfg.read_text()
            r.symbols = re.findall(r"^(?:menu)?config\s+(BR2_\w+)", text, re.M)
            r.selects = re.findall(r"^\s+select\s+(BR2_\w+)", text, re.M)
        out.append(r)
    return out


def lock_pins() -> dict[str, str]:
    pins = {}
    for line in (REPO / "requirements.lock").read_text().splitlines():
        if m := re.match(r"\s*([A-Za-z0-9_.-]+)\s*==\s*(\S+)", line):
            pins[pypi_key(m[1])] = m[2]
    return pins


def defconfig_lines() -> list[tuple[str, str | None]]:
    """(symbol, value) for each BR2_ line; value None for '# SYM is not set'."""
    out = []
    for line in DEFCONFIG.read_text().splitlines():
        if m := re.match(r"^(BR2_\w+)=(.*)$", line):
            out.append((m[1], m[2]))
        elif m := re.match(r"^# (BR2_\w+) is not set$", line):
            out.append((m[1], None))
    return out


def tree_symbols() -> set[str]:
    syms = set()
    for cfg in EXT.rglob("Config.in"):
        syms.update(re.findall(r"^(?:menu)?config\s+(BR2_\w+)", cfg.read_text(), re.M))
    return syms
