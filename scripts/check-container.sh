#!/usr/bin/env bash
# Proves the Dockerfile (issue #11 point 8, least privilege): builds the image, runs it, signs in
# with the demo login it prints on first start, and checks that the service runs as the
# unprivileged `vaskem` user, holds no capabilities and can write only its data directory (and
# the sticky temporary directories every Debian image has). A second run adds a read-only root
# filesystem, no capabilities at all and no-new-privileges, to show the image needs none of them.
#
# Usage: scripts/check-container.sh   (as root on a Debian machine; reruns reuse the base images)
#   CONTAINER_ENGINE=podman|docker    default podman; docker needs a dockerd, started here if none
#   BASES=auto|local                  auto: the Dockerfile's own bases if present or pullable, else
#                                     equivalents made from Debian packages; local: always those
#   DEBIAN_MIRROR, DEBIAN_SECURITY_MIRROR   where debootstrap and apt fetch packages
#   VASKEM_IMAGE                      tag of the built image (default localhost/vaskem:check)
#   VASKEM_CHECK_PORT                 host port the service listens on (default 18080)
#   CLEAN=1                           remove the built image and the local bases at the end
#
# Without a registry the bases are made like this: `debootstrap --variant=minbase bookworm`,
# slimmed the way Debian's official images are (no docs, man pages or locales; apt lists removed)
# and imported as the runtime base; the build base adds gcc and the machine's own Rust toolchain
# of the Dockerfile's version (Debian's rustc is too old for edition 2024). The committed
# Dockerfile is unchanged by this: its ARG defaults stay the Docker Hub images.
set -euo pipefail

cd "$(dirname "$0")/.."

engine=${CONTAINER_ENGINE:-podman}
bases=${BASES:-auto}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
security_mirror=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
image=${VASKEM_IMAGE:-localhost/vaskem:check}
port=${VASKEM_CHECK_PORT:-18080}
suite=bookworm

# The Dockerfile's defaults are what a user with Docker Hub builds from.
rust_image=$(sed -n 's/^ARG RUST_IMAGE=//p' Dockerfile)
runtime_image=$(sed -n 's/^ARG RUNTIME_IMAGE=//p' Dockerfile)
rust_version=${rust_image#rust:}
rust_version=${rust_version%%-*}
[[ -n $rust_image && -n $runtime_image && -n $rust_version ]] ||
    { echo "Dockerfile lacks ARG RUST_IMAGE / ARG RUNTIME_IMAGE defaults" >&2; exit 1; }
local_runtime_image=localhost/vaskem-base/debian:$suite-slim
local_rust_image=localhost/vaskem-base/rust:$rust_version-$suite

work=$(mktemp -d /tmp/vaskem-check.XXXXXX)
containers=()
started_dockerd=
script_start=$SECONDS
step_name=
step_start=$SECONDS
timings=()

say() { printf '%s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
ok() { printf '  ok: %s\n' "$*"; }
step() {
    finish_step
    step_name=$1
    step_start=$SECONDS
    printf '\n==> %s\n' "$step_name"
}
finish_step() {
    if [[ -n $step_name ]]; then
        local took=$((SECONDS - step_start))
        printf '    (%ds)\n' "$took"
        timings+=("$(printf '%5ds  %s' "$took" "$step_name")")
    fi
    step_name=
}

cleanup() {
    local status=$?
    local c
    for c in "${containers[@]}"; do
        "$engine" rm -f -v "$c" >/dev/null 2>&1 || true
    done
    if [[ -n $started_dockerd ]]; then
        kill "$started_dockerd" 2>/dev/null || true
        wait "$started_dockerd" 2>/dev/null || true
    fi
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT

as_root() { [[ $(id -u) == 0 ]] || fail "$* needs root (run the script as root)"; }

apt_install() {
    local missing=() pkg
    for pkg in "$@"; do
        dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$pkg")
    done
    ((${#missing[@]})) || return 0
    as_root "installing ${missing[*]}"
    say "  installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 || {
        apt-get update -q >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
    }
}

image_exists() { "$engine" image inspect "$1" >/dev/null 2>&1; }

# Docker Hub's short names, spelled out (podman resolves no short names without configuration).
qualified() {
    case $1 in
        */*/*) printf '%s' "$1" ;;
        */*) printf 'docker.io/%s' "$1" ;;
        *) printf 'docker.io/library/%s' "$1" ;;
    esac
}

# ---------------------------------------------------------------------------------------------
step "Tools and container engine ($engine)"
apt_install curl
run_flags=()
build_flags=()
case $engine in
    podman)
        apt_install podman
        ;;
    docker)
        command -v dockerd >/dev/null || apt_install docker.io
        if ! docker info >/dev/null 2>&1; then
            as_root "starting dockerd"
            # vfs needs nothing from the kernel beyond a plain filesystem; with no bridge and no
            # iptables the containers use the host's network (builds fetch crates through it).
            say "  starting dockerd (vfs, no bridge, no iptables); log in $work/dockerd.log"
            dockerd --storage-driver=vfs --iptables=false --bridge=none \
                >"$work/dockerd.log" 2>&1 &
            started_dockerd=$!
            for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
            docker info >/dev/null 2>&1 || { tail -20 "$work/dockerd.log" >&2; fail "dockerd did not start"; }
        fi
        # Without the buildx plugin, say so rather than let the client guess.
        docker buildx version >/dev/null 2>&1 || export DOCKER_BUILDKIT=0
        ;;
    *) fail "CONTAINER_ENGINE must be podman or docker, not $engine" ;;
esac
"$engine" --version

# ---------------------------------------------------------------------------------------------
step "Base images"
use_dockerfile_bases=
if [[ $bases == auto ]]; then
    rust_image=$(qualified "$rust_image")
    runtime_image=$(qualified "$runtime_image")
    if (image_exists "$rust_image" || timeout 300 "$engine" pull -q "$rust_image") &&
        (image_exists "$runtime_image" || timeout 300 "$engine" pull -q "$runtime_image"); then
        use_dockerfile_bases=1
    else
        say "  $rust_image / $runtime_image not available: making equivalents from Debian packages"
    fi
fi
if [[ -n $use_dockerfile_bases ]]; then
    build_rust_image=$rust_image
    build_runtime_image=$runtime_image
else
    build_rust_image=$local_rust_image
    build_runtime_image=$local_runtime_image
    if image_exists "$local_runtime_image"; then
        say "  $local_runtime_image exists"
    else
        as_root "debootstrap"
        apt_install debootstrap
        root=$work/rootfs
        say "  debootstrap --variant=minbase $suite from $mirror"
        debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
            { tail -20 "$work/debootstrap.log" >&2; fail "debootstrap failed"; }
        # Slim the way Debian's official -slim images are (debuerreotype's slimify): these
        # paths are neither shipped now nor installed later.
        cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
EOF
        find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
        find "$root/usr/share/doc" -mindepth 1 -depth -type d -empty -delete
        rm -rf "$root"/usr/share/{groff,info,linda,lintian,locale,man}/*
        # The official images' apt settings: no package cache kept, sources in deb822 form.
        cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
        echo 'Acquire::Languages "none";' >"$root/etc/apt/apt.conf.d/docker-no-languages"
        rm -f "$root/etc/apt/sources.list"
        cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security_mirror
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
        # The engine provides these per container; debootstrap copied the host's.
        rm -f "$root/etc/resolv.conf" "$root/etc/hostname"
        rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/var/log/*.log \
            "$root"/var/log/apt/*
        tar --numeric-owner -C "$root" -c . |
            "$engine" import --change 'CMD ["bash"]' - "$local_runtime_image" >/dev/null
        rm -rf "$root"
        say "  imported $local_runtime_image"
    fi
fi

# podman (as root) asks runc for RLIMIT_NOFILE 1048576 and a high RLIMIT_NPROC; without
# CAP_SYS_RESOURCE (as in some sandboxes) runc cannot raise them: "error setting rlimit type 7
# (or 6): operation not permitted". Then ask for what the host can grant (NPROC was refused here
# above kernel.pid_max).
if [[ $engine == podman ]] &&
    ! probe=$(podman run --rm --network none "$build_runtime_image" true 2>&1); then
    if [[ $probe == *"error setting rlimit"* ]]; then
        nofile=$(ulimit -Hn)
        nproc=$(ulimit -Hu)
        pid_max=$(cat /proc/sys/kernel/pid_max)
        [[ $nofile == unlimited ]] && nofile=1048576
        [[ $nproc == unlimited || $nproc -gt $pid_max ]] && nproc=$pid_max
        run_flags+=(--ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc")
        build_flags+=(--ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc")
        say "  podman's default rlimits are refused here ($probe); using ${run_flags[*]}"
        podman run --rm --network none "${run_flags[@]}" "$build_runtime_image" true ||
            fail "podman cannot run a container"
    else
        fail "podman cannot run a container: $probe"
    fi
fi

if [[ -z $use_dockerfile_bases ]]; then
    if image_exists "$local_rust_image"; then
        say "  $local_rust_image exists"
    else
        # The machine's toolchain stands in for the rust image's (same version, same glibc).
        command -v rustc >/dev/null || fail "no rustc on this machine to make $local_rust_image from"
        host_version=$(rustc -V | awk '{print $2}')
        [[ $host_version == "$rust_version" || $host_version == "$rust_version".* ]] ||
            fail "the Dockerfile builds with Rust $rust_version; this machine's rustc is $host_version"
        host_triple=$(rustc -vV | sed -n 's/^host: //p')
        sysroot=$(rustc --print sysroot)
        toolchain=$host_version-$host_triple
        ctx=$work/rust-base
        mkdir -p "$ctx/toolchain"
        say "  copying the toolchain $toolchain from $sysroot (without its docs)"
        tar -C "$sysroot" --exclude=./share/doc -c . | tar -C "$ctx/toolchain" -x
        # cargo fetches crates over HTTPS from inside the build: where the machine reaches the
        # internet through a TLS-inspecting proxy, this build base trusts the certificate
        # authorities the machine itself added (the runtime image gets none of them).
        mkdir -p "$ctx/extra-ca"
        if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
            cp /usr/local/share/ca-certificates/*.crt "$ctx/extra-ca/"
            say "  adding the machine's own CAs to the build base: $(cd "$ctx/extra-ca" && echo *.crt)"
        fi
        cat >"$ctx/Containerfile" <<EOF
FROM $local_runtime_image
RUN apt-get update \\
 && apt-get install -y --no-install-recommends ca-certificates gcc libc6-dev make pkg-config \\
 && rm -rf /var/lib/apt/lists/*
COPY extra-ca/ /usr/local/share/ca-certificates/
RUN update-ca-certificates
COPY toolchain /usr/local/rustup/toolchains/$toolchain
RUN mkdir -p /usr/local/cargo/bin \\
 && ln -s /usr/local/rustup/toolchains/$toolchain/bin/* /usr/local/cargo/bin/
ENV RUSTUP_HOME=/usr/local/rustup \\
    CARGO_HOME=/usr/local/cargo \\
    PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
    RUST_VERSION=$host_version
EOF
        "$engine" build "${build_flags[@]}" --network host -f "$ctx/Containerfile" \
            -t "$local_rust_image" "$ctx" >"$work/rust-base.log" 2>&1 ||
            { tail -30 "$work/rust-base.log" >&2; fail "building $local_rust_image failed"; }
        rm -rf "$ctx"
        say "  built $local_rust_image"
    fi
    "$engine" run --rm --network none "${run_flags[@]}" "$local_rust_image" cargo --version
fi

# ---------------------------------------------------------------------------------------------
step "Build $image (release; crates come from crates.io through the host network)"
say "  $engine build ${build_flags[*]} --network host --build-arg RUST_IMAGE=$build_rust_image --build-arg RUNTIME_IMAGE=$build_runtime_image -t $image ."
"$engine" build "${build_flags[@]}" --network host \
    --build-arg "RUST_IMAGE=$build_rust_image" --build-arg "RUNTIME_IMAGE=$build_runtime_image" \
    -t "$image" . >"$work/build.log" 2>&1 ||
    { tail -40 "$work/build.log" >&2; fail "image build failed"; }
grep -E 'Finished .release|Compiling vaskem ' "$work/build.log" | sed 's/\x1b\[[0-9;]*m//g; s/^ */  /' || true
size=$("$engine" image inspect --format '{{.Size}}' "$image")
say "  image size: $((size / 1000 / 1000)) MB ($size bytes)"

# ---------------------------------------------------------------------------------------------
step "Image configuration"
user=$("$engine" image inspect --format '{{.Config.User}}' "$image")
entrypoint=$("$engine" image inspect --format '{{json .Config.Entrypoint}}' "$image")
volumes=$("$engine" image inspect --format '{{json .Config.Volumes}}' "$image")
say "  User=$user Entrypoint=$entrypoint Volumes=$volumes"
[[ $user == vaskem:vaskem ]] || fail "the image's user is '$user', not vaskem:vaskem"
[[ $entrypoint == '["/usr/local/bin/vaskem"]' ]] || fail "unexpected entrypoint $entrypoint"
[[ $volumes == *'"/var/lib/vaskem"'* ]] || fail "/var/lib/vaskem is not a volume"
ok "runs as vaskem:vaskem, exec-form entrypoint, data directory is a volume"

# Starts a container on the host's network (the docker daemon here has no bridge) and waits for
# its demo login; sets $container, $email, $password, $organisation.
start_service() {
    local name=$1
    shift
    container=$name
    containers+=("$container")
    "$engine" rm -f -v "$container" >/dev/null 2>&1 || true
    if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
        fail "port $port is already in use (set VASKEM_CHECK_PORT)"
    fi
    "$engine" run -d --name "$container" --network host "${run_flags[@]}" "$@" \
        -e "VASKEM_LISTEN=127.0.0.1:$port" "$image" >/dev/null
    local logs=
    for _ in $(seq 120); do
        logs=$("$engine" logs "$container" 2>&1)
        [[ $logs == *"This password is shown only now."* ]] && break
        [[ $("$engine" inspect --format '{{.State.Running}}' "$container") == true ]] ||
            { printf '%s\n' "$logs" >&2; fail "the container stopped"; }
        sleep 1
    done
    organisation=$(sed -n 's/^  organisation: *//p' <<<"$logs")
    email=$(sed -n 's/^  email: *//p' <<<"$logs")
    password=$(sed -n 's/^  password: *//p' <<<"$logs")
    [[ -n $organisation && -n $email && -n $password ]] ||
        { printf '%s\n' "$logs" >&2; fail "no demo login in the container's log"; }
    for _ in $(seq 30); do
        curl -s -o /dev/null "http://127.0.0.1:$port/graphql" && break
        sleep 1
    done
    say "  demo login printed: organisation $organisation, email $email, password (${#password} characters)"
}

json_string() {
    local s=${1//\\/\\\\}
    s=${s//\"/\\\"}
    printf '"%s"' "$s"
}

# Signs in with the printed login, then asks who is signed in with the session cookie.
sign_in() {
    local body headers response cookie
    # shellcheck disable=SC2016 # GraphQL variables, not shell ones
    body=$(printf '{"query":"mutation($o: String!, $e: String!, $p: String!) { login(input: {organisation: $o, email: $e, password: $p}) { user { email } userErrors { message } } }","variables":{"o":%s,"e":%s,"p":%s}}' \
        "$(json_string "$organisation")" "$(json_string "$email")" "$(json_string "$password")")
    headers=$work/headers
    response=$(curl -sS -D "$headers" -H 'Content-Type: application/json' --data-binary "$body" \
        "http://127.0.0.1:$port/graphql")
    say "  login: $response"
    [[ $response == *"\"user\":{\"email\":$(json_string "$email")}"* ]] || fail "sign-in failed"
    cookie=$(sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p' "$headers" | head -1)
    [[ -n $cookie ]] || fail "no session cookie on the login response"
    response=$(curl -sS -H 'Content-Type: application/json' -H "Cookie: $cookie" \
        --data-binary '{"query":"{ me { email } }"}' "http://127.0.0.1:$port/graphql")
    say "  me: $response"
    [[ $response == *"\"me\":{\"email\":$(json_string "$email")}"* ]] ||
        fail "the session cookie does not sign in"
    ok "signed in as $email over HTTP with the printed password"
}

in_container() { "$engine" exec "$container" "$@"; }

# ---------------------------------------------------------------------------------------------
step "Run as a user would (defaults, anonymous volume) and sign in"
start_service "vaskem-check-$$"
sign_in

# ---------------------------------------------------------------------------------------------
step "Who the service runs as, and what it can write"
say "  id: $(in_container id)"
[[ $(in_container id -un) == vaskem ]] || fail "exec runs as $(in_container id -un)"
[[ $(in_container id -u) != 0 ]] || fail "exec runs as uid 0"
uid=$(in_container id -u)
# PID 1 is the service itself (exec-form entrypoint): its real, effective, saved and filesystem
# ids are vaskem's, and it holds no capabilities.
status=$(in_container cat /proc/1/status)
cmdline=$(in_container cat /proc/1/cmdline | tr '\0' ' ')
say "  PID 1: $cmdline"
say "  $(grep -E '^(Uid|Gid|CapPrm|CapEff|CapBnd|NoNewPrivs):' <<<"$status" | tr '\n' ' ' | tr -s '\t ' ' ')"
[[ $cmdline == "/usr/local/bin/vaskem serve " ]] || fail "PID 1 is not vaskem serve"
grep -Eq "^Uid:\s+$uid\s+$uid\s+$uid\s+$uid$" <<<"$status" || fail "PID 1 does not run as uid $uid"
grep -Eq '^CapEff:\s+0+$' <<<"$status" || fail "PID 1 has effective capabilities"
grep -Eq '^CapPrm:\s+0+$' <<<"$status" || fail "PID 1 has permitted capabilities"
host_pid=$("$engine" inspect --format '{{.State.Pid}}' "$container")
host_uid=$(awk '/^Uid:/ {print $2}' "/proc/$host_pid/status")
say "  on the host: pid $host_pid, uid $host_uid ($(ps -o user=,comm= -p "$host_pid"))"
[[ $host_uid != 0 ]] || fail "the service is root on the host"
ok "the service (PID 1) runs as vaskem (uid $uid, also on the host) with no capabilities"

# Every path on the image's filesystem that vaskem may write, besides its volume.
# (find exits non-zero on the directories vaskem may not read; those it cannot write either.)
writable=$({ in_container find / -xdev \( -path /proc -o -path /sys -o -path /dev \
    -o -path /var/lib/vaskem \) -prune -o -writable -print 2>/dev/null || true; } | sort)
say "  writable by vaskem on the root filesystem: $(tr '\n' ' ' <<<"$writable")"
while read -r path; do
    [[ -z $path ]] && continue
    # A symbolic link (/var/lock) counts as what it points to.
    path=$(in_container readlink -f "$path")
    mode=$(in_container stat -c '%A %U' "$path")
    case "$path:$mode" in
        # The sticky, world-writable temporary directories of every Debian image: a user can
        # add files there but touch no one else's.
        /tmp:"drwxrwxrwt root" | /var/tmp:"drwxrwxrwt root" | /run/lock:"drwxrwxrwt root") ;;
        *) fail "vaskem can write $path ($mode)" ;;
    esac
done <<<"$writable"
for path in /usr/local/bin/vaskem /usr/local/bin/new /etc/passwd /etc/new /var/lib/new /new; do
    if in_container sh -c "echo x >> $path" 2>/dev/null; then fail "vaskem could write $path"; fi
done
ok "cannot write the binary, /etc, /var/lib or / (only its volume and the sticky temp dirs)"
in_container sh -c 'echo x > /var/lib/vaskem/.write-check && rm /var/lib/vaskem/.write-check' ||
    fail "vaskem cannot write its data directory"
say "  $(in_container ls -ln /var/lib/vaskem | tail -n +2 | awk '{print $1, $3":"$4, $NF}' | tr '\n' ';')"
ok "writes its data directory /var/lib/vaskem (SQLite file and audit key are its own)"
setuid=$({ in_container find / -xdev -perm /6000 -type f 2>/dev/null || true; } | sort | tr '\n' ' ')
say "  setuid/setgid files in the base (harmless under no-new-privileges): $setuid"

# ---------------------------------------------------------------------------------------------
step "Run hardened (read-only root, no capabilities, no-new-privileges) and sign in"
"$engine" rm -f -v "$container" >/dev/null
start_service "vaskem-check-ro-$$" --read-only --tmpfs /tmp --cap-drop ALL \
    --security-opt no-new-privileges
sign_in
status=$(in_container cat /proc/1/status)
grep -Eq '^NoNewPrivs:\s+1$' <<<"$status" || fail "no-new-privileges is not set"
grep -Eq '^CapBnd:\s+0+$' <<<"$status" || fail "capabilities remain in the bounding set"
ok "the service needs no capabilities and no writable root filesystem"

# ---------------------------------------------------------------------------------------------
step "Clean up"
for c in "${containers[@]}"; do "$engine" rm -f -v "$c" >/dev/null 2>&1 || true; done
containers=()
if [[ ${CLEAN:-} == 1 ]]; then
    "$engine" rmi "$image" >/dev/null
    if [[ -z $use_dockerfile_bases ]]; then
        "$engine" rmi "$local_rust_image" "$local_runtime_image" >/dev/null
    fi
    say "  removed $image and the local bases"
else
    say "  kept $image and the bases (CLEAN=1 removes them)"
fi
finish_step

printf '\nAll checks passed (%s). Timings:\n' "$engine"
printf '%s\n' "${timings[@]}"
printf '%5ds  total\n' "$((SECONDS - script_start))"
printf 'Image %s: %s MB\n' "$image" "$((size / 1000 / 1000))"
