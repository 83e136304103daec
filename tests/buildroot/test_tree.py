"""Structural checks of buildroot-config/ that need no Buildroot checkout."""

from __future__ import annotations

import re
import subprocess
import tomllib

import pytest

from tests.buildroot.brtree import (
    BOARD,
    DEFCONFIG,
    EXT,
    KNOWN_UPSTREAM_SYMBOLS,
    REPO,
    defconfig_lines,
    lock_pins,
    pkg_prefix,
    pypi_key,
    recipes,
    tree_symbols,
)

RECIPES = recipes()
IDS = [r.name for r in RECIPES]


def test_tree_files_present():
    required = [
        "external.desc",
        "Config.in",
        "external.mk",
        "check.sh",
        "configs/wipestation_x86_64_defconfig",
        "board/wipestation/linux.fragment",
        "board/wipestation/post-build.sh",
        "board/wipestation/post-image.sh",
        "board/wipestation/genimage.cfg",
        "board/wipestation/grub-early.cfg",
    ]
    for name in ("python-reportlab", "python-linkify-it-py", "python-uc-micro-py"):
        required += [f"package/{name}/Config.in", f"package/{name}/{name}.mk"]
        required += [f"package/{name}/{name}.hash"]
    required += ["package/python-wipestation/Config.in"]
    required += ["package/python-wipestation/python-wipestation.mk"]
    missing = [f for f in required if not (EXT / f).is_file()]
    assert not missing, missing
    for script in (
        "check.sh",
        "board/wipestation/post-build.sh",
        "board/wipestation/post-image.sh",
    ):
        assert (EXT / script).stat().st_mode & 0o111, f"{script} is not executable"


def test_no_source_tarballs_committed():
    blobs = [p for p in EXT.rglob("*") if re.search(r"\.(tar(\.\w+)?|tgz|zip|whl)$", p.name)]
    assert not blobs, blobs


def test_external_desc_and_includes():
    desc = (EXT / "external.desc").read_text()
    assert re.search(r"^name: WIPESTATION$", desc, re.M), desc
    assert "$(BR2_EXTERNAL_WIPESTATION_PATH)/package/*/*.mk" in (EXT / "external.mk").read_text()
    sourced = re.findall(
        r'^source "\$BR2_EXTERNAL_WIPESTATION_PATH/package/([^/]+)/Config.in"$',
        (EXT / "Config.in").read_text(),
        re.M,
    )
    assert sorted(sourced) == IDS, "Config.in must source every package/*/Config.in exactly once"


@pytest.mark.parametrize("recipe", RECIPES, ids=IDS)
def test_recipe_prefix_and_symbol(recipe):
    prefix = recipe.prefix
    assert (recipe.dir / f"{recipe.name}.mk").is_file()
    assert recipe.symbols == [f"BR2_PACKAGE_{prefix}"], recipe.symbols
    wrong = [v for v in [*recipe.variables, *recipe.defines] if not v.startswith(prefix + "_")]
    assert not wrong, f"{recipe.name}.mk: variables not prefixed {prefix}_: {wrong}"
    for suffix in ("VERSION", "SITE", "SETUP_TYPE", "LICENSE"):
        assert recipe.get(suffix), f"{prefix}_{suffix} missing"
    mk = (recipe.dir / f"{recipe.name}.mk").read_text()
    assert mk.rstrip().endswith("$(eval $(python-package))")
    assert f"# {recipe.name}\n" in mk, "the banner must name the package"
    # every hook that is defined is also registered
    for name in recipe.defines:
        assert re.search(rf"_HOOKS\s*\+=\s*{name}\b", mk), f"{name} defined but never used"


@pytest.mark.parametrize("recipe", RECIPES, ids=IDS)
def test_recipe_hash_covers_source(recipe):
    source = recipe.get("SOURCE")
    if recipe.get("SITE_METHOD") == "local":
        assert source is None, "a local package has no tarball"
        assert recipe.expand(recipe.get("SITE")) == "$(BR2_EXTERNAL_WIPESTATION_PATH)/.."
        return
    assert source, f"{recipe.prefix}_SOURCE missing"
    tarball = recipe.expand(source)
    assert recipe.get("VERSION") in tarball
    hashes = recipe.hashes()
    assert re.fullmatch(r"[0-9a-f]{64}", hashes.get(tarball, "")), f"no sha256 for {tarball}"
    site = recipe.get("SITE")
    assert site.startswith("https://files.pythonhosted.org/packages/")
    assert not site.endswith("/"), "a trailing / in _SITE breaks the download URL"
    for lic in recipe.get("LICENSE_FILES").split():
        assert lic in hashes, f"license file {lic} has no sha256"
    text = (recipe.dir / f"{recipe.name}.hash").read_text()
    for line in text.splitlines():
        if line and not line.startswith("#"):
            assert re.fullmatch(r"sha256  [0-9a-f]{64}  \S+", line), f"malformed: {line!r}"


@pytest.mark.parametrize("recipe", RECIPES, ids=IDS)
def test_recipe_version_matches_pins(recipe):
    version = recipe.get("VERSION")
    if recipe.name == "python-wipestation":
        pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
        assert version == pyproject["project"]["version"]
        return
    pins = lock_pins()
    key = pypi_key(recipe.name.removeprefix("python-"))
    assert key in pins, f"{recipe.name} is not pinned in requirements.lock"
    assert version == pins[key], f"{recipe.name}: recipe {version}, requirements.lock {pins[key]}"


def test_wipestation_selects_every_runtime_dependency():
    (app,) = [r for r in RECIPES if r.name == "python-wipestation"]
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    # Buildroot names that differ from "python-" + the PyPI name
    renamed = {"pyserial": "serial"}
    for dep in pyproject["project"]["dependencies"]:
        name = pypi_key(re.match(r"[A-Za-z0-9_.-]+", dep)[0])
        symbol = "BR2_PACKAGE_PYTHON_" + pkg_prefix(renamed.get(name, name))
        assert symbol in app.selects, f"python-wipestation must select {symbol} for {dep}"
    # textual's linkify extra: Buildroot's python-textual does not pull it
    assert "BR2_PACKAGE_PYTHON_LINKIFY_IT_PY" in app.selects


def test_defconfig_uses_only_known_symbols():
    ours = tree_symbols()
    unknown = [s for s, _ in defconfig_lines() if s not in ours | KNOWN_UPSTREAM_SYMBOLS]
    assert not unknown, f"not in the tree nor in the known upstream list: {unknown}"
    symbols = [s for s, _ in defconfig_lines()]
    assert len(symbols) == len(set(symbols)), "a symbol is set twice"
    assert "BR2_PACKAGE_PYTHON_WIPESTATION" in symbols


def test_defconfig_essentials():
    cfg = dict(defconfig_lines())
    assert cfg["BR2_INIT_SYSTEMD"] == "y", "the shared overlay's units need systemd"
    overlay = "$(BR2_EXTERNAL_WIPESTATION_PATH)/../image/rootfs-overlay"
    assert cfg["BR2_ROOTFS_OVERLAY"] == f'"{overlay}"', "share image/rootfs-overlay, do not copy"
    for sym in ("BR2_PACKAGE_HDPARM", "BR2_PACKAGE_NVME", "BR2_PACKAGE_SG3_UTILS"):
        assert cfg.get(sym) == "y", sym
    assert cfg.get("BR2_TARGET_ROOTFS_CPIO") == "y"
    assert cfg.get("BR2_TARGET_GRUB2_I386_PC") == cfg.get("BR2_TARGET_GRUB2_X86_64_EFI") == "y"


def test_defconfig_paths_exist():
    refs = re.findall(r"\$\(BR2_EXTERNAL_WIPESTATION_PATH\)(/[^\" ]*)", DEFCONFIG.read_text())
    assert len(refs) >= 6
    missing = [r for r in refs if not (EXT / r.lstrip("/")).exists()]
    assert not missing, missing
    assert (EXT / "../image/rootfs-overlay").resolve() == REPO / "image" / "rootfs-overlay"


def test_kernel_fragment():
    lines = [
        ln
        for ln in (BOARD / "linux.fragment").read_text().splitlines()
        if ln.strip() and not ln.startswith("#")
    ]
    bad = [ln for ln in lines if not re.fullmatch(r'CONFIG_[A-Z0-9_]+=(y|m|n|"[^"]*"|\d+)', ln)]
    assert not bad, bad
    names = [ln.split("=")[0] for ln in lines]
    assert len(names) == len(set(names)), "a kernel symbol is set twice"
    wanted = re.findall(
        r"\S+",
        """SATA_AHCI BLK_DEV_NVME BLK_DEV_SD CHR_DEV_SG SCSI_MPT3SAS MEGARAID_SAS SCSI_AACRAID
        SCSI_HPSA SCSI_SMARTPQI USB_STORAGE USB_UAS VIRTIO_BLK SCSI_VIRTIO VIRTIO_PCI MMC_BLOCK
        USB_HID HID_GENERIC VT_CONSOLE SERIAL_8250_CONSOLE USB_SERIAL USB_PRINTER DEVTMPFS
        BLK_DEV_INITRD RD_ZSTD USB_XHCI_HCD VFAT_FS EFI_STUB""",
    )
    have = dict(ln.split("=", 1) for ln in lines)
    assert [w for w in wanted if have.get(f"CONFIG_{w}") != "y"] == []


def test_usb_layout_matches_the_debian_image():
    gen = (BOARD / "genimage.cfg").read_text()
    assert re.search(r'partition-table-type = "mbr"', gen)
    parts = re.findall(r"partition (\w+) \{(.*?)\n\t\}", gen, re.S)
    in_table = [(n, body) for n, body in parts if 'in-partition-table = "no"' not in body]
    assert len(in_table) == 1, "exactly one partition in the MBR"
    body = in_table[0][1]
    assert re.search(r"partition-type = 0x0c\b", body, re.I)
    assert 'bootable = "true"' in body
    assert re.search(r"offset = 1M\b", body)
    assert re.search(r'label = "WIPESTATION"', gen)
    assert '"-F 32"' in gen
    assert 'holes = {"(440; 512)"}' in gen, "boot.img must keep the disk signature/table"
    assert "disk-signature = @DISK_SIGNATURE@" in gen, "post-image.sh fills in the signature"
    early = (BOARD / "grub-early.cfg").read_text()
    assert "--label WIPESTATION" in early
    assert "configfile $prefix/grub.cfg" in early
    on_stick = set(re.findall(r"^\t\tfile (\S+) \{", gen, re.M))
    assert {"boot/vmlinuz", "boot/initrd.img", "boot/grub/grub.cfg"} <= on_stick
    assert {"EFI/BOOT/BOOTX64.EFI", "wipestation.toml", "README.txt", "reports"} <= on_stick


@pytest.mark.skipif(
    not (REPO / "image/usb/grub.cfg").is_file(), reason="image/usb/grub.cfg not present"
)
def test_shared_grub_menu_loads_files_on_the_stick():
    gen = (BOARD / "genimage.cfg").read_text()
    grub = (REPO / "image/usb/grub.cfg").read_text()
    assert "@PARTUUID@" in grub, "post-image.sh substitutes @PARTUUID@"
    paths = re.findall(r"^\s*(?:linux|initrd) (/\S+)", grub, re.M)
    assert paths
    for path in paths:
        assert f"file {path.lstrip('/')} {{" in gen, f"grub.cfg loads {path}, not on the stick"
    mkusb = (REPO / "image/usb/mkusb.sh").read_text()
    assert "label=WIPESTATION" in mkusb, "the Debian stick's FAT label changed"


@pytest.mark.parametrize(
    "script", ["board/wipestation/post-build.sh", "board/wipestation/post-image.sh", "check.sh"]
)
def test_scripts_parse(script):
    shell = "bash" if script == "check.sh" else "sh"
    r = subprocess.run([shell, "-n", EXT / script], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
