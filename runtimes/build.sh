#!/usr/bin/env bash
# Build Ledgerwhisk's action runtime images on this machine.
#
#   runtimes/build.sh [--rebuild] [--first] [KIND ...]
#
# KIND is a kind or alias from runtimes/manifest.json ("python:3.11",
# "python:3", "nodejs:default", ...) or a family ("python", "nodejs"); no KIND
# builds every kind that has an image. Kinds without an image (blackbox) are
# skipped: the user supplies those. --first builds only the kinds that are not
# marked "background_build" in the manifest (python and nodejs): `make run`
# serves as soon as those exist and builds the rest in the background.
#
# There is no image registry, so nothing is pulled:
#   1. debootstrap makes one Debian root filesystem (minbase + python3 +
#      nodejs, security updates applied, docs/man/locales/apt lists removed).
#      Its tarball is cached under $LEDGERWHISK_CACHE/rootfs/ (default
#      ~/.cache/ledgerwhisk), keyed by a hash of its recipe; the .debs are
#      cached under $LEDGERWHISK_CACHE/debs/.
#   2. runtimes/base/Dockerfile (FROM scratch, ADD rootfs.tar /) makes the
#      shared base image ledgerwhisk/runtime-base:<key>.
#   3. runtimes/<family>/Dockerfile adds that family's action proxy.
#      A kind with "debian_packages" (java, go, ruby, php) first gets a layer:
#      the base rootfs unpacked, those packages installed with apt-get in a
#      chroot, and only the files that changed packed again (cached under
#      $LEDGERWHISK_CACHE/rootfs/layer-<family>-<key>.tar). Its build context
#      is assembled from the family's directory, runtimes/actionloop/ (the
#      shared proxy, with runtimes/python/proxy.py as its HTTP layer), the
#      layer and the jars of "maven_artifacts" (fetched with mvn into
#      $LEDGERWHISK_CACHE/m2).
#   4. A kind with "libraries" (python, nodejs: OpenWhisk's preinstalled ones)
#      gets them installed here with pip (wheels for the image's CPython) or
#      npm, packed into a tarball cached under $LEDGERWHISK_CACHE/libraries/
#      (pip's and npm's caches beside it) that its Dockerfile ADDs.
# While it runs, $LEDGERWHISK_CACHE/building/<pid> lists the kinds it has yet
# to build: the invoker reads it to tell "being built" from "missing".
# Every image carries the label org.ledgerwhisk.inputs=<hash of its inputs>
# and is skipped when an image with the same hash already exists.
#
# Environment:
#   LEDGERWHISK_CACHE          cache directory (default ~/.cache/ledgerwhisk)
#   LEDGERWHISK_DEBIAN_MIRROR  default http://deb.debian.org/debian
#   LEDGERWHISK_SECURITY_MIRROR default http://deb.debian.org/debian-security
#                              ("none" skips the security updates)
set -euo pipefail
shopt -s inherit_errexit  # a failure inside $(...) stops the build too

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# Everything it prints goes to .state/logs/runtimes-build.log too (the stack's
# state folder: LEDGERWHISK_STATE_DIR), so a build's output outlives the terminal.
# scripts/stack.sh's background build writes to that log itself and sets
# LEDGERWHISK_BUILD_LOGGED.
if [[ -z "${LEDGERWHISK_BUILD_LOGGED:-}" ]]; then
  build_logs="${LEDGERWHISK_STATE_DIR:-$HERE/../.state}/logs"
  mkdir -p "$build_logs"
  export LEDGERWHISK_BUILD_LOGGED=1
  exec > >(tee -a "$build_logs/runtimes-build.log") 2>&1
fi
# Another manifest (images of other names or tags) may be named by the
# environment, as the services read it (runtimes/__init__.py).
MANIFEST="${LEDGERWHISK_RUNTIMES_MANIFEST:-$HERE/manifest.json}"
CACHE="${LEDGERWHISK_CACHE:-$HOME/.cache/ledgerwhisk}"
MIRROR="${LEDGERWHISK_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${LEDGERWHISK_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
SUITE=bookworm                 # python3 = 3.11 and nodejs = 18 come from it
VARIANT=minbase
PACKAGES=python3,nodejs
ACTION_UID=1000                # unprivileged user "action" in the images
BASE_REPO=ledgerwhisk/runtime-base
export DOCKER_BUILDKIT=0       # the classic builder: no buildx on this engine
export DOCKER_CLI_HINTS=false

log() { printf '[runtimes] %s\n' "$*" >&2; }
die() { printf '[runtimes] error: %s\n' "$*" >&2; exit 1; }
started=$SECONDS

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
}

rebuild=0
first=0
kinds=()
for arg in "$@"; do
    case "$arg" in
        -h|--help) usage; exit 0 ;;
        --rebuild) rebuild=1 ;;
        --first) first=1 ;;
        -*) die "unknown option $arg (see runtimes/build.sh --help)" ;;
        *) kinds+=("$arg") ;;
    esac
done

# --- preflight --------------------------------------------------------------
command -v python3 >/dev/null || die "python3 not found: it reads runtimes/manifest.json (apt-get install python3)"
command -v docker >/dev/null || die "docker CLI not found: install it (apt-get install docker.io)"
if ! docker info >/dev/null 2>&1 && [[ -x "$HERE/../scripts/docker.sh" ]]; then
    log "no Docker engine answers: starting one with scripts/docker.sh start ('make down' or scripts/docker.sh stop stops it)"
    "$HERE/../scripts/docker.sh" start || die "scripts/docker.sh could not start the Docker engine (its message is above)"
fi
docker info >/dev/null 2>&1 || die "cannot reach the Docker engine ($(docker info 2>&1 | grep -m1 -i error || echo 'docker info failed')): start dockerd (systemctl start docker, or dockerd &) and run as root or a member of the docker group"
mkdir -p "$CACHE/rootfs" "$CACHE/debs" || die "cannot create the cache directory $CACHE: set LEDGERWHISK_CACHE to a writable directory"

# One build at a time per cache (the test fixture and a developer may race).
exec 9>"$CACHE/build.lock"
if ! flock -n 9; then
    log "waiting for another runtimes/build.sh to finish (lock $CACHE/build.lock)..."
    flock 9
fi

# --- which kinds -------------------------------------------------------------
# Lines of "kind<TAB>image<TAB>family<TAB>packages<TAB>maven artifacts<TAB>proxy<TAB>libraries";
# image "-" for kinds without an image, lists comma-separated ("-" if none);
# libraries "pip:req,req" or "npm:spec,spec" (the kind's "libraries" in the manifest).
selection="$(python3 - "$MANIFEST" "$first" "${kinds[@]}" <<'PY'
import json, sys
path, first, wanted = sys.argv[1], sys.argv[2] == "1", sys.argv[3:]
try:
    kinds = json.load(open(path))["kinds"]
except (OSError, ValueError, KeyError) as e:
    sys.exit(f"[runtimes] error: cannot read the kinds from {path}: {e}")
names = {}
for kind, spec in kinds.items():
    for name in [kind, kind.split(":")[0], *spec.get("aliases", [])]:
        if kind not in names.setdefault(name, []):
            names[name].append(kind)
chosen = []
for name in wanted or list(kinds):
    if name not in names:
        sys.exit(f"[runtimes] error: unknown kind {name!r}; known: {', '.join(sorted(names))}")
    chosen += [k for k in names[name] if k not in chosen]
def joined(items):
    return ",".join(items) or "-"
def libraries(spec):
    found = [f"{tool}:{joined(items)}" for tool, items in spec.get("libraries", {}).items()]
    return found[0] if found else "-"
for kind in chosen:
    spec = kinds[kind]
    if first and spec.get("background_build"):
        continue
    print("\t".join([
        kind, spec.get("image") or "-", kind.split(":")[0],
        joined(spec.get("debian_packages", [])), joined(spec.get("maven_artifacts", [])),
        spec.get("proxy") or "-", libraries(spec),
    ]))
PY
)"

# --- root filesystem ---------------------------------------------------------
# The recipe: its text (these functions and the settings above) is hashed into
# the cache key, so changing it rebuilds the rootfs and every image.
trim_rootfs() {
    local root=$1
    # Nothing at run time needs apt's lists and caches, docs, man pages or
    # translations. Copyright files stay (they are small and are the licence).
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* \
        "$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old \
        "$root"/usr/share/man/* "$root"/usr/share/info/* \
        "$root"/usr/share/lintian "$root"/usr/share/linda \
        "$root"/usr/share/bug "$root"/usr/share/menu \
        "$root"/var/log/* "$root"/tmp/* "$root"/var/tmp/*
    find "$root/usr/share/doc" -mindepth 1 -not -type d -not -name copyright -delete
    find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
    find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +
    # Keep later dpkg runs (someone extending an image) from bringing them back.
    cat >"$root/etc/dpkg/dpkg.cfg.d/ledgerwhisk-nodoc" <<'CFG'
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
CFG
    # Host details that debootstrap copied in; Docker provides its own.
    : >"$root/etc/resolv.conf"
    echo localhost >"$root/etc/hostname"
    # The unprivileged user the action proxies run as.
    echo "action:x:$ACTION_UID:$ACTION_UID:Ledgerwhisk action:/home/action:/usr/sbin/nologin" >>"$root/etc/passwd"
    echo "action:x:$ACTION_UID:" >>"$root/etc/group"
    echo "action:*:19000:0:99999:7:::" >>"$root/etc/shadow"
    mkdir -p "$root/home/action"
    chown "$ACTION_UID:$ACTION_UID" "$root/home/action"
    chmod 1777 "$root/tmp"
}

apply_security_updates() {
    local root=$1
    [ "$SECURITY_MIRROR" = none ] && return 0
    local env=(/usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive)
    # Called in an `||` list, where set -e does not apply: chain with &&.
    echo "deb $SECURITY_MIRROR $SUITE-security main" >"$root/etc/apt/sources.list.d/security.list" \
        && chroot "$root" "${env[@]}" apt-get -q update \
        && chroot "$root" "${env[@]}" apt-get -q -y -o Dpkg::Options::=--force-confold \
            --no-install-recommends upgrade \
        && chroot "$root" apt-get clean
}

rootfs_recipe() {
    printf 'suite=%s variant=%s arch=%s packages=%s uid=%s security=%s\n' \
        "$SUITE" "$VARIANT" "$ARCH" "$PACKAGES" "$ACTION_UID" "$([ "$SECURITY_MIRROR" = none ] && echo no || echo yes)"
    declare -f trim_rootfs apply_security_updates
}

ARCH="$(dpkg --print-architecture 2>/dev/null || uname -m)"
ROOTFS_KEY="$(rootfs_recipe | sha256sum | cut -c1-16)"
ROOTFS_TAR="$CACHE/rootfs/rootfs-$SUITE-$ARCH-$ROOTFS_KEY.tar"
BASE_KEY="$( (echo "rootfs=$ROOTFS_KEY"; cat "$HERE/base/Dockerfile") | sha256sum | cut -c1-16)"
BASE_IMAGE="$BASE_REPO:$BASE_KEY"

unmount_under() {  # lazily unmount anything debootstrap left mounted below $1
    local m
    awk -v p="$1/" 'index($2, p) == 1 {print $2}' /proc/mounts | sort -r | while IFS= read -r m; do
        umount -l "$m" 2>/dev/null || true
    done
}

WORK=""
cleanup() {
    if [ -n "$WORK" ] && [ -d "$WORK" ]; then
        unmount_under "$WORK"
        if awk -v p="$WORK/" 'index($2, p) == 1 {found=1} END {exit !found}' /proc/mounts; then
            log "warning: $WORK still has mounts; not removing it (umount them, then rm -rf it)"
        else
            rm -rf "$WORK"
        fi
    fi
}
trap cleanup EXIT

make_rootfs() {
    [ "$(id -u)" = 0 ] || die "debootstrap needs root: run 'sudo LEDGERWHISK_CACHE=$CACHE runtimes/build.sh' (or as root)"
    command -v debootstrap >/dev/null || die "debootstrap not found: apt-get install debootstrap"
    WORK="$(mktemp -d "$CACHE/rootfs/work.XXXXXX")"
    local root="$WORK/root" logf="$CACHE/rootfs/debootstrap.log"
    log "debootstrap $SUITE (first time takes a few minutes)... log: $logf"
    local t0=$SECONDS status=0
    # debootstrap is chatty: keep its full output in the log, show the stages.
    debootstrap --variant="$VARIANT" --arch="$ARCH" --include="$PACKAGES" \
        --cache-dir="$CACHE/debs" "$SUITE" "$root" "$MIRROR" 2>&1 | tee "$logf" | {
        local line shown_get="" shown_extract=""
        while IFS= read -r line; do
            case "$line" in
                "I: Retrieving InRelease"*) log "  Retrieving the $SUITE release file..." ;;
                "I: Retrieving Release"*|"I: Retrieving Packages"*) ;;
                "I: Retrieving "*)
                    [ -n "$shown_get" ] || log "  Downloading packages (cached in $CACHE/debs)..."
                    shown_get=1 ;;
                "I: Extracting "*)
                    [ -n "$shown_extract" ] || log "  Extracting the packages..."
                    shown_extract=1 ;;
                "I: Resolving dependencies of base"*|"I: Installing core packages"*|\
                "I: Unpacking the base system"*|"I: Configuring the base system"*|\
                "I: Base system installed"*)
                    log "  ${line#I: }" ;;
                "E: "*|"W: "*) log "  $line" ;;
            esac
        done
    } || status=$?
    if [ "$status" != 0 ]; then
        tail -n 15 "$logf" | sed 's/^/[runtimes]   | /' >&2
        die "debootstrap failed (exit $status). Check that $MIRROR is reachable (set LEDGERWHISK_DEBIAN_MIRROR to another Debian mirror), that $CACHE has a few hundred MB free, and the full log $logf"
    fi
    unmount_under "$WORK"
    log "  debootstrap done in $((SECONDS - t0))s"
    if [ "$SECURITY_MIRROR" != none ]; then
        log "applying $SUITE-security updates from $SECURITY_MIRROR..."
        apply_security_updates "$root" >>"$logf" 2>&1 || {
            tail -n 15 "$logf" | sed 's/^/[runtimes]   | /' >&2
            die "security updates failed. Check that $SECURITY_MIRROR is reachable, or set LEDGERWHISK_SECURITY_MIRROR=none to skip them; log: $logf"
        }
        unmount_under "$WORK"
    fi
    log "trimming the rootfs (apt lists, docs, man pages, locales)..."
    trim_rootfs "$root"
    log "packing $ROOTFS_TAR ($(du -sh "$root" | cut -f1) unpacked)..."
    tar --numeric-owner --sort=name -C "$root" -cf "$ROOTFS_TAR.part" . \
        || die "tar of the rootfs failed: is $CACHE full? (df -h $CACHE)"
    mv "$ROOTFS_TAR.part" "$ROOTFS_TAR"
    cleanup
    WORK=""
    # Older recipes' tarballs are dead weight.
    find "$CACHE/rootfs" -maxdepth 1 -name 'rootfs-*.tar' ! -path "$ROOTFS_TAR" -delete
}

# --- images ------------------------------------------------------------------
image_label() {  # image label -> value, empty when the image does not exist
    docker image inspect --format "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true
}

docker_build() {  # docker_build TAG CONTEXT ARGS...: show step lines, whole output on failure
    local tag=$1 ctx=$2 out status=0
    shift 2
    out="$(mktemp)"
    docker build --network none --force-rm -t "$tag" "$@" "$ctx" 2>&1 | tee "$out" | while IFS= read -r line; do
        case "$line" in "Step "*) log "  $line" ;; esac
    done || status=$?
    if [ "$status" != 0 ] || ! docker image inspect "$tag" >/dev/null 2>&1; then
        sed 's/^/[runtimes]   | /' "$out" >&2
        rm -f "$out"
        die "docker build of $tag failed (output above). If the engine is out of space: docker system df; docker image prune"
    fi
    rm -f "$out"
}

retire() {  # remove an image id that a rebuild left untagged (ignore if in use)
    local old=$1 new
    new="$(docker image inspect --format '{{.Id}}' "$2" 2>/dev/null || true)"
    if [ -n "$old" ] && [ "$old" != "$new" ] \
        && [ -z "$(docker image inspect --format '{{join .RepoTags ","}}' "$old" 2>/dev/null)" ]; then
        docker image rm "$old" >/dev/null 2>&1 || true
    fi
}

ensure_base() {
    if [ "$base_checked" = 1 ]; then
        return 0
    fi
    base_checked=1
    if [ "$rebuild" = 0 ] && [ "$(image_label "$BASE_IMAGE" org.ledgerwhisk.inputs)" = "$BASE_KEY" ]; then
        return 0
    fi
    if [ "$rebuild" = 1 ] || [ ! -s "$ROOTFS_TAR" ]; then
        make_rootfs
    else
        log "using cached rootfs $ROOTFS_TAR"
    fi
    log "building base image $BASE_IMAGE..."
    local ctx
    ctx="$(mktemp -d)"
    ln "$ROOTFS_TAR" "$ctx/rootfs.tar" 2>/dev/null || cp "$ROOTFS_TAR" "$ctx/rootfs.tar"
    cp "$HERE/base/Dockerfile" "$ctx/Dockerfile"
    docker_build "$BASE_IMAGE" "$ctx" --build-arg "LEDGERWHISK_ROOTFS_KEY=$ROOTFS_KEY" \
        --label "org.ledgerwhisk.inputs=$BASE_KEY"
    rm -rf "$ctx"
    # Base images of older recipes, unless something still uses them.
    local stale
    for stale in $(docker image ls --format '{{.Repository}}:{{.Tag}}' "$BASE_REPO"); do
        [ "$stale" = "$BASE_IMAGE" ] || docker image rm "$stale" >/dev/null 2>&1 || true
    done
}

inputs_hash() {  # base key (rootfs recipe + base Dockerfile) + every file of the family's directory
    local dir=$1
    {
        echo "base=$BASE_KEY"
        (cd "$dir" && find . -type f ! -path '*/__pycache__/*' ! -name '*.pyc' -print0 \
            | LC_ALL=C sort -z | xargs -0 sha256sum)
    } | sha256sum | cut -c1-16
}

# --- layers of Debian packages (java, go, ruby, php) ----------------------------
# The recipe of a layer: these functions' text, the base rootfs and the packages.
add_packages() {  # add_packages ROOT PACKAGES: apt-get install them in a chroot of ROOT
    local root=$1 packages=$2
    local env=(/usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive)
    local apt=(-q -o APT::Sandbox::User=root -o Dpkg::Options::=--force-confold)
    # Called in an `||` list, where set -e does not apply: chain with &&.
    # Package scripts (a JDK's ca-certificates-java) want /proc and /dev; the
    # .debs go to the same cache as debootstrap's.
    # update-alternatives (a JDK's) needs the man directories the rootfs trimmed.
    mkdir -p "$CACHE/debs/partial" "$root/var/cache/apt/archives" "$root/usr/share/man/man1" \
        && mount -t proc proc "$root/proc" \
        && mount --bind /dev "$root/dev" \
        && mount --bind "$CACHE/debs" "$root/var/cache/apt/archives" \
        && mount --bind /etc/resolv.conf "$root/etc/resolv.conf" \
        && chroot "$root" "${env[@]}" apt-get "${apt[@]}" update \
        && chroot "$root" "${env[@]}" apt-get "${apt[@]}" -y --no-install-recommends \
            install ${packages//,/ }
}

trim_layer() {  # what trim_rootfs removes, again after apt-get
    local root=$1
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin \
        "$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old \
        "$root"/var/log/* "$root"/tmp/* "$root"/var/tmp/* "$root"/root/.cache
}

layer_recipe() {
    printf 'rootfs=%s packages=%s\n' "$ROOTFS_KEY" "$1"
    declare -f add_packages trim_layer pack_layer
}

pack_layer() {  # pack_layer ROOT MARKER TAR: every file changed since MARKER, and only those
    local root=$1 marker=$2 out=$3
    (cd "$root" && find . \( -path ./proc -o -path ./dev -o -path ./sys -o -path ./tmp \) -prune \
        -o -cnewer "$marker" -print0 | LC_ALL=C sort -z \
        | tar --numeric-owner --no-recursion --null -T - -cf "$out")
}

ensure_layer() {  # ensure_layer FAMILY PACKAGES -> prints the layer tarball's path
    local family=$1 packages=$2 key tarball
    key="$(layer_recipe "$packages" | sha256sum | cut -c1-16)"
    tarball="$CACHE/rootfs/layer-$family-$key.tar"
    if [ "$rebuild" = 0 ] && [ -s "$tarball" ]; then
        echo "$tarball"
        return 0
    fi
    [ "$(id -u)" = 0 ] || die "apt-get in a chroot needs root: run runtimes/build.sh as root"
    if [ ! -s "$ROOTFS_TAR" ]; then
        make_rootfs
    fi
    WORK="$(mktemp -d "$CACHE/rootfs/work.XXXXXX")"
    trap cleanup EXIT  # this runs in a $(...) subshell: clean up there too
    local root="$WORK/root" logf="$CACHE/rootfs/layer-$family.log" t0=$SECONDS
    mkdir "$root"
    log "$family: installing ${packages//,/ } from Debian into a layer (first time takes a few minutes)... log: $logf"
    tar --numeric-owner -C "$root" -xpf "$ROOTFS_TAR" || die "cannot unpack $ROOTFS_TAR"
    touch "$WORK/marker"
    if ! add_packages "$root" "$packages" >"$logf" 2>&1; then
        unmount_under "$WORK"
        tail -n 15 "$logf" | sed 's/^/[runtimes]   | /' >&2
        die "apt-get install of ${packages//,/ } failed. Check that $MIRROR is reachable and the full log $logf"
    fi
    unmount_under "$WORK"
    trim_layer "$root"
    pack_layer "$root" "$WORK/marker" "$tarball.part" || die "tar of the $family layer failed: is $CACHE full?"
    mv "$tarball.part" "$tarball"
    log "$family: layer of $(du -h "$tarball" | cut -f1) in $((SECONDS - t0))s"
    cleanup
    WORK=""
    find "$CACHE/rootfs" -maxdepth 1 -name "layer-$family-*.tar" ! -path "$tarball" -delete
    echo "$tarball"
}

fetch_jars() {  # fetch_jars DIR ARTIFACTS: group:artifact:version jars from Maven Central into DIR
    local dir=$1 artifact
    command -v mvn >/dev/null || die "mvn not found: it fetches ${2//,/ } from Maven Central (apt-get install maven)"
    mkdir -p "$dir"
    for artifact in ${2//,/ }; do
        mvn -B -q -Dmaven.repo.local="$CACHE/m2" \
            org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy \
            -Dartifact="$artifact" -DoutputDirectory="$dir" -Dmdep.stripVersion=true \
            >"$CACHE/mvn.log" 2>&1 || {
                tail -n 20 "$CACHE/mvn.log" | sed 's/^/[runtimes]   | /' >&2
                die "mvn could not fetch $artifact from Maven Central (full log $CACHE/mvn.log)"
            }
    done
}

# --- libraries preinstalled as OpenWhisk's runtimes have them (python, nodejs) ---
# pip wheels for the image's CPython (no compiler in the image) or npm packages,
# installed once on this machine into a tarball cached under
# $LEDGERWHISK_CACHE/libraries/, keyed by the list; the image ADDs it.
PIP_PYTHON="${LEDGERWHISK_PIP_PYTHON:-$HERE/../.venv/bin/python}"
ensure_libraries() {  # ensure_libraries KIND LIBRARIES -> prints the tarball's path
    local kind=$1 libraries=$2 key tarball work tool list version logf platform
    case $ARCH in
        amd64|x86_64) platform=manylinux2014_x86_64 ;;
        arm64|aarch64) platform=manylinux2014_aarch64 ;;
        *) die "$kind: no wheels for the architecture $ARCH are known here (amd64, arm64)" ;;
    esac
    # The key: the list, the machine's architecture, this recipe's text and the
    # installers' versions, so a change to any of them installs again.
    key="$({
        printf '%s\n' "$kind" "$libraries" "$platform"
        declare -f ensure_libraries
        case ${libraries%%:*} in
            pip) "$PIP_PYTHON" -m pip --version 2>/dev/null ;;
            npm) npm --version 2>/dev/null; node --version 2>/dev/null ;;
        esac
    } | sha256sum | cut -c1-16)"
    tarball="$CACHE/libraries/${kind//[:.]/-}-$key.tar"
    if [ "$rebuild" = 0 ] && [ -s "$tarball" ]; then
        echo "$tarball"
        return 0
    fi
    mkdir -p "$CACHE/libraries"
    work="$(mktemp -d "$CACHE/libraries/work.XXXXXX")"
    tool=${libraries%%:*}
    list=${libraries#*:}
    logf="$CACHE/libraries/${kind//[:.]/-}.log"
    log "$kind: installing its $(wc -w <<<"${list//,/ }") preinstalled libraries with $tool (listed in $MANIFEST)... log: $logf"
    case $tool in
        pip)
            [ -x "$PIP_PYTHON" ] || die "$PIP_PYTHON not found: it installs $kind's libraries (run scripts/python.sh, or set LEDGERWHISK_PIP_PYTHON to a python3 with pip)"
            version=${kind#*:}
            # shellcheck disable=SC2086  # the list is split on purpose
            "$PIP_PYTHON" -m pip install --disable-pip-version-check --no-compile \
                --target "$work/root" --only-binary=:all: --implementation cp \
                --python-version "$version" --abi "cp${version//./}" \
                --platform "$platform" --cache-dir "$CACHE/pip" ${list//,/ } \
                >"$logf" 2>&1 || {
                    tail -n 15 "$logf" | sed 's/^/[runtimes]   | /' >&2
                    rm -rf "$work"
                    die "pip could not install $kind's libraries from PyPI (full log $logf)"
                }
            rm -rf "$work/root/bin"  # console scripts, with this machine's python in their #!
            ;;
        npm)
            command -v npm >/dev/null || die "npm not found: it installs $kind's libraries (apt-get install npm)"
            mkdir -p "$work/root"
            # shellcheck disable=SC2086
            npm install --no-audit --no-fund --omit=dev --no-package-lock --no-save \
                --cache "$CACHE/npm" --prefix "$work/root" ${list//,/ } >"$logf" 2>&1 || {
                    tail -n 15 "$logf" | sed 's/^/[runtimes]   | /' >&2
                    rm -rf "$work"
                    die "npm could not install $kind's libraries from the registry (full log $logf)"
                }
            rm -f "$work/root/package.json"
            ;;
        *) rm -rf "$work"; die "$kind: unknown library tool '$tool' in $MANIFEST (pip or npm)" ;;
    esac
    find "$work/root" -name __pycache__ -prune -exec rm -rf {} +
    tar --numeric-owner --owner=0 --group=0 --sort=name -C "$work/root" -cf "$tarball.part" . \
        || { rm -rf "$work" "$tarball.part"; die "tar of $kind's libraries failed: is $CACHE full?"; }
    mv "$tarball.part" "$tarball"
    rm -rf "$work"
    find "$CACHE/libraries" -maxdepth 1 -name "${kind//[:.]/-}-*.tar" ! -path "$tarball" -delete
    log "$kind: libraries of $(du -h "$tarball" | cut -f1)"
    echo "$tarball"
}

context_for() {  # context_for KIND PACKAGES ARTIFACTS PROXY LIBRARIES -> a temporary build context
    local kind=$1 family=${1%%:*} packages=$2 artifacts=$3 proxy=$4 libraries=$5 ctx
    ctx="$(mktemp -d)"
    cp -r "$HERE/$family/." "$ctx/"
    if [ "$proxy" != "-" ]; then
        mkdir -p "$ctx/$proxy"
        cp "$HERE/$proxy/"*.py "$ctx/$proxy/"
        cp "$HERE/python/proxy.py" "$ctx/$proxy/pyproxy.py"
    fi
    [ "$artifacts" = "-" ] || fetch_jars "$ctx/jars" "$artifacts"
    if [ "$packages" != "-" ]; then
        local tarball
        tarball="$(ensure_layer "$family" "$packages")"
        echo "layer=$(basename "$tarball")" >"$ctx/.layer"
        ln "$tarball" "$ctx/layer.tar" 2>/dev/null || cp "$tarball" "$ctx/layer.tar"
    else
        : >"$ctx/.layer"
    fi
    if [ "$libraries" != "-" ]; then
        local libs
        libs="$(ensure_libraries "$kind" "$libraries")"
        echo "libraries=$(basename "$libs")" >"$ctx/.libraries"
        ln "$libs" "$ctx/libraries.tar" 2>/dev/null || cp "$libs" "$ctx/libraries.tar"
    fi
    find "$ctx" -name __pycache__ -prune -exec rm -rf {} +
    echo "$ctx"
}

context_hash() {  # base key + every file of an assembled context but the tarballs (named in .layer, .libraries)
    {
        echo "base=$BASE_KEY"
        (cd "$1" && find . -type f ! -name layer.tar ! -name libraries.tar -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
    } | sha256sum | cut -c1-16
}

# --- which kinds are being built, for the invoker ------------------------------
BUILDING="$CACHE/building/$$"
pending=()
while IFS=$'\t' read -r kind image _rest; do
    [ -n "$kind" ] && [ "$image" != "-" ] && pending+=("$kind")
done <<<"$selection"
mark_pending() {  # the kinds not yet done, one a line; gone once the build ends
    mkdir -p "$CACHE/building"
    printf '%s\n' "${pending[@]}" >"$BUILDING.part" && mv "$BUILDING.part" "$BUILDING"
}
done_with() {
    local k rest=()
    for k in "${pending[@]}"; do [ "$k" = "$1" ] || rest+=("$k"); done
    pending=("${rest[@]}")
    mark_pending
}
trap 'rm -f "$BUILDING" "$BUILDING.part"; cleanup' EXIT
mark_pending

base_checked=0
built=0
total=${#pending[@]}
n=0
while IFS=$'\t' read -r kind image family packages artifacts proxy libraries; do
    [ -n "$kind" ] || continue
    if [ "$image" = "-" ]; then
        log "$kind: no image (the user supplies it); skipped"
        continue
    fi
    n=$((n + 1))
    dir="$HERE/$family"
    [ -f "$dir/Dockerfile" ] || die "$kind: no build recipe: $dir/Dockerfile is missing (add it, or set \"image\": null in $MANIFEST)"
    ctx=""
    if [ "$packages" = "-" ] && [ "$artifacts" = "-" ] && [ "$proxy" = "-" ] && [ "$libraries" = "-" ]; then
        hash="$(inputs_hash "$dir")"  # a family's own directory is the context
    else
        # Cheap to assemble but for a missing layer, jars or libraries: built here once.
        ctx="$(context_for "$kind" "$packages" "$artifacts" "$proxy" "$libraries" </dev/null)"
        hash="$(context_hash "$ctx")"
    fi
    if [ "$rebuild" = 0 ] && [ "$(image_label "$image" org.ledgerwhisk.inputs)" = "$hash" ]; then
        log "($n/$total) $kind: $image is up to date ($hash)"
        [ -z "$ctx" ] || rm -rf "$ctx"
        done_with "$kind"
        continue
    fi
    ensure_base
    log "($n/$total) $kind: building $image..."
    old="$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)"
    docker_build "$image" "${ctx:-$dir}" --build-arg "BASE=$BASE_IMAGE" \
        --label "org.ledgerwhisk.kind=$kind" --label "org.ledgerwhisk.inputs=$hash" \
        --label "org.ledgerwhisk.rootfs=$ROOTFS_KEY"
    [ -z "$ctx" ] || rm -rf "$ctx"
    retire "$old" "$image"
    log "($n/$total) $kind: $image built ($(docker image inspect --format '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}'))"
    built=$((built + 1))
    done_with "$kind"
done <<<"$selection"

log "done in $((SECONDS - started))s ($built image(s) built)"
