"""``make netboot``: what a floor's boot server serves, in ``build/netboot/``.

- ``vmlinuz`` and ``wipestation.initrd``: ``make image``'s own files (hard links, else copies;
  never a rebuild), i.e. exactly what the stick boots;
- ``wipestation.ipxe``: kernel + initrd over HTTP from the script's own directory, with the
  stick's kernel command line (read from ``image/usb/grub.cfg``, so the two never drift) and
  ``wipestation.config=${config-url}`` when the boot server sets ``config-url``;
- ``dnsmasq-wipestation.conf``: proxy-DHCP (beside the floor's DHCP server) + TFTP of Debian's
  iPXE builds for BIOS and UEFI PXE clients, which then fetch the script over HTTP;
- ``nginx-wipestation.conf`` and ``README.txt`` (the one-line ``python3 -m http.server``).

A script, not a shell recipe in the Makefile: the command line is parsed out of the stick's GRUB
config and the files are tested (``tests/netboot``) through the same functions. Standard library
only and no root: it reads ``build/`` and writes ``build/netboot/``.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GRUB_CFG = REPO / "image" / "usb" / "grub.cfg"
KERNEL, INITRD, SCRIPT = "vmlinuz", "wipestation.initrd", "wipestation.ipxe"
DNSMASQ, NGINX, README = "dnsmasq-wipestation.conf", "nginx-wipestation.conf", "README.txt"
#: Where Debian's ``ipxe`` package puts the iPXE builds dnsmasq hands to PXE ROMs.
IPXE_DIR = "/usr/lib/ipxe"
#: A per-station config URL, as the script's commented example.
EXAMPLE = "http://192.168.1.10:8080/stations/${net0/mac:hexhyp}.toml"
#: The stick's options that name the stick: a network boot has none.
STICK_ONLY = ("wipestation.boot=", "wipestation.bootlabel=")


class NetbootError(Exception):
    """A one-line reason ``make netboot`` cannot write its directory."""


@dataclass(frozen=True)
class Server:
    """The floor's boot server as the generated files name it."""

    address: str = "192.168.1.10"
    port: int = 8080
    subnet: str = ""  # CIDR; default: the address's /24
    config_url: str = ""  # ``{mac}`` becomes iPXE's ``${net0/mac:hexhyp}``

    @property
    def url(self) -> str:
        return f"http://{self.address}:{self.port}/{SCRIPT}"

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.subnet or f"{self.address}/24", strict=False)


def stick_cmdline(grub_cfg: Path = GRUB_CFG) -> str:
    """The kernel options of the stick's first (default) entry, less those naming the stick."""
    for line in grub_cfg.read_text(encoding="utf-8").splitlines():
        words = line.split()
        if words[:2] == ["linux", "/boot/vmlinuz"]:
            return " ".join(w for w in words[2:] if not w.startswith(STICK_ONLY))
    raise NetbootError(f"{grub_cfg}: no 'linux /boot/vmlinuz' line")


def ipxe_script(cmdline: str, config_url: str = "") -> str:
    """Relative names resolve against the script's own URL: the files sit beside it."""
    url = config_url.replace("{mac}", "${net0/mac:hexhyp}")
    preset = f"isset ${{config-url}} || set config-url {url}" if url else ""
    preset = preset or f"#set config-url {EXAMPLE}"
    return f"""#!ipxe
# Wipestation network boot, written by `make netboot` (netboot/netboot.py). Loaded over HTTP:
# {KERNEL} and {INITRD} come from this script's directory, the kernel command line is the
# stick's (image/usb/grub.cfg). The station config: set config-url before chaining this script,
# or here; ${{net0/mac:hexhyp}} is this NIC's MAC (52-54-00-12-34-56) for per-station files.
{preset}
isset ${{config-url}} && set wipestation-config wipestation.config=${{config-url}} ||
kernel {KERNEL} initrd={INITRD} {cmdline} ${{wipestation-config}}
initrd {INITRD}
boot
"""


def dnsmasq_conf(server: Server) -> str:
    net = server.network
    return f"""# Wipestation boot server: dnsmasq as proxy-DHCP and TFTP, written by `make netboot`.
# The floor's own DHCP server keeps handing out addresses; this answers PXE clients only.
# Debian: apt install dnsmasq-base ipxe (ipxe puts undionly.kpxe and ipxe.efi in {IPXE_DIR}).
# Check: dnsmasq --test --conf-file=THIS_FILE; run: dnsmasq --no-daemon --conf-file=THIS_FILE
port=0
dhcp-range={net.network_address},proxy,{net.netmask}
enable-tftp
tftp-root={IPXE_DIR}
log-dhcp
# iPXE sends option 175: such a client is past the chain and gets the script over HTTP.
dhcp-match=set:ipxe,175
pxe-service=tag:!ipxe,x86PC,"Wipestation: load iPXE (BIOS)",undionly.kpxe
pxe-service=tag:!ipxe,X86-64_EFI,"Wipestation: load iPXE (UEFI)",ipxe.efi
pxe-service=tag:ipxe,x86PC,"Wipestation",{server.url}
pxe-service=tag:ipxe,X86-64_EFI,"Wipestation",{server.url}
"""


def nginx_conf(server: Server, root: str = "/srv/wipestation") -> str:
    return f"""# Wipestation boot files over HTTP (nginx), written by `make netboot`: copy
# build/netboot/ to {root}/ and include this file in nginx's http block. Per-station
# configs (wipestation.config=) go in {root}/stations/.
server {{
    listen {server.port};
    root {root};
    location / {{
        types {{ text/plain ipxe toml; }}
        default_type application/octet-stream;
    }}
}}
"""


def readme(server: Server) -> str:
    return f"""Wipestation network boot files (make netboot). Serve this directory over HTTP at
http://{server.address}:{server.port}/, e.g. from inside it:

    python3 -m http.server {server.port}

or with nginx ({NGINX}); run dnsmasq with {DNSMASQ} on the same network. Details: the
project README, "Boot a floor of stations from the network".
"""


def place(src: Path, dest: Path) -> None:
    """A hard link where ``build/`` and the output share a file system, else a copy."""
    if not src.is_file():
        raise NetbootError(f"{src} missing: run 'make image' first")
    dest.unlink(missing_ok=True)
    try:
        os.link(src, dest)
    except OSError:
        shutil.copyfile(src, dest)


def write(build: Path, out: Path, server: Server, grub_cfg: Path = GRUB_CFG) -> list[Path]:
    """Every file of the boot server's directory; returns them."""
    out.mkdir(parents=True, exist_ok=True)
    for name in (KERNEL, INITRD):
        place(build / name, out / name)
    texts = {
        SCRIPT: ipxe_script(stick_cmdline(grub_cfg), server.config_url),
        DNSMASQ: dnsmasq_conf(server),
        NGINX: nginx_conf(server),
        README: readme(server),
    }
    for name, text in texts.items():
        (out / name).write_text(text, encoding="utf-8")
    return [out / n for n in (KERNEL, INITRD, *texts)]


def parse_args(argv: list[str]) -> tuple[Path, Path, Server]:
    p = argparse.ArgumentParser(prog="netboot.py", description=__doc__.splitlines()[0])
    p.add_argument("--build", type=Path, default=REPO / "build", help="make image's output")
    p.add_argument("--out", type=Path, help="default: BUILD/netboot")
    p.add_argument("--server", default=Server.address, help="the boot server's IPv4 address")
    p.add_argument("--port", type=int, default=Server.port, help="its HTTP port")
    p.add_argument("--subnet", default="", help="the floor's network (CIDR); default: /24")
    p.add_argument("--config-url", default="", help="station config URL; {mac} = the NIC's MAC")
    a = p.parse_args(argv)
    server = Server(a.server, a.port, a.subnet, a.config_url)
    try:
        ipaddress.IPv4Address(server.address)
        _ = server.network  # validates --subnet
    except ValueError as e:
        raise NetbootError(f"--server/--subnet: {e}") from None
    return a.build, a.out or a.build / "netboot", server


def main(argv: list[str] | None = None) -> int:
    try:
        build, out, server = parse_args(sys.argv[1:] if argv is None else argv)
        files = write(build, out, server)
    except (NetbootError, OSError) as e:
        print(f"netboot: {e}", file=sys.stderr)
        return 2
    for f in files:
        print(f"netboot: {f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
