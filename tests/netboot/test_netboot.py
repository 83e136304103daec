"""``make netboot``'s directory: dnsmasq itself checks the shipped config, and the iPXE script
boots exactly the files written beside it with the stick's kernel command line."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from netboot import netboot
from netboot.netboot import Server


def dnsmasq() -> str:
    found = shutil.which("dnsmasq") or shutil.which("dnsmasq", path="/usr/sbin")
    assert found, "dnsmasq is not installed: 'make apt' installs dnsmasq-base"
    return found


@pytest.fixture
def build(tmp_path: Path) -> Path:
    """Stand-ins for make image's kernel and initrd (their bytes only need to be theirs)."""
    d = tmp_path / "build"
    d.mkdir()
    (d / netboot.KERNEL).write_bytes(b"kernel bytes")
    (d / netboot.INITRD).write_bytes(b"initrd bytes")
    return d


def dnsmasq_test(conf: Path) -> subprocess.CompletedProcess[str]:
    argv = [dnsmasq(), "--test", f"--conf-file={conf}"]
    return subprocess.run(argv, capture_output=True, text=True, timeout=30)


def test_dnsmasq_accepts_the_shipped_config(build: Path) -> None:
    out = build / "netboot"
    netboot.write(build, out, Server("10.20.0.5", 8081, "10.20.0.0/16"))
    conf = out / netboot.DNSMASQ
    done = dnsmasq_test(conf)
    assert done.returncode == 0, done.stderr
    assert "syntax check OK" in done.stdout + done.stderr
    text = conf.read_text()
    assert "dhcp-range=10.20.0.0,proxy,255.255.0.0" in text
    assert 'pxe-service=tag:!ipxe,x86PC,"Wipestation: load iPXE (BIOS)",undionly.kpxe' in text
    assert 'pxe-service=tag:!ipxe,X86-64_EFI,"Wipestation: load iPXE (UEFI)",ipxe.efi' in text
    url = "http://10.20.0.5:8081/wipestation.ipxe"
    for csa in ("x86PC", "X86-64_EFI"):
        assert f'pxe-service=tag:ipxe,{csa},"Wipestation",{url}' in text


def test_dnsmasq_test_really_checks(tmp_path: Path) -> None:
    """The check above is only worth something if dnsmasq refuses a bad line."""
    conf = tmp_path / "bad.conf"
    conf.write_text(netboot.dnsmasq_conf(Server()) + "dhcp-range=192.168.1.0,proxyy\n")
    assert dnsmasq_test(conf).returncode != 0


def script_files(script: str) -> tuple[list[str], list[str]]:
    """(files the script fetches, the kernel's arguments)."""
    fetched, args = [], []
    for line in script.splitlines():
        words = line.split()
        if words[:1] == ["kernel"]:
            fetched.append(words[1])
            args = words[2:]
        elif words[:1] == ["initrd"]:
            fetched.append(words[1])
    return fetched, args


def test_the_script_boots_the_files_make_netboot_wrote(build: Path) -> None:
    out = build / "netboot"
    written = {p.name for p in netboot.write(build, out, Server())}
    fetched, args = script_files((out / netboot.SCRIPT).read_text())
    assert fetched == [netboot.KERNEL, netboot.INITRD]
    for name in fetched:
        assert name in written
        assert (out / name).read_bytes() == (build / name).read_bytes()
    initrds = [a.removeprefix("initrd=") for a in args if a.startswith("initrd=")]
    assert initrds == [netboot.INITRD]  # the UEFI stub loads the initrd it is named


def test_the_kernel_gets_the_sticks_command_line_without_the_stick(build: Path) -> None:
    out = build / "netboot"
    netboot.write(build, out, Server())
    _, args = script_files((out / netboot.SCRIPT).read_text())
    grub = next(
        line.split()[2:]
        for line in netboot.GRUB_CFG.read_text().splitlines()
        if line.split()[:2] == ["linux", "/boot/vmlinuz"]
    )
    assert [w for w in grub if not w.startswith("wipestation.boot=")] == args[1:-1]
    assert "quiet" in args
    assert "libata.allow_tpm=1" in args
    assert args[-1] == "${wipestation-config}"
    assert not any(a.startswith("wipestation.boot") for a in args)


def test_the_config_url_is_passed_only_when_set(build: Path) -> None:
    out = build / "netboot"
    script = netboot.ipxe_script("quiet")
    passed = "isset ${config-url} && set wipestation-config wipestation.config=${config-url} ||"
    assert passed in script.splitlines()
    assert "\n#set config-url " in script  # an example only: nothing set by default
    netboot.write(build, out, Server(config_url="http://10.0.0.5:8080/stations/{mac}.toml"))
    text = (out / netboot.SCRIPT).read_text()
    want = "isset ${config-url} || set config-url http://10.0.0.5:8080/stations/${net0/mac:hexhyp}.toml"
    assert want in text.splitlines()


def test_the_make_target_uses_the_images_files_in_place(build: Path) -> None:
    out = build / "netboot"
    netboot.write(build, out, Server())
    for name in (netboot.KERNEL, netboot.INITRD):  # hard links: no second copy of 80 MiB
        assert (out / name).stat().st_ino == (build / name).stat().st_ino


def run_script(*args: str) -> subprocess.CompletedProcess[str]:
    argv = ["python3", str(netboot.REPO / "netboot" / "netboot.py"), *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


def test_without_an_image_it_says_what_to_run(tmp_path: Path) -> None:
    done = run_script("--build", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr == f"netboot: {tmp_path / netboot.KERNEL} missing: run 'make image' first\n"


def test_a_bad_subnet_is_one_line(build: Path) -> None:
    done = run_script("--build", str(build), "--subnet", "10.0.0.0/33")
    assert done.returncode == 2
    assert done.stderr.startswith("netboot: --server/--subnet: ")
    assert done.stderr.count("\n") == 1


def test_the_script_writes_build_netboot(build: Path) -> None:
    done = run_script("--build", str(build))
    assert done.returncode == 0, done.stderr
    names = {p.name for p in (build / "netboot").iterdir()}
    assert names == {
        netboot.KERNEL, netboot.INITRD, netboot.SCRIPT, netboot.DNSMASQ, netboot.NGINX,
        netboot.README,
    }  # fmt: skip
    assert "python3 -m http.server 8080" in (build / "netboot" / netboot.README).read_text()


def test_the_readme_shows_the_shipped_dnsmasq_lines() -> None:
    readme = (netboot.REPO / "README.md").read_text()
    section = readme.split("## Boot a floor of stations from the network\n", 1)[1]
    assert netboot.dnsmasq_conf(Server()) in section.split("\n## ", 1)[0]
