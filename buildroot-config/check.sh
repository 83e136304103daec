#!/bin/bash
# Offline validation of this br2-external tree against a Buildroot checkout.
# Downloads no sources and builds nothing but Buildroot's kconfig.
#
#   buildroot-config/check.sh /path/to/buildroot
#
# 1. defconfig -> .config: every BR2_ line of the defconfig must survive
#    verbatim (kconfig silently drops unknown symbols and symbols whose
#    "depends on" is not met); prints MISMATCH lines.
# 2. savedefconfig round trip: the committed defconfig is in normal form.
# 3. utils/check-package -b on every file of the tree (python-magic and
#    flake8 in a private venv outside the repo, shellcheck from the host).
# 4. make show-info: every .mk parses; the tree's packages are present with
#    the versions their recipes pin; Python package versions that differ
#    from requirements.lock are listed as DRIFT (information only).
# Exit status: 0 when 1-4 pass. Env: BR_CHECK_VENV (venv for check-package).
set -uo pipefail

BUILDROOT=${1:?usage: $0 /path/to/buildroot}
BUILDROOT=$(cd "$BUILDROOT" && pwd) || exit 2
EXT=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$EXT")
DEFCONFIG=wipestation_x86_64_defconfig
if [ ! -f "$BUILDROOT/Makefile" ] || [ ! -d "$BUILDROOT/package" ]; then
	echo "not a Buildroot tree: $BUILDROOT" >&2
	exit 2
fi

OUT=$(mktemp -d "${TMPDIR:-/tmp}/wipestation-br-check.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
t0=$SECONDS
failures=0
fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}
brmake() { make -s -C "$BUILDROOT" O="$OUT" "$@"; }

echo "== buildroot: $BUILDROOT ($(git -C "$BUILDROOT" describe --tags 2>/dev/null || head -n 1 "$BUILDROOT/CHANGES" 2>/dev/null))"

echo "== 1. $DEFCONFIG -> .config"
if ! brmake BR2_EXTERNAL="$EXT" "$DEFCONFIG" >"$OUT/defconfig.log" 2>&1; then
	cat "$OUT/defconfig.log"
	fail "make $DEFCONFIG"
	echo "== $failures failure(s) ($((SECONDS - t0)) s)"
	exit 1
fi
mismatches=0
while IFS= read -r line; do
	case $line in
	BR2_*=*) sym=${line%%=*} ;;
	"# BR2_"*" is not set") sym=${line#\# } sym=${sym%% *} ;;
	*) continue ;;
	esac
	grep -qxF -- "$line" "$OUT/.config" && continue
	have=$(grep -E "^($sym=|# $sym is not set)" "$OUT/.config" || true)
	echo "MISMATCH: $line  ->  ${have:-<absent: unknown symbol or unmet dependency>}"
	mismatches=$((mismatches + 1))
done <"$EXT/configs/$DEFCONFIG"
[ "$mismatches" -eq 0 ] || fail "$mismatches defconfig line(s) did not survive in .config"

echo "== 2. savedefconfig round trip"
brmake BR2_DEFCONFIG="$OUT/saved_defconfig" savedefconfig >"$OUT/savedefconfig.log" 2>&1 ||
	fail "make savedefconfig: $(cat "$OUT/savedefconfig.log")"
if ! diff -u "$EXT/configs/$DEFCONFIG" "$OUT/saved_defconfig"; then
	fail "configs/$DEFCONFIG is not in savedefconfig form (diff above: - committed, + normalised)"
fi

echo "== 3. utils/check-package -b"
VENV=${BR_CHECK_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/wipestation/br-check-venv}
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import magic, flake8' 2>/dev/null; then
	{ python3 -m venv "$VENV" && "$VENV/bin/python" -m pip install -q python-magic flake8; } 2>&1 |
		{ grep -v 'is ignored: it is neither a file nor a directory' || true; }
	"$VENV/bin/python" -c 'import magic, flake8' 2>/dev/null ||
		fail "cannot set up $VENV with python-magic and flake8"
fi
command -v shellcheck >/dev/null || fail "shellcheck not installed (apt-get install shellcheck)"
(
	cd "$EXT" &&
		find . -type f ! -name '*.pyc' ! -path '*/__pycache__/*' -printf '%P\n' | LC_ALL=C sort |
		xargs "$VENV/bin/python" "$BUILDROOT/utils/check-package" -b
) >"$OUT/check-package.log" 2>&1
cp_rc=$?
cat "$OUT/check-package.log"
# check-package exits 0 even with warnings; any "file:line: message" line counts.
if [ "$cp_rc" -ne 0 ] || grep -qE '^[^ ]+:[0-9]+: ' "$OUT/check-package.log"; then
	fail "check-package reported problems"
fi

echo "== 4. make show-info"
if brmake show-info >"$OUT/show-info.json" 2>"$OUT/show-info.err"; then
	python3 - "$OUT/show-info.json" "$EXT" "$REPO/requirements.lock" <<'PY' || fail "show-info checks"
import json, pathlib, re, sys, tomllib

info = json.load(open(sys.argv[1]))
ext = pathlib.Path(sys.argv[2])
lock = {}
for line in pathlib.Path(sys.argv[3]).read_text().splitlines():
    m = re.match(r"([A-Za-z0-9_.-]+)==(\S+)", line.strip())
    if m:
        lock[re.sub(r"[-_.]+", "-", m[1]).lower()] = m[2]
bad = 0
for mk in sorted(ext.glob("package/*/*.mk")):
    name = mk.parent.name
    var = name.upper().replace("-", "_") + "_VERSION"
    want = re.search(rf"^{var}\s*=\s*(\S+)", mk.read_text(), re.M)[1]
    got = info.get(name, {}).get("version")
    if got != want:
        print(f"FAIL: show-info {name}: version {got!r}, recipe pins {want!r}")
        bad += 1
for must in ("python-wipestation", "python-textual", "python-pyudev", "python-serial",
             "python-cryptography", "hdparm", "nvme", "sg3_utils", "smartmontools", "systemd",
             "linux", "grub2", "host-genimage"):
    if must not in info:
        print(f"FAIL: show-info: {must} is not selected")
        bad += 1
for pkg, meta in sorted(info.items()):
    if not pkg.startswith("python-") or meta.get("type") != "target":
        continue
    pin = lock.get(pkg.removeprefix("python-")) or lock.get(pkg.removeprefix("python-") + "-py")
    if pkg == "python-serial":
        pin = lock.get("pyserial")
    if pin and pin != meta.get("version"):
        print(f"DRIFT: {pkg} {meta.get('version')} in Buildroot, requirements.lock pins {pin}")
# Upstream versions may lag requirements.lock but must meet pyproject.toml's minimums.
def vtuple(v):
    return tuple(int(x) for x in re.findall(r"\d+", v)[:3])
pyproject = tomllib.loads((ext.parent / "pyproject.toml").read_text())
for dep in pyproject["project"]["dependencies"]:
    m = re.match(r"([A-Za-z0-9_.-]+)\s*>=\s*([0-9.]+)", dep)
    if not m:
        continue
    name = re.sub(r"[-_.]+", "-", m[1]).lower()
    pkg = {"pyserial": "python-serial"}.get(name, "python-" + name)
    got = info.get(pkg, {}).get("version")
    if got is None or vtuple(got) < vtuple(m[2]):
        print(f"FAIL: {pkg} {got} does not satisfy pyproject.toml {dep!r}")
        bad += 1
print(f"show-info: {len(info)} packages, {bad} problem(s)")
sys.exit(1 if bad else 0)
PY
else
	cat "$OUT/show-info.err"
	fail "make show-info"
fi

echo "== $failures failure(s) ($((SECONDS - t0)) s)"
[ "$failures" -eq 0 ]
