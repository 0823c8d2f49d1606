#!/usr/bin/env bash
# Builds local stand-ins for the base images a generated Dockerfile and
# compose.production.yml name, for machines that cannot pull from a registry:
#
#   rust:<version>-slim-trixie              Debian trixie + gcc + this machine's Rust toolchain, CARGO_HOME's bin on PATH as in the real image
#   gcr.io/distroless/cc-debian13:nonroot   the Debian packages distroless cc is made of, user 65532
#   caddy:2                                 Debian trixie + Debian's caddy and wget (the real image has busybox wget, which its healthcheck uses)
#
# All come from one debootstrap of Debian trixie. They trust this machine's CA
# bundle (so builds behind a TLS-inspecting proxy reach crates.io) and exist
# only for tests: generated files keep naming the real images. An image whose
# inputs have not changed is kept.
#
# Usage: tests/container/stand-in-images.sh [--force]
set -euo pipefail

if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    exit 0
fi
force=${1:-}

release=trixie
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
sysroot=$(rustc --print sysroot)
rust_version=$(rustc --version | cut -d' ' -f2 | cut -d. -f1,2)
builder_tag="rust:${rust_version}-slim-${release}"
runtime_tag="gcr.io/distroless/cc-debian13:nonroot"
proxy_tag="caddy:2"
ca_bundle=/etc/ssl/certs/ca-certificates.crt

# Everything that shapes the images: a change to any of it rebuilds them.
inputs=$( { cat "$0"; rustc --version; sha256sum "$ca_bundle"; } | sha256sum | cut -c1-16)

current() {
    [ "$(docker image inspect --format '{{ index .Config.Labels "stand-in.inputs" }}' "$1" 2>/dev/null)" = "$inputs" ]
}
if [ "$force" != --force ] && current "$builder_tag" && current "$runtime_tag" && current "$proxy_tag"; then
    echo "stand-in images are up to date ($inputs)"
    exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"

echo "==> debootstrap $release"
debootstrap --variant=minbase \
    --include=ca-certificates,tzdata,netbase,gcc,libc6-dev,libstdc++6,libgomp1,caddy,wget \
    "$release" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
    tail -n 30 "$work/debootstrap.log" >&2
    exit 1
}
cp "$ca_bundle" "$rootfs/etc/ssl/certs/ca-certificates.crt"
rm -rf "$rootfs/var/cache/apt/archives"/*.deb "$rootfs/var/lib/apt/lists"/*

import() {
    local tag=$1 dir=$2
    shift 2
    tar -C "$dir" -c . | docker import --change "LABEL stand-in.inputs=$inputs" "$@" - "$tag" >/dev/null
    echo "==> $tag ($(docker image inspect --format '{{ .Size }}' "$tag" | numfmt --to=iec))"
}

echo "==> $proxy_tag"
import "$proxy_tag" "$rootfs" \
    --change 'ENV XDG_CONFIG_HOME=/config XDG_DATA_HOME=/data' \
    --change 'CMD ["caddy", "run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"]'

echo "==> $runtime_tag"
runtime="$work/runtime"
mkdir -p "$runtime"
for package in base-files netbase tzdata ca-certificates libc6 libgcc-s1 libgomp1 libstdc++6; do
    chroot "$rootfs" dpkg -L "$package" | while read -r path; do
        if [ -f "$rootfs$path" ] || [ -L "$rootfs$path" ]; then
            mkdir -p "$runtime$(dirname "$path")"
            cp -a "$rootfs$path" "$runtime$path"
        fi
    done
done
# usrmerge: /lib, /lib64 and /bin are links into /usr, as in the real image.
for link in bin lib lib64 sbin; do
    [ -L "$rootfs/$link" ] && cp -a "$rootfs/$link" "$runtime/$link"
done
mkdir -p "$runtime/etc/ssl/certs"
cp "$ca_bundle" "$runtime/etc/ssl/certs/ca-certificates.crt"
mkdir -p "$runtime/tmp" "$runtime/home/nonroot" "$runtime/root"
chmod 1777 "$runtime/tmp"
chown 65532:65532 "$runtime/home/nonroot"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$runtime/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n' >"$runtime/etc/group"
import "$runtime_tag" "$runtime" --change 'USER 65532' --change 'WORKDIR /home/nonroot'

echo "==> $builder_tag"
mkdir -p "$rootfs/usr/local/rust"
cp -a "$sysroot/bin" "$sysroot/lib" "$sysroot/libexec" "$rootfs/usr/local/rust/"
import "$builder_tag" "$rootfs" \
    --change 'ENV PATH=/usr/local/cargo/bin:/usr/local/rust/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin CARGO_HOME=/usr/local/cargo' \
    --change 'WORKDIR /'
